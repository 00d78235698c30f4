import { createDataSource } from '@overture/database';
import { createTestDatabase, migrate, type TestDatabase, testTlsEnv } from '@overture/testing';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { authConfigSchema } from '../src/auth.config.js';
import { migrations } from '../src/database/migrations/index.js';
import { KeyEncryption } from '../src/keys/key-encryption.js';
import { SigningKeyRepository } from '../src/keys/signing-key.repository.js';
import { SigningKeyService } from '../src/keys/signing-key.service.js';

describe('signing keys at startup (real PostgreSQL)', () => {
  let db: TestDatabase;
  let admin: DataSource;
  const dataSources: DataSource[] = [];
  const services: SigningKeyService[] = [];
  const encryptionKey = randomBytes(32);
  const config = authConfigSchema.parse({
    ...testTlsEnv('auth'),
    DATABASE_URL: 'postgres://unused/unused',
    AUTH_KEY_ENCRYPTION_KEY: encryptionKey.toString('base64'),
    AUTH_ACCESS_TOKEN_TTL_SECONDS: '60',
    AUTH_KEY_PUBLISH_LEAD_SECONDS: '120',
  });

  const replica = async (key = encryptionKey): Promise<SigningKeyService> => {
    const dataSource = await createDataSource({ url: db.url, entities: [], migrations: [] }).initialize();
    dataSources.push(dataSource);
    const service = new SigningKeyService(new SigningKeyRepository(dataSource), new KeyEncryption(key), config);
    services.push(service);
    return service;
  };
  const storedKeys = async (): Promise<{ kid: string; private_key_encrypted: Buffer }[]> =>
    admin.query('SELECT kid, private_key_encrypted FROM signing_keys');

  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresServerUrl'), 'auth_keys');
    await migrate(db.url, migrations);
    admin = await createDataSource({ url: db.url, entities: [], migrations: [] }).initialize();
  });

  beforeEach(async () => {
    await admin.query('TRUNCATE signing_keys');
  });

  afterEach(async () => {
    for (const service of services.splice(0)) service.onModuleDestroy();
    await Promise.all(dataSources.splice(0).map((d) => d.destroy()));
  });

  afterAll(async () => {
    await admin?.destroy();
    await db?.drop();
  });

  it('generates exactly one key when replicas start together, and all of them sign with it', async () => {
    const replicas = await Promise.all([replica(), replica(), replica()]);
    await Promise.all(replicas.map((r) => r.onModuleInit()));
    const keys = await storedKeys();
    expect(keys).toHaveLength(1);
    expect(new Set(replicas.map((r) => r.signingKey().kid))).toEqual(new Set([keys[0]!.kid]));
    // The private key is stored encrypted, not as PKCS#8 DER.
    const pkcs8 = replicas[0]!.signingKey().privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(keys[0]!.private_key_encrypted.includes(pkcs8)).toBe(false);
  });

  it('refuses to start with the wrong AUTH_KEY_ENCRYPTION_KEY', async () => {
    await (await replica()).onModuleInit();
    const wrong = await replica(randomBytes(32));
    await expect(wrong.onModuleInit()).rejects.toThrow(/cannot decrypt signing key .* with AUTH_KEY_ENCRYPTION_KEY/);
  });

  it('stops publishing a key once it retires', async () => {
    const service = await replica();
    await service.onModuleInit();
    const oldKid = service.signingKey().kid;
    const newKid = await service.rotate();
    await admin.query(
      "UPDATE signing_keys SET activates_at = now() - interval '2 hours', retires_at = now() - interval '1 second' WHERE kid = $1",
      [oldKid],
    );
    await admin.query("UPDATE signing_keys SET activates_at = now() - interval '1 hour' WHERE kid = $1", [newKid]);
    expect((await service.publicKeys()).map((k) => k.kid)).toEqual([newKid]);
  });

  it('rotates by publishing the next key before it signs and keeping the old one until its tokens expire', async () => {
    const service = await replica();
    await service.onModuleInit();
    const oldKid = service.signingKey().kid;
    const newKid = await service.rotate();
    expect(newKid).not.toBe(oldKid);
    // Published at once, but the old key still signs during the lead time.
    expect((await service.publicKeys()).map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    expect(service.signingKey().kid).toBe(oldKid);
    const rows: { kid: string; lead_s: number; old_retires_after_new_s: number }[] = await admin.query(
      `SELECT n.kid, round(extract(epoch FROM n.activates_at - n.created_at))::int AS lead_s,
              round(extract(epoch FROM o.retires_at - n.activates_at))::int AS old_retires_after_new_s
       FROM signing_keys n, signing_keys o WHERE n.kid = $1 AND o.kid = $2`,
      [newKid, oldKid],
    );
    // Lead = AUTH_KEY_PUBLISH_LEAD_SECONDS; the old key outlives the switch by the token TTL plus a margin.
    expect(rows[0]).toMatchObject({ lead_s: 120, old_retires_after_new_s: 60 + 60 });

    // Once the activation time has come (moved here instead of waiting), every replica signs with the new key.
    await admin.query("UPDATE signing_keys SET activates_at = now() - interval '1 hour' WHERE kid = $1", [oldKid]);
    await admin.query("UPDATE signing_keys SET activates_at = now() - interval '1 second' WHERE kid = $1", [newKid]);
    const other = await replica();
    await other.onModuleInit();
    expect(other.signingKey().kid).toBe(newKid);
    expect((await other.publicKeys()).map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
  });

  it('schedules a rotation only when the newest key is old enough and none is waiting, once across replicas', async () => {
    const service = await replica();
    await service.onModuleInit();
    const repository = new SigningKeyRepository(admin);
    const generate = () => new SigningKeyService(repository, new KeyEncryption(encryptionKey), config)['generate']();
    const times = { leadSeconds: 120, retireAfterSeconds: 120 };
    expect(await repository.rotate(generate, { ...times, onlyIfOlderThanSeconds: 3600 })).toBeUndefined();
    await admin.query("UPDATE signing_keys SET activates_at = now() - interval '2 hours'");
    const scheduled = await Promise.all([1, 2, 3].map(() => repository.rotate(generate, { ...times, onlyIfOlderThanSeconds: 3600 })));
    expect(scheduled.filter(Boolean)).toHaveLength(1);
    expect(await storedKeys()).toHaveLength(2);
  });
});
