# syntax=docker/dockerfile:1
#
# dadns container image: the static binary `make build` makes, on Debian
# slim, run as the unprivileged user dadns (uid 10001). One build argument
# picks the DNS server that runs beside dadns in the same container:
#
#   docker build -t dadns .                                   # none: dadns's builtin DNS server
#   docker build -t dadns:bind --build-arg DNS_SERVER=bind .  # + BIND 9 (named, rndc)
#   docker build -t dadns:nsd  --build-arg DNS_SERVER=nsd  .  # + NSD
#   docker build -t dadns:knot --build-arg DNS_SERVER=knot .  # + Knot DNS (knotd, knotc)
#
# State lives in the volume /var/lib/dadns; the configuration is
# /etc/directdnsonly/app.yml (deploy/docker/app-<DNS_SERVER>.yml) plus
# DADNS_ variables. deploy/README.md describes the variants and the
# topologies built from them; deploy/deploy_test.go builds the binary with
# the same command as the build stage below.

ARG GO_VERSION=1.26
ARG DEBIAN_RELEASE=trixie

FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/dadns/dadns/internal/app.Version=${VERSION}" -o /out/dadns ./cmd/dadns

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DNS_SERVER=none
ARG VERSION=dev
COPY deploy/docker/named.conf deploy/docker/nsd.conf deploy/docker/knot.conf /etc/dadns/
# ca-certificates: dadns verifies TLS to MySQL and to DirectAdmin. The BIND
# and NSD packages generate control keys at install time (rndc.key,
# nsd_server.*, nsd_control.*): removed, because every copy of the image
# would share them. The entrypoint makes an rndc key per container; NSD is
# controlled through a local socket and needs none.
RUN set -eu; \
    case "$DNS_SERVER" in \
      none) pkgs="" ;; \
      bind) pkgs="bind9 bind9-utils" ;; \
      nsd) pkgs="nsd" ;; \
      knot) pkgs="knot" ;; \
      *) echo "DNS_SERVER must be none, bind, nsd or knot, not \"$DNS_SERVER\"" >&2; exit 1 ;; \
    esac; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates $pkgs; \
    rm -rf /var/lib/apt/lists/* /etc/bind/rndc.key /etc/nsd/nsd_server.* /etc/nsd/nsd_control.*; \
    if [ "$DNS_SERVER" = nsd ]; then ln -sf /etc/dadns/nsd.conf /etc/nsd/nsd.conf; fi; \
    groupadd --system --gid 10001 dadns; \
    useradd --system --uid 10001 --gid dadns --home-dir /var/lib/dadns --shell /usr/sbin/nologin dadns; \
    install -d -o dadns -g dadns -m 0700 /var/lib/dadns
COPY --from=build /out/dadns /usr/local/bin/dadns
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/dadns-entrypoint
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/dadns-healthcheck
COPY deploy/docker/app-${DNS_SERVER}.yml /etc/directdnsonly/app.yml

LABEL org.opencontainers.image.title="dadns" \
      org.opencontainers.image.description="DirectAdmin Extra DNS server: stores pushed zones and serves them through DNS backends" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/dadns/dadns"
ENV DNS_SERVER=${DNS_SERVER}
USER dadns:dadns
WORKDIR /var/lib/dadns
VOLUME ["/var/lib/dadns"]
# 2222: the DirectAdmin API, status and metrics; 53: DNS. Binding 53 as a
# non-root user relies on net.ipv4.ip_unprivileged_port_start=0, Docker's
# default for containers since 20.10 (the compose files set it too).
EXPOSE 2222/tcp 53/udp 53/tcp
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/dadns-healthcheck"]
ENTRYPOINT ["/usr/local/bin/dadns-entrypoint"]
CMD ["serve"]
