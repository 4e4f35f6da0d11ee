#!/bin/sh
# Writes the database settings, which come from the environment, to a file
# in /run (a tmpfs) and starts PowerDNS in the foreground.
set -eu
: "${DB_HOST:?}" "${DB_NAME:?}" "${DB_USER:?}" "${DB_PASSWORD:?}"
mkdir -p /run/pdns/conf.d
umask 077
cat > /run/pdns/conf.d/gmysql.conf <<CONF
gmysql-host=${DB_HOST}
gmysql-port=${DB_PORT:-3306}
gmysql-dbname=${DB_NAME}
gmysql-user=${DB_USER}
gmysql-password=${DB_PASSWORD}
CONF
exec pdns_server --config-dir=/etc/powerdns "$@"
