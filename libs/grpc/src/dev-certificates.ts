import 'reflect-metadata';
// @peculiar/x509 uses tsyringe, which needs the Reflect metadata API loaded first.
import * as x509 from '@peculiar/x509';
import { webcrypto, type webcrypto as WebCrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spiffeIdOf, type ServiceIdentity } from './service-identity.js';
import { TLS_FILES } from './transport-security.js';

// A local certificate authority for `npm start` and the tests; in Kubernetes cert-manager plays
// this part and writes the same files into each workload's Secret.
x509.cryptoProvider.set(webcrypto as Crypto);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

interface Authority {
  certificate: x509.X509Certificate;
  keys: WebCrypto.CryptoKeyPair;
}

async function pkcs8Pem(key: WebCrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function newAuthority(validDays: number): Promise<Authority> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Overture local CA',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + validDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys };
}

async function loadAuthority(dir: string): Promise<Authority | undefined> {
  const certificateFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'ca.key');
  if (!existsSync(certificateFile) || !existsSync(keyFile)) return undefined;
  const certificate = new x509.X509Certificate(await readFile(certificateFile, 'utf8'));
  // An authority about to expire is replaced (with every certificate it signed).
  if (certificate.notAfter.getTime() - Date.now() < 7 * DAY_MS) return undefined;
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(await readFile(keyFile, 'utf8')),
    KEY_ALGORITHM,
    true,
    ['sign'],
  );
  return { certificate, keys: { privateKey, publicKey: await certificate.publicKey.export(KEY_ALGORITHM, ['verify']) } };
}

/** A certificate and key for `identity`, signed by `authority`, as PEM. */
export async function issueServiceCertificate(
  authority: { certificatePem: string; privateKeyPem: string },
  identity: ServiceIdentity,
  validDays = 30,
): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const caCertificate = new x509.X509Certificate(authority.certificatePem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(authority.privateKeyPem), KEY_ALGORITHM, false, [
    'sign',
  ]);
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.create({
    subject: `CN=${identity}`,
    issuer: caCertificate.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + validDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      // The URI is the identity; the DNS names only let other TLS tools connect by name.
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: spiffeIdOf(identity) },
        { type: 'dns', value: identity },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate, false),
    ],
  });
  return { certificatePem: certificate.toString('pem'), privateKeyPem: await pkcs8Pem(keys.privateKey) };
}

/** Writes a file so a reader never sees it half-written (as a Secret volume's symlink swap does). */
async function writeAtomically(file: string, contents: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, contents, { mode });
  await rename(temporary, file);
}

/**
 * Makes (or reuses) a local CA in `dir` and writes a fresh certificate for each identity into
 * `dir/<identity>/` in cert-manager's layout (tls.crt, tls.key, ca.crt), for GRPC_TLS_DIR.
 * Returns the directory of each identity.
 */
export async function writeDevCertificates(dir: string, identities: readonly ServiceIdentity[]): Promise<Record<ServiceIdentity, string>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let authority = await loadAuthority(dir);
  if (!authority) {
    authority = await newAuthority(365);
    await writeAtomically(path.join(dir, 'ca.key'), await pkcs8Pem(authority.keys.privateKey), 0o600);
    await writeAtomically(path.join(dir, 'ca.crt'), authority.certificate.toString('pem'), 0o644);
  }
  const caPem = authority.certificate.toString('pem');
  const caPair = { certificatePem: caPem, privateKeyPem: await pkcs8Pem(authority.keys.privateKey) };
  const dirs = {} as Record<ServiceIdentity, string>;
  for (const identity of identities) {
    const own = path.join(dir, identity);
    await mkdir(own, { recursive: true, mode: 0o700 });
    const issued = await issueServiceCertificate(caPair, identity);
    await writeAtomically(path.join(own, TLS_FILES.privateKey), issued.privateKeyPem, 0o600);
    await writeAtomically(path.join(own, TLS_FILES.certificate), issued.certificatePem, 0o644);
    await writeAtomically(path.join(own, TLS_FILES.ca), caPem, 0o644);
    dirs[identity] = own;
  }
  return dirs;
}
