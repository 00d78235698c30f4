// Replica counts, autoscaling, spreading and resource sizing of the rendered Deployments:
// - prod: one autoscaling/v2 HorizontalPodAutoscaler per app, on CPU and on the app's in-flight gauge
//   (a Pods metric the Prometheus Adapter serves, with a rule in ADAPTER_VALUES), with a floor that
//   survives one eviction (the PodDisruptionBudget) and a slow scale-down;
// - every render: spread over zones (soft) and nodes (hard, tainted nodes left out), per revision;
// - every render: requests no larger than limits, and the app container's memory request at least the
//   peak RSS measured under light load (the table in deploy/README.md, "Resources").
import fs from 'node:fs';
import path from 'node:path';
import { fail } from './problems.mjs';

/** The in-flight gauge each app exports (docs/observability.md): what its HPA's Pods metric must be. */
export const IN_FLIGHT_METRIC = {
  'api-gateway': 'http_server_active_requests',
  auth: 'overture_rpc_server_active_calls',
  metadata: 'overture_rpc_server_active_calls',
  'playback-queue': 'overture_rpc_server_active_calls',
  recommendation: 'overture_rpc_server_active_calls',
};
const ADAPTER_VALUES = 'deploy/observability/prometheus-adapter/values.yaml';
const RESOURCES_DOC = 'deploy/README.md';
const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';

function hpasOf(deployment, objects) {
  return objects.filter(
    (o) =>
      o.kind === 'HorizontalPodAutoscaler' &&
      o.spec?.scaleTargetRef?.kind === 'Deployment' &&
      o.spec.scaleTargetRef.name === deployment.metadata.name,
  );
}

/** The fewest pods a Deployment runs: its HPA's minReplicas when it has one, else its replicas. */
export function replicaFloor(deployment, objects) {
  return hpasOf(deployment, objects)[0]?.spec?.minReplicas ?? deployment.spec?.replicas ?? 1;
}

/** Kubernetes quantity -> number (cores for CPU, MiB for memory). */
export function quantity(value, unit) {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(value ?? ''));
  if (!m) return NaN;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (unit === 'cpu') return suffix === 'm' ? n / 1000 : suffix === '' ? n : NaN;
  const bytes = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9, m: 1e-3 }[suffix];
  return (n * bytes) / 1024 ** 2;
}

/** The adapter rules (Helm values as JSON, from check.sh): metric name served -> the rule. */
function adapterRules() {
  const file = process.env.ADAPTER_VALUES_JSON;
  if (!file) {
    fail(ADAPTER_VALUES, 'not given to validate.mjs (check.sh passes it as ADAPTER_VALUES_JSON)');
    return new Map();
  }
  const [values] = JSON.parse(fs.readFileSync(file, 'utf8')); // check.sh's to_json: one entry per YAML document
  const rules = new Map();
  for (const [i, rule] of (values?.rules?.custom ?? []).entries()) {
    const where = `${ADAPTER_VALUES} rules.custom[${i}]`;
    const series = /^([a-zA-Z_:][\w:]*)\{/.exec(rule.seriesQuery ?? '')?.[1];
    const served = rule.name?.as ?? series;
    if (!series) fail(where, `seriesQuery ${rule.seriesQuery} names no metric`);
    const o = rule.resources?.overrides ?? {};
    if (o.namespace?.resource !== 'namespace' || o.pod?.resource !== 'pod')
      fail(where, 'resources.overrides must map the labels namespace and pod (the PodMonitor sets them) to their resources');
    for (const t of ['<<.Series>>', '<<.LabelMatchers>>', '<<.GroupBy>>'])
      if (!(rule.metricsQuery ?? '').includes(t)) fail(where, `metricsQuery must use ${t}`);
    rules.set(served, { series, where });
  }
  return rules;
}

export function checkAutoscaling({ render, objects, apps }) {
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  const rules = hpas.length > 0 || render === 'prod' ? adapterRules() : new Map();
  for (const h of hpas) {
    const where = `[${render}] HorizontalPodAutoscaler/${h.metadata.name}`;
    const ref = h.spec?.scaleTargetRef ?? {};
    if (h.apiVersion !== 'autoscaling/v2') fail(where, `apiVersion ${h.apiVersion}, expected autoscaling/v2`);
    if (ref.apiVersion !== 'apps/v1' || ref.kind !== 'Deployment' || !deployments.some((d) => d.metadata.name === ref.name))
      fail(where, `scaleTargetRef ${ref.kind}/${ref.name} is not a Deployment in the render`);
  }
  for (const d of deployments) {
    const app = d.metadata.name;
    if (!apps[app]) continue;
    const where = `[${render}] Deployment/${app}`;
    const mine = hpasOf(d, objects);
    if (render === 'prod' && mine.length !== 1) fail(where, `scaled by ${mine.length} HorizontalPodAutoscalers, expected 1`);
    for (const h of mine) {
      const hw = `[${render}] HorizontalPodAutoscaler/${h.metadata.name}`;
      const { minReplicas: min, maxReplicas: max } = h.spec ?? {};
      // One pod may be evicted (PDB) or replaced (rollout) while the others carry the load.
      const floor = render === 'prod' && app === 'api-gateway' ? 3 : 2;
      if (!(min >= floor)) fail(hw, `minReplicas ${min}, expected >= ${floor}`);
      if (!(max > min)) fail(hw, `maxReplicas ${max} must exceed minReplicas ${min}`);
      for (const p of objects.filter(
        (o) => o.kind === 'PodDisruptionBudget' && o.spec?.selector?.matchLabels?.['app.kubernetes.io/name'] === app,
      )) {
        if (p.spec?.maxUnavailable >= min)
          fail(
            hw,
            `PodDisruptionBudget/${p.metadata.name} maxUnavailable ${p.spec.maxUnavailable} lets a drain evict every pod at minReplicas ${min}`,
          );
      }
      const metrics = h.spec?.metrics ?? [];
      const cpu = metrics.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
      const utilization = cpu?.resource?.target?.averageUtilization;
      if (cpu?.resource?.target?.type !== 'Utilization' || !(utilization > 0 && utilization <= 90))
        fail(hw, 'needs a cpu Resource metric with a Utilization target in (0, 90] %');
      const pods = metrics.find((m) => m.type === 'Pods');
      const name = pods?.pods?.metric?.name;
      if (name !== IN_FLIGHT_METRIC[app]) fail(hw, `needs a Pods metric ${IN_FLIGHT_METRIC[app]} (the app's in-flight gauge), got ${name}`);
      else if (pods.pods.target?.type !== 'AverageValue' || !(quantity(pods.pods.target.averageValue, 'cpu') > 0))
        fail(hw, `Pods metric ${name} needs a positive AverageValue target`);
      if (name && !rules.has(name)) fail(hw, `Pods metric ${name} has no rule in ${ADAPTER_VALUES}: the adapter would not serve it`);
      const down = h.spec?.behavior?.scaleDown ?? {};
      if (!(down.stabilizationWindowSeconds >= 60))
        fail(hw, 'behavior.scaleDown.stabilizationWindowSeconds must be >= 60: the metrics are averaged over minutes');
      if (!(down.policies ?? []).some((p) => p.type === 'Pods' && p.value <= 1))
        fail(hw, 'behavior.scaleDown needs a Pods policy of at most 1 pod per period: each removed pod drains its calls');
    }
  }
}

export function checkTopologySpread(render, deployments) {
  for (const d of deployments) {
    const where = `[${render}] Deployment/${d.metadata.name}`;
    const labels = d.spec?.template?.metadata?.labels ?? {};
    const constraints = d.spec?.template?.spec?.topologySpreadConstraints ?? [];
    for (const [key, mode] of [
      [ZONE, 'ScheduleAnyway'],
      [HOST, 'DoNotSchedule'],
    ]) {
      const c = constraints.find((t) => t.topologyKey === key);
      if (!c) {
        fail(where, `needs a topologySpreadConstraint on ${key}`);
        continue;
      }
      const selector = Object.entries(c.labelSelector?.matchLabels ?? {});
      if (selector.length === 0 || !selector.every(([k, v]) => labels[k] === v))
        fail(where, `topologySpreadConstraint on ${key} must select this app's pods`);
      // A cluster in one zone, or one that lost a zone, must still schedule the pods; nodes are a rule,
      // but one that ignores nodes nothing may be scheduled on (cordoned, not ready).
      if (c.whenUnsatisfiable !== mode) fail(where, `topologySpreadConstraint on ${key} must be whenUnsatisfiable: ${mode}`);
      if (mode === 'DoNotSchedule' && c.nodeTaintsPolicy !== 'Honor')
        fail(where, `topologySpreadConstraint on ${key} needs nodeTaintsPolicy: Honor, or a cordoned node blocks scheduling`);
      // Spread each revision by itself: during a rollout the old ReplicaSet's pods would skew the count.
      if (!(c.matchLabelKeys ?? []).includes('pod-template-hash'))
        fail(where, `topologySpreadConstraint on ${key} needs matchLabelKeys: [pod-template-hash]`);
    }
  }
}

let peaks;
/** Peak RSS (MiB) per app under light load, from the measurement table of deploy/README.md (read once). */
function measuredPeaks(root) {
  if (peaks) return peaks;
  const text = fs.readFileSync(path.join(root, RESOURCES_DOC), 'utf8');
  peaks = {};
  for (const m of text.matchAll(/^\| `?([a-z-]+)`? \|[^|\n]*\|[^|\n]*\| (\d+) MiB \|/gm)) peaks[m[1]] = Number(m[2]);
  for (const app of Object.keys(IN_FLIGHT_METRIC))
    if (peaks[app] === undefined) fail(RESOURCES_DOC, `no measured peak RSS for ${app} in the "Resources" table`);
  return peaks;
}

export function checkResources({ render, deployments, root }) {
  for (const d of deployments) {
    const app = d.metadata.name;
    const pod = d.spec?.template?.spec ?? {};
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      const cw = `[${render}] Deployment/${app} container ${c.name}`;
      const r = c.resources ?? {};
      for (const k of ['cpu', 'memory']) {
        const [request, limit] = [quantity(r.requests?.[k], k), quantity(r.limits?.[k], k)];
        if (Number.isNaN(request) || Number.isNaN(limit)) continue; // validate.mjs names the missing ones
        if (request > limit) fail(cw, `resources.requests.${k} ${r.requests[k]} exceeds the limit ${r.limits[k]}`);
      }
      if (c.name !== app) continue;
      const peak = measuredPeaks(root)[app];
      const request = quantity(r.requests?.memory, 'memory');
      if (peak !== undefined && request < peak)
        fail(
          cw,
          `resources.requests.memory ${r.requests?.memory} is below the ${peak} MiB peak RSS measured under light load (${RESOURCES_DOC})`,
        );
    }
  }
}
