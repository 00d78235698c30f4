import { createDataSource } from '@overture/database';
import { createTestDatabase, migrate, type TestDatabase } from '@overture/testing';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { migrations } from '../src/database/migrations/index.js';
import { KeyEncryption } from '../src/keys/key-encryption.js';
import { SigningKeyRepository } from '../src/keys/signing-key.repository.js';
import { SigningKeyService } from '../src/keys/signing-key.service.js';

describe('signing keys at startup (real PostgreSQL)', () => {
  let db: TestDatabase;
  let admin: DataSource;
  const dataSources: DataSource[] = [];
  const encryptionKey = randomBytes(32);

  const replica = async (key = encryptionKey): Promise<SigningKeyService> => {
    const dataSource = await createDataSource({ url: db.url, entities: [], migrations: [] }).initialize();
    dataSources.push(dataSource);
    return new SigningKeyService(new SigningKeyRepository(dataSource), new KeyEncryption(key));
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

  it('publishes keys until they retire and signs with the newest active one', async () => {
    const service = await replica();
    await service.onModuleInit();
    const [first] = await storedKeys();
    // A second key published ahead of activation, as a rotation would add it.
    const next = await replica();
    await admin.query('UPDATE signing_keys SET retires_at = now() + interval \'1 hour\'');
    await admin.query(
      "INSERT INTO signing_keys (kid, public_jwk, private_key_encrypted, activates_at) SELECT 'next', public_jwk, private_key_encrypted, now() + interval '1 minute' FROM signing_keys",
    );
    await next.onModuleInit();
    expect(next.signingKey().kid).toBe(first!.kid);
    expect((await next.publicKeys()).map((k) => k.kid).sort()).toEqual([first!.kid, 'next'].sort());

    await admin.query("UPDATE signing_keys SET retires_at = now() - interval '1 second', activates_at = now() - interval '1 hour' WHERE kid = $1", [first!.kid]);
    expect((await next.publicKeys()).map((k) => k.kid)).toEqual(['next']);
  });
});
