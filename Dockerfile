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
# What runs, and nothing else: the manifests, the production node_modules, the compiled output
# of every workspace package and the pages they serve; no sources, specs, benchmark or build info.
RUN mkdir /runtime \
 && cp package.json package-lock.json /runtime/ \
 && cp -a node_modules /runtime/ \
 && for dir in packages/* apps/*; do \
      mkdir -p "/runtime/$dir" && cp "$dir/package.json" "/runtime/$dir/" && cp -a "$dir/dist" "/runtime/$dir/"; \
      if [ -d "$dir/node_modules" ]; then cp -a "$dir/node_modules" "/runtime/$dir/"; fi; \
      if [ -d "$dir/page" ]; then cp -a "$dir/page" "/runtime/$dir/"; fi; \
    done \
 && find /runtime -name '*.tsbuildinfo' -delete

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /repo
COPY --from=build --chown=node:node /runtime /repo
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
