#!/usr/bin/env bash
# Checks deploy/observability with no cluster: the rule files (promtool check rules) and their unit
# tests (promtool test rules), the dashboards (JSON and structure, every query parsed by promtool),
# that rules and panels read only the metrics the apps export, each alert's runbook section, that the
# generated files are up to date, and that the kustomization renders PrometheusRules promtool accepts.
# Needs promtool (Debian: apt-get install prometheus), node_modules (npm ci) and kubectl.
# Usage: deploy/observability/check.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
KUBECTL="${KUBECTL:-kubectl}"

die() { echo "observability-check: $*" >&2; exit 1; }

command -v promtool >/dev/null || die "promtool not found (apt-get install prometheus)"
command -v "$KUBECTL" >/dev/null || die "kubectl not found (set KUBECTL=/path/to/kubectl)"
NODE="$REPO/node_modules/.bin/node"
[ -x "$NODE" ] || die "run npm ci first ($NODE is missing)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$NODE" "$REPO/tools/observability/generate.ts" --check
"$NODE" "$HERE/check-exprs.mjs" "$REPO" "$work/dashboard-queries.json"
promtool check rules "$HERE"/rules/*.rules.yml "$work/dashboard-queries.json"
(cd "$HERE/tests" && promtool test rules ./*.test.yml)

# The objects `kubectl apply -k deploy/observability` creates; each PrometheusRule's spec must be a
# rule file promtool accepts.
"$KUBECTL" kustomize "$HERE" >"$work/render.yaml" || die "kubectl kustomize deploy/observability failed"
"$NODE" --input-type=module -e '
  import { createRequire } from "node:module";
  import fs from "node:fs";
  const YAML = createRequire(process.argv[1] + "/package.json")("yaml");
  const objects = YAML.parseAllDocuments(fs.readFileSync(process.argv[2], "utf8")).map((d) => d.toJS());
  const rules = objects.filter((o) => o?.kind === "PrometheusRule");
  if (rules.length === 0) { console.error("observability-check: the kustomization renders no PrometheusRule"); process.exit(1); }
  for (const rule of rules) fs.writeFileSync(`${process.argv[3]}/${rule.metadata.name}.json`, JSON.stringify(rule.spec));
  console.log(`observability-check: kustomization renders ${objects.length} objects`);
' "$REPO" "$work/render.yaml" "$work"
promtool check rules "$work"/overture-*.json
echo "observability-check: OK"
