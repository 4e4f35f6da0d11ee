#!/usr/bin/env bash
# Installs, from Debian's packages, the servers and tools dadns's tests start
# (named, rndc, dig, mariadbd, nsd, knotd, dnsperf) when any is missing.
set -euo pipefail

need=()
check() { # check BINARY PACKAGE
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || need+=("$2")
}
check named bind9
check named-checkzone bind9-utils
check rndc bind9-utils
check dig bind9-dnsutils
check mariadbd mariadb-server
check nsd nsd
check knotd knot
check dnsperf dnsperf

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
echo "installing test dependencies: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Package scripts must not start system-wide daemons: tests run their own.
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
