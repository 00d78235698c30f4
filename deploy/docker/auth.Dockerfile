# syntax=docker/dockerfile:1
# Image of the `auth` app. Build from the repository root:
#   docker build -f deploy/docker/auth.Dockerfile -t overture/auth:dev .
# The five deploy/docker/*.Dockerfile files differ only in the app name and port (an exec-form
# ENTRYPOINT and EXPOSE cannot take a build ARG); tools/deploy-check/check.sh enforces that.
ARG APP=auth

# Every stage starts from node:26-slim pinned by digest (the multi-platform index), the same in the five
# files: `npx node tools/deploy-images/pin.ts base` resolves the tag and rewrites them. The all-zero digest
# is the placeholder until it has been run with access to the registry.

# Package manifests only, so the npm ci layers below stay cached until a package.json or the lockfile changes.
FROM node:26-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out && cp package.json package-lock.json /out/ \
 && for f in apps/*/package.json libs/*/package.json; do \
      [ -f "$f" ] || continue; mkdir -p "/out/${f%/package.json}" && cp "$f" "/out/$f"; \
    done

# Everything, dev tools included, for the build.
FROM node:26-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build-deps
WORKDIR /src
COPY --from=manifests /out/ ./
RUN npm ci --no-audit --no-fund

# Production dependencies only, for the runtime image.
FROM node:26-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM build-deps AS build
ARG APP
ENV NX_DAEMON=false
COPY . .
RUN npx nx run "$APP:build" --output-style=static
# Stage the app and the libs the build produced (the context has no dist/, so exactly the libs the app
# depends on now have one; testing is dev-only), plus proto/ at its repo-root-relative place.
RUN mkdir -p "/out/apps/$APP" && cp -r "apps/$APP/package.json" "apps/$APP/dist" "/out/apps/$APP/" \
 && for d in libs/*/dist; do \
      [ -d "$d" ] || continue; lib="${d%/dist}"; [ "$lib" = libs/testing ] && continue; \
      mkdir -p "/out/$lib" && cp -r "$lib/package.json" "$d" "/out/$lib/"; \
    done \
 && cp -r proto /out/proto

FROM node:26-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the app; workspace links in node_modules/@overture point at apps/ and libs/.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /out/ ./
USER node
EXPOSE 50051
# node is PID 1 and the app handles SIGTERM/SIGINT itself (graceful drain), so no init wrapper is needed.
# V8 flags before main.js, if any, are the app's in tools/suite/node-flags.ts (deploy-check compares).
ENTRYPOINT ["node", "apps/auth/dist/main.js"]
