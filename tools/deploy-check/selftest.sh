#!/usr/bin/env bash
# Proves check.sh catches what it claims to: each case breaks one thing in a copy of deploy/ and
# .dockerignore and expects check.sh to fail naming it. Usage: tools/deploy-check/selftest.sh
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# case <expected message fragment> <file relative to the repo> <sed expression>
case_() {
  local expect="$1" file="$2" expr="$3" copy="$work/case" out
  rm -rf "$copy" && mkdir -p "$copy" && cp -r "$REPO/deploy" "$REPO/.dockerignore" "$copy/"
  sed -i -e "$expr" "$copy/$file"
  if cmp -s "$REPO/$file" "$copy/$file"; then
    echo "BROKEN CASE (sed changed nothing): $file $expr"; failed=$((failed + 1)); return
  fi
  if out="$("$HERE/check.sh" "$copy" 2>&1)"; then
    echo "NOT CAUGHT: $file: $expr"; failed=$((failed + 1))
  elif grep -qF -- "$expect" <<<"$out"; then
    passed=$((passed + 1))
  else
    echo "WRONG MESSAGE for $file: $expr (wanted '$expect'):"; echo "$out" | head -5; failed=$((failed + 1))
  fi
}

k=deploy/k8s/base
case_ 'must be headless'                 $k/auth/service.yaml                  's/clusterIP: None/clusterIP: 10.0.0.10/'
case_ 'the port of OPS_LISTEN'            $k/metadata/config.env                's/^OPS_LISTEN=0.0.0.0:9464/OPS_LISTEN=0.0.0.0:9465/'
case_ 'exposes the ops port'             $k/metadata/service.yaml              's/targetPort: grpc/targetPort: ops/'
case_ 'readinessProbe is missing'        $k/metadata/deployment.yaml           's/readinessProbe:/readinessProbeX:/'
case_ 'for service "liveness"'           $k/metadata/deployment.yaml           '0,/service: liveness/!{0,/service: liveness/s/service: liveness/service: ""/}'
case_ 'runAsNonRoot must be true'        $k/recommendation/deployment.yaml     '0,/runAsNonRoot: true/s//runAsNonRoot: false/'
case_ 'resources.limits.memory'          $k/auth/deployment.yaml               '0,/memory: 512Mi/s//memoryX: 512Mi/'
case_ 'readOnlyRootFilesystem'           $k/api-gateway/deployment.yaml        's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
case_ 'has no key DATABASE_URI'          $k/playback-queue/deployment.yaml     '0,/key: DATABASE_URL/s//key: DATABASE_URI/'
case_ 'neither in the render nor'        $k/metadata/deployment.yaml           's/name: overture-metadata-db/name: overture-metadata-database/'
case_ 'ConfigMap overture-auth-cfg'      $k/auth/deployment.yaml               's/name: overture-auth-config/name: overture-auth-cfg/'
case_ 'env DATABASE_POOL_SIZE is not set' $k/metadata/config.env               '/DATABASE_POOL_SIZE/d'
case_ 'is not read by'                   $k/metadata/config.env                's/LOG_LEVEL=/LOGLEVEL=/'
case_ 'has no port 50055'                $k/recommendation/config.env          's/:50052/:50055/'
case_ 'points at metadata, expected recommendation' $k/playback-queue/config.env 's/recommendation.overture/metadata.overture/'
case_ 'exceeds terminationGracePeriodSeconds' $k/auth/config.env               's/SHUTDOWN_GRACE_MS=20000/SHUTDOWN_GRACE_MS=30000/'
case_ 'WATCH_DRAIN_GRACE_MS=30000 exceeds'  $k/playback-queue/config.env         's/WATCH_DRAIN_GRACE_MS=.*/WATCH_DRAIN_GRACE_MS=30000/'
case_ 'GRPC_LISTEN'                      $k/auth/config.env                    's/GRPC_LISTEN=0.0.0.0:50051/GRPC_LISTEN=0.0.0.0:50052/'
case_ 'AUTH_ISSUER differs'              $k/api-gateway/config.env             's|AUTH_ISSUER=.*|AUTH_ISSUER=https://other.example.com|'
case_ 'targetPort web'                   $k/api-gateway/service.yaml           's/targetPort: http/targetPort: web/'
case_ 'initContainer "migrate"'          $k/metadata/deployment.yaml           's/- name: migrate/- name: migrations/'
case_ 'run node apps/auth/dist/main.js migrate' $k/auth/deployment.yaml        's/"migrate"\]/"migrations"]/'
case_ 'without AUTH_KEY_ENCRYPTION_KEY' $k/auth/deployment.yaml           '/stays out of this container/{n;a\            - name: AUTH_KEY_ENCRYPTION_KEY\n              valueFrom:\n                secretKeyRef:\n                  name: overture-auth-keys\n                  key: AUTH_KEY_ENCRYPTION_KEY
}'
case_ 'pinned tag'                       $k/kustomization.yaml                 '0,/newTag: "0.1.0"/s//newTag: latest/'
case_ 'is not pinned by digest'          deploy/k8s/overlays/prod/kustomization.yaml '0,/digest: sha256:0*$/s//newTag: "0.1.0"/'
case_ 'GRPC_REFLECTION must be false'    $k/auth/config.env                    '$a GRPC_REFLECTION=true'
case_ 'PodDisruptionBudgets, expected 1' deploy/k8s/overlays/prod/pdb.yaml     's/app.kubernetes.io\/name: metadata/app.kubernetes.io\/name: metadataX/'
case_ 'proxy-read-timeout 30 s must exceed' deploy/k8s/overlays/prod/ingress.yaml 's/proxy-read-timeout: "3600"/proxy-read-timeout: "30"/'
case_ 'only api-gateway is exposed'      deploy/k8s/overlays/prod/ingress.yaml 's/name: api-gateway$/name: metadata/'
case_ 'is not covered by spec.tls'       deploy/k8s/overlays/prod/ingress.yaml 's/- hosts: \[api.overture.example.com\]/- hosts: [www.overture.example.com]/'
case_ 'Ingresses, expected 1'            deploy/k8s/overlays/prod/kustomization.yaml '/- ingress.yaml/d'
case_ 'must generate it'                 deploy/k8s/overlays/dev/kustomization.yaml 's/name: overture-auth-keys/name: overture-auth-key/'
case_ 'must not be committed'            deploy/k8s/overlays/prod/kustomization.yaml 's/^resources:/secretGenerator:\n  - name: overture-auth-db\n    literals: [DATABASE_URL=postgres:\/\/x]\nresources:/'
case_ 'namespace is'                     deploy/k8s/overlays/dev/kustomization.yaml '/^namespace: overture/d'
# Service identity: mutual TLS from cert-manager certificates.
# Migrations as the migration role; the app's own role in the app container.
case_ 'with DATABASE_URL from Secret overture-auth-db-migrate' $k/auth/deployment.yaml 's/name: overture-auth-db-migrate$/name: overture-auth-db/'
# Autoscaling, spreading, sizing.
h=deploy/k8s/overlays/prod/hpa.yaml
case_ 'HorizontalPodAutoscalers, expected 1' deploy/k8s/overlays/prod/kustomization.yaml '/- hpa.yaml/d'
case_ 'minReplicas 1, expected >= 2'     $h                                    '0,/minReplicas: 2/s//minReplicas: 1/'
case_ 'needs a Pods metric overture_rpc_server_active_calls' $h               '0,/name: overture_rpc_server_active_calls/s//name: rpc_active_calls/'
case_ 'has no rule in deploy/observability/prometheus-adapter/values.yaml' deploy/observability/prometheus-adapter/values.yaml 's/as: overture_rpc_server_active_calls/as: overture_rpc_calls/'
case_ 'stabilizationWindowSeconds must be >= 60' $h                            '0,/stabilizationWindowSeconds: 300/s//stabilizationWindowSeconds: 10/'
case_ 'lets a drain evict every pod'     deploy/k8s/overlays/prod/pdb.yaml     '0,/maxUnavailable: 1/s//maxUnavailable: 3/'
case_ 'replicas 2 is set: in prod the HorizontalPodAutoscaler owns it' deploy/k8s/overlays/prod/kustomization.yaml 's/path: \/spec\/replicas/path: \/spec\/revisionHistoryLimit/'
case_ 'needs a topologySpreadConstraint on topology.kubernetes.io/zone' $k/auth/deployment.yaml 's/topology.kubernetes.io\/zone/topology.kubernetes.io\/region/'
case_ 'needs nodeTaintsPolicy: Honor'    $k/metadata/deployment.yaml           '/nodeTaintsPolicy: Honor/d'
case_ 'needs matchLabelKeys: [pod-template-hash]' $k/recommendation/deployment.yaml '0,/matchLabelKeys: \[pod-template-hash\]/{//d}'
case_ 'below the 260 MiB peak RSS'       $k/api-gateway/deployment.yaml        's/memory: 320Mi/memory: 128Mi/'
case_ 'exceeds the limit 256Mi'          $k/auth/deployment.yaml               's/memory: 768Mi/memory: 256Mi/'
# API schemas.
case_ 'revisionHistoryLimit must be integer' $k/playback-queue/deployment.yaml 's/revisionHistoryLimit: 5/revisionHistoryLimit: five/'
case_ 'must be exactly ["spiffe://overture/metadata"]' $k/metadata/certificate.yaml 's|- spiffe://overture/metadata|- spiffe://overture/auth|'
case_ "Certificate/auth's Secret overture-auth-tls" $k/metadata/deployment.yaml          's/secretName: overture-metadata-tls/secretName: overture-auth-tls/'
case_ 'usages must include "client auth"' $k/auth/certificate.yaml             '/- client auth/d'
case_ 'rotationPolicy must be Always'     $k/recommendation/certificate.yaml   's/rotationPolicy: Always/rotationPolicy: Never/'
case_ 'longer than 2160h'                 $k/playback-queue/certificate.yaml   's/duration: 720h/duration: 8760h/'
case_ 'issued by self-signed Issuer'      $k/auth/certificate.yaml             's/name: overture-ca/name: overture-bootstrap/'
case_ 'CA Secret overture-root-ca'        $k/issuer.yaml                       's/secretName: overture-ca/secretName: overture-root-ca/'
case_ 'with subPath: a subPath mount never' $k/auth/deployment.yaml              '/mountPath: \/var\/run\/secrets\/overture\/tls/a\              subPath: tls.crt'
case_ 'is not a volume mount'             $k/playback-queue/config.env         's|^GRPC_TLS_DIR=.*|GRPC_TLS_DIR=/etc/overture/tls|'
# The live config reaches running pods through its own unsuffixed ConfigMap volume.
case_ 'ConfigMap overture-auth-live (not hash-suffixed)' $k/auth/kustomization.yaml '/disableNameSuffixHash: true/d'
case_ 'ConfigMap overture-metadata-live has no key' $k/metadata/config.env   's|^LIVE_CONFIG_FILE=.*|LIVE_CONFIG_FILE=/etc/overture/live/metadata.yaml|'
case_ 'GRPC_INSECURE_PLAINTEXT=true turns off' $k/recommendation/config.env    '$a GRPC_INSECURE_PLAINTEXT=true'
case_ 'env METADATA_CURSOR_KEY is not set' $k/metadata/deployment.yaml         '/- name: METADATA_CURSOR_KEY/,+4d'
# Probes reach the plaintext health port, never the mutual-TLS one.
case_ 'must probe the plaintext health port 9090' $k/auth/deployment.yaml      '0,/port: 9090/s//port: 50051/'
case_ 'needs port health: 9091'           $k/metadata/config.env               's/GRPC_HEALTH_LISTEN=0.0.0.0:9090/GRPC_HEALTH_LISTEN=0.0.0.0:9091/'
# NetworkPolicies: default deny, then exactly the call graph.
n=$k/network-policies.yaml
case_ 'no default-deny for Egress'        $n '/^  name: default-deny$/,/^---/s/policyTypes: \[Ingress, Egress\]/policyTypes: [Ingress]/'
case_ 'metadata -> auth:9090 (health) is allowed, but is not in the call graph' $n '/^  name: metadata$/,/^---/{/ports:/{N;N;/50051/d}}'
case_ "api-gateway -> recommendation:50054 (grpc) is in the call graph, but recommendation's ingress" $n '/^  name: recommendation$/,/^---/s/name: api-gateway$/name: metadata/'
case_ "playback-queue's ingress admits metadata on its gRPC port" $n '/^  name: playback-queue$/,/^---/{/- from:/,/ports:/s/app.kubernetes.io\/name: api-gateway/app.kubernetes.io\/part-of: overture/}'
case_ 'opens the gRPC port 50051 (grpc) beyond the namespace' $n '/^  name: auth$/,/^---/s/- from:/- from:\n        - ipBlock:\n            cidr: 10.0.0.0\/8/'
case_ 'egress to DNS'                     $n '/^  name: dns$/,/^---/s/k8s-app: kube-dns/k8s-app: coredns/'
case_ 'egress to PostgreSQL'              $n '/^  name: auth$/,/^---/s/port: 5432/port: 5433/'
case_ 'nothing outside the namespace may reach the HTTP port' deploy/k8s/overlays/prod/network-policy.yaml 's/- namespaceSelector:/- podSelector:/'
case_ 'USER node'                        deploy/docker/auth.Dockerfile         's/^USER node/USER root/'
case_ 'use node:26-slim'                 deploy/docker/metadata.Dockerfile     's/^FROM node:26-slim\(@sha256:[0-9a-f]*\) AS runtime/FROM node:22-slim\1 AS runtime/'
case_ 'base image node:26-slim is not pinned by digest' deploy/docker/auth.Dockerfile 's/^FROM node:26-slim@sha256:[0-9a-f]* AS manifests/FROM node:26-slim AS manifests/'
case_ 'different node:26-slim digests'   deploy/docker/metadata.Dockerfile     's/sha256:0000000000/sha256:1111111111/'
case_ 'EXPOSE 50053'                     deploy/docker/playback-queue.Dockerfile 's/^EXPOSE 50053/EXPOSE 8080/'
case_ 'exec-form ENTRYPOINT'             deploy/docker/recommendation.Dockerfile 's/^ENTRYPOINT .*/ENTRYPOINT node apps\/recommendation\/dist\/main.js/'
case_ 'flags from tools/suite/node-flags.ts' deploy/docker/metadata.Dockerfile     's/"--max-semi-space-size=4", //'
case_ 'never the build context'          deploy/docker/api-gateway.Dockerfile  's/^COPY --from=build \/out\/ .\//COPY . .\//'
case_ 'keep the five in step'            deploy/docker/auth.Dockerfile         's/--no-audit --no-fund$/--no-audit/'
case_ 'must exclude .git'                .dockerignore                         '/^\.git$/d'

# --release refuses the placeholder digests the repository carries until a release is pinned.
if out="$("$HERE/check.sh" --release "$REPO" 2>&1)"; then
  echo "NOT CAUGHT: check.sh --release accepted the placeholder digests"; failed=$((failed + 1))
elif grep -qF 'has the placeholder digest' <<<"$out"; then
  passed=$((passed + 1))
else
  echo "WRONG MESSAGE for check.sh --release:"; echo "$out" | head -5; failed=$((failed + 1))
fi

echo "deploy-check selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
