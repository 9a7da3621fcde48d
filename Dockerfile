# syntax=docker/dockerfile:1
# nthd container image: the esbuild bundle (entry file and chunks) on a distroless Node.js 26 runtime.
# Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/nthd:TAG .
# The bundle is plain JavaScript (no native modules), so the build stage runs on the build
# host's platform and only the runtime base differs per target platform.

ARG NODE_BUILD_IMAGE=node:26-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs26-debian13:nonroot

FROM --platform=$BUILDPLATFORM ${NODE_BUILD_IMAGE} AS build
WORKDIR /src
# Dependencies first, so source edits reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/ scripts/
COPY src/ src/
RUN npm run build \
 && mkdir -p /out \
 # The entry file and its chunks; no source maps in the image.
 && cp -r dist/. /out/ && find /out -name '*.map' -delete

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="nthd" \
      org.opencontainers.image.description="Node termination handler for Kubernetes on AWS" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app
COPY --from=build --chown=65532:65532 /out/ /app/
# The distroless :nonroot variant already runs as 65532; stated so the image says it alone.
USER 65532:65532
ENV NODE_ENV=production
# One glibc malloc arena instead of up to 8 per core: memory freed in a worker
# thread's own arena is partly kept, and grows in steps over hours
# (docs/benchmarks.md, "Soak"). The chart sets the same (mallocArenaMax);
# this covers manifests that do not.
ENV MALLOC_ARENA_MAX=1
# A fixed threshold for mapping large blocks on their own: glibc's dynamic one
# rises as large blocks are freed and lets the heap keep up to twice as much
# free memory untrimmed (docs/benchmarks.md, "Idle footprint"). Chart: mallocMmapThreshold.
ENV MALLOC_MMAP_THRESHOLD_=131072
EXPOSE 8080 9092
# distroless nodejs images have node as the entrypoint; no shell is needed or present.
ENTRYPOINT ["/nodejs/bin/node", "/app/nthd.mjs"]
