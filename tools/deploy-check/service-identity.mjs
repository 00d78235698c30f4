// Service identity in the rendered manifests: each app's mutual-TLS certificate (cert-manager
// Certificate and Issuer objects, the Secret mounted at GRPC_TLS_DIR) and the insecure switch that must
// stay off. Used by validate.mjs.
import { fail } from './problems.mjs';

/** The URI SAN of an app's certificate; the app refuses any other (libs/grpc service-identity.ts). */
const spiffeIdOf = (app) => `spiffe://overture/${app}`;
/** A certificate that both serves and calls. */
const MTLS_USAGES = ['server auth', 'client auth'];
/** File names cert-manager writes into a Certificate's Secret, which GRPC_TLS_DIR reads. */
export const TLS_SECRET_KEYS = ['tls.crt', 'tls.key', 'ca.crt'];
/** Longest lifetime of an app certificate: short-lived keys are what rotation without restarts is for. */
const MAX_CERT_HOURS = 2160;
/** The CA Issuer's Secret, created by an operator outside dev (dev makes it with a bootstrap Issuer). */
const EXTERNAL_CA_SECRET = 'overture-ca';

/** GRPC_INSECURE_PLAINTEXT turns mutual TLS and caller checks off; it exists for measuring only. */
export function checkPlaintext(env, where) {
  const v = env.get('GRPC_INSECURE_PLAINTEXT');
  if (v && !['false', '0', 'no'].includes(v.value)) {
    fail(
      where,
      `GRPC_INSECURE_PLAINTEXT=${v.value ?? `(from a ${v.from})`} turns off mutual TLS and caller checks: manifests must never set it`,
    );
  }
}

/**
 * The app's identity: GRPC_TLS_DIR is where the whole Secret of a Certificate naming exactly this app
 * (and good for both ends of a call) is mounted, read-only (validate.mjs refuses subPath mounts of
 * certificate Secrets in every container).
 */
export function checkIdentityMount(container, volumes, issued, app, tlsDir, where) {
  if (tlsDir === undefined) return; // reported as a missing variable
  const mount = (container.volumeMounts ?? []).find((vm) => vm.mountPath === tlsDir);
  if (!mount) return fail(where, `GRPC_TLS_DIR=${tlsDir} is not a volume mount of this container`);
  if (mount.readOnly !== true) fail(where, `the GRPC_TLS_DIR mount must be readOnly`);
  const secret = volumes.get(mount.name)?.secret;
  if (!secret) return fail(where, `GRPC_TLS_DIR must be a secret volume holding the app's Certificate`);
  if (secret.items) fail(where, `volume ${mount.name}: mount the whole Secret (${TLS_SECRET_KEYS.join(', ')}), without items`);
  const cert = issued.get(secret.secretName);
  if (!cert) return fail(where, `GRPC_TLS_DIR mounts Secret ${secret.secretName}, which no Certificate in the render produces`);
  const holds = `GRPC_TLS_DIR holds Certificate/${cert.metadata.name}'s Secret ${secret.secretName}`;
  const uris = cert.spec?.uris ?? [];
  if (uris.length !== 1 || uris[0] !== spiffeIdOf(app))
    fail(where, `${holds}, whose uris ${JSON.stringify(uris)} must be exactly ["${spiffeIdOf(app)}"]`);
  for (const u of MTLS_USAGES)
    if (!(cert.spec?.usages ?? []).includes(u))
      fail(where, `${holds}, whose usages must include "${u}" (each app is both server and client)`);
  if (cert.spec?.isCA) fail(where, `${holds}, which is a CA: an app certificate must not be`);
}

/** Go duration ("720h", "90m", "1h30m") in hours, or NaN. */
function hoursOf(duration) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration ?? '');
  if (!m || !duration) return NaN;
  return Number(m[1] ?? 0) + Number(m[2] ?? 0) / 60 + Number(m[3] ?? 0) / 3600;
}

/** cert-manager objects: every Certificate from a rendered Issuer; every CA Issuer's key pair accounted for. */
export function checkCertificates(render, objects) {
  const issuers = new Map(objects.filter((o) => o.kind === 'Issuer').map((i) => [i.metadata.name, i]));
  const certificates = objects.filter((o) => o.kind === 'Certificate');
  const secretNames = new Set();
  for (const c of certificates) {
    const where = `[${render}] Certificate/${c.metadata.name}`;
    const spec = c.spec ?? {};
    if (!spec.secretName) fail(where, 'needs spec.secretName');
    else if (secretNames.has(spec.secretName)) fail(where, `another Certificate also writes Secret ${spec.secretName}`);
    secretNames.add(spec.secretName);
    const ref = spec.issuerRef ?? {};
    const issuer = issuers.get(ref.name);
    if ((ref.kind ?? 'Issuer') !== 'Issuer' || (ref.group ?? 'cert-manager.io') !== 'cert-manager.io' || !issuer) {
      fail(where, `issuerRef ${ref.kind ?? 'Issuer'}/${ref.name} must name an Issuer in the render`);
    } else if (issuer.spec?.selfSigned && !spec.isCA) {
      fail(where, `issued by self-signed Issuer ${ref.name}: only the CA may be; an app certificate must chain to the CA`);
    }
    const key = spec.privateKey ?? {};
    if (key.algorithm !== 'ECDSA' || key.size !== 256)
      fail(where, `privateKey must be ECDSA 256 (got ${key.algorithm ?? 'RSA'} ${key.size ?? ''})`.trimEnd());
    const duration = hoursOf(spec.duration);
    const renewBefore = hoursOf(spec.renewBefore);
    if (!(renewBefore > 0 && renewBefore < duration))
      fail(where, `renewBefore ${spec.renewBefore} must be set and shorter than duration ${spec.duration}`);
    if (!spec.isCA) {
      if (key.rotationPolicy !== 'Always') fail(where, 'privateKey.rotationPolicy must be Always (each renewal gets a new key)');
      if (!(duration <= MAX_CERT_HOURS)) fail(where, `duration ${spec.duration} is longer than ${MAX_CERT_HOURS}h (or missing)`);
    }
  }
  // Every app's certificate comes from one CA, so that each trusts the others' (ca.crt is the issuer's).
  const issued = new Map(certificates.map((c) => [c.spec?.secretName, c]));
  const appIssuers = new Set(
    objects
      .filter((o) => o.kind === 'Deployment')
      .flatMap((d) =>
        (d.spec?.template?.spec?.volumes ?? []).map((vol) => issued.get(vol.secret?.secretName)?.spec?.issuerRef?.name).filter(Boolean),
      ),
  );
  if (appIssuers.size > 1)
    fail(`[${render}]`, `app certificates come from several Issuers (${[...appIssuers].join(', ')}): peers would not trust each other`);

  for (const i of issuers.values()) {
    const where = `[${render}] Issuer/${i.metadata.name}`;
    if (i.spec?.selfSigned) continue;
    const name = i.spec?.ca?.secretName;
    if (!name) {
      fail(where, 'must be a CA Issuer (spec.ca.secretName) or the self-signed bootstrap of one');
      continue;
    }
    const ca = certificates.find((c) => c.spec?.secretName === name);
    if (ca && !ca.spec?.isCA) fail(where, `Secret ${name} comes from Certificate ${ca.metadata.name}, which is not a CA (isCA)`);
    if (!ca && (render === 'dev' || name !== EXTERNAL_CA_SECRET)) {
      fail(
        where,
        render === 'dev'
          ? `the dev overlay must make CA Secret ${name} (a CA Certificate from a self-signed Issuer)`
          : `CA Secret ${name} is neither made by a Certificate nor the operator's ${EXTERNAL_CA_SECRET}`,
      );
    }
  }
}
