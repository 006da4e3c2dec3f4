# syntax=docker/dockerfile:1
#
# One multi-stage Dockerfile for every Node service of the loyalty platform.
#
# Targets:
#   server     API (default CMD), recommender worker and migrations: one image,
#              different commands (see docker-compose.yml).
#   web-admin  nginx serving the built admin SPA and proxying the API.
#
# `docker build .` without --target builds `server` (the last stage).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
# base: Node 20 + npm 11. The root package.json's `allowScripts` policy
# (which install scripts may run) is only honoured by npm 11.
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
ARG NPM_VERSION=11
RUN npm install -g npm@${NPM_VERSION} --no-audit --no-fund \
 && npm cache clean --force
WORKDIR /app

# ---------------------------------------------------------------------------
# build: full install (dev dependencies included), compile jobs + api +
# recommender (tsc -b) and bundle web-admin (vite build).
# ---------------------------------------------------------------------------
FROM base AS build
# Manifests first so the `npm ci` layer is reused while dependencies are unchanged.
COPY package.json package-lock.json ./
COPY jobs/package.json jobs/
COPY api/package.json api/
COPY recommender/package.json recommender/
COPY web-admin/package.json web-admin/
COPY test/package.json test/
COPY packages/client/package.json packages/client/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
# schema/ is copied into the runtime image; make sure it exists even when the
# checkout has no files in it (git does not keep empty directories).
RUN npm run build \
 && mkdir -p schema

# ---------------------------------------------------------------------------
# prod-deps: production dependencies only, from the same lockfile, so the
# runtime image carries no TypeScript, Vite, Jest, etc.
# ---------------------------------------------------------------------------
FROM base AS prod-deps
COPY package.json package-lock.json ./
COPY jobs/package.json jobs/
COPY api/package.json api/
COPY recommender/package.json recommender/
COPY web-admin/package.json web-admin/
COPY test/package.json test/
COPY packages/client/package.json packages/client/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------
# web-admin: static SPA behind nginx; /graphql, /healthz and /readyz are
# proxied to http://api:4000 (see web-admin/nginx.conf).
# ---------------------------------------------------------------------------
FROM nginx:1.27-alpine AS web-admin
RUN rm -rf /usr/share/nginx/html/*
COPY web-admin/nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /app/web-admin/dist/ /usr/share/nginx/html/
EXPOSE 80
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD wget -qO- http://127.0.0.1/ >/dev/null || exit 1

# ---------------------------------------------------------------------------
# server: runtime image for the API, the recommender worker and migrations.
# Files stay owned by root (read-only for the app); the process runs as the
# unprivileged `node` user of the official image.
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS server
ENV NODE_ENV=production
WORKDIR /app

COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/jobs/package.json ./jobs/package.json
COPY --from=build /app/jobs/dist ./jobs/dist
COPY --from=build /app/api/package.json ./api/package.json
COPY --from=build /app/api/dist ./api/dist
COPY --from=build /app/recommender/package.json ./recommender/package.json
COPY --from=build /app/recommender/dist ./recommender/dist
COPY --from=build /app/web-admin/dist ./web-admin/dist
# The distribution's plugins (package.json loyalty.plugins), loaded when LOYALTY_PLUGINS is unset.
COPY --from=build /app/plugins/activities/package.json ./plugins/activities/package.json
COPY --from=build /app/plugins/activities/dist ./plugins/activities/dist
COPY --from=build /app/plugins/challenges/package.json ./plugins/challenges/package.json
COPY --from=build /app/plugins/challenges/dist ./plugins/challenges/dist
COPY --from=build /app/schema ./schema

USER node
EXPOSE 4000

# Slim images have no curl/wget: probe with Node's built-in fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The API's V8 flags (scripts/api-node-flags.mjs says why).
CMD ["node", "--max-old-space-size=1024", "api/dist/composition/main.js"]
