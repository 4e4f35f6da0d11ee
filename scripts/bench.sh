#!/usr/bin/env bash
# `make bench`: builds the load generator (bench/cmd/dadnsbench) and runs it
# on loopback: one bin/dadns with the builtin, bind (its own named) and two
# coredns_mysql backends (their own mariadbd each), then NSD and BIND on the
# same zones. It prints a markdown table and writes it to
# bench/results/latest.md. The default is 10,000 zones; QUICK=1 runs a small
# version (200 zones, 200 requests per latency run, 3 s of dnsperf per
# server) that finishes well within two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
if [ "${QUICK:-}" = 1 ]; then
	args+=(-zones 200 -latency-pushes 200 -duration 3s -load-timeout 60s -timeout 100s -stores sqlite,mariadb)
fi
"${GO:-go}" build -o bin/dadnsbench ./bench/cmd/dadnsbench
exec bin/dadnsbench -dadns bin/dadns -out bench/results/latest.md "${args[@]}" "$@"
