# Bulwark: the API, its background worker, or both in one process (see compose.yaml).
# Three stages: the console is built with the dev dependencies, the runtime gets only the
# production ones (tsx among them: Bulwark runs its TypeScript sources directly).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- console: Vite builds the review console into console/dist ----
FROM ${NODE_IMAGE} AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY console ./console
COPY scripts/build-console.mjs ./scripts/build-console.mjs
RUN node scripts/build-console.mjs

# ---- deps: production dependencies only ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
# ffmpeg and ffprobe decode videos for vPDQ hashing; Debian's ffmpeg adds about 700 MB, so
# `--build-arg WITH_VIDEO=false` leaves it out (video uploads then answer 503 naming ffmpeg).
# tini reaps ffmpeg's processes and passes SIGTERM on, so a stop lets Bulwark finish its
# requests and close the store.
ARG WITH_VIDEO=true
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini $([ "$WITH_VIDEO" = true ] && echo ffmpeg) \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    # Listen on every interface inside the container; the port is published by compose.
    BULWARK_HOST=0.0.0.0 \
    PORT=8080 \
    # The embedded store (when BULWARK_DATABASE_URL is unset) lives on the /data volume.
    BULWARK_DATA_DIR=/data \
    # Preserved evidence goes to the volume too (with PostgreSQL there is no data dir to put it under).
    BULWARK_PRESERVATION_DIR=/data/preservation \
    # As bin/bulwark.js's shebang would set: huge pages for the match index's large arrays.
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1

WORKDIR /app
# Code and dependencies stay owned by root, so the server cannot change what it runs.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
COPY --from=console /app/console/dist ./console/dist

RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
# The node image's unprivileged user (uid 1000).
USER node

EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["tini", "--", "node", "bin/bulwark.js"]
CMD ["serve"]
