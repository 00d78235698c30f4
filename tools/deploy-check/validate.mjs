// Static validation of the rendered Kubernetes manifests and the Dockerfiles under deploy/.
// Usage: node validate.mjs <target-root> <render-name>=<render.json> ...
// Each render file is a JSON array of the objects `kubectl kustomize` printed. Render names decide the
// Secret policy: `dev` must render every Secret the apps use; any other render must render none.
// Plain ESM with no dependencies beyond its neighbours (service-identity.mjs, network-policies.mjs).
// Prints every problem found, then exits 1.
import fs from 'node:fs';
import path from 'node:path';
import { nodeFlagsOf } from '../suite/node-flags.ts';
import { checkDockerBaseDigestsAgree, checkDockerBaseImages, checkImageReferences, placeholders } from './images.mjs';
import { checkNetworkPolicies } from './network-policies.mjs';
import { fail, problems } from './problems.mjs';
import { checkAutoscaling, checkResources, checkTopologySpread, replicaFloor } from './scaling.mjs';
import { checkCertificates, checkIdentityMount, checkPlaintext, TLS_SECRET_KEYS } from './service-identity.mjs';

const NAMESPACE = 'overture';
const PART_OF = ['app.kubernetes.io/part-of', 'overture'];

const COMMON_ENV = ['LOG_LEVEL', 'OTEL_TRACES_SAMPLER_RATIO', 'GRPC_TLS_DIR', 'LIVE_CONFIG_FILE'];
/** Read by every app, with defaults that serve (GRPC_INSECURE_PLAINTEXT is read, and refused below). */
const OPTIONAL_ENV = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'GRPC_TLS_RELOAD_MS',
  'GRPC_INSECURE_PLAINTEXT',
  'OPS_LISTEN',
  'READINESS_EVENT_LOOP_DELAY_MS',
  'READINESS_EVENT_LOOP_WINDOW_MS',
  'READINESS_DB_POOL_EXHAUSTED_MS',
  'LIVE_CONFIG_POLL_MS',
];
const GRPC_SERVICE_ENV = [
  ...COMMON_ENV,
  'GRPC_LISTEN',
  'GRPC_HEALTH_LISTEN',
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'SHUTDOWN_DELAY_MS',
  'SHUTDOWN_GRACE_MS',
];
const GRPC_SERVICE_OPTIONAL_ENV = ['GRPC_REFLECTION'];
/** What services that check callers read (libs/identity identityConfig). */
const IDENTITY_ENV = ['AUTH_GRPC_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'JWKS_REFRESH_INTERVAL_MS'];
/**
 * What each app is and which environment variables it reads (keep in step with the apps' config
 * schemas): `env` must be set by the manifests, `optionalEnv` may be (the schema's default serves).
 */
const APPS = {
  'api-gateway': {
    protocol: 'http',
    port: 8080,
    migrates: false,
    env: [
      ...COMMON_ENV,
      'HTTP_HOST',
      'HTTP_PORT',
      'TRUST_PROXY',
      'AUTH_GRPC_URL',
      'METADATA_GRPC_URL',
      'PLAYBACK_GRPC_URL',
      'RECOMMENDATION_GRPC_URL',
      'GRPC_DEADLINE_MS',
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
      'JWKS_REFRESH_INTERVAL_MS',
      'SHUTDOWN_DELAY_MS',
      'SHUTDOWN_GRACE_MS',
      'WS_PING_INTERVAL_MS',
      'WS_IDLE_TIMEOUT_MS',
    ],
    optionalEnv: [
      'HTTP_REQUEST_TIMEOUT_MS',
      'HTTP_CONNECTION_TIMEOUT_MS',
      'WS_AUTH_TIMEOUT_MS',
      'WS_MAX_CONNECTIONS_PER_USER',
      'WS_MAX_CONNECTIONS_PER_ADDRESS',
      'WS_MESSAGES_PER_SECOND',
      'WS_MESSAGE_BURST',
      'WS_MAX_BUFFERED_BYTES',
    ],
  },
  auth: {
    protocol: 'grpc',
    port: 50051,
    migrates: true,
    env: [
      ...GRPC_SERVICE_ENV,
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
      'AUTH_ACCESS_TOKEN_TTL_SECONDS',
      'AUTH_REFRESH_TOKEN_TTL_SECONDS',
      'AUTH_KEY_ENCRYPTION_KEY',
      'AUTH_ARGON2_MEMORY_KIB',
      'AUTH_ARGON2_PASSES',
      'AUTH_KEY_PUBLISH_LEAD_SECONDS',
      'AUTH_KEY_RELOAD_INTERVAL_MS',
      'AUTH_KEY_ROTATION_INTERVAL_HOURS',
      'AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT',
      'AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS',
      'AUTH_SIGNIN_WINDOW_SECONDS',
    ],
    optionalEnv: [
      ...GRPC_SERVICE_OPTIONAL_ENV,
      'AUTH_SIGNIN_ACCOUNT_CEILING',
      'AUTH_REGISTER_FREE_ATTEMPTS_PER_ADDRESS',
      'AUTH_REGISTER_WINDOW_SECONDS',
      'AUTH_ARGON2_MAX_CONCURRENT',
      'AUTH_ARGON2_MAX_QUEUED',
      'AUTH_SESSION_MAX_AGE_SECONDS',
      'AUTH_PURGE_INTERVAL_SECONDS',
      'AUTH_SESSION_HISTORY_RETENTION_SECONDS',
      'AUTH_SECURITY_EVENT_RETENTION_DAYS',
    ],
    // Read by serve and rotate-keys only: the migrate init container must not be given it.
    serveOnlyEnv: ['AUTH_KEY_ENCRYPTION_KEY'],
  },
  metadata: {
    protocol: 'grpc',
    port: 50052,
    migrates: true,
    env: [...GRPC_SERVICE_ENV, ...IDENTITY_ENV, 'TRACK_CACHE_SIZE', 'METADATA_CURSOR_KEY'],
    optionalEnv: GRPC_SERVICE_OPTIONAL_ENV,
  },
  'playback-queue': {
    protocol: 'grpc',
    port: 50053,
    migrates: true,
    env: [
      ...GRPC_SERVICE_ENV,
      ...IDENTITY_ENV,
      'METADATA_GRPC_URL',
      'RECOMMENDATION_GRPC_URL',
      'DOWNSTREAM_DEADLINE_MS',
      'OUTBOX_POLL_INTERVAL_MS',
      'OUTBOX_BATCH_SIZE',
      'QUEUE_MAX_ITEMS',
      'WATCH_DRAIN_GRACE_MS',
    ],
    optionalEnv: GRPC_SERVICE_OPTIONAL_ENV,
  },
  recommendation: {
    protocol: 'grpc',
    port: 50054,
    migrates: true,
    env: [...GRPC_SERVICE_ENV, ...IDENTITY_ENV, 'METADATA_GRPC_URL', 'DOWNSTREAM_DEADLINE_MS'],
    optionalEnv: GRPC_SERVICE_OPTIONAL_ENV,
  },
};
/**
 * Who calls whom over gRPC: the only connections the NetworkPolicies may allow between Overture pods,
 * and the *_GRPC_URL variables each app must be given.
 */
const CALL_GRAPH = {
  'api-gateway': ['auth', 'metadata', 'playback-queue', 'recommendation'],
  auth: [],
  metadata: ['auth'],
  'playback-queue': ['auth', 'metadata', 'recommendation'],
  recommendation: ['auth', 'metadata'],
};
/** Variables that must come from a Secret, never from a ConfigMap or a literal. */
const SECRET_ENV = new Set(['DATABASE_URL', 'AUTH_KEY_ENCRYPTION_KEY', 'METADATA_CURSOR_KEY']);
/** Secrets deliberately not committed (created by operators in prod; generated with placeholders in dev). */
const EXTERNAL_SECRETS = {
  'overture-auth-db': ['DATABASE_URL'],
  'overture-auth-db-migrate': ['DATABASE_URL'],
  'overture-auth-keys': ['AUTH_KEY_ENCRYPTION_KEY'],
  'overture-metadata-db': ['DATABASE_URL'],
  'overture-metadata-db-migrate': ['DATABASE_URL'],
  'overture-metadata-cursor': ['METADATA_CURSOR_KEY'],
  'overture-playback-queue-db': ['DATABASE_URL'],
  'overture-playback-queue-db-migrate': ['DATABASE_URL'],
  'overture-recommendation-db': ['DATABASE_URL'],
  'overture-recommendation-db-migrate': ['DATABASE_URL'],
};
/** Which Service each client target variable must point at. */
const GRPC_TARGETS = {
  AUTH_GRPC_URL: 'auth',
  METADATA_GRPC_URL: 'metadata',
  PLAYBACK_GRPC_URL: 'playback-queue',
  RECOMMENDATION_GRPC_URL: 'recommendation',
};
const KNOWN_KINDS = new Set([
  'Namespace',
  'ConfigMap',
  'Secret',
  'Service',
  'Deployment',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'Ingress',
  'NetworkPolicy',
  'Certificate',
  'Issuer',
]);
const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'verbose']);
const INT_ENV = /(_MS|_SECONDS|_HOURS|_DAYS|_SIZE|_PORT|_BYTES|_KIB)$/;
const DRAIN_MARGIN_MS = 2000;

const [targetRoot, ...renderArgs] = process.argv.slice(2);
if (!targetRoot || renderArgs.length === 0) {
  console.error('usage: node validate.mjs <target-root> <name>=<render.json> ...');
  process.exit(2);
}

let objectCount = 0;
const summary = [];
const renders = {};
for (const arg of renderArgs) {
  const eq = arg.indexOf('=');
  const name = arg.slice(0, eq);
  const objects = JSON.parse(fs.readFileSync(arg.slice(eq + 1), 'utf8')).filter((o) => o != null);
  renders[name] = objects;
  checkRender(name, objects);
  objectCount += objects.length;
  summary.push(`${name} ${objects.length}`);
}
checkCrossRender(renders);
const dockerfiles = checkDocker(targetRoot);

if (problems.length > 0) {
  for (const p of problems) console.error(`FAIL ${p}`);
  console.error(`deploy-check: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`renders: ${summary.join(', ')}; Dockerfiles: ${dockerfiles}`);
if (placeholders.length > 0) {
  console.log(
    `deploy-check: ${placeholders.length} image reference(s) carry the placeholder digest (pin before a release: tools/deploy-images/pin.ts)`,
  );
}
console.log(`deploy-check: ${objectCount} objects OK`);

// ---------------------------------------------------------------------------------------------------

/** Kustomize appends a 10-character content hash to generated ConfigMaps/Secrets. */
function unhashed(name) {
  return name.replace(/-[a-z0-9]{10}$/, '');
}

function matches(selector, labels) {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

function checkRender(render, objects) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const seen = new Set();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    const where = `[${render}] ${id}`;
    if (!o.apiVersion || !o.kind || !o.metadata?.name) fail(where, 'apiVersion, kind and metadata.name are required');
    if (!KNOWN_KINDS.has(o.kind)) fail(where, `unexpected kind ${o.kind} (teach tools/deploy-check/validate.mjs about it)`);
    if (seen.has(id)) fail(where, 'rendered twice');
    seen.add(id);
    if (o.kind !== 'Namespace' && o.metadata?.namespace !== NAMESPACE) {
      fail(where, `namespace is ${JSON.stringify(o.metadata?.namespace)}, expected ${NAMESPACE}`);
    }
    if (o.metadata?.labels?.[PART_OF[0]] !== PART_OF[1]) fail(where, `missing label ${PART_OF.join('=')}`);
  }
  if (!objects.some((o) => o.kind === 'Namespace' && o.metadata?.name === NAMESPACE)) {
    fail(`[${render}]`, `Namespace ${NAMESPACE} is not rendered`);
  }

  const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c]));
  const secrets = new Map(byKind('Secret').map((s) => [s.metadata.name, s]));
  const deployments = byKind('Deployment');
  const services = byKind('Service');
  const certificates = byKind('Certificate');
  /** Secrets cert-manager writes, by name: the Certificate that produces each. */
  const issued = new Map(certificates.map((c) => [c.spec?.secretName, c]));

  // Secrets: committed only as dev placeholders.
  if (render === 'dev') {
    const rendered = new Map([...secrets.values()].map((s) => [unhashed(s.metadata.name), s]));
    for (const [name, keys] of Object.entries(EXTERNAL_SECRETS)) {
      const s = rendered.get(name);
      if (!s) fail(`[${render}] Secret/${name}`, 'the dev overlay must generate it (placeholder values)');
      else
        for (const k of keys)
          if (!(k in (s.data ?? {})) && !(k in (s.stringData ?? {}))) fail(`[${render}] Secret/${name}`, `missing key ${k}`);
    }
  } else {
    for (const name of secrets.keys()) fail(`[${render}] Secret/${name}`, 'Secrets must not be committed outside the dev overlay');
  }

  const referenced = new Set();
  const lookup = (kind, name, where) => {
    referenced.add(`${kind}/${name}`);
    if (kind === 'ConfigMap') {
      const c = configMaps.get(name);
      if (!c) fail(where, `ConfigMap ${name} is not in the render`);
      return c ? { keys: Object.keys(c.data ?? {}), data: c.data ?? {} } : undefined;
    }
    const s = secrets.get(name);
    if (s) return { keys: [...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})], data: {} };
    if (issued.has(name)) return { keys: TLS_SECRET_KEYS, data: {} };
    if (render !== 'dev' && EXTERNAL_SECRETS[name]) return { keys: EXTERNAL_SECRETS[name], data: {} };
    fail(where, `Secret ${name} is neither in the render nor a known external Secret (${Object.keys(EXTERNAL_SECRETS).join(', ')})`);
    return undefined;
  };

  /** Effective environment of a container: name -> { from, value }. */
  const effectiveEnv = (c, where) => {
    const env = new Map();
    for (const ef of c.envFrom ?? []) {
      const [kind, ref] = ef.configMapRef ? ['ConfigMap', ef.configMapRef] : ['Secret', ef.secretRef];
      const src = lookup(kind, ref?.name, where);
      if (src) for (const k of src.keys) env.set(k, { from: kind, value: src.data[k] });
    }
    for (const e of c.env ?? []) {
      if ('value' in e) env.set(e.name, { from: 'literal', value: e.value });
      else if (e.valueFrom?.configMapKeyRef || e.valueFrom?.secretKeyRef) {
        const [kind, ref] = e.valueFrom.configMapKeyRef ? ['ConfigMap', e.valueFrom.configMapKeyRef] : ['Secret', e.valueFrom.secretKeyRef];
        const src = lookup(kind, ref.name, `${where} env ${e.name}`);
        if (src && !src.keys.includes(ref.key)) fail(`${where} env ${e.name}`, `${kind} ${ref.name} has no key ${ref.key}`);
        env.set(e.name, { from: kind, value: src?.data[ref.key] });
      } else env.set(e.name, { from: 'other' });
    }
    return env;
  };

  const appConfig = {};
  for (const d of deployments) {
    const app = d.metadata.labels?.['app.kubernetes.io/name'];
    const where = `[${render}] Deployment/${d.metadata.name}`;
    const spec = APPS[app];
    if (!spec) {
      fail(where, `label app.kubernetes.io/name=${app} is not a known app (${Object.keys(APPS).join(', ')})`);
      continue;
    }
    if (d.metadata.name !== app) fail(where, `name differs from app.kubernetes.io/name=${app}`);
    // In prod the HorizontalPodAutoscaler owns the count (scaling.mjs checks it); elsewhere the Deployment does.
    const minReplicas = render === 'prod' && app === 'api-gateway' ? 3 : 2;
    if (render === 'prod') {
      if (d.spec?.replicas !== undefined)
        fail(where, `replicas ${d.spec.replicas} is set: in prod the HorizontalPodAutoscaler owns it, and every apply would reset it`);
    } else if (!(d.spec?.replicas >= minReplicas)) fail(where, `replicas ${d.spec?.replicas}, expected >= ${minReplicas}`);
    const pod = d.spec?.template?.spec ?? {};
    const podLabels = d.spec?.template?.metadata?.labels;
    if (!matches(d.spec?.selector?.matchLabels, podLabels)) fail(where, 'selector does not match the pod template labels');
    if (d.spec?.strategy?.rollingUpdate?.maxUnavailable !== 0)
      fail(where, 'rollingUpdate.maxUnavailable must be 0 (no capacity lost in a rollout)');

    const psc = pod.securityContext ?? {};
    if (!(Number.isInteger(psc.runAsUser) && psc.runAsUser > 0)) {
      fail(
        where,
        'pod securityContext.runAsUser must be a non-zero UID (the image says USER node, which the kubelet cannot verify as non-root)',
      );
    }
    if (psc.runAsNonRoot !== true) fail(where, 'pod securityContext.runAsNonRoot must be true');
    const grace = pod.terminationGracePeriodSeconds;
    if (!Number.isInteger(grace)) fail(where, 'terminationGracePeriodSeconds must be set');
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
    for (const v of volumes.values()) {
      if (v.configMap) lookup('ConfigMap', v.configMap.name, `${where} volume ${v.name}`);
      if (v.secret) lookup('Secret', v.secret.secretName, `${where} volume ${v.name}`);
    }

    const containers = pod.containers ?? [];
    const inits = pod.initContainers ?? [];
    const main = containers.find((c) => c.name === app);
    if (!main) {
      fail(where, `no container named ${app}`);
      continue;
    }
    // The service runs with the image's flags; the migrate command needs none.
    const entry = ['node', ...nodeFlagsOf(app), `apps/${app}/dist/main.js`];
    const migrateCommand = ['node', `apps/${app}/dist/main.js`, 'migrate'];

    for (const c of [...inits, ...containers]) {
      const cw = `${where} container ${c.name}`;
      const image = c.image ?? '';
      const m = /^([^@]+?)(?::([\w][\w.-]*))?(?:@sha256:[a-f0-9]{64})?$/.exec(image);
      if (!image) fail(cw, 'image is not set');
      // A registry may come first: pin.ts writes <registry>/overture/<app>@sha256:… in prod.
      else if (!m || (m[1] !== `overture/${app}` && !m[1].endsWith(`/overture/${app}`))) fail(cw, `image ${image} is not overture/${app}`);
      else if (!image.includes('@') && (!m[2] || m[2] === 'latest')) fail(cw, `image ${image} needs a pinned tag or digest`);
      const r = c.resources ?? {};
      for (const k of ['cpu', 'memory']) {
        if (!r.requests?.[k]) fail(cw, `resources.requests.${k} is not set`);
        if (!r.limits?.[k]) fail(cw, `resources.limits.${k} is not set`);
      }
      const sc = c.securityContext ?? {};
      if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) fail(cw, 'runAsNonRoot must be true');
      if (sc.runAsUser === 0) fail(cw, 'runAsUser 0');
      if (sc.readOnlyRootFilesystem !== true) fail(cw, 'readOnlyRootFilesystem must be true');
      if (sc.allowPrivilegeEscalation !== false) fail(cw, 'allowPrivilegeEscalation must be false');
      if (sc.privileged) fail(cw, 'privileged');
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) fail(cw, 'capabilities.drop must include ALL');
      if ((sc.capabilities?.add ?? []).length > 0) fail(cw, 'capabilities.add must be empty');
      if ((sc.seccompProfile ?? psc.seccompProfile)?.type !== 'RuntimeDefault')
        fail(cw, 'seccompProfile RuntimeDefault is required (restricted Pod Security)');
      const tmp = (c.volumeMounts ?? []).find((vm) => vm.mountPath === '/tmp');
      if (!tmp || !volumes.get(tmp.name)?.emptyDir) fail(cw, 'needs an emptyDir at /tmp (the root filesystem is read-only)');
      for (const vm of c.volumeMounts ?? []) {
        const v = volumes.get(vm.name);
        if (!v) fail(cw, `volumeMount ${vm.name} has no volume`);
        else if (issued.has(v.secret?.secretName) && (vm.subPath || vm.subPathExpr)) {
          fail(
            cw,
            `volumeMount ${vm.name} mounts certificate Secret ${v.secret.secretName} with subPath: a subPath mount never sees a renewed certificate`,
          );
        }
      }
      // The main container's environment is checked in full below; here every reference resolves.
      const cenv = c === main ? undefined : effectiveEnv(c, cw);
      if (cenv) checkPlaintext(cenv, cw);
    }

    // Main container: port, entry point, probes.
    const cw = `${where} container ${app}`;
    const portName = spec.protocol;
    const ports = main.ports ?? [];
    const port = ports.find((p) => p.name === portName);
    if (!port || port.containerPort !== spec.port) fail(cw, `needs port ${portName}: ${spec.port}`);
    if (main.command && JSON.stringify(main.command) !== JSON.stringify(entry))
      fail(cw, `command must be the image entry point ${entry.join(' ')} (or unset)`);
    if (main.args?.length) fail(cw, 'args must be unset');
    const resolvePort = (p) => ports.find((cp) => cp.name === p || cp.containerPort === p);

    // Environment: complete, known, secrets from Secrets, values sane.
    const env = effectiveEnv(main, cw);
    appConfig[app] = env;
    const allowedEnv = [...spec.env, ...(spec.optionalEnv ?? []), ...OPTIONAL_ENV];
    for (const k of spec.env) if (!env.has(k)) fail(cw, `env ${k} is not set`);
    for (const [k, v] of env) {
      if (!allowedEnv.includes(k)) fail(cw, `env ${k} is not read by ${app} (typo? else add it to APPS in validate.mjs)`);
      if (SECRET_ENV.has(k) && v.from !== 'Secret') fail(cw, `env ${k} must come from a Secret, not ${v.from}`);
      if (v.value === undefined) continue;
      if (INT_ENV.test(k) && !/^\d+$/.test(v.value)) fail(cw, `env ${k}=${v.value} is not an integer`);
      if (k === 'LOG_LEVEL' && !LOG_LEVELS.has(v.value)) fail(cw, `env LOG_LEVEL=${v.value} is not one of ${[...LOG_LEVELS]}`);
      if (k === 'OTEL_TRACES_SAMPLER_RATIO' && !(Number(v.value) >= 0 && Number(v.value) <= 1))
        fail(cw, `env ${k}=${v.value} is not in [0, 1]`);
      if (k === 'GRPC_REFLECTION' && !['true', 'false'].includes(v.value)) fail(cw, `env ${k}=${v.value} is not true/false`);
    }
    const val = (k) => env.get(k)?.value;
    checkPlaintext(env, cw);

    // The gRPC services' probes go to the plaintext health port: the kubelet cannot do mutual TLS.
    let healthPort;
    if (spec.protocol === 'grpc') {
      const m = /^0\.0\.0\.0:(\d+)$/.exec(val('GRPC_HEALTH_LISTEN') ?? '');
      healthPort = m ? Number(m[1]) : undefined;
      if (!m)
        fail(cw, `GRPC_HEALTH_LISTEN=${val('GRPC_HEALTH_LISTEN')}, expected 0.0.0.0:<port> (the plaintext health port the kubelet probes)`);
      else if (healthPort === spec.port)
        fail(cw, `GRPC_HEALTH_LISTEN must be a port of its own, not the mutual-TLS gRPC port ${spec.port}`);
      else if (ports.find((p) => p.name === 'health')?.containerPort !== healthPort)
        fail(cw, `needs port health: ${healthPort}, the port of GRPC_HEALTH_LISTEN`);
    }
    // The ops port (/metrics) is a named container port for the scraper; no Service exposes it (below).
    const ops = /^0\.0\.0\.0:(\d+)$/.exec(val('OPS_LISTEN') ?? '');
    if (val('OPS_LISTEN') !== undefined && !ops)
      fail(cw, `OPS_LISTEN=${val('OPS_LISTEN')}, expected 0.0.0.0:<port> (the scraper reaches the pod IP)`);
    else if (ops && ports.find((p) => p.name === 'ops')?.containerPort !== Number(ops[1]))
      fail(cw, `needs port ops: ${ops[1]}, the port of OPS_LISTEN`);
    for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const probe = main[kind];
      if (!probe) {
        if (kind !== 'startupProbe') fail(cw, `${kind} is missing`);
        continue;
      }
      const handler = probe.grpc ?? probe.httpGet;
      if (!handler || !resolvePort(handler.port)) fail(cw, `${kind} must probe a declared container port`);
      if (spec.protocol === 'grpc') {
        const want = kind === 'readinessProbe' ? '' : 'liveness';
        if (!probe.grpc) fail(cw, `${kind} must be a native grpc probe`);
        else {
          if ((probe.grpc.service ?? '') !== want) fail(cw, `${kind} must ask grpc.health.v1 for service "${want}"`);
          if (healthPort !== undefined && probe.grpc.port !== healthPort) {
            fail(
              cw,
              `${kind} probes port ${probe.grpc.port}: it must probe the plaintext health port ${healthPort} (GRPC_HEALTH_LISTEN), the kubelet's gRPC probes speak no TLS`,
            );
          }
        }
      } else {
        const want = kind === 'readinessProbe' ? '/health/ready' : '/health/live';
        if (probe.httpGet?.path !== want) fail(cw, `${kind} must be httpGet ${want}`);
      }
    }

    checkIdentityMount(main, volumes, issued, app, val('GRPC_TLS_DIR'), cw);
    checkLiveConfigMount(main, volumes, configMaps, app, val('LIVE_CONFIG_FILE'), cw);
    if (spec.protocol === 'grpc' && val('GRPC_LISTEN') !== `0.0.0.0:${spec.port}`)
      fail(cw, `GRPC_LISTEN=${val('GRPC_LISTEN')}, expected 0.0.0.0:${spec.port}`);
    if (spec.protocol === 'http' && val('HTTP_PORT') !== String(spec.port))
      fail(cw, `HTTP_PORT=${val('HTTP_PORT')}, expected ${spec.port}`);
    if (render === 'prod' && env.has('GRPC_REFLECTION') && val('GRPC_REFLECTION') !== 'false')
      fail(cw, 'GRPC_REFLECTION must be false in prod');
    const delay = Number(val('SHUTDOWN_DELAY_MS') ?? 0);
    const drain = spec.protocol === 'grpc' ? Number(val('SHUTDOWN_GRACE_MS') ?? 10000) : 0;
    if (delay < 1000) fail(cw, `SHUTDOWN_DELAY_MS=${delay}: set a few seconds so endpoints update before the server stops`);
    if (Number.isInteger(grace) && delay + drain + DRAIN_MARGIN_MS > grace * 1000) {
      fail(
        cw,
        `SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS + ${DRAIN_MARGIN_MS} ms (${delay + drain + DRAIN_MARGIN_MS}) exceeds terminationGracePeriodSeconds (${grace} s)`,
      );
    }
    // The event streams' drain runs from SIGTERM inside the server's own delay and grace: past
    // them the forced shutdown cuts the streams its gateways are still moving away from.
    const watchDrain = Number(val('WATCH_DRAIN_GRACE_MS') ?? 0);
    if (watchDrain > delay + drain) {
      fail(cw, `WATCH_DRAIN_GRACE_MS=${watchDrain} exceeds SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS (${delay + drain})`);
    }
    const dials = Object.entries(GRPC_TARGETS)
      .filter(([k]) => env.has(k))
      .map(([, target]) => target);
    if (JSON.stringify(dials.toSorted()) !== JSON.stringify(CALL_GRAPH[app].toSorted())) {
      fail(
        cw,
        `dials ${dials.join(', ') || 'nothing'} (its *_GRPC_URLs), but CALL_GRAPH in validate.mjs says ${CALL_GRAPH[app].join(', ') || 'nothing'}`,
      );
    }
    for (const [k, target] of Object.entries(GRPC_TARGETS)) {
      if (!env.has(k) || val(k) === undefined) continue;
      const u = /^dns:\/\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$/.exec(val(k));
      if (!u) {
        fail(cw, `${k}=${val(k)} must look like dns:///<service>.<namespace>.svc.cluster.local:<port>`);
        continue;
      }
      const [, svcName, ns, p] = u;
      const svc = services.find((s) => s.metadata.name === svcName);
      if (svcName !== target) fail(cw, `${k} points at ${svcName}, expected ${target}`);
      if (ns !== NAMESPACE) fail(cw, `${k} namespace ${ns}, expected ${NAMESPACE}`);
      if (!svc) fail(cw, `${k}: Service ${svcName} is not in the render`);
      else {
        if (svc.spec?.clusterIP !== 'None') fail(cw, `${k}: Service ${svcName} must be headless for per-call round robin`);
        if (!(svc.spec?.ports ?? []).some((sp) => String(sp.port) === p)) fail(cw, `${k}: Service ${svcName} has no port ${p}`);
      }
    }

    // Migrations.
    const migrate = inits.find((c) => c.name === 'migrate');
    if (spec.migrates) {
      if (!migrate) fail(where, 'needs an initContainer "migrate"');
      else {
        const mw = `${where} initContainer migrate`;
        const cmd = [...(migrate.command ?? []), ...(migrate.args ?? [])];
        if (JSON.stringify(cmd) !== JSON.stringify(migrateCommand)) fail(mw, `must run ${migrateCommand.join(' ')}`);
        if (migrate.image !== main.image) fail(mw, 'must use the same image as the app');
        const serveOnly = spec.serveOnlyEnv ?? [];
        // The same environment, but the database as its migration role (DDL) rather than the app role.
        const migrateSecret = `overture-${app}-db-migrate`;
        // Generated Secrets (dev) carry a content hash in their names: compare without it.
        const comparable = (env) =>
          env.map((e) =>
            e.valueFrom?.secretKeyRef
              ? { ...e, valueFrom: { secretKeyRef: { ...e.valueFrom.secretKeyRef, name: unhashed(e.valueFrom.secretKeyRef.name) } } }
              : e,
          );
        const expectedEnv = comparable(main.env ?? [])
          .filter((e) => !serveOnly.includes(e.name))
          .map((e) =>
            e.name === 'DATABASE_URL' ? { ...e, valueFrom: { secretKeyRef: { ...e.valueFrom?.secretKeyRef, name: migrateSecret } } } : e,
          );
        if (
          JSON.stringify(comparable(migrate.env ?? [])) !== JSON.stringify(expectedEnv) ||
          JSON.stringify(migrate.envFrom ?? []) !== JSON.stringify(main.envFrom ?? [])
        ) {
          fail(
            mw,
            `must have the same env and envFrom as the app container, with DATABASE_URL from Secret ${migrateSecret} (the migration role)${serveOnly.length ? `, without ${serveOnly.join(', ')}` : ''}`,
          );
        }
      }
    } else if (migrate) fail(where, `${app} owns no database and must not have a migrate initContainer`);
    for (const c of inits) {
      if (c.readinessProbe || c.livenessProbe || c.startupProbe)
        fail(`${where} initContainer ${c.name}`, 'init containers cannot have probes');
    }

    // Exactly one Service, whose ports reach the container.
    const svcs = services.filter((s) => matches(s.spec?.selector, podLabels));
    if (svcs.length !== 1) fail(where, `selected by ${svcs.length} Services, expected 1`);
    // PodDisruptionBudget in prod.
    const pdbs = byKind('PodDisruptionBudget').filter((p) => matches(p.spec?.selector?.matchLabels, podLabels));
    if (render === 'prod' && pdbs.length !== 1) fail(where, `covered by ${pdbs.length} PodDisruptionBudgets, expected 1`);
    const floor = replicaFloor(d, objects);
    for (const p of pdbs) {
      const ok = p.spec.maxUnavailable >= 1 || (Number.isInteger(p.spec.minAvailable) && p.spec.minAvailable < floor);
      if (!ok) fail(`[${render}] PodDisruptionBudget/${p.metadata.name}`, 'allows no disruption: node drains would block');
    }
  }

  for (const s of services) {
    const where = `[${render}] Service/${s.metadata.name}`;
    const ds = deployments.filter((d) => matches(s.spec?.selector, d.spec?.template?.metadata?.labels));
    if (ds.length !== 1) {
      fail(where, `selects ${ds.length} Deployments, expected 1`);
      continue;
    }
    const app = ds[0].metadata.name;
    const spec = APPS[app];
    if (!spec) continue;
    if (s.metadata.name !== app) fail(where, `name differs from the Deployment it selects (${app})`);
    const cports = (ds[0].spec.template.spec.containers ?? []).flatMap((c) => c.ports ?? []);
    for (const sp of s.spec?.ports ?? []) {
      const target = sp.targetPort ?? sp.port;
      const cp = cports.find((c) => c.name === target || c.containerPort === target);
      if (!cp) fail(where, `port ${sp.name ?? sp.port}: targetPort ${target} is not a container port of ${app}`);
      else if (cp.name === 'ops')
        fail(where, `port ${sp.name ?? sp.port} exposes the ops port (/metrics), which only the scraper may reach`);
      else if (spec.protocol === 'grpc' && cp.containerPort !== sp.port) {
        fail(
          where,
          `port ${sp.port} must equal the container port ${cp.containerPort}: clients of a headless Service dial pod IPs directly`,
        );
      }
    }
    if (spec.protocol === 'grpc' && s.spec?.clusterIP !== 'None')
      fail(where, 'gRPC Services must be headless (clusterIP: None) so clients balance per call');
    if (spec.protocol === 'http' && (s.spec?.clusterIP === 'None' || (s.spec?.type ?? 'ClusterIP') !== 'ClusterIP'))
      fail(where, 'the gateway Service must be a ClusterIP Service');
  }
  for (const p of byKind('PodDisruptionBudget')) {
    if (!deployments.some((d) => matches(p.spec?.selector?.matchLabels, d.spec?.template?.metadata?.labels))) {
      fail(`[${render}] PodDisruptionBudget/${p.metadata.name}`, 'selects no Deployment');
    }
  }
  for (const c of configMaps.keys())
    if (!referenced.has(`ConfigMap/${c}`)) fail(`[${render}] ConfigMap/${c}`, 'not used by any Deployment');
  for (const s of secrets.keys()) if (!referenced.has(`Secret/${s}`)) fail(`[${render}] Secret/${s}`, 'not used by any Deployment');
  for (const app of Object.keys(APPS))
    if (!deployments.some((d) => d.metadata.name === app)) fail(`[${render}]`, `no Deployment for ${app}`);

  // The way in from outside: in prod one Ingress, to the gateway only, over TLS, and holding
  // WebSockets open longer than the gateway's own idle timeout (the proxy must not be the one that
  // decides a quiet socket is dead).
  const ingresses = byKind('Ingress');
  if (render === 'prod' && ingresses.length !== 1) fail(`[${render}]`, `${ingresses.length} Ingresses, expected 1 (to api-gateway)`);
  for (const ing of ingresses) {
    const where = `[${render}] Ingress/${ing.metadata.name}`;
    if (!ing.spec?.ingressClassName) fail(where, 'needs spec.ingressClassName');
    const tlsHosts = new Set((ing.spec?.tls ?? []).flatMap((t) => t.hosts ?? []));
    for (const rule of ing.spec?.rules ?? []) {
      if (!rule.host || !tlsHosts.has(rule.host)) fail(where, `host ${rule.host ?? '(none)'} is not covered by spec.tls`);
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend?.service;
        if (backend?.name !== 'api-gateway') fail(where, `path ${path.path} routes to ${backend?.name}: only api-gateway is exposed`);
        const svc = services.find((sv) => sv.metadata.name === backend?.name);
        const port = backend?.port?.name ?? backend?.port?.number;
        if (!svc) fail(where, `path ${path.path}: Service ${backend?.name} is not in the render`);
        else if (!(svc.spec?.ports ?? []).some((sp) => sp.name === port || sp.port === port))
          fail(where, `path ${path.path}: Service ${backend?.name} has no port ${port}`);
      }
    }
    const idleMs = Number(appConfig['api-gateway']?.get('WS_IDLE_TIMEOUT_MS')?.value);
    for (const a of ['proxy-read-timeout', 'proxy-send-timeout']) {
      const seconds = Number(ing.metadata.annotations?.[`nginx.ingress.kubernetes.io/${a}`] ?? 60);
      if (!(seconds * 1000 > idleMs)) fail(where, `${a} ${seconds} s must exceed the gateway's WS_IDLE_TIMEOUT_MS (${idleMs} ms)`);
    }
  }

  // The gateway verifies the tokens auth issues.
  for (const k of ['AUTH_ISSUER', 'AUTH_AUDIENCE']) {
    const a = appConfig.auth?.get(k)?.value;
    const g = appConfig['api-gateway']?.get(k)?.value;
    if (a !== undefined && g !== undefined && a !== g) fail(`[${render}]`, `${k} differs between auth (${a}) and api-gateway (${g})`);
  }

  checkCertificates(render, objects);
  checkNetworkPolicies({ render, objects, apps: APPS, callGraph: CALL_GRAPH });
  checkAutoscaling({ render, objects, apps: APPS, root: targetRoot });
  checkTopologySpread(render, deployments);
  checkResources({ render, deployments, root: targetRoot });
  checkImageReferences(render, deployments);
}

function checkCrossRender(all) {
  for (const name of ['base', 'dev', 'prod']) if (!all[name]) fail(`[${name}]`, 'render missing');
}

/** Parses a Dockerfile into instructions: { op, args, line }, joining continuations, dropping comments. */
function parseDockerfile(text) {
  const out = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (buf === '' && /^\s*#/.test(line)) return;
    if (buf !== '' && /^\s*#/.test(line)) return; // comment inside a continuation
    if (buf === '') start = i + 1;
    if (line.endsWith('\\')) {
      buf += line.slice(0, -1) + ' ';
      return;
    }
    buf += line;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(buf);
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buf = '';
  });
  return out;
}

function checkDocker(root) {
  const ignorePath = path.join(root, '.dockerignore');
  if (!fs.existsSync(ignorePath)) fail('.dockerignore', 'missing');
  else {
    const entries = new Set(
      fs
        .readFileSync(ignorePath, 'utf8')
        .split('\n')
        .map((l) => l.trim().replace(/^\/+|\/+$/g, ''))
        .filter((l) => l && !l.startsWith('#')),
    );
    for (const want of ['node_modules', 'dist', '.data', '.nx', '.git', '*.tsbuildinfo']) {
      if (!entries.has(want) && !entries.has(`**/${want}`)) fail('.dockerignore', `must exclude ${want}`);
    }
    for (const keep of ['proto', 'apps', 'libs', 'package-lock.json', 'package.json']) {
      if (entries.has(keep)) fail('.dockerignore', `must not exclude ${keep}`);
    }
  }

  const normalised = new Map();
  for (const [app, spec] of Object.entries(APPS)) {
    const file = path.join(root, 'deploy/docker', `${app}.Dockerfile`);
    const where = `deploy/docker/${app}.Dockerfile`;
    if (!fs.existsSync(file)) {
      fail(where, 'missing');
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    // The app's V8 flags (tools/suite/node-flags.ts) are its own too, like its name and port.
    const flags = nodeFlagsOf(app)
      .map((f) => `${JSON.stringify(f)}, `)
      .join('');
    // The base digest is compared across the files by images.mjs; a digest may hold a port's digits.
    const undigested = text.replace(/@sha256:[a-f0-9]{64}/g, '@__DIGEST__');
    normalised.set(app, undigested.split(flags).join('').split(app).join('__APP__').split(String(spec.port)).join('__PORT__'));
    const ins = parseDockerfile(text);
    const at = (i) => `${where}:${i.line}`;

    const stages = [];
    for (const i of ins) {
      if (i.op === 'FROM') {
        const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
        if (!m) {
          fail(at(i), `cannot parse FROM ${i.args}`);
          continue;
        }
        const [, image, name] = m;
        const fromStage = stages.find((s) => s.name === image);
        // An external base image is node:26-slim pinned by digest (images.mjs checks the pin).
        const base = image.replace(/@sha256:[a-f0-9]{64}$/, '');
        if (!fromStage && base !== 'node:26-slim') fail(at(i), `base image ${image}: use node:26-slim`);
        stages.push({ name, image: fromStage ? image : base, ref: image, fromStage: fromStage?.name, ins: [] });
      } else if (stages.length > 0) stages.at(-1).ins.push(i);
      else if (i.op === 'ARG') {
        const m = /^APP(?:=(\S+))?$/.exec(i.args);
        if (m && m[1] !== app) fail(at(i), `ARG APP default ${m[1]} does not match the file name (${app})`);
      }
    }
    if (!ins.some((i) => i.op === 'ARG' && i.args === `APP=${app}`)) fail(where, `needs a global ARG APP=${app}`);
    const runs = (re) => stages.some((s) => s.ins.some((i) => i.op === 'RUN' && re.test(i.args)));
    if (!runs(/\bnpm ci\b(?!.*--omit=dev)/)) fail(where, 'a build stage must run npm ci');
    if (!runs(/\bnpm ci\b.*--omit=dev/)) fail(where, 'a deps stage must run npm ci --omit=dev');
    if (!runs(/\bnpx nx run "?\$\{?APP\}?:build"?/)) fail(where, 'must build with npx nx run $APP:build');
    if (!runs(/\bproto\b/)) fail(where, 'must stage proto/ for the runtime image');

    checkDockerBaseImages(where, stages);
    const final = stages.at(-1);
    if (!final) {
      fail(where, 'no FROM');
      continue;
    }
    const fi = final.ins;
    const fw = `${where} (final stage ${final.name ?? ''})`;
    if (final.image !== 'node:26-slim') fail(fw, 'the runtime stage must start from node:26-slim, not from a build stage');
    const users = fi.filter((i) => i.op === 'USER');
    if (users.at(-1)?.args !== 'node') fail(fw, 'must switch to USER node');
    if (!fi.some((i) => i.op === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))) fail(fw, 'must set ENV NODE_ENV=production');
    const expose = fi.filter((i) => i.op === 'EXPOSE').map((i) => i.args);
    if (expose.length !== 1 || expose[0] !== String(spec.port)) fail(fw, `must EXPOSE ${spec.port} (got ${expose.join(', ') || 'none'})`);
    const ep = fi.filter((i) => i.op === 'ENTRYPOINT').at(-1);
    let epArgs;
    try {
      epArgs = ep && JSON.parse(ep.args);
    } catch {
      epArgs = undefined;
    }
    const image = ['node', ...nodeFlagsOf(app), `apps/${app}/dist/main.js`];
    if (JSON.stringify(epArgs) !== JSON.stringify(image)) {
      fail(
        fw,
        `must have exec-form ENTRYPOINT ${JSON.stringify(image)} (node as PID 1 receives SIGTERM; flags from tools/suite/node-flags.ts)`,
      );
    }
    if (fi.some((i) => i.op === 'CMD')) fail(fw, 'CMD is not used (the apps take no default arguments)');
    for (const i of fi) {
      if ((i.op === 'COPY' || i.op === 'ADD') && !/--from=/.test(i.args))
        fail(at(i), 'the runtime stage copies only from earlier stages, never the build context');
      if (i.op === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args)) fail(at(i), 'no npm install in the runtime stage');
    }
    const copies = fi.filter((i) => i.op === 'COPY').map((i) => i.args);
    const depsStage = stages.find((s) => s.ins.some((i) => i.op === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args)));
    if (!copies.some((c) => new RegExp(`--from=${depsStage?.name}\\b.*node_modules`).test(c))) {
      fail(fw, 'must take node_modules from the npm ci --omit=dev stage');
    }
  }
  checkDockerBaseDigestsAgree();
  const reference = normalised.get('api-gateway');
  for (const [app, text] of normalised) {
    if (reference !== undefined && text !== reference) {
      fail(`deploy/docker/${app}.Dockerfile`, 'differs from api-gateway.Dockerfile beyond the app name and port: keep the five in step');
    }
  }
  return normalised.size;
}

/**
 * LIVE_CONFIG_FILE is a key of the app's own live ConfigMap, mounted whole (a subPath mount never
 * sees an update) and named without kustomize's hash suffix: an edit must reach running pods
 * through the volume rather than roll them under a new name.
 */
function checkLiveConfigMount(container, volumes, configMaps, app, file, where) {
  if (file === undefined) return; // reported as a missing variable
  const dir = path.posix.dirname(file);
  const mount = (container.volumeMounts ?? []).find((vm) => vm.mountPath === dir);
  if (!mount) return fail(where, `LIVE_CONFIG_FILE=${file}: ${dir} is not a volume mount of this container`);
  if (mount.readOnly !== true) fail(where, 'the LIVE_CONFIG_FILE mount must be readOnly');
  const configMap = volumes.get(mount.name)?.configMap;
  const name = `overture-${app}-live`;
  if (configMap?.name !== name) return fail(where, `LIVE_CONFIG_FILE must be in a volume of ConfigMap ${name} (not hash-suffixed)`);
  if (configMap.items) fail(where, `volume ${mount.name}: mount the whole ConfigMap, without items`);
  const key = path.posix.basename(file);
  if (!(key in (configMaps.get(name)?.data ?? {}))) fail(where, `LIVE_CONFIG_FILE=${file}: ConfigMap ${name} has no key ${key}`);
}
