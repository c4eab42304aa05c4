# syntax=docker/dockerfile:1
#
# The mock as a container: one static binary in a distroless image, running as the
# non-root user 65532. The spec and the fixtures are embedded in the binary, so the
# image holds no other file of ours; configuration comes from the environment
# (PORT, MORIMOCK_*; see `morimock serve -h`).
#
#   docker build -t morimock --build-arg VERSION=$(git describe --always --dirty) .
#   docker run --rm -p 8080:8080 morimock
#   docker run --rm -e BIZMORI_API_TOKEN morimock check --base-url https://api.example.com
#
# No Docker engine runs where this project is built and tested, so
# cmd/morimock/container_test.go reads the `go build` line below and runs it as is,
# then starts the binary in an empty root (no shell, no CA files, no /etc/passwd) as
# uid 65532 and checks that it serves and that its health check passes. Keep that
# line one line, and keep the user and the entrypoint as they are, or change the test
# with them.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a change to the sources does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/morimock ./cmd/morimock

# static-debian12 has no shell and no package manager; :nonroot runs as 65532.
FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="morimock" \
      org.opencontainers.image.description="Mock server and contract suite for the BIZ MORI v2 orders API"
COPY --from=build /out/morimock /morimock
USER 65532:65532
ENV PORT=8080
EXPOSE 8080
# Exec form: there is no shell in the image. The health check reads PORT too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=3s --retries=3 CMD ["/morimock", "healthcheck"]
ENTRYPOINT ["/morimock"]
CMD ["serve"]
