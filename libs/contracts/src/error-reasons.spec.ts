import { describe, expect, it } from 'vitest';
import { AuthReason, CommonReason, GatewayReason, MetadataReason, PlaybackReason, wireReasons } from './error-reasons.js';
import { AuthErrorReason } from './generated/overture/auth/v1/errors.js';
import { CommonErrorReason } from './generated/overture/common/v1/errors.js';
import { GatewayErrorReason } from './generated/overture/gateway/v1/errors.js';
import { MetadataErrorReason } from './generated/overture/metadata/v1/errors.js';
import { PlaybackErrorReason } from './generated/overture/playback/v1/errors.js';

const ENUMS = [
  { name: 'CommonErrorReason', values: CommonErrorReason, prefix: 'COMMON_ERROR_REASON_', wire: CommonReason },
  { name: 'AuthErrorReason', values: AuthErrorReason, prefix: 'AUTH_ERROR_REASON_', wire: AuthReason },
  { name: 'MetadataErrorReason', values: MetadataErrorReason, prefix: 'METADATA_ERROR_REASON_', wire: MetadataReason },
  { name: 'PlaybackErrorReason', values: PlaybackErrorReason, prefix: 'PLAYBACK_ERROR_REASON_', wire: PlaybackReason },
  { name: 'GatewayErrorReason', values: GatewayErrorReason, prefix: 'GATEWAY_ERROR_REASON_', wire: GatewayReason },
] as const;

/** The enum's value names, without TypeScript's reverse (number → name) entries. */
const namesOf = (values: Record<string, string | number>) => Object.keys(values).filter((key) => typeof values[key] === 'number');

describe('error reasons derived from the proto enums', () => {
  it.each(ENUMS)(
    '$name: every value but UNSPECIFIED maps to a distinct wire string, its name minus the prefix',
    ({ values, prefix, wire }) => {
      const names = namesOf(values);
      expect(values[`${prefix}UNSPECIFIED` as keyof typeof values]).toBe(0);
      const expected = names.filter((name) => name !== `${prefix}UNSPECIFIED`).map((name) => name.slice(prefix.length));
      expect(Object.keys(wire).sort()).toEqual([...expected].sort());
      for (const [key, reason] of Object.entries(wire)) expect(reason).toBe(key);
      expect(new Set(Object.values(wire)).size).toBe(names.length - 1);
    },
  );

  it('sends wire strings that are SCREAMING_SNAKE_CASE', () => {
    for (const { wire } of ENUMS) for (const reason of Object.values(wire)) expect(reason).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it('keeps each common reason in the common enum only, so that one reason has one meaning', () => {
    const common = new Set<string>(Object.values(CommonReason));
    for (const { name, wire } of ENUMS.slice(1)) {
      expect(
        Object.values(wire).filter((reason) => common.has(reason)),
        name,
      ).toEqual([]);
    }
  });

  it('refuses an enum whose value lacks the prefix', () => {
    expect(() => wireReasons({ THING_UNSPECIFIED: 0, OTHER_NAME: 1 }, 'THING_')).toThrow(/OTHER_NAME lacks the enum prefix THING_/);
  });
});
