import { AuthErrorReason } from './generated/overture/auth/v1/errors.js';
import { CommonErrorReason } from './generated/overture/common/v1/errors.js';
import { GatewayErrorReason } from './generated/overture/gateway/v1/errors.js';
import { MetadataErrorReason } from './generated/overture/metadata/v1/errors.js';
import { PlaybackErrorReason } from './generated/overture/playback/v1/errors.js';

/** The wire strings of a generated `*ErrorReason` enum: each value's name minus the enum prefix, keyed by itself. */
export type WireReasons<E, P extends string> = {
  readonly [K in keyof E as K extends `${P}UNSPECIFIED` ? never : K extends `${P}${infer R}` ? R : never]: K extends `${P}${infer R}`
    ? R
    : never;
};

/**
 * Derives the reasons sent on the wire from a generated proto enum: `PREFIX_TRACK_NOT_FOUND = 1`
 * becomes `TRACK_NOT_FOUND: 'TRACK_NOT_FOUND'`. The number never travels; the name does, so that a
 * reason reads the same in gRPC trailing metadata, HTTP bodies and logs. UNSPECIFIED is not a reason.
 */
export function wireReasons<E extends Record<string, string | number>, P extends string>(values: E, prefix: P): WireReasons<E, P> {
  const reasons: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    // A TypeScript numeric enum also maps each number back to its name: skip those entries.
    if (typeof value !== 'number') continue;
    if (!name.startsWith(prefix)) throw new Error(`${name} lacks the enum prefix ${prefix}`);
    const reason = name.slice(prefix.length);
    if (reason !== 'UNSPECIFIED') reasons[reason] = reason;
  }
  return Object.freeze(reasons) as WireReasons<E, P>;
}

/** Reasons any service can send (shared libraries), and the gateway too when it makes the same check. */
export const CommonReason = wireReasons(CommonErrorReason, 'COMMON_ERROR_REASON_');
export type CommonReason = (typeof CommonReason)[keyof typeof CommonReason];

export const AuthReason = wireReasons(AuthErrorReason, 'AUTH_ERROR_REASON_');
export type AuthReason = (typeof AuthReason)[keyof typeof AuthReason];

export const MetadataReason = wireReasons(MetadataErrorReason, 'METADATA_ERROR_REASON_');
export type MetadataReason = (typeof MetadataReason)[keyof typeof MetadataReason];

export const PlaybackReason = wireReasons(PlaybackErrorReason, 'PLAYBACK_ERROR_REASON_');
export type PlaybackReason = (typeof PlaybackReason)[keyof typeof PlaybackReason];

/** Reasons the gateway originates at its HTTP and WebSocket edge. */
export const GatewayReason = wireReasons(GatewayErrorReason, 'GATEWAY_ERROR_REASON_');
export type GatewayReason = (typeof GatewayReason)[keyof typeof GatewayReason];
