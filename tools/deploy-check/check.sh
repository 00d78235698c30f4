#!/usr/bin/env bash
# Static checks of deploy/: renders the kustomize base and both overlays with `kubectl kustomize`,
# validates every object against its API schema (schemas.mjs, offline) and against the project's own
# rules, with the Dockerfiles and .dockerignore (validate.mjs says what). Needs no cluster, no Docker
# engine and no network: kubectl and node_modules (npm ci). Usage: tools/deploy-check/check.sh [--release] [repo-root]
# --release also refuses the placeholder image digests (for a release, after tools/deploy-images/pin.ts).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"      # where the tooling (node_modules) lives
export DEPLOY_CHECK_RELEASE=0
if [ "${1:-}" = --release ]; then DEPLOY_CHECK_RELEASE=1; shift; fi
TARGET="$(cd "${1:-$REPO}" && pwd)"     # what is checked (the self-test passes a mutated copy)
KUBECTL="${KUBECTL:-kubectl}"

die() { echo "deploy-check: $*" >&2; exit 1; }

command -v "$KUBECTL" >/dev/null || die "kubectl not found (set KUBECTL=/path/to/kubectl)"
NODE=node
[ -x "$REPO/node_modules/.bin/node" ] && NODE="$REPO/node_modules/.bin/node"
command -v "$NODE" >/dev/null || die "node not found"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# YAML stream on stdin -> JSON array on stdout: the `yaml` npm package if installed, else PyYAML.
if "$NODE" --input-type=commonjs -e "require.resolve('yaml', { paths: [process.argv[1]] })" "$REPO" >/dev/null 2>&1; then
  to_json() {
    "$NODE" --input-type=commonjs -e '
      const YAML = require(require.resolve("yaml", { paths: [process.argv[1]] }));
      const docs = YAML.parseAllDocuments(require("node:fs").readFileSync(0, "utf8"));
      const bad = docs.flatMap((d) => d.errors);
      if (bad.length) { console.error(bad.map(String).join("\n")); process.exit(1); }
      process.stdout.write(JSON.stringify(docs.map((d) => d.toJS())));
    ' "$REPO"
  }
elif python3 -c 'import yaml' >/dev/null 2>&1; then
  to_json() {
    python3 -c 'import json, sys, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)'
  }
else
  die "cannot parse YAML: run npm ci (for the yaml package) or install python3-yaml"
fi

args=()
for target in base overlays/dev overlays/prod; do
  name="$(basename "$target")"
  dir="$TARGET/deploy/k8s/$target"
  [ -f "$dir/kustomization.yaml" ] || die "$dir/kustomization.yaml is missing"
  "$KUBECTL" kustomize "$dir" >"$work/$name.yaml" 2>"$work/$name.err" \
    || die "kubectl kustomize deploy/k8s/$target failed: $(cat "$work/$name.err")"
  to_json <"$work/$name.yaml" >"$work/$name.json" || die "rendered deploy/k8s/$target is not valid YAML"
  args+=("$name=$work/$name.json")
done

# The Prometheus Adapter's rules, which the HPAs' custom metrics need (scaling.mjs reads them).
to_json <"$TARGET/deploy/observability/prometheus-adapter/values.yaml" >"$work/adapter.json" \
  || die "deploy/observability/prometheus-adapter/values.yaml is not valid YAML"
export ADAPTER_VALUES_JSON="$work/adapter.json"

status=0
"$NODE" "$HERE/schemas.mjs" "${args[@]}" || status=1
"$NODE" "$HERE/validate.mjs" "$TARGET" "${args[@]}" || status=1
exit "$status"
