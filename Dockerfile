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

# The base image, pinned by digest: a tag moves (node:24-slim is rebuilt for every
# Node and Debian fix), a digest gives every rebuild the same bytes. Both stages use
# it. To update (say monthly, or for a Node security release):
#   docker buildx imagetools inspect node:24-slim --format '{{json .Manifest.Digest}}'
# (the digest of the multi-platform index), put it here, rebuild and run the tests.
# A one-off build can override it: --build-arg NODE_DIGEST=sha256:…
ARG NODE_DIGEST=sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df

FROM node:24-slim@${NODE_DIGEST} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` devDependency (Node 24 for npm scripts) is not needed here.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-slim@${NODE_DIGEST}
# tini as PID 1 reaps orphans. A hook's children that outlive it (left running, or
# killed with its process group at the timeout) are re-parented to PID 1, and node as
# PID 1 never waits for them: they would pile up as zombies. tini passes SIGTERM on
# to node, which drains, and exits with node's status.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
# The one config file (see config/pairkeeper.example.yaml); mount it read-only,
# with any admin.tokenFile and listen.tls files beside it.
ENV PAIRKEEPER_CONFIG=/etc/pairkeeper/pairkeeper.yaml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# The file claim store's directory, the only place the service writes. The default
# claims.path (var/claims.json, relative to /app) lands in it too, so claims outlive
# the container when it is a volume. And the directory of Node's compile cache, below.
RUN install -d -o node -g node /var/lib/pairkeeper /app/.compile-cache && ln -s /var/lib/pairkeeper /app/var
VOLUME /var/lib/pairkeeper
USER node
# Node's compile cache, filled here once: every start would otherwise compile every
# module again and load Node's TypeScript stripper, which leaves about 17 MB more
# resident for the life of the process (and starts slower). serve
# loads every module it runs before it reads the config, so with no config it stops
# there (exit 2) and Node writes the cache as it exits. The cache is kept per Node
# version, V8 flags and user: this runs node as ENTRYPOINT does, as USER node.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
# Two malloc arenas: glibc gives every thread that allocates (libuv's pool, V8's
# workers) an arena of its own and keeps what it freed there. About 8 MB less
# resident at the peak of a 500-launch burst (README, Benchmarks).
# A fixed mmap threshold of 32 KiB: blocks that large are mapped on their own and
# unmapped when freed. glibc would otherwise raise the threshold after each freed
# large block (up to 32 MiB) and keep such blocks in its heap, where freed space is
# seldom given back. About 12 MB less idle and 17 MB less at the burst's peak.
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=32768
RUN node --optimize-for-size src/cli.ts serve --config /dev/null 2>/dev/null; test $? -eq 2
# 8081 (admin) is reachable only when admin.host is not loopback, which needs admin.token.
EXPOSE 8080 8081
# The public listener, plain HTTP. With listen.tls set, override it (docker run --health-cmd).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PAIRKEEPER_LISTEN_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `docker run pairkeeper pairs` or `… check-config` runs the other commands of the CLI.
# --optimize-for-size: V8 keeps a small young generation and collects sooner, which
# takes about 40 MB off the service idle and 130 MB off its peak in a 500-launch burst,
# for about 5% more time in that burst (README, Benchmarks).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--optimize-for-size", "src/cli.ts"]
CMD ["serve"]
