#!/bin/sh
# Run once by the MariaDB image when galera1 initialises its data: the
# account Galera's mariabackup state transfer uses to copy the database to
# a joining node (wsrep_sst_auth in docker-compose.yml).
set -eu
docker_process_sql <<SQL
CREATE USER 'sst'@'localhost' IDENTIFIED BY '${GALERA_SST_PASSWORD}';
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'sst'@'localhost';
SQL
