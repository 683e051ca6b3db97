# One image for every quantmon service; the service is chosen by command:
#   docker run quantmon services/gateway/src/main.ts
# Stage 1 installs with dev dependencies and typechecks; stage 2 keeps only
# what runs (tsx executes the TypeScript sources directly).
# Node 26, the Active LTS line since 2026-10 (Node 20 reached end of life on
# 2026-04-30; 24 is in maintenance until 2028-04). The code also runs on 20,
# which CI uses. Another line: docker build --build-arg NODE_VERSION=24 .
ARG NODE_VERSION=26
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY services/collector/package.json services/collector/
COPY services/scorer/package.json services/scorer/
COPY services/alerter/package.json services/alerter/
COPY services/gateway/package.json services/gateway/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
COPY scripts scripts
RUN npx tsc -p tsconfig.json --noEmit && npx tsx services/gateway/src/build-dashboard.ts && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production LISTEN_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/packages packages
COPY --from=build /app/services services
USER node
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["services/gateway/src/main.ts"]
