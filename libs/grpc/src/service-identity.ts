import type { PeerCertificate } from 'node:tls';

/** The workloads of the suite; each holds a certificate naming one of these. */
export const SERVICE_IDENTITIES = ['api-gateway', 'auth', 'metadata', 'playback-queue', 'recommendation'] as const;
export type ServiceIdentity = (typeof SERVICE_IDENTITIES)[number];

// SPIFFE-style URI SAN: the identity is what the CA signed, never a host name the network chose.
const SPIFFE_PREFIX = 'spiffe://overture/';

/** The URI SAN a workload's certificate carries, e.g. `spiffe://overture/metadata`. */
export function spiffeIdOf(identity: ServiceIdentity): string {
  return `${SPIFFE_PREFIX}${identity}`;
}

/** The service identity a (CA-verified) certificate names in its URI SAN, if it names exactly one. */
export function identityOfCertificate(certificate: Pick<PeerCertificate, 'subjectaltname'> | undefined): ServiceIdentity | undefined {
  const names = (certificate?.subjectaltname ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith(`URI:${SPIFFE_PREFIX}`))
    .map((entry) => entry.slice(`URI:${SPIFFE_PREFIX}`.length));
  if (names.length !== 1) return undefined;
  const [name] = names;
  return (SERVICE_IDENTITIES as readonly string[]).includes(name ?? '') ? (name as ServiceIdentity) : undefined;
}

/** What every grpc-js server call offers (`ServerSurfaceCall.getAuthContext`, not exported by grpc-js). */
export interface AuthenticatedCall {
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate };
}

/** Who is on the other end of a server call, as its transport proves it. */
export type CallerProof =
  { readonly transport: 'plaintext' } | { readonly transport: 'mtls'; readonly identity: ServiceIdentity | undefined };

/**
 * The caller of a gRPC server call: on a mutual-TLS connection the identity in the client
 * certificate (which the server already checked against its CA); on a plaintext connection
 * nothing can be proven, which happens only on a server configured with GRPC_INSECURE_PLAINTEXT.
 */
export function callerOf(call: AuthenticatedCall): CallerProof {
  const context = call.getAuthContext();
  if (!context.transportSecurityType) return { transport: 'plaintext' };
  const certificate = context.sslPeerCertificate;
  if (!certificate) return { transport: 'mtls', identity: undefined };
  // One certificate object per connection (see cache-auth-context.ts): read its names once.
  let proof = proofs.get(certificate);
  if (!proof) {
    proof = { transport: 'mtls', identity: identityOfCertificate(certificate) };
    proofs.set(certificate, proof);
  }
  return proof;
}

const proofs = new WeakMap<PeerCertificate, CallerProof>();
