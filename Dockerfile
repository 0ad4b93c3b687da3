# syntax=docker/dockerfile:1
#
# One image per service and one for the web console, all from this file: the role is the only difference.
#   docker build --build-arg ROLE=<role> -t <ecr>/togglemaster/<workload>:<sha> .
#   roles: auth flags targeting evaluation analytics (and analytics-worker, run from the analytics image; release-worker
#   and webhook-worker, from the flags image), console
# The image runs the roles bundled (scripts/build-roles.ts: the role switch handlers/main.ts and everything it loads,
# a chunk per role, with source maps and V8's compile cache), built in a stage of its own with the development
# dependencies; the image holds the bundle (dist/server), package.json and the production node_modules for the
# packages the bundle leaves outside (native add-ons, what OpenTelemetry patches; docs/adr/0014-bundled-roles.md).
# Development and the tests run the TypeScript sources. ROLE=console also holds the web console built by Vite
# (web/dist); the other images get an empty web/dist. Nothing is written outside /tmp, so the root filesystem can be
# read-only. No HEALTHCHECK: Kubernetes probes /healthz and /readyz.

# node:24.21.0-alpine3.24 (official image, multi-platform index digest). Renovate/Dependabot can bump both together.
ARG NODE_IMAGE=node:24.21.0-alpine3.24@sha256:be80f76cf40ec8e42b9bec49f60a55e0660f30af58d3e5a25530785b30ea67e2

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
# Production dependencies only, exactly as locked. No install scripts: the root postinstall builds the web console
# (built by the stage below, for the console image only), and argon2 loads its prebuilt musl binary without one.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# The web console (ROLE=console only): every dependency including the web workspace's and the build tools, then
# `npm run build:web` into web/dist. For any other role this stage only makes an empty web/dist: those images
# neither pay for the build nor carry the console. Nothing of this stage but web/dist reaches the image.
FROM ${NODE_IMAGE} AS web
ARG ROLE
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
COPY web/package.json ./web/
# No install scripts: the root postinstall would build before the sources are copied (the build runs below).
RUN if [ "${ROLE}" = "console" ]; then npm ci --ignore-scripts; fi
# Vite reads web/'s TypeScript project references, one of which extends the root tsconfig.json.
COPY tsconfig.json ./
COPY web/ ./web/
RUN mkdir -p web/dist && if [ "${ROLE}" = "console" ]; then npm run build:web && test -f web/dist/index.html; fi

# The roles bundled: every dependency (Rolldown is a development one), then `npm run build:roles` into dist/server,
# with the compile cache made for the image's user (uid 1000: Node keeps a cache folder per user id) at the path the
# image runs it from. Nothing of this stage but dist/server reaches the image.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
COPY web/package.json ./web/
# No install scripts: the root postinstall would build before the sources are copied (the build runs below).
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY scripts/build-roles.ts ./scripts/
COPY shared/ ./shared/
COPY handlers/ ./handlers/
RUN npm run build:roles -- --compile-cache-uid=1000 && test -f dist/server/main.js

FROM ${NODE_IMAGE} AS runtime
ARG ROLE
RUN test -n "${ROLE}" || { echo 'build with --build-arg ROLE=<auth|flags|targeting|evaluation|analytics|console>' >&2; exit 1; }
LABEL org.opencontainers.image.title="togglemaster-${ROLE}" \
      org.opencontainers.image.description="ToggleMaster ${ROLE} (node dist/server/main.js ${ROLE}, the bundle of handlers/main.ts)" \
      org.opencontainers.image.licenses="Apache-2.0"
# The compile cache is read, never written: its folder is root's, and a module it lacks is compiled as without one.
ENV NODE_ENV=production \
    NODE_COMPILE_CACHE=/app/dist/server/.compile-cache \
    TM_ROLE=${ROLE}
WORKDIR /app
# Root-owned and read-only for the process: the application user cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist/server ./dist/server/
# The built console for ROLE=console (served by handlers/console/console-app.ts), an empty folder otherwise.
COPY --from=web /app/web/dist ./web/dist/
# The image's own "node" user (uid/gid 1000); Kubernetes also sets runAsNonRoot and runAsUser 1000.
USER 1000:1000
# With no arguments: `node dist/server/main.js ${ROLE}`. With arguments, they replace the role:
#   docker run <image> migrate auth      docker run <analytics image> analytics-worker
# exec: node is PID 1 and receives SIGTERM itself (graceful shutdown). No --enable-source-maps: a logged stack's frames
# are mapped to our TypeScript when it is logged (shared/logging/source-mapped-stack.ts), not every chunk's map at start.
ENTRYPOINT ["/bin/sh", "-c", "if [ \"$#\" -eq 0 ]; then set -- \"$TM_ROLE\"; fi; exec node dist/server/main.js \"$@\"", "togglemaster"]
