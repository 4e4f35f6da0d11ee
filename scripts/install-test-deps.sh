#!/usr/bin/env bash
# Installs, from Debian's packages, the servers and tools dadns's tests start
# (named, rndc, dig, mariadbd + Galera, nsd, knotd, kdig, pdns_server with
# gmysql, chromium, dnsperf, systemd-analyze) when any is missing.
set -euo pipefail

need=()
check() { # check BINARY PACKAGE
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || need+=("$2")
}
checkfile() { # checkfile PATH PACKAGE
	[ -e "$1" ] || need+=("$2")
}
check named bind9
check named-checkzone bind9-utils
check rndc bind9-utils
check dig bind9-dnsutils
check mariadbd mariadb-server
check rsync rsync
checkfile /usr/lib/galera/libgalera_smm.so galera-4
check nsd nsd
check knotd knot
check knotc knot
check kdig knot-dnsutils
check pdns_server pdns-server
checkfile /usr/lib/x86_64-linux-gnu/pdns/libgmysqlbackend.so pdns-backend-mysql
check chromium chromium
check dnsperf dnsperf
check systemd-analyze systemd

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
echo "installing test dependencies: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start system-wide daemons: tests run their own.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 0755 "$policy"
	made_policy=1
fi
trap '[ -n "$made_policy" ] && $sudo rm -f "$policy"' EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
