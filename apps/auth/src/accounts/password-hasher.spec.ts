import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../throttle/throttled.error.js';
import { PasswordHasher } from './password-hasher.js';

const hasher = new PasswordHasher({ memoryKiB: 19_456, passes: 2 });

describe('PasswordHasher', () => {
  it('writes a PHC string with the argon2id parameters, a 16-byte salt and a 32-byte hash', async () => {
    const phc = await hasher.hash('correct horse battery staple');
    const match = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
    expect(match).not.toBeNull();
    expect(Buffer.from(match![1]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(match![2]!, 'base64')).toHaveLength(32);
  });

  it('verifies the password it hashed and rejects another', async () => {
    const phc = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(phc, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(phc, 'correct horse battery stapl')).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hasher.hash('same password')).not.toBe(await hasher.hash('same password'));
  });

  it('verifies with the cost recorded in the hash, not the current settings', async () => {
    const phc = await new PasswordHasher({ memoryKiB: 20_000, passes: 3 }).hash('s3cret-password');
    expect(phc).toContain('$m=20000,t=3,p=1$');
    expect(await hasher.verify(phc, 's3cret-password')).toBe(true);
  });

  it('answers false for a string that is not an argon2id PHC hash', async () => {
    expect(await hasher.verify('$2b$10$abcdefghijklmnopqrstuv', 'anything')).toBe(false);
    expect(await hasher.verify('', 'anything')).toBe(false);
  });

  it('with a concurrency bound, refuses a check beyond the queue at once as PASSWORD_HASHING_BUSY', async () => {
    const bounded = new PasswordHasher({ memoryKiB: 19_456, passes: 2, concurrency: { maxRunning: 1, maxQueued: 1 } });
    const results = await Promise.allSettled([bounded.hash('one password'), bounded.hash('two password'), bounded.hash('three password')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const refused = (results[2] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(ThrottledError);
    expect(refused).toMatchObject({ category: 'RESOURCE_EXHAUSTED', reason: 'PASSWORD_HASHING_BUSY', retryAfterSeconds: 1 });
  });
});
