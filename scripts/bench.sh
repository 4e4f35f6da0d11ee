#!/usr/bin/env bash
# `make bench`: builds the load generator (bench/cmd/dadnsbench) and runs it
# against bin/dadns, NSD and BIND on loopback. It prints a markdown table and
# writes it to bench/results/latest.md. QUICK=1 runs a small version (200
# zones, 3 s of dnsperf per server) that finishes well within two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
if [ "${QUICK:-}" = 1 ]; then
	args+=(-zones 200 -duration 3s -load-timeout 60s -timeout 100s)
fi
"${GO:-go}" build -o bin/dadnsbench ./bench/cmd/dadnsbench
exec bin/dadnsbench -dadns bin/dadns -out bench/results/latest.md "${args[@]}" "$@"
