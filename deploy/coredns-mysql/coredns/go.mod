// CoreDNS with the mysql plugin, built by the Dockerfile beside this file,
// which adds the requirements (COREDNS_VERSION, MYSQL_PLUGIN_VERSION) at
// build time. A module of its own, so that dadns's `go build ./...` and
// `go vet ./...` leave it alone.
module dadns.local/coredns-mysql

go 1.26
