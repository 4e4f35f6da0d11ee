#!/usr/bin/env bash
# `make bench`: builds the load generator (bench/cmd/dadnsbench) and runs it
# on loopback: one bin/dadns with the builtin, bind (its own named), knot
# and two coredns_mysql and powerdns backends, then NSD, Knot and BIND on
# the same zones beside builtin-only dadns processes (the shipped 0.0.0.0,
# [::], 127.0.0.1, RRL accounting, RRL and cookies off, wildcard sockets
# only), then bind, nsd and knot each alone beside the builtin. It prints a
# markdown table and writes it to bench/results/<size>.md (10k.md by
# default, 100k.md with SCALE=100000, quick.md with QUICK=1), copies it to
# bench/results/latest.md and, when both 10k.md and 100k.md exist, writes
# the side-by-side table bench/results/README.md.
#
# SCALE=N sets the zone count (-zones; default 10,000); timeouts grow with
# it. QUICK=1 runs a small version (200 zones, 200 requests per latency
# run, 3 s of dnsperf per server, no Galera) that finishes within minutes.
# Extra arguments go to dadnsbench (`bin/dadnsbench -h` lists them).
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
scale="${SCALE:-10000}"
if [ "${QUICK:-}" = 1 ]; then
	args+=(-zones "${SCALE:-200}" -latency-pushes 200 -duration 3s -rounds 1 -flood-duration 3s -stores sqlite,mariadb)
	out=bench/results/quick.md
else
	args+=(-zones "$scale")
	if [ $((scale % 1000)) = 0 ]; then
		out="bench/results/$((scale / 1000))k.md"
	else
		out="bench/results/${scale}.md"
	fi
fi
"${GO:-go}" build -o bin/dadnsbench ./bench/cmd/dadnsbench
rc=0
bin/dadnsbench -dadns bin/dadns -out "$out" "${args[@]}" "$@" || rc=$?
if [ -f "$out" ]; then
	cp "$out" bench/results/latest.md
fi
if [ -f bench/results/10k.md ] && [ -f bench/results/100k.md ]; then
	bin/dadnsbench -combine bench/results/10k.md,bench/results/100k.md -out bench/results/README.md || rc=1
fi
exit "$rc"
