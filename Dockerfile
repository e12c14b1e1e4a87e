# Sirius in one image: `sirius serve` with the roles chosen at run time (compose.yaml runs it as separate roles).
#   docker build -t sirius .
#   docker run -p 9000:9000 -p 50051:50051 -p 8432:8432 -v sirius-data:/data sirius
# Ports (docs/deployment.md): 9000 HTTP (ingestion, query API, web app), 50051 Arrow Flight SQL, 8432 PostgreSQL wire.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: install with the lockfile, build every package to JS and the web app, then drop dev dependencies
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# the manifests first, so the dependency layer is reused while only sources change
COPY package.json package-lock.json ./
COPY packages/transit/package.json packages/transit/
COPY packages/tracing/package.json packages/tracing/
COPY packages/server/package.json packages/server/
COPY packages/client/package.json packages/client/
COPY packages/web/package.json packages/web/
COPY examples/package.json examples/
COPY bench/package.json bench/
# no `prepare` here: the sources it builds are not copied yet
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: the built server, its production dependencies, no compiler, not root
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    SIRIUS_DATA_DIR=/data
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages/transit/package.json packages/transit/
COPY --from=build /src/packages/transit/dist packages/transit/dist
COPY --from=build /src/packages/tracing/package.json packages/tracing/
COPY --from=build /src/packages/tracing/dist packages/tracing/dist
COPY --from=build /src/packages/client/package.json packages/client/
COPY --from=build /src/packages/client/dist packages/client/dist
COPY --from=build /src/packages/server/package.json packages/server/
COPY --from=build /src/packages/server/bin packages/server/bin
# dist/ holds the server's JS, its .proto files and the web app (dist/web)
COPY --from=build /src/packages/server/dist packages/server/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 9000 50051 8432
# /ready: PostgreSQL (or PGlite) and the object store answer; the HTTP port must stay 9000 for this check
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9000/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/packages/server/bin/sirius.js"]
CMD ["serve", "--host", "0.0.0.0"]
