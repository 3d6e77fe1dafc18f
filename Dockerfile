# syntax=docker/dockerfile:1
# The Governor operator image: a static binary on distroless, non-root.
#
#   docker build -t ghcr.io/governor-dev/governor:dev .
#   docker build --build-arg VERSION=v0.1.0 -t ghcr.io/governor-dev/governor:v0.1.0 .
#
# The chart runs it as `governor manager --leader-elect ...` with a read-only
# root filesystem (a /tmp emptyDir is mounted for the metrics server's
# self-signed certificate).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that source changes reuse the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY config/ config/
COPY internal/ internal/
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/governor ./cmd/governor

FROM gcr.io/distroless/static:nonroot
LABEL org.opencontainers.image.source="https://github.com/governor-dev/governor" \
      org.opencontainers.image.description="Governor: governance of a self-hosted internal-tools platform as Kubernetes resources"
COPY --from=build /out/governor /governor
# 65532 is distroless' nonroot user; the chart's securityContext requires non-root.
USER 65532:65532
ENTRYPOINT ["/governor"]
CMD ["manager"]
