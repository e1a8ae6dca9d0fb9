# syntax=docker/dockerfile:1
# The restaurant's images, one target per app, all built from this monorepo:
#   docker build --target kitchen -t restaurant-kitchen .
# Each target runs exactly the command `npm run demo` runs locally (scripts/topology.ts).

FROM node:20-bookworm-slim AS build
WORKDIR /repo
COPY . .
RUN npm ci --no-audit --no-fund \
 && npx tsc -b \
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
