# syntax=docker/dockerfile:1
# pairkeeper runs its TypeScript directly on Node 24 (type stripping): no build step.
#
#   docker build -t pairkeeper .
#   docker run --rm -v /etc/pairkeeper:/etc/pairkeeper:ro pairkeeper check-config
#   docker run -d --stop-timeout 30 -p 8080:8080 \
#     -v /etc/pairkeeper:/etc/pairkeeper:ro -v pairkeeper-state:/var/lib/pairkeeper pairkeeper
#
# --stop-timeout: on SIGTERM pairkeeper lets work in flight finish for up to 20 s;
# Docker's default of 10 s would kill it halfway.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` devDependency (Node 24 for npm scripts) is not needed here.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-slim
# The one config file (see config/pairkeeper.example.yaml); mount it read-only,
# with any admin.tokenFile and listen.tls files beside it.
ENV PAIRKEEPER_CONFIG=/etc/pairkeeper/pairkeeper.yaml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# The file claim store's directory, the only place the service writes. The default
# claims.path (var/claims.json, relative to /app) lands in it too, so claims outlive
# the container when it is a volume.
RUN install -d -o node -g node /var/lib/pairkeeper && ln -s /var/lib/pairkeeper /app/var
VOLUME /var/lib/pairkeeper
USER node
# 8081 (admin) is reachable only when admin.host is not loopback, which needs admin.token.
EXPOSE 8080 8081
# The public listener, plain HTTP. With listen.tls set, override it (docker run --health-cmd).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PAIRKEEPER_LISTEN_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `docker run pairkeeper pairs` or `… check-config` runs the other commands of the CLI.
ENTRYPOINT ["node", "src/cli.ts"]
CMD ["serve"]
