import { commonConfig, commonLiveConfig, env, type LiveSnapshot } from '@overture/config';
import { z } from 'zod';

export const gatewayConfigSchema = z.object({
  ...commonConfig,
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: env.port().default(8080),
  /** Time a client has to send a whole request, headers and body (the body is at most 64 KiB): 408 after it. */
  HTTP_REQUEST_TIMEOUT_MS: env.positiveInt().default(10_000),
  /** A connection with a request in progress and no bytes moving either way for this long is closed. */
  HTTP_CONNECTION_TIMEOUT_MS: env.positiveInt().default(30_000),
  /**
   * Which proxies in front of the gateway to trust for the client address (X-Forwarded-For), which
   * per-address sign-in limits key on: `false` (none, the default), a hop count such as `1` (one
   * ingress), or a comma-separated list of proxy addresses/CIDRs.
   */
  TRUST_PROXY: z
    .string()
    .regex(/^(false|true|\d{1,2}|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/, 'expected false, a hop count, or proxy addresses/CIDRs')
    .default('false')
    .transform((v): boolean | string[] | ((address: string, hop: number) => boolean) => {
      if (v === 'false' || v === 'true') return v === 'true';
      // A hop count n trusts the n nearest proxies.
      if (/^\d+$/.test(v)) return (_address: string, hop: number) => hop < Number(v);
      return v.split(',');
    }),
  AUTH_GRPC_URL: env.grpcTarget().default('127.0.0.1:50051'),
  METADATA_GRPC_URL: env.grpcTarget().default('127.0.0.1:50052'),
  PLAYBACK_GRPC_URL: env.grpcTarget().default('127.0.0.1:50053'),
  RECOMMENDATION_GRPC_URL: env.grpcTarget().default('127.0.0.1:50054'),
  /** Deadline of each downstream call; a client's `x-request-timeout-ms` may shorten it, never lengthen it. */
  GRPC_DEADLINE_MS: env.positiveInt().default(2_000),
  /**
   * A read's first attempt gives up after this (within GRPC_DEADLINE_MS), so that a stalled replica
   * leaves time to retry the read once on another one.
   */
  GRPC_ATTEMPT_TIMEOUT_MS: env.positiveInt().default(1_000),
  /**
   * How often the playback event stream (WatchEvents) is replaced, make-before-break. Below the
   * 30 s that services let a stream outlive its connection's maximum age, so that none is ever cut.
   */
  PLAYBACK_STREAM_ROTATE_MS: env.positiveInt().max(25_000).default(20_000),
  /** `iss` and `aud` every access token must carry. */
  AUTH_ISSUER: z.url().default('https://overture.local/auth'),
  AUTH_AUDIENCE: z.string().min(1).default('overture-api'),
  /** How often the signing keys are re-read from auth (besides on a token with an unknown `kid`). */
  JWKS_REFRESH_INTERVAL_MS: env.positiveInt().default(60_000),
  /** WebSocket /v1/ws: how often the server pings each connection. */
  WS_PING_INTERVAL_MS: env.positiveInt().default(15_000),
  /** WebSocket /v1/ws: a connection that sent nothing (not even a pong) for this long is closed. */
  WS_IDLE_TIMEOUT_MS: env.positiveInt().default(45_000),
  /** WebSocket /v1/ws: a connection opened without a token must send `auth` within this time. */
  WS_AUTH_TIMEOUT_MS: env.positiveInt().default(5_000),
  /** WebSocket /v1/ws: open connections per user on this replica (phones, laptops, browser tabs). */
  WS_MAX_CONNECTIONS_PER_USER: env.positiveInt().default(20),
  /** WebSocket /v1/ws: open connections per client address on this replica, authenticated or not. */
  WS_MAX_CONNECTIONS_PER_ADDRESS: env.positiveInt().default(200),
  /** WebSocket /v1/ws: messages a client may send per second, on average (`resume` counts as 5). */
  WS_MESSAGES_PER_SECOND: env.positiveInt().default(5),
  /** WebSocket /v1/ws: how many messages a client may send at once before the rate applies; at least one `resume`'s worth. */
  WS_MESSAGE_BURST: env.positiveInt().min(5).default(20),
  /** WebSocket /v1/ws: unsent bytes a connection may hold before it is closed as a slow reader (4429). */
  WS_MAX_BUFFERED_BYTES: env.positiveInt().default(1024 * 1024),
  /**
   * A legacy trace-id header (e.g. `x-kugou-traceid`) accepted when a request has no valid
   * `traceparent`: its id becomes the W3C trace id (docs/observability.md). Unset: not read.
   */
  TRACE_LEGACY_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an HTTP header name')
    .transform((v) => v.toLowerCase())
    .optional(),
  /**
   * Export the gateway's span of an unsampled request when it ends with a 5xx or takes at least
   * SLOW_REQUEST_MS (its children and the services' spans of it stay unsampled).
   */
  TRACE_KEEP_ERRORS_AND_SLOW: env.boolean().default(true),
  /** A request taking this long is slow: its access log line and gateway span are always kept. */
  SLOW_REQUEST_MS: env.positiveInt().default(1_000),
  /** Fraction of the access log lines of requests answered below 400 and fast that are written. */
  ACCESS_LOG_SAMPLE_RATIO: env.ratio().default(0.01),
  /** After SIGTERM: report not ready and keep serving this long, so load balancers stop sending requests. */
  SHUTDOWN_DELAY_MS: env.nonNegativeInt().default(0),
  /** After the delay: how long in-flight requests may take before the process exits anyway. */
  SHUTDOWN_GRACE_MS: env.nonNegativeInt().default(10_000),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** The gateway's live config file (LIVE_CONFIG_FILE): the common sections and its own. */
export const gatewayLiveConfigSchema = z.strictObject({
  ...commonLiveConfig,
  access_log: z
    .strictObject({
      /** Overrides ACCESS_LOG_SAMPLE_RATIO. */
      sample_ratio: z.number().min(0).max(1).optional(),
    })
    .default({}),
});

/** The gateway's view of its live config: the snapshot in use, read on each use. */
export interface GatewayLive {
  readonly current: LiveSnapshot<z.output<typeof gatewayLiveConfigSchema>>;
}

/** Injection token of the parsed config. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
