#!/usr/bin/env bash
# Runs Prometheus (Debian's `prometheus` package) on this machine against the local suite (`npm start`),
# with the repository's rules loaded: every app's ops port is scraped as job=<app>, namespace=local,
# pod=<app>-local, and the data is kept in .data/prometheus. Stop it with Ctrl-C.
#   tools/observability/prometheus.sh                       UI and API at http://127.0.0.1:9090
# Environment: PROMETHEUS_LISTEN (127.0.0.1:9090); the apps' ops ports OPS_PORT_API_GATEWAY (9460),
# OPS_PORT_AUTH (9461), OPS_PORT_METADATA (9462), OPS_PORT_PLAYBACK_QUEUE (9463),
# OPS_PORT_RECOMMENDATION (9464).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
die() { echo "prometheus.sh: $*" >&2; exit 1; }
command -v prometheus >/dev/null || die "prometheus not found (apt-get install prometheus)"

listen="${PROMETHEUS_LISTEN:-127.0.0.1:9090}"
data="$REPO/.data/prometheus"
config="$data/prometheus.yml"
mkdir -p "$data"

{
  echo "# Written by tools/observability/prometheus.sh at each start."
  echo "global: { scrape_interval: 15s, evaluation_interval: 15s }"
  echo "rule_files:"
  for file in "$REPO"/deploy/observability/rules/*.rules.yml; do echo "  - '$file'"; done
  echo "scrape_configs:"
  for entry in api-gateway:"${OPS_PORT_API_GATEWAY:-9460}" auth:"${OPS_PORT_AUTH:-9461}" \
    metadata:"${OPS_PORT_METADATA:-9462}" playback-queue:"${OPS_PORT_PLAYBACK_QUEUE:-9463}" \
    recommendation:"${OPS_PORT_RECOMMENDATION:-9464}"; do
    app="${entry%%:*}" port="${entry#*:}"
    [[ "$port" =~ ^[0-9]+$ ]] || die "the ops port of $app is not a number: $port"
    echo "  - job_name: $app"
    echo "    static_configs:"
    echo "      - targets: ['127.0.0.1:$port']"
    echo "        labels: { namespace: local, pod: $app-local }"
  done
} >"$config"
promtool check config "$config" >/dev/null || die "the generated $config is invalid"

echo "prometheus.sh: Prometheus on http://$listen, config $config, data $data/tsdb"
exec prometheus --config.file="$config" --storage.tsdb.path="$data/tsdb" --storage.tsdb.retention.time=7d \
  --web.listen-address="$listen"
