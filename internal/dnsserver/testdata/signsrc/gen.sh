#!/bin/sh
# Regenerates the signed test zones from signed.test.zone, with throw-away
# ECDSA keys and signatures valid until 2055: ../zones/signed.test.db
# (NSEC), ../zones/nsec3.test.db (NSEC3 with salt and an iteration) and
# ../zones/optout.test.db (NSEC3 opt-out). Run from this directory; needs
# BIND's dnssec-keygen and dnssec-signzone.
set -eu
here=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sign() { # origin, extra dnssec-signzone flags
	mkdir "$tmp/$1"
	sed "s/signed\.test\./$1./g" signed.test.zone >"$tmp/$1/zone"
	cd "$tmp/$1"
	dnssec-keygen -q -a ECDSAP256SHA256 -f KSK "$1" >/dev/null
	dnssec-keygen -q -a ECDSAP256SHA256 "$1" >/dev/null
	shift_origin=$1
	shift
	dnssec-signzone -q -S -K . -o "$shift_origin" "$@" -s 20250101000000 \
		-e 20550101000000 -O full -f out zone >/dev/null
	grep -v '^;' out >"$here/../zones/$shift_origin.db"
	cd "$here"
}
sign signed.test
sign nsec3.test -3 cafe -H 1
sign optout.test -3 - -H 0 -A
