// Image references pinned by digest, checked offline (tools/deploy-images/pin.ts writes them):
// - prod: every container's image is <name>@sha256:<digest>, so what runs is what was tested, whatever
//   happens to the tag later;
// - Dockerfiles: every external base image is node:26-slim@sha256:<digest>, the same in the five files.
// The all-zero digest is the placeholder committed before a release has pinned real ones: it can never be
// pulled, so it fails loudly rather than float. `check.sh --release` refuses it.
import { fail } from './problems.mjs';

const DIGEST = /@(sha256:[a-f0-9]{64})$/;
export const PLACEHOLDER_DIGEST = `sha256:${'0'.repeat(64)}`;
const release = process.env.DEPLOY_CHECK_RELEASE === '1';
/** Placeholders seen (reported once at the end, or refused with --release). */
export const placeholders = [];
const baseDigests = new Map();

function checkDigest(where, image, what) {
  const m = DIGEST.exec(image ?? '');
  if (!m) {
    fail(where, `${what} ${image} is not pinned by digest (<name>@sha256:<digest>; tools/deploy-images/pin.ts resolves tags)`);
    return undefined;
  }
  if (m[1] === PLACEHOLDER_DIGEST) {
    if (release) fail(where, `${what} ${image} has the placeholder digest: run tools/deploy-images/pin.ts before releasing`);
    else placeholders.push(`${where}: ${image}`);
  }
  return m[1];
}

export function checkImageReferences(render, deployments) {
  if (render !== 'prod') return;
  for (const d of deployments) {
    const pod = d.spec?.template?.spec ?? {};
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])])
      checkDigest(`[${render}] Deployment/${d.metadata.name} container ${c.name}`, c.image, 'image');
  }
}

/** `stages` as validate.mjs parses them: { ref, fromStage } per FROM. */
export function checkDockerBaseImages(where, stages) {
  const digests = new Set();
  for (const s of stages) {
    if (s.fromStage) continue;
    const digest = checkDigest(where, s.ref, 'base image');
    if (digest) digests.add(digest);
  }
  if (digests.size > 1) fail(where, `its stages start from ${digests.size} different base digests: pin one`);
  baseDigests.set(where, [...digests][0]);
}

export function checkDockerBaseDigestsAgree() {
  const distinct = new Set(baseDigests.values());
  if (distinct.size > 1) {
    fail('deploy/docker', `the Dockerfiles pin ${distinct.size} different node:26-slim digests: pin them together (pin.ts base)`);
  }
}
