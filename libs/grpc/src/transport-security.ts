import { credentials, experimental, ServerCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { identityOfCertificate, spiffeIdOf, type ServiceIdentity } from './service-identity.js';

export interface TransportSettings {
  /** A directory in cert-manager's Secret layout: tls.crt, tls.key and ca.crt. */
  readonly GRPC_TLS_DIR: string;
  /** How often the files are re-read, so a rotated certificate is used without a restart. */
  readonly GRPC_TLS_RELOAD_MS: number;
  /** No TLS and no caller checks: only for measuring what mutual TLS costs. */
  readonly GRPC_INSECURE_PLAINTEXT: boolean;
}

/** File names inside GRPC_TLS_DIR, as cert-manager writes a Certificate's Secret. */
export const TLS_FILES = { certificate: 'tls.crt', privateKey: 'tls.key', ca: 'ca.crt' } as const;

/** Refused at start-up: the mounted certificate cannot serve as this workload's identity. */
export class TransportConfigError extends Error {
  override name = 'TransportConfigError';
}

/**
 * How a process speaks gRPC: mutual TLS with the certificate in GRPC_TLS_DIR (both sides present
 * one and check the other's against the CA; a client also checks that the server's certificate names
 * the service it meant to reach), or plaintext when GRPC_INSECURE_PLAINTEXT is set.
 */
export interface TransportSecurity {
  readonly plaintext: boolean;
  serverCredentials(): ServerCredentials;
  channelCredentials(server: ServiceIdentity): ChannelCredentials;
  /** Channel options that go with `channelCredentials(server)`. */
  channelOptions(server: ServiceIdentity): ChannelOptions;
}

const PLAINTEXT: TransportSecurity = {
  plaintext: true,
  serverCredentials: () => ServerCredentials.createInsecure(),
  channelCredentials: () => credentials.createInsecure(),
  channelOptions: () => ({}),
};

// One file watcher per directory and interval, shared by the server and every client of a process.
const providers = new Map<string, experimental.FileWatcherCertificateProvider>();

/**
 * The transport of workload `self`. With TLS, the certificate is checked now (readable, current,
 * naming `self`), so a wrong mount stops the process at start instead of failing every call.
 */
export function transportSecurity(settings: TransportSettings, self: ServiceIdentity): TransportSecurity {
  if (settings.GRPC_INSECURE_PLAINTEXT) return PLAINTEXT;
  const files = {
    certificateFile: path.join(settings.GRPC_TLS_DIR, TLS_FILES.certificate),
    privateKeyFile: path.join(settings.GRPC_TLS_DIR, TLS_FILES.privateKey),
    caCertificateFile: path.join(settings.GRPC_TLS_DIR, TLS_FILES.ca),
  };
  checkOwnCertificate(files.certificateFile, files.privateKeyFile, files.caCertificateFile, self);
  const key = `${path.resolve(settings.GRPC_TLS_DIR)}@${settings.GRPC_TLS_RELOAD_MS}`;
  let provider = providers.get(key);
  if (!provider) {
    provider = new experimental.FileWatcherCertificateProvider({ ...files, refreshIntervalMs: settings.GRPC_TLS_RELOAD_MS });
    providers.set(key, provider);
  }
  const watcher = provider;
  return {
    plaintext: false,
    // grpc-js names the parameters (ca, identity) but passes them the other way round; one provider
    // serves as both, so the order cannot matter.
    serverCredentials: () => experimental.createCertificateProviderServerCredentials(watcher, watcher, true),
    channelCredentials: (server) =>
      experimental.createCertificateProviderChannelCredentials(watcher, watcher, {
        // Replaces host-name checking: the server must hold the identity of the service asked for,
        // wherever DNS sent the connection.
        checkServerIdentity: (_host, certificate) => {
          const found = identityOfCertificate(certificate);
          return found === server
            ? undefined
            : new Error(`the server's certificate names ${found ?? 'no Overture service'}, not ${spiffeIdOf(server)}`);
        },
      }),
    // SNI carries the service name (an IP address is not a valid server name).
    channelOptions: (server) => ({ 'grpc.ssl_target_name_override': server }),
  };
}

function checkOwnCertificate(certificateFile: string, privateKeyFile: string, caFile: string, self: ServiceIdentity): void {
  let certificate: X509Certificate;
  try {
    readFileSync(privateKeyFile);
    readFileSync(caFile);
    certificate = new X509Certificate(readFileSync(certificateFile));
  } catch (error) {
    throw new TransportConfigError(`GRPC_TLS_DIR: cannot read the certificate, key and CA (${(error as Error).message})`);
  }
  const named = identityOfCertificate({ subjectaltname: certificate.subjectAltName ?? '' });
  if (named !== self) {
    throw new TransportConfigError(
      `GRPC_TLS_DIR: the certificate names ${named ?? 'no Overture service'}, but this process is ${spiffeIdOf(self)}`,
    );
  }
  if (new Date(certificate.validTo) <= new Date()) {
    throw new TransportConfigError(`GRPC_TLS_DIR: the certificate expired at ${certificate.validTo}`);
  }
}
