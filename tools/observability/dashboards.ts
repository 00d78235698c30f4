// The Grafana dashboards under deploy/observability/dashboards: an overview of every app and one per
// app, written by tools/observability/generate.ts. Panels query the metrics the apps export
// (docs/observability.md) and the SLO rules' series.
import { dashboard, type PanelSpec, type Section, type Target, variable } from './grafana.ts';
import { budgetOf, SLOS } from './slo.ts';

const APPS = ['api-gateway', 'auth', 'metadata', 'playback-queue', 'recommendation'] as const;
type App = (typeof APPS)[number];

/** gRPC codes that are the server's failure, not an answer (NOT_FOUND, INVALID_ARGUMENT … are answers). */
const GRPC_FAILURES = 'rpc_status_code=~"UNKNOWN|DEADLINE_EXCEEDED|UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS"';

const rate = (metric: string, selector: string, by: string) => `sum by (${by}) (rate(${metric}{${selector}}[$__rate_interval]))`;
const quantile = (q: number, histogram: string, selector: string, by: string) =>
  `histogram_quantile(${q}, sum by (${by}, le) (rate(${histogram}_bucket{${selector}}[$__rate_interval])))`;
const quantiles = (histogram: string, selector: string, by: string, legend: string): Target[] =>
  [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, histogram, selector, by), legend: `p${q * 100} ${legend}` }));

/** Panels every app has: its process (event loop, heap, GC). */
function runtimePanels(selector: string, by: string, legend: string): PanelSpec[] {
  return [
    {
      title: 'Event-loop delay p99',
      unit: 's',
      description: 'How late timers fire: CPU-bound work or long synchronous calls hold the loop.',
      targets: [{ expr: `max by (${by}) (nodejs_eventloop_delay_p99_seconds{${selector}})`, legend }],
    },
    {
      title: 'Event-loop utilization',
      unit: 'percentunit',
      description: 'Share of time the loop was busy; near 1 the process is saturated.',
      targets: [{ expr: `max by (${by}) (nodejs_eventloop_utilization_ratio{${selector}})`, legend }],
    },
    {
      title: 'V8 heap used',
      unit: 'bytes',
      targets: [{ expr: `sum by (${by}) (v8js_memory_heap_used_bytes{${selector}})`, legend }],
    },
    {
      title: 'GC time per second',
      unit: 'percentunit',
      targets: [{ expr: rate('v8js_gc_duration_seconds_sum', selector, by), legend }],
    },
  ];
}

function poolPanels(selector: string, by: string, legend: string): PanelSpec[] {
  const pool = `${by}, db_client_connection_pool_name`;
  return [
    {
      title: 'Database pool in use',
      unit: 'percentunit',
      description: 'Connections in use over all connections of the pool.',
      targets: [
        {
          expr: `sum by (${pool}) (db_client_connection_count{${selector},db_client_connection_state="used"})\n/ sum by (${pool}) (db_client_connection_count{${selector}})`,
          legend: `${legend} {{db_client_connection_pool_name}}`,
        },
      ],
    },
    {
      title: 'Requests waiting for a connection',
      unit: 'short',
      targets: [
        {
          expr: `sum by (${pool}) (db_client_connection_pending_requests{${selector}})`,
          legend: `${legend} {{db_client_connection_pool_name}}`,
        },
      ],
    },
  ];
}

function breakerPanels(selector: string, legend: string): PanelSpec[] {
  return [
    {
      title: 'Circuit breakers (0 closed, 1 half-open, 2 open)',
      unit: 'short',
      stepped: true,
      targets: [{ expr: `max by (job, dependency) (overture_breaker_state{${selector}})`, legend: `${legend} → {{dependency}}` }],
    },
    {
      title: 'Calls refused by open breakers',
      unit: 'reqps',
      targets: [{ expr: rate('overture_breaker_rejections_total', selector, 'job, dependency'), legend: `${legend} → {{dependency}}` }],
    },
  ];
}

function outboxPanels(selector: string): PanelSpec[] {
  return [
    {
      title: 'Outbox: oldest undelivered play event',
      unit: 's',
      description: 'How far recommendation is behind the plays.',
      targets: [{ expr: `max(overture_outbox_oldest_pending_age_seconds{${selector}})`, legend: 'oldest pending' }],
    },
    {
      title: 'Outbox: pending events',
      unit: 'short',
      targets: [{ expr: `max(overture_outbox_pending_events{${selector}})`, legend: 'pending' }],
    },
    {
      title: 'Outbox deliveries',
      unit: 'ops',
      targets: [{ expr: rate('overture_outbox_deliveries_total', selector, 'outcome'), legend: '{{outcome}}' }],
    },
  ];
}

function realtimePanels(selector: string): PanelSpec[] {
  return [
    {
      title: 'WebSocket connections',
      unit: 'short',
      targets: [{ expr: `sum(overture_ws_connections{${selector}})`, legend: 'connections' }],
    },
    {
      title: 'Push delay (change written to device)',
      unit: 's',
      targets: quantiles('overture_ws_push_delay_seconds', selector, 'job', ''),
    },
    {
      title: "Push latency (the gateway's part)",
      unit: 's',
      targets: quantiles('overture_ws_push_latency_seconds', selector, 'job', ''),
    },
  ];
}

function sloPanels(): PanelSpec[] {
  return SLOS.map((slo) => ({
    title: `Burn rate: ${slo.name}`,
    unit: 'short',
    description: `Error-budget burn (1 = spending 30 days of budget in 30 days) of ${slo.bad}. Pages at 14.4 (1h) and 6 (6h).`,
    targets: ['1h', '6h', '1d', '3d'].map((window) => ({
      expr: `slo:sli_error:ratio_rate${window}{slo="${slo.name}"} / ${budgetOf(slo)}`,
      legend: window,
    })),
  }));
}

function overviewSections(): Section[] {
  const ns = 'namespace=~"$namespace"';
  const services = `${ns},job!="api-gateway"`;
  return [
    {
      row: 'Golden signals',
      panels: [
        {
          title: 'Requests per second',
          unit: 'reqps',
          description: 'HTTP requests at the gateway, gRPC calls served by the services.',
          targets: [
            { expr: rate('http_server_request_duration_seconds_count', ns, 'job'), legend: '{{job}} (HTTP)' },
            { expr: rate('rpc_server_call_duration_seconds_count', services, 'job'), legend: '{{job}}' },
          ],
        },
        {
          title: 'Errors',
          unit: 'percentunit',
          description: `Gateway: 5xx over all requests. Services: failed calls (${GRPC_FAILURES.split('"')[1]}) over all calls.`,
          targets: [
            {
              expr: `${rate('http_server_request_duration_seconds_count', `${ns},http_response_status_code=~"5.."`, 'job')}\n/ ${rate('http_server_request_duration_seconds_count', ns, 'job')}`,
              legend: '{{job}} (HTTP)',
            },
            {
              expr: `${rate('rpc_server_call_duration_seconds_count', `${services},${GRPC_FAILURES}`, 'job')}\n/ ${rate('rpc_server_call_duration_seconds_count', services, 'job')}`,
              legend: '{{job}}',
            },
          ],
        },
        ...[0.5, 0.95, 0.99].map((q) => ({
          title: `Latency p${q * 100}`,
          unit: 's',
          targets: [
            { expr: quantile(q, 'http_server_request_duration_seconds', ns, 'job'), legend: '{{job}} (HTTP)' },
            { expr: quantile(q, 'rpc_server_call_duration_seconds', services, 'job'), legend: '{{job}}' },
          ],
        })),
        {
          title: 'Saturation: event-loop utilization (busiest pod)',
          unit: 'percentunit',
          targets: [{ expr: `max by (job) (nodejs_eventloop_utilization_ratio{${ns}})`, legend: '{{job}}' }],
        },
        {
          title: 'Saturation: event-loop delay p99 (busiest pod)',
          unit: 's',
          targets: [{ expr: `max by (job) (nodejs_eventloop_delay_p99_seconds{${ns}})`, legend: '{{job}}' }],
        },
        {
          title: 'Saturation: database pool in use (busiest pod)',
          unit: 'percentunit',
          targets: [
            {
              expr: `max by (job) (\n  sum by (job, pod) (db_client_connection_count{${ns},db_client_connection_state="used"})\n  / sum by (job, pod) (db_client_connection_count{${ns}})\n)`,
              legend: '{{job}}',
            },
          ],
        },
      ],
    },
    { row: 'Service level objectives', panels: sloPanels() },
    {
      row: 'Plays and real time',
      panels: [...outboxPanels(`${ns},job="playback-queue"`), ...realtimePanels(`${ns},job="api-gateway"`)],
    },
    { row: 'Circuit breakers', panels: breakerPanels(ns, '{{job}}') },
  ];
}

function appSections(app: App): Section[] {
  const sel = `job="${app}",namespace=~"$namespace",pod=~"$pod"`;
  const traffic: PanelSpec[] =
    app === 'api-gateway'
      ? [
          {
            title: 'Requests per second by route',
            unit: 'reqps',
            targets: [
              {
                expr: rate('http_server_request_duration_seconds_count', sel, 'http_request_method, http_route'),
                legend: '{{http_request_method}} {{http_route}}',
              },
            ],
          },
          {
            title: 'Responses by status',
            unit: 'reqps',
            targets: [
              {
                expr: rate('http_server_request_duration_seconds_count', sel, 'http_response_status_code'),
                legend: '{{http_response_status_code}}',
              },
            ],
          },
          { title: 'Latency', unit: 's', targets: quantiles('http_server_request_duration_seconds', sel, 'job', 'all routes') },
          {
            title: 'Latency p99 by route',
            unit: 's',
            targets: [
              {
                expr: quantile(0.99, 'http_server_request_duration_seconds', sel, 'http_request_method, http_route'),
                legend: '{{http_request_method}} {{http_route}}',
              },
            ],
          },
          {
            title: 'Requests in flight',
            unit: 'short',
            targets: [{ expr: `sum by (pod) (http_server_active_requests{${sel}})`, legend: '{{pod}}' }],
          },
        ]
      : [
          {
            title: 'Calls per second by method',
            unit: 'reqps',
            targets: [{ expr: rate('rpc_server_call_duration_seconds_count', sel, 'rpc_method'), legend: '{{rpc_method}}' }],
          },
          {
            title: 'Calls by status',
            unit: 'reqps',
            targets: [
              {
                expr: rate('rpc_server_call_duration_seconds_count', sel, 'rpc_status_code'),
                legend: '{{rpc_status_code}}',
              },
            ],
          },
          { title: 'Latency', unit: 's', targets: quantiles('rpc_server_call_duration_seconds', sel, 'job', 'all methods') },
          {
            title: 'Latency p99 by method',
            unit: 's',
            targets: [{ expr: quantile(0.99, 'rpc_server_call_duration_seconds', sel, 'rpc_method'), legend: '{{rpc_method}}' }],
          },
        ];
  const sections: Section[] = [{ row: 'Traffic', panels: traffic }];
  if (app !== 'auth') {
    sections.push({
      row: 'Calls to other services',
      panels: [
        {
          title: 'Outgoing calls by method and status',
          unit: 'reqps',
          targets: [
            {
              expr: rate('rpc_client_call_duration_seconds_count', sel, 'rpc_method, rpc_status_code'),
              legend: '{{rpc_method}} {{rpc_status_code}}',
            },
          ],
        },
        {
          title: 'Outgoing call latency p99 by method',
          unit: 's',
          targets: [{ expr: quantile(0.99, 'rpc_client_call_duration_seconds', sel, 'rpc_method'), legend: '{{rpc_method}}' }],
        },
        ...breakerPanels(sel, '{{pod}}').map((p) => ({
          ...p,
          targets: p.targets.map((t) => ({ ...t, expr: t.expr.replace('(job, dependency)', '(pod, dependency)') })),
        })),
      ],
    });
  }
  const own: PanelSpec[] = [];
  if (app === 'api-gateway') own.push(...realtimePanels(sel));
  if (app === 'api-gateway' || app === 'metadata' || app === 'playback-queue' || app === 'recommendation') {
    own.push({
      title: 'Token verification failures',
      unit: 'ops',
      targets: [{ expr: rate('overture_token_verification_failures_total', sel, 'reason'), legend: '{{reason}}' }],
    });
  }
  if (app === 'auth') {
    own.push({
      title: 'Sign-ins throttled',
      unit: 'ops',
      targets: [{ expr: rate('overture_signin_throttled_total', sel, 'scope'), legend: '{{scope}}' }],
    });
  }
  if (app === 'metadata') {
    own.push(
      {
        title: 'Cache hit ratio',
        unit: 'percentunit',
        targets: [
          {
            expr: `${rate('overture_cache_requests_total', `${sel},result="hit"`, 'cache')}\n/ ${rate('overture_cache_requests_total', sel, 'cache')}`,
            legend: '{{cache}}',
          },
        ],
      },
      {
        title: 'Search pages cut short',
        unit: 'ops',
        description: 'Searches answered with a partial page because the walk ran out of budget.',
        targets: [{ expr: `sum(rate(overture_search_partial_pages_total{${sel}}[$__rate_interval]))`, legend: 'partial pages' }],
      },
    );
  }
  if (app === 'playback-queue') own.push(...outboxPanels(sel));
  if (app !== 'api-gateway') own.push(...poolPanels(sel, 'pod', '{{pod}}'));
  if (own.length) sections.push({ row: app === 'api-gateway' ? 'Real time and tokens' : 'Its own work', panels: own });
  sections.push({ row: 'Process', panels: runtimePanels(sel, 'pod', '{{pod}}') });
  return sections;
}

const NAMESPACE = variable('namespace', `label_values(up{job=~"${APPS.join('|')}"}, namespace)`, false);

/** File name (under deploy/observability/dashboards) → dashboard. */
export function dashboards(): Map<string, Record<string, unknown>> {
  const out = new Map([['overview.json', dashboard('overture-overview', 'Overture / overview', overviewSections(), [NAMESPACE])]]);
  for (const app of APPS) {
    const pod = variable('pod', `label_values(up{job="${app}", namespace=~"$namespace"}, pod)`, true);
    out.set(`${app}.json`, dashboard(`overture-${app}`, `Overture / ${app}`, appSections(app), [NAMESPACE, pod]));
  }
  return out;
}
