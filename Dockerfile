# syntax=docker/dockerfile:1
# The restaurant's images, one target per app, all built from this monorepo:
#   docker build --target kitchen -t restaurant-kitchen .
# Each target runs exactly the command `npm run demo` runs locally (scripts/topology.ts).

FROM node:20-bookworm-slim AS build
WORKDIR /repo
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY packages/core/package.json packages/core/
COPY packages/testing/package.json packages/testing/
COPY apps/contracts/package.json apps/contracts/
COPY apps/order/package.json apps/order/
COPY apps/kitchen/package.json apps/kitchen/
COPY apps/reception/package.json apps/reception/
COPY apps/audit/package.json apps/audit/
RUN npm ci --no-audit --no-fund
COPY packages packages
COPY apps apps
RUN npx tsc -b apps/order apps/kitchen apps/reception apps/audit \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /repo
COPY --from=build --chown=node:node /repo /repo
USER node

FROM runtime AS order
CMD ["node", "apps/order/dist/main.js"]

FROM runtime AS kitchen
CMD ["node", "apps/kitchen/dist/main.js"]

FROM runtime AS reception
EXPOSE 8080
CMD ["node", "apps/reception/dist/main.js"]

FROM runtime AS audit
CMD ["node", "apps/audit/dist/main.js"]
