// Checks what promtool cannot: the dashboards' JSON and structure, that every metric a rule or panel
// reads is one the apps export (METRICS, the list in docs/observability.md) or a recorded one, and
// that every alert has a summary, a description and a runbook_url naming a section of docs/runbook.md.
// Writes every panel query, Grafana variables replaced, as recording rules to <out.json> for
// `promtool check rules` to parse. Usage: node check-exprs.mjs <repo-root> <out.json>
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [root, out] = process.argv.slice(2);
const here = path.join(root, 'deploy/observability');
const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);

/** name → kind: a histogram also has _bucket, _count and _sum series. */
const METRICS = new Map([
  ['up', 'gauge'],
  ['http_server_request_duration_seconds', 'histogram'],
  ['http_server_active_requests', 'gauge'],
  ['rpc_server_call_duration_seconds', 'histogram'],
  ['rpc_client_call_duration_seconds', 'histogram'],
  ['nodejs_eventloop_delay_p99_seconds', 'gauge'],
  ['nodejs_eventloop_utilization_ratio', 'gauge'],
  ['v8js_memory_heap_used_bytes', 'gauge'],
  ['v8js_gc_duration_seconds', 'histogram'],
  ['db_client_connection_count', 'gauge'],
  ['db_client_connection_pending_requests', 'gauge'],
  ['overture_outbox_pending_events', 'gauge'],
  ['overture_outbox_oldest_pending_age_seconds', 'gauge'],
  ['overture_outbox_deliveries_total', 'counter'],
  ['overture_ws_connections', 'gauge'],
  ['overture_ws_push_latency_seconds', 'histogram'],
  ['overture_ws_push_delay_seconds', 'histogram'],
  ['overture_breaker_state', 'gauge'],
  ['overture_live_config_version', 'gauge'],
  ['overture_live_config_reloads_total', 'counter'],
  ['overture_live_config_file_in_use', 'gauge'],
  ['overture_live_config_last_success_timestamp_seconds', 'gauge'],
  ['overture_breaker_transitions_total', 'counter'],
  ['overture_breaker_rejections_total', 'counter'],
  ['overture_cache_requests_total', 'counter'],
  ['overture_search_partial_pages_total', 'counter'],
  ['overture_signin_throttled_total', 'counter'],
  ['overture_token_verification_failures_total', 'counter'],
  ['overture_grpc_endpoint_ejections_total', 'counter'],
  ['overture_grpc_endpoints_ejected', 'gauge'],
  ['overture_retries_total', 'counter'],
  ['overture_retries_refused_total', 'counter'],
  ['overture_import_source_bytes', 'gauge'],
  ['overture_import_read_bytes_total', 'counter'],
  ['overture_import_rows_total', 'counter'],
]);
const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN']);

function knownSeries(name, recorded) {
  if (METRICS.has(name) || recorded.has(name)) return true;
  const base = name.replace(/_(bucket|count|sum)$/, '');
  return base !== name && METRICS.get(base) === 'histogram';
}

/** Metric names an expression reads: identifiers left once strings, matchers, ranges, groupings and calls are gone. */
function metricNames(expr) {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [];
  for (const match of bare.matchAll(/[A-Za-z0-9_:.]+/g)) {
    const token = match[0];
    if (!/^[A-Za-z_:]/.test(token) || PROMQL_WORDS.has(token)) continue;
    if (/^\s*\(/.test(bare.slice(match.index + token.length))) continue; // a function or aggregation
    names.push(token);
  }
  return names;
}

function loadYaml() {
  try {
    return createRequire(path.join(root, 'package.json'))('yaml');
  } catch {
    console.error('check-exprs: the yaml package is missing: run npm ci');
    process.exit(1);
  }
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
const runbook = fs.readFileSync(path.join(root, 'docs/runbook.md'), 'utf8');
const anchors = new Set([...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1])));

// Rules: recorded names, alerts' annotations and runbook sections.
const YAML = loadYaml();
const ruleExprs = [];
const recorded = new Set();
for (const file of fs.readdirSync(path.join(here, 'rules')).filter((f) => f.endsWith('.rules.yml'))) {
  const doc = YAML.parse(fs.readFileSync(path.join(here, 'rules', file), 'utf8'));
  for (const group of doc.groups ?? []) {
    for (const rule of group.rules ?? []) {
      const where = `rules/${file} (${rule.record ?? rule.alert})`;
      ruleExprs.push({ where, expr: String(rule.expr) });
      if (rule.record) recorded.add(rule.record);
      if (!rule.alert) continue;
      const notes = rule.annotations ?? {};
      for (const key of ['summary', 'description', 'runbook_url']) if (!notes[key]) fail(where, `annotation ${key} is missing`);
      if (!['page', 'ticket'].includes(rule.labels?.severity)) fail(where, 'label severity must be page or ticket');
      const link = /^docs\/runbook\.md#(.+)$/.exec(notes.runbook_url ?? '');
      if (notes.runbook_url && !link) fail(where, `runbook_url ${notes.runbook_url} is not docs/runbook.md#<section>`);
      else if (link && !anchors.has(link[1])) fail(where, `runbook_url ${notes.runbook_url}: docs/runbook.md has no such section`);
    }
  }
}

// Dashboards: structure, queries.
const panelExprs = [];
const uids = new Map();
for (const file of fs.readdirSync(path.join(here, 'dashboards')).filter((f) => f.endsWith('.json'))) {
  const where = `dashboards/${file}`;
  let board;
  try {
    board = JSON.parse(fs.readFileSync(path.join(here, 'dashboards', file), 'utf8'));
  } catch (error) {
    fail(where, `not valid JSON: ${error.message}`);
    continue;
  }
  if (!board.uid || !board.title) fail(where, 'needs a uid and a title');
  if (uids.has(board.uid)) fail(where, `uid ${board.uid} is also ${uids.get(board.uid)}'s`);
  uids.set(board.uid, file);
  const ids = new Set();
  for (const panel of board.panels ?? []) {
    const at = `${where} panel ${panel.id} "${panel.title}"`;
    if (ids.has(panel.id)) fail(at, 'duplicate panel id');
    ids.add(panel.id);
    const { x, y, w, h } = panel.gridPos ?? {};
    if (![x, y, w, h].every(Number.isInteger) || x + w > 24) fail(at, 'gridPos needs whole x, y, w, h within 24 columns');
    if (panel.type === 'row') continue;
    if (!panel.datasource) fail(at, 'has no datasource');
    if (!panel.targets?.length) fail(at, 'has no queries');
    for (const target of panel.targets ?? []) {
      if (!target.refId || !target.expr) fail(at, 'every query needs a refId and an expr');
      else panelExprs.push({ where: `${at} ${target.refId}`, expr: target.expr });
    }
  }
}
if (uids.size === 0) fail('dashboards', 'none found');

for (const { where, expr } of [...ruleExprs, ...panelExprs]) {
  for (const name of metricNames(expr)) {
    if (!knownSeries(name, recorded)) fail(where, `reads ${name}, which is neither an exported metric (METRICS) nor recorded`);
  }
}

// Grafana's variables become what promtool can parse: intervals a duration, the rest a regex.
const substitute = (expr) => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{?\w+\}?/g, '.+');
const rules = panelExprs.map(({ expr }, i) => ({ record: `dashboard:query:${i + 1}`, expr: substitute(expr) }));
fs.writeFileSync(out, JSON.stringify({ groups: [{ name: 'dashboard-queries', rules }] }, null, 1));

if (problems.length) {
  for (const p of problems) console.error(`FAIL ${p}`);
  console.error(`observability-check: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`observability-check: ${ruleExprs.length} rules and ${panelExprs.length} panel queries read known metrics`);
