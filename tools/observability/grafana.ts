// Grafana's dashboard JSON (schema 39) from sections of panels: one row per section, panels three
// to a row, every query on the dashboard's Prometheus data source variable.

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

export interface Target {
  expr: string;
  legend: string;
}
export interface PanelSpec {
  title: string;
  unit: string;
  targets: Target[];
  description?: string;
  /** Series drawn as steps (states). */
  stepped?: boolean;
}
export interface Section {
  row: string;
  panels: PanelSpec[];
}

/** A query variable on the data source; `all` adds "All" (any value) and multiple choice. */
export function variable(name: string, query: string, all: boolean): Record<string, unknown> {
  return {
    name,
    label: name,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: name },
    definition: query,
    refresh: 2,
    sort: 1,
    includeAll: all,
    multi: all,
    ...(all ? { allValue: '.+', current: { text: 'All', value: '$__all' } } : {}),
  };
}

/** A dashboard tagged `overture`, sections top to bottom. */
export function dashboard(uid: string, title: string, sections: Section[], variables: Record<string, unknown>[]): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const section of sections) {
    panels.push({ id: id++, type: 'row', title: section.row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] });
    section.panels.forEach((spec, i) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: spec.title,
        ...(spec.description ? { description: spec.description } : {}),
        datasource: DATASOURCE,
        gridPos: { h: 8, w: 8, x: (i % 3) * 8, y: y + Math.floor(i / 3) * 8 },
        fieldConfig: {
          defaults: { unit: spec.unit, custom: spec.stepped ? { lineInterpolation: 'stepAfter' } : {} },
          overrides: [],
        },
        options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi', sort: 'desc' } },
        targets: spec.targets.map((t, j) => ({
          refId: String.fromCharCode(65 + j),
          datasource: DATASOURCE,
          expr: t.expr,
          legendFormat: t.legend,
        })),
      });
    });
    y += Math.ceil(section.panels.length / 3) * 8;
  }
  return {
    uid,
    title,
    tags: ['overture'],
    editable: true,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    timezone: 'utc',
    templating: {
      list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', refresh: 1 }, ...variables],
    },
    annotations: { list: [] },
    links: [{ title: 'Overture', type: 'dashboards', tags: ['overture'], asDropdown: true }],
    panels,
  };
}
