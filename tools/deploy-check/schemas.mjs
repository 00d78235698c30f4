// Validates every rendered object against its API schema, offline: the Kubernetes OpenAPI schemas as
// compiled by the `kubernetes-models` package, and cert-manager's CRD schemas from
// `@kubernetes-models/cert-manager` (both devDependencies, so `npm ci` brings them and nothing is
// fetched at check time). This catches wrong types, missing required fields and values outside an enum;
// it does not refuse unknown fields (validate.mjs checks the fields the apps rely on, and
// `kubectl apply --dry-run=server` refuses the rest against a real cluster).
// Usage: node schemas.mjs <name>=<render.json> ...
// The packages resolve from this file's place in the repository, whatever copy is being checked.
import fs from 'node:fs';

const renderArgs = process.argv.slice(2);

/** Where the model class of an apiVersion lives. */
function modelModule(apiVersion) {
  if (apiVersion === 'cert-manager.io/v1') return '@kubernetes-models/cert-manager/cert-manager.io/v1';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [undefined, apiVersion];
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

const problems = [];
try {
  await import('kubernetes-models/v1');
  await import('@kubernetes-models/cert-manager/cert-manager.io/v1');
} catch {
  console.error('deploy-check: the schema packages kubernetes-models and @kubernetes-models/cert-manager are missing: run npm ci');
  process.exit(1);
}
let count = 0;
for (const arg of renderArgs) {
  const eq = arg.indexOf('=');
  const render = arg.slice(0, eq);
  const objects = JSON.parse(fs.readFileSync(arg.slice(eq + 1), 'utf8')).filter((o) => o != null);
  for (const o of objects) {
    const where = `[${render}] ${o.kind}/${o.metadata?.name}`;
    let Model;
    try {
      Model = (await import(modelModule(o.apiVersion ?? '')))[o.kind];
    } catch (error) {
      problems.push(`${where}: no schema for ${o.apiVersion} (${error.code ?? error.message})`);
      continue;
    }
    if (typeof Model !== 'function') {
      problems.push(`${where}: no schema for kind ${o.kind} in ${o.apiVersion}`);
      continue;
    }
    // kustomize wraps long base64 Secret values over lines, which the API server's decoder skips.
    if (o.kind === 'Secret' && o.data)
      o.data = Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, String(v).replace(/\s/g, '')]));
    try {
      new Model(o).validate();
      count++;
    } catch (error) {
      problems.push(
        `${where}: ${String(error.message ?? error)
          .replace(/^data\//, '')
          .replaceAll(', data/', '; ')}`,
      );
    }
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(`FAIL schema ${p}`);
  console.error(`deploy-check: ${problems.length} schema problem(s)`);
  process.exit(1);
}
console.log(`deploy-check: ${count} objects valid against their API schemas`);
