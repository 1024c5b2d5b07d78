# syntax=docker/dockerfile:1
# (COPY --exclude needs Dockerfile syntax 1.19 or later; "1" resolves to the newest 1.x.)

# ons-certs: the HTTP service (`serve`, the default command) and the queue workers (`worker`)
# share this image. It runs on a supported LTS (Node 20's end of life was April 2026; .ci/run runs
# the tests on the same major), whose own type stripping runs the TypeScript sources as they are:
# no build stage, no tsx, no esbuild (docs/runtime.md).
FROM node:24-bookworm-slim

# openssl: for `openssl verify` / `openssl speed` when operating and benchmarking the CA.
RUN apt-get update \
  && apt-get install -y --no-install-recommends openssl \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so that source changes do not invalidate the npm layer. Production ones
# only (no vitest, eslint, playwright-core, tsx), and no install scripts: none is needed (the one
# native addon, msgpackr-extract, comes prebuilt in a platform package; msgpackr falls back to
# plain JavaScript without it).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# The sources stay owned by root (the service cannot rewrite its own code); the host's
# node_modules, data, .env and git history never enter the image even without a .dockerignore.
COPY --exclude=node_modules --exclude=data --exclude=.env --exclude=.git \
  --exclude=coverage --exclude=test-results . .

# DATA_DIR (embedded database, development CA) is the only place the service writes. A named
# volume mounted here starts out with this ownership.
RUN mkdir -p /app/data && chown node:node /app/data

ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  DATA_DIR=/app/data

EXPOSE 3000

USER node

CMD ["node", "bin/ons-certs.js", "serve"]
