import { LiveConfig, loadConfig } from '@overture/config';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema, gatewayLiveConfigSchema } from './gateway.config.js';

describe('gateway config: TRUST_PROXY', () => {
  const trustOf = (value?: string) =>
    loadConfig(gatewayConfigSchema, {
      GRPC_TLS_DIR: '/var/run/secrets/overture/tls',
      ...(value === undefined ? {} : { TRUST_PROXY: value }),
    }).TRUST_PROXY;

  it('trusts no proxy by default, so a client cannot pick its own address for the sign-in limits', () => {
    expect(trustOf()).toBe(false);
  });

  it('takes a hop count: only the nearest n proxies are trusted', () => {
    const trust = trustOf('1');
    expect(typeof trust).toBe('function');
    const fn = trust as (address: string, hop: number) => boolean;
    expect(fn('10.0.0.1', 0)).toBe(true);
    expect(fn('203.0.113.9', 1)).toBe(false);
  });

  it('takes a list of proxy addresses and refuses junk, naming the variable', () => {
    expect(trustOf('10.0.0.0/8,192.168.1.1')).toEqual(['10.0.0.0/8', '192.168.1.1']);
    expect(() => trustOf('everyone')).toThrow(/TRUST_PROXY/);
  });
});

describe('gateway live config', () => {
  const logger = { log: () => undefined, warn: () => undefined };

  it('accepts the file the Kubernetes base ships', () => {
    const file = fileURLToPath(new URL('../../../deploy/k8s/base/api-gateway/live.yaml', import.meta.url));
    const live = LiveConfig.start({ schema: gatewayLiveConfigSchema, file, logger });
    expect(live.current.values).toEqual({ log: {}, tracing: {}, access_log: {}, flags: {} });
    live.close();
  });

  it('refuses unknown sections and out-of-range ratios', () => {
    expect(gatewayLiveConfigSchema.safeParse({ access_log: { sample_ratio: 2 } }).success).toBe(false);
    expect(gatewayLiveConfigSchema.safeParse({ acess_log: {} }).success).toBe(false);
    expect(gatewayLiveConfigSchema.parse({ access_log: { sample_ratio: 0.5 } }).access_log.sample_ratio).toBe(0.5);
  });
});
