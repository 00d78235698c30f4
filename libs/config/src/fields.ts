import { z } from 'zod';

/** Reusable environment-variable parsers; each accepts the raw string and yields a typed value. */
export const env = {
  port: () => z.coerce.number().int().min(1).max(65535),
  positiveInt: () => z.coerce.number().int().positive(),
  nonNegativeInt: () => z.coerce.number().int().min(0),
  ratio: () => z.coerce.number().min(0).max(1),
  boolean: () => z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
  /** host:port, as gRPC targets and listen addresses are written (`0.0.0.0:50051`, `dns:///auth:50051`). */
  grpcAddress: () => z.string().regex(/^(dns:\/\/\/)?[\w.\-[\]:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:50051'),
  /**
   * A gRPC client target: host:port, `dns:///name:port` (every address the name resolves to, e.g. a
   * headless Service), or a fixed list of replicas `ipv4:10.0.0.1:50052,10.0.0.2:50052` (`ipv6:` too).
   * `dns://server:port/name:port` asks that DNS server; grpc-js honours the server only with
   * GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true in the environment (the rollout drill's loopback DNS).
   */
  grpcTarget: () =>
    z
      .string()
      .regex(
        /^((dns:\/\/([\w.\-[\]]+(:\d{1,5})?)?\/)?[\w.\-[\]:]+:\d{1,5}|ipv[46]:[\w.\-[\]:]+:\d{1,5}(,[\w.\-[\]:]+:\d{1,5})*)$/,
        'expected host:port, dns:///host:port or ipv4:host:port,host:port, e.g. 127.0.0.1:50051',
      ),
  postgresUrl: () =>
    z
      .string()
      .url()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), 'expected a postgres:// URL'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'verbose']),
};

/** How every process speaks gRPC: mutual TLS with the certificate of its workload. */
export const grpcTransportConfig = {
  /** A directory holding tls.crt, tls.key and ca.crt (a cert-manager Secret mounted as a volume). */
  GRPC_TLS_DIR: z.string().min(1),
  /** How often those files are re-read, so a rotated certificate is used without a restart. */
  GRPC_TLS_RELOAD_MS: env.positiveInt().min(1_000).default(60_000),
  /** Plaintext gRPC and no caller checks. Insecure: only for measuring what mutual TLS costs. */
  GRPC_INSECURE_PLAINTEXT: env.boolean().default(false),
};

/** Readiness beyond "the process is up": when a saturated process stops taking traffic. */
export const saturationConfig = {
  /** An event loop late by more than this at every sample for READINESS_EVENT_LOOP_WINDOW_MS makes the process not ready. */
  READINESS_EVENT_LOOP_DELAY_MS: env.positiveInt().default(500),
  READINESS_EVENT_LOOP_WINDOW_MS: env.positiveInt().default(10_000),
  /** A database pool with requests waiting and no idle connection for this long makes the process not ready. */
  READINESS_DB_POOL_EXHAUSTED_MS: env.positiveInt().default(10_000),
};

/** Variables every Overture process reads. */
export const commonConfig = {
  ...grpcTransportConfig,
  ...saturationConfig,
  /**
   * The operations port (host:port): `GET /metrics` in Prometheus text format, apart from the API
   * port. Kubernetes Services and Ingresses do not expose it.
   */
  OPS_LISTEN: env.grpcAddress().default('0.0.0.0:9464'),
  LOG_LEVEL: env.logLevel().default('info'),
  /** Hide client addresses in log lines and exported spans too (secrets and e-mails are always hidden). */
  LOG_REDACT_CLIENT_ADDRESS: env.boolean().default(false),
  /** OTLP/HTTP endpoint for traces; tracing exports nothing when unset. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** Fraction of new traces sampled (parent-based: a call that arrives with a trace follows its decision). */
  OTEL_TRACES_SAMPLER_RATIO: env.ratio().default(0.01),
  /** OpenTelemetry's own switch: no tracing at all (no spans, no trace ids in log lines). */
  OTEL_SDK_DISABLED: env.boolean().default(false),
  /** Record request, call, runtime and pool metrics; off only to measure what telemetry costs. */
  METRICS_ENABLED: env.boolean().default(true),
  /**
   * The live config file (YAML or JSON, e.g. a key of a mounted ConfigMap): settings that change
   * without a restart (docs/operations.md#live-config). Unset: the defaults, for good.
   */
  LIVE_CONFIG_FILE: z.string().min(1).optional(),
  /** The live config file is also re-read this often, in case a change raised no file event. */
  LIVE_CONFIG_POLL_MS: env.positiveInt().min(1_000).default(10_000),
};

/**
 * Live config sections every process reads (see LiveConfig); an app's schema adds its own. A
 * setting left out falls back to its environment variable. Unknown keys are refused, so a typo
 * does not pass as a change.
 */
export const commonLiveConfig = {
  log: z
    .strictObject({
      /** Overrides LOG_LEVEL. */
      level: env.logLevel().optional(),
    })
    .default({}),
  tracing: z
    .strictObject({
      /** Overrides OTEL_TRACES_SAMPLER_RATIO. */
      sample_ratio: z.number().min(0).max(1).optional(),
    })
    .default({}),
  /** Named on/off switches for features that are being introduced. */
  flags: z.record(z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'expected a lower-case flag name'), z.boolean()).default({}),
};

export const liveConfigSchema = z.strictObject(commonLiveConfig);

/** Variables of every gRPC service. */
export const grpcServiceConfig = {
  ...commonConfig,
  /** Address the gRPC server listens on. */
  GRPC_LISTEN: env.grpcAddress(),
  DATABASE_URL: env.postgresUrl(),
  DATABASE_POOL_SIZE: env.positiveInt().default(10),
  /** After SIGTERM: report NOT_SERVING and keep serving this long, so load balancers stop sending calls. */
  SHUTDOWN_DELAY_MS: env.nonNegativeInt().default(0),
  /** After the delay: how long in-flight calls may take before the server is forced down. */
  SHUTDOWN_GRACE_MS: env.nonNegativeInt().default(10_000),
  /** gRPC server reflection (grpcurl with a client certificate); off unless turned on. */
  GRPC_REFLECTION: env.boolean().default(false),
  /**
   * A second, plaintext port serving only grpc.health.v1, for probes that cannot present a client
   * certificate (the kubelet's gRPC probes speak no TLS). Unset: no such port.
   */
  GRPC_HEALTH_LISTEN: env.grpcAddress().optional(),
};
