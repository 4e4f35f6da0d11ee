#!/bin/bash
# Entrypoint of the dadns image (deploy/README.md).
#
# `serve`, the default command, first starts the DNS server bundled in this
# image variant (DNS_SERVER: none, bind, nsd or knot, fixed at build time) and
# waits until it answers on its control channel, then starts dadns. When
# either process stops, the other is stopped too and the container exits
# non-zero, so that its restart policy brings both back. SIGTERM and SIGINT
# stop dadns first, then the DNS server. Every other command (check-config,
# version, reconcile) runs dadns alone.
#
# Tests move the paths with NAMED_CONF, BIND_DIR, RNDC_PORT, NSD_CONF,
# NSD_DIR, KNOT_CONF and KNOT_DIR. No variable here may start with DADNS_:
# dadns reads those as configuration and refuses unknown ones.
set -euo pipefail

DNS_SERVER=${DNS_SERVER:-none}
NAMED_CONF=${NAMED_CONF:-/etc/dadns/named.conf}
BIND_DIR=${BIND_DIR:-/var/lib/dadns/bind}
RNDC_PORT=${RNDC_PORT:-953}
NSD_CONF=${NSD_CONF:-/etc/dadns/nsd.conf}
NSD_DIR=${NSD_DIR:-/var/lib/dadns/nsd}
KNOT_CONF=${KNOT_CONF:-/etc/dadns/knot.conf}
KNOT_DIR=${KNOT_DIR:-/var/lib/dadns/knot}
START_TIMEOUT=${START_TIMEOUT:-30} # seconds the DNS server may take to answer

server_pid=""
dadns_pid=""

log() { echo "entrypoint: $*" >&2; }

# serving reports whether the dadns arguments run the server.
serving() {
	local arg
	for arg in "$@"; do
		case $arg in
		check-config | version | reconcile | help | -h | -help | --help) return 1 ;;
		esac
	done
	return 0
}

prepare_bind() {
	mkdir -p "$BIND_DIR/zones" "$BIND_DIR/cache"
	if [[ ! -s $BIND_DIR/rndc.key ]]; then
		# Generated per container: a key baked into the image would be
		# the same for everyone who pulls it.
		(umask 077 && rndc-confgen -a -k rndc-key -c "$BIND_DIR/rndc.key" >/dev/null)
		log "generated $BIND_DIR/rndc.key"
	fi
	[[ -e $BIND_DIR/zones.conf ]] || : >"$BIND_DIR/zones.conf"
}

bind_ready() {
	rndc -k "$BIND_DIR/rndc.key" -s 127.0.0.1 -p "$RNDC_PORT" status >/dev/null 2>&1
}

prepare_nsd() {
	mkdir -p "$NSD_DIR/zones" "$NSD_DIR/xfr"
	[[ -e $NSD_DIR/zones.conf ]] || : >"$NSD_DIR/zones.conf"
}

nsd_ready() {
	nsd-control -c "$NSD_CONF" status >/dev/null 2>&1
}

prepare_knot() {
	mkdir -p "$KNOT_DIR/zones" "$KNOT_DIR/db"
}

knot_ready() {
	knotc -s "$KNOT_DIR/knot.sock" status >/dev/null 2>&1
}

# stop sends SIGTERM to a child, if any, and waits for it.
stop() {
	[[ -n $1 ]] || return 0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# shutdown stops dadns, then the DNS server, and exits with status $1.
shutdown() {
	stop "$dadns_pid"
	stop "$server_pid"
	exit "$1"
}

start_server() {
	case $DNS_SERVER in
	bind)
		prepare_bind
		named -g -c "$NAMED_CONF" &
		;;
	nsd)
		prepare_nsd
		nsd -d -c "$NSD_CONF" &
		;;
	knot)
		prepare_knot
		knotd -c "$KNOT_CONF" &
		;;
	*)
		log "DNS_SERVER is \"$DNS_SERVER\"; use none, bind, nsd or knot"
		exit 2
		;;
	esac
	server_pid=$!
	local tries=$((START_TIMEOUT * 5))
	until "${DNS_SERVER}_ready"; do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			log "$DNS_SERVER exited while starting"
			shutdown 1
		fi
		if ((--tries <= 0)); then
			log "$DNS_SERVER did not answer within ${START_TIMEOUT}s"
			shutdown 1
		fi
		sleep 0.2
	done
	log "$DNS_SERVER is up"
}

main() {
	if [[ $DNS_SERVER == none ]] || ! serving "$@"; then
		exec dadns "$@"
	fi
	trap 'shutdown 0' TERM INT
	start_server
	dadns "$@" &
	dadns_pid=$!

	local exited="" status=0
	wait -n -p exited "$server_pid" "$dadns_pid" || status=$?
	if [[ $exited == "$dadns_pid" ]]; then
		dadns_pid=""
		log "dadns exited with status $status; stopping $DNS_SERVER"
		shutdown $((status == 0 ? 1 : status))
	fi
	server_pid=""
	log "$DNS_SERVER exited with status $status; stopping dadns"
	shutdown 1
}

main "$@"
