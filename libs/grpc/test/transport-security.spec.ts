import { credentials, Metadata, status } from '@grpc/grpc-js';
import { Controller, Module } from '@nestjs/common';
import { METADATA_V1, metadataV1 } from '@overture/contracts';
import { X509Certificate } from 'node:crypto';
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { issueServiceCertificate, writeDevCertificates } from '../src/dev-certificates.js';
import {
  callerOf,
  createGrpcClient,
  readGrpcError,
  runGrpcService,
  TransportConfigError,
  transportSecurity,
  unary,
  withDeadline,
  type AuthenticatedCall,
  type RunningGrpcService,
  type ServiceIdentity,
  type TransportSecurity,
} from '../src/index.js';

@Controller()
@metadataV1.MetadataServiceControllerMethods()
class EchoController implements metadataV1.MetadataServiceController {
  // Answers with the caller its connection proves, as the title.
  getTrack(request: metadataV1.GetTrackRequest, _metadata: Metadata, call: AuthenticatedCall): metadataV1.GetTrackResponse {
    const caller = callerOf(call);
    const title = caller.transport === 'mtls' ? (caller.identity ?? 'unnamed') : 'plaintext';
    return {
      track: {
        trackId: request.trackId,
        title,
        artistName: '',
        albumTitle: '',
        durationMs: 1,
        isrc: '',
        releaseYear: 0,
        popularity: 0,
        explicit: false,
      },
    };
  }
  batchGetTracks(): metadataV1.BatchGetTracksResponse {
    return { tracks: [], missingTrackIds: [] };
  }
  searchTracks(): metadataV1.SearchTracksResponse {
    return { tracks: [], nextCursor: '' };
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const settingsIn = (root: string, identity: ServiceIdentity, reloadMs = 60_000) => ({
  GRPC_TLS_DIR: path.join(root, identity),
  GRPC_TLS_RELOAD_MS: reloadMs,
  GRPC_INSECURE_PLAINTEXT: false,
});

describe('mutual TLS between apps', () => {
  let root: string;
  let serverRoot: string;
  let service: RunningGrpcService;
  let address: string;
  const clients: { close(): void }[] = [];

  const getTrack = async (transport: TransportSecurity): Promise<number> => {
    const client = createGrpcClient<metadataV1.MetadataServiceClient>({
      contract: METADATA_V1,
      serviceName: 'MetadataService',
      url: address,
      transport,
    });
    clients.push(client);
    return unary(client.service.getTrack({ trackId: 't1' }, new Metadata(), withDeadline(2_000))).then(
      () => status.OK,
      (error: unknown) => readGrpcError(error)?.code ?? -1,
    );
  };

  beforeAll(async () => {
    root = inject('grpcTlsRoot');
    // The server's own copy, so the rotation test can replace its files.
    serverRoot = await mkdtemp(path.join(tmpdir(), 'overture-tls-rotation-'));
    await cp(path.join(root, 'metadata'), path.join(serverRoot, 'metadata'), { recursive: true });
    address = `127.0.0.1:${await freePort()}`;
    service = await runGrpcService({
      identity: 'metadata',
      module: EchoModule,
      contract: METADATA_V1,
      serviceNames: ['overture.metadata.v1.MetadataService'],
      settings: {
        ...settingsIn(serverRoot, 'metadata', 1_000),
        GRPC_LISTEN: address,
        SHUTDOWN_DELAY_MS: 0,
        SHUTDOWN_GRACE_MS: 1_000,
        GRPC_REFLECTION: false,
        READINESS_EVENT_LOOP_DELAY_MS: 500,
        READINESS_EVENT_LOOP_WINDOW_MS: 10_000,
        READINESS_DB_POOL_EXHAUSTED_MS: 10_000,
      },
      logger: silent,
      readiness: () => async () => undefined,
    });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await service?.shutdown('test');
    await rm(serverRoot, { recursive: true, force: true });
  });

  it('serves a client that presents a certificate of the same CA', async () => {
    expect(await getTrack(transportSecurity(settingsIn(root, 'api-gateway'), 'api-gateway'))).toBe(status.OK);
  });

  it("tells a handler the caller's workload, parsing the certificate once per connection, not per call", async () => {
    const client = createGrpcClient<metadataV1.MetadataServiceClient>({
      contract: METADATA_V1,
      serviceName: 'MetadataService',
      url: address,
      transport: transportSecurity(settingsIn(root, 'playback-queue'), 'playback-queue'),
    });
    clients.push(client);
    const titles = async (n: number) =>
      Promise.all(
        Array.from({ length: n }, () => unary(client.service.getTrack({ trackId: 't' }, new Metadata(), withDeadline(2_000)))),
      ).then((r) => r.map((response) => response.track?.title));
    expect(await titles(1)).toEqual(['playback-queue']);
    const parse = vi.spyOn(TLSSocket.prototype, 'getPeerCertificate');
    try {
      expect(await titles(50)).toEqual(Array(50).fill('playback-queue'));
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it('refuses a plaintext client at the connection', async () => {
    const plaintext = {
      ...transportSecurity(settingsIn(root, 'api-gateway'), 'api-gateway'),
      channelCredentials: () => credentials.createInsecure(),
    };
    expect(await getTrack(plaintext)).toBe(status.UNAVAILABLE);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const strangers = await mkdtemp(path.join(tmpdir(), 'overture-tls-stranger-'));
    try {
      await writeDevCertificates(strangers, ['api-gateway']);
      expect(await getTrack(transportSecurity(settingsIn(strangers, 'api-gateway'), 'api-gateway'))).toBe(status.UNAVAILABLE);
    } finally {
      await rm(strangers, { recursive: true, force: true });
    }
  });

  it('a client refuses a server whose certificate names another service than the one it called', async () => {
    const gateway = transportSecurity(settingsIn(root, 'api-gateway'), 'api-gateway');
    // Expects auth behind the address; metadata answers.
    const expectingAuth = {
      ...gateway,
      channelCredentials: () => gateway.channelCredentials('auth'),
      channelOptions: () => gateway.channelOptions('auth'),
    };
    expect(await getTrack(expectingAuth)).toBe(status.UNAVAILABLE);
  });

  it('refuses to start with a certificate that names another workload', () => {
    expect(() => transportSecurity(settingsIn(root, 'auth'), 'metadata')).toThrow(TransportConfigError);
    expect(() => transportSecurity(settingsIn(root, 'auth'), 'metadata')).toThrow(/names spiffe:\/\/overture\/auth|names auth/);
    expect(() => transportSecurity({ ...settingsIn(root, 'auth'), GRPC_TLS_DIR: path.join(root, 'missing') }, 'auth')).toThrow(
      /cannot read/,
    );
  });

  it('uses a rotated certificate for new connections without a restart', async () => {
    const servedSerial = async (): Promise<string> => {
      const own = path.join(root, 'api-gateway');
      const [ca, cert, key] = await Promise.all(['ca.crt', 'tls.crt', 'tls.key'].map((f) => readFile(path.join(own, f))));
      const [host, port] = address.split(':');
      return new Promise((resolve, reject) => {
        const socket = connect(
          { host, port: Number(port), ca, cert, key, servername: 'metadata', ALPNProtocols: ['h2'], checkServerIdentity: () => undefined },
          () => {
            resolve(socket.getPeerCertificate().serialNumber);
            socket.destroy();
          },
        );
        socket.once('error', reject);
      });
    };
    const before = await servedSerial();
    const authority = {
      certificatePem: await readFile(path.join(root, 'ca.crt'), 'utf8'),
      privateKeyPem: await readFile(path.join(root, 'ca.key'), 'utf8'),
    };
    const next = await issueServiceCertificate(authority, 'metadata');
    const nextSerial = new X509Certificate(next.certificatePem).serialNumber;
    // As a Secret volume does: whole files swapped in, never written in place.
    const dir = path.join(serverRoot, 'metadata');
    await writeFile(path.join(dir, 'tls.key.new'), next.privateKeyPem);
    await writeFile(path.join(dir, 'tls.crt.new'), next.certificatePem);
    await rename(path.join(dir, 'tls.key.new'), path.join(dir, 'tls.key'));
    await rename(path.join(dir, 'tls.crt.new'), path.join(dir, 'tls.crt'));
    expect(nextSerial.toUpperCase()).not.toBe(before.toUpperCase());
    await vi.waitFor(async () => expect((await servedSerial()).toUpperCase()).toBe(nextSerial.toUpperCase()), {
      timeout: 5_000,
      interval: 200,
    });
    expect(await getTrack(transportSecurity(settingsIn(root, 'api-gateway'), 'api-gateway'))).toBe(status.OK);
  });
});
