# One image for every quantmon service, running compiled JavaScript; the
# service is chosen by command:
#   docker run quantmon services/gateway/dist/main.js
# Stage 1 installs every dependency and runs `npm run build` (tsc for
# packages/shared, esbuild per service, the dashboard bundle). Stage 2 holds
# only the production dependencies (`npm ci --omit=dev`: no tsx, no
# TypeScript, no test tools) and the build output (no sources, no tests),
# and runs as the unprivileged `node` user.
# Node 26, the Active LTS line since 2026-10 (Node 20 reached end of life on
# 2026-04-30; 24 is in maintenance until 2028-04). The code also runs on
# 20.19+, which CI uses. Another line: docker build --build-arg NODE_VERSION=24 .
ARG NODE_VERSION=26

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/client/package.json packages/client/
COPY services/collector/package.json services/collector/
COPY services/scorer/package.json services/scorer/
COPY services/alerter/package.json services/alerter/
COPY services/gateway/package.json services/gateway/
COPY services/historian/package.json services/historian/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
COPY scripts scripts
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production LISTEN_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/client/package.json packages/client/
COPY services/collector/package.json services/collector/
COPY services/scorer/package.json services/scorer/
COPY services/alerter/package.json services/alerter/
COPY services/gateway/package.json services/gateway/
COPY services/historian/package.json services/historian/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/packages/shared/dist packages/shared/dist
COPY --from=build /app/services/collector/dist services/collector/dist
COPY --from=build /app/services/scorer/dist services/scorer/dist
COPY --from=build /app/services/alerter/dist services/alerter/dist
COPY --from=build /app/services/gateway/dist services/gateway/dist
COPY --from=build /app/services/gateway/public services/gateway/public
COPY --from=build /app/services/gateway/openapi.yaml services/gateway/
COPY --from=build /app/services/historian/dist services/historian/dist
COPY --from=build /app/services/historian/migrations services/historian/migrations
USER node
# The service's own /healthz (503 when Redis is lost or a consumer loop is
# stuck). Its port: HEALTH_PORT, else the service's port variable (compose
# sets it), else the gateway's default.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e = process.env; const p = e.HEALTH_PORT || e.GATEWAY_PORT || e.COLLECTOR_PORT || e.SCORER_PORT || e.ALERTER_PORT || e.HISTORIAN_PORT || 8080; fetch('http://127.0.0.1:' + p + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--enable-source-maps"]
CMD ["services/gateway/dist/main.js"]
