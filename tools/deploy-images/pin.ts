// Pins images by digest: resolves tags through the registry's HTTP API (the Docker Registry v2 / OCI
// distribution API that crane and skopeo use: a HEAD of the manifest, with the anonymous or basic-auth
// bearer token the registry asks for) and rewrites the files that name them. Needs network access to
// the registry; tools/deploy-check/check.sh then checks the result offline.
//
//   npx node tools/deploy-images/pin.ts base
//       node:26-slim in every deploy/docker/*.Dockerfile -> node:26-slim@sha256:<index digest>
//   npx node tools/deploy-images/pin.ts images --tag 0.2.0 [--name registry.example.com/overture]
//       each overture/<app> in deploy/k8s/overlays/prod/kustomization.yaml -> <name>/<app>@sha256:<digest>
//       of the tag pushed for the release (--name defaults to docker.io/overture)
//
// REGISTRY_USERNAME and REGISTRY_PASSWORD, when set, are sent to the registry's token service.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../suite/suite.ts';

const BASE_IMAGE = 'node:26-slim';
const APPS = ['api-gateway', 'auth', 'metadata', 'playback-queue', 'recommendation'];
const PROD_KUSTOMIZATION = path.join(ROOT, 'deploy/k8s/overlays/prod/kustomization.yaml');
const DOCKER_DIR = path.join(ROOT, 'deploy/docker');
// A multi-platform index first, so that one digest serves amd64 and arm64 nodes alike.
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

interface Reference {
  registry: string;
  repository: string;
  tag: string;
}

/** `node:26-slim` -> registry-1.docker.io, library/node, 26-slim (Docker's defaults for short names). */
export function parseReference(image: string): Reference {
  const at = image.lastIndexOf(':');
  const slash = image.lastIndexOf('/');
  const [name, tag] = at > slash ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
  const first = name.split('/')[0] ?? '';
  const explicitRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = explicitRegistry ? first : 'docker.io';
  let repository = explicitRegistry ? name.slice(first.length + 1) : name;
  if (registry === 'docker.io') {
    registry = 'registry-1.docker.io';
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  return { registry, repository, tag };
}

/** The token a registry's 401 asks for (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`). */
async function bearerToken(challenge: string): Promise<string> {
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  if (!params.realm) throw new Error(`cannot read the registry's challenge: ${challenge}`);
  const url = new URL(params.realm);
  for (const key of ['service', 'scope']) if (params[key]) url.searchParams.set(key, params[key]);
  const { REGISTRY_USERNAME: user, REGISTRY_PASSWORD: password } = process.env;
  const headers: Record<string, string> = user
    ? { authorization: `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}` }
    : {};
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`token service ${url.origin} answered ${response.status}`);
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new Error(`token service ${url.origin} sent no token`);
  return token;
}

/** The digest the tag names now: the registry's Docker-Content-Digest of the manifest (or index). */
export async function resolveDigest(image: string, scheme = 'https'): Promise<string> {
  const { registry, repository, tag } = parseReference(image);
  const url = `${scheme}://${registry}/v2/${repository}/manifests/${tag}`;
  let response = await fetch(url, { method: 'HEAD', headers: { accept: MANIFEST_TYPES } });
  if (response.status === 401) {
    const token = await bearerToken(response.headers.get('www-authenticate') ?? '');
    response = await fetch(url, { method: 'HEAD', headers: { accept: MANIFEST_TYPES, authorization: `Bearer ${token}` } });
  }
  if (!response.ok) throw new Error(`${image}: ${url} answered ${response.status}`);
  const digest = response.headers.get('docker-content-digest');
  if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw new Error(`${image}: the registry sent no sha256 Docker-Content-Digest`);
  return digest;
}

/** Every `FROM node:26-slim[@sha256:…]` of the Dockerfiles, pinned to `digest`. */
export function pinDockerfile(text: string, digest: string): string {
  return text.replace(/^FROM node:26-slim(?:@sha256:[a-f0-9]{64})? /gm, `FROM ${BASE_IMAGE}@${digest} `);
}

/** The prod overlay's `images:` entry of each app, set to `name`/<app> at `digests[app]`. */
export function pinKustomization(text: string, name: string, digests: Record<string, string>): string {
  let out = text;
  for (const app of APPS) {
    const entry = new RegExp(`^  - name: overture/${app}\\n(?:    (?:newName|newTag|digest): .*\\n)*`, 'm');
    if (!entry.test(out)) throw new Error(`${PROD_KUSTOMIZATION} has no images entry for overture/${app}`);
    const newName = name === 'docker.io/overture' ? '' : `    newName: ${name}/${app}\n`;
    out = out.replace(entry, `  - name: overture/${app}\n${newName}    digest: ${digests[app]}\n`);
  }
  return out;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { tag: { type: 'string' }, name: { type: 'string', default: 'docker.io/overture' } },
  });
  const [what] = positionals;
  if (what === 'base') {
    const digest = await resolveDigest(BASE_IMAGE);
    for (const file of readdirSync(DOCKER_DIR).filter((f) => f.endsWith('.Dockerfile'))) {
      const target = path.join(DOCKER_DIR, file);
      writeFileSync(target, pinDockerfile(readFileSync(target, 'utf8'), digest));
    }
    console.log(`${BASE_IMAGE} -> ${digest} in deploy/docker/*.Dockerfile`);
  } else if (what === 'images' && values.tag) {
    const digests: Record<string, string> = {};
    for (const app of APPS) {
      digests[app] = await resolveDigest(`${values.name}/${app}:${values.tag}`);
      console.log(`${values.name}/${app}:${values.tag} -> ${digests[app]}`);
    }
    writeFileSync(PROD_KUSTOMIZATION, pinKustomization(readFileSync(PROD_KUSTOMIZATION, 'utf8'), values.name, digests));
    console.log('pinned in deploy/k8s/overlays/prod/kustomization.yaml: check with tools/deploy-check/check.sh --release');
  } else {
    console.error('usage: pin.ts base | pin.ts images --tag <tag> [--name <registry>/<namespace>]');
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
