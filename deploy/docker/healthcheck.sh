#!/bin/bash
# Health check of the dadns image: asks dadns for /healthz on this host and
# exits 0 when it answers 200, 1 otherwise. Plain bash (/dev/tcp), so the
# image needs no HTTP client.
#
# The port is HEALTHCHECK_PORT, else DADNS_APP_LISTEN_PORT, else 2222: set
# one of them when app.yml moves app.listen_port. With app.ssl_enable the
# port speaks TLS, which bash cannot; Go's server then answers the plain
# request with its "HTTP request to an HTTPS server" reply, which proves the
# listener is up, and that is what this check accepts.
set -u

host=${HEALTHCHECK_HOST:-127.0.0.1}
port=${HEALTHCHECK_PORT:-${DADNS_APP_LISTEN_PORT:-2222}}
timeout=${HEALTHCHECK_TIMEOUT:-4}

if ! exec 3<>"/dev/tcp/$host/$port"; then
	echo "unhealthy: nothing listens on $host:$port"
	exit 1
fi
# One write: bash's printf would send each line on its own, and a TLS
# listener closes after the first, so that the next one would fail. The
# here-string's final newline ends the last header line.
printf -v request 'GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r' "$host"
trap '' PIPE
cat <<<"$request" >&3

status=""
if ! IFS= read -r -t "$timeout" status <&3; then
	echo "unhealthy: no reply from $host:$port within ${timeout}s"
	exit 1
fi
status=${status%$'\r'}
case $status in
"HTTP/1."?" 200"*)
	echo "healthy"
	exit 0
	;;
"HTTP/1."?" 400"*)
	body=$(timeout "$timeout" cat <&3 2>/dev/null || true)
	if [[ $body == *"HTTPS server"* ]]; then
		echo "healthy: TLS listener answers (/healthz not checked over TLS)"
		exit 0
	fi
	;;
esac
echo "unhealthy: /healthz answered \"$status\""
exit 1
