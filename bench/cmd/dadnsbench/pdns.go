package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PowerDNS under test (Topology B): two powerdns backend instances, each
// writing its own mariadbd. pdns_dc1's server is a replication primary
// (binary log, GTID) followed by a read-only replica, and pdns_server
// reads the replica: what a second data centre serves.
var pdnsInstances = []string{"pdns_dc1", "pdns_dc2"}

// pdnsSetup is the PowerDNS part of a run.
type pdnsSetup struct {
	dbs     []*mariaServer // pdns_dc1 (the primary), pdns_dc2
	replica *mariaServer   // follows pdns_dc1
	reader  *target        // pdns_server on the replica, caches off
}

const pdnsReplUser, pdnsReplPass = "repl", "repl-bench-0123"

// startPowerDNS starts the three databases, sets up replication and
// returns the dns.backends entries.
func (b *bench) startPowerDNS(ctx context.Context) []string {
	names := []string{"pdns_dc1", "pdns_dc2", "pdns_replica"}
	extra := [][]string{
		{"--server-id=1", "--binlog-format=ROW"}, // + --log-bin, under its own dir below
		{"--server-id=3"},
		{"--server-id=2", "--read-only=ON", "--slave-net-timeout=5"},
	}
	servers := make([]*mariaServer, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		port, err := b.ports.Next()
		if err != nil {
			b.rep.fail("backends", "powerdns databases", err)
			return nil
		}
		dir := filepath.Join(b.tmp, name)
		args := extra[i]
		if i == 0 {
			args = append(args, "--log-bin="+filepath.Join(dir, "data", "bin"))
		}
		wg.Go(func() { servers[i], errs[i] = b.startMaria(ctx, name, dir, port, args...) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.rep.fail("backends", names[i]+"'s mariadbd", err)
			return nil
		}
	}
	if err := follow(ctx, servers[2], servers[0]); err != nil {
		b.rep.fail("backends", "pdns_replica following pdns_dc1", err)
		return nil
	}
	b.pdns = &pdnsSetup{dbs: servers[:2], replica: servers[2]}
	var entries []string
	for _, s := range b.pdns.dbs {
		b.names = append(b.names, s.name)
		entries = append(entries, s.powerdnsYAML())
	}
	return entries
}

// follow makes replica replicate everything primary writes from now on.
func follow(ctx context.Context, replica, primary *mariaServer) error {
	for _, q := range []string{
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", pdnsReplUser, pdnsReplPass),
		fmt.Sprintf("GRANT REPLICATION SLAVE ON *.* TO '%s'@'%%'", pdnsReplUser),
	} {
		if _, err := primary.root.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	var pos string
	if err := primary.root.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		return err
	}
	for _, q := range []string{
		fmt.Sprintf("SET GLOBAL gtid_slave_pos = '%s'", pos),
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', "+
			"MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", primary.port, pdnsReplUser, pdnsReplPass),
		"START SLAVE",
	} {
		if _, err := replica.root.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// powerdnsYAML is the dns.backends entry of the powerdns instance writing
// into s.
func (s *mariaServer) powerdnsYAML() string {
	return fmt.Sprintf("    %s:\n      type: powerdns\n      host: 127.0.0.1\n      port: %d\n      database: %s\n"+
		"      username: %s\n      password: %s\n", s.name, s.port, mariaDatabase, mariaUser, strconv.Quote(s.password))
}

// pdnsSerial reads the serial of zone's SOA row as PowerDNS would serve it.
func (s *mariaServer) pdnsSerial(ctx context.Context, zone string) (uint32, error) {
	var content string
	err := s.root.QueryRowContext(ctx, `SELECT r.content FROM records r JOIN domains d ON r.domain_id = d.id
WHERE d.name = ? AND r.name = ? AND r.type = 'SOA' AND r.disabled = 0`, zone, zone).Scan(&content)
	if err != nil {
		return 0, err
	}
	var mname, rname string
	var serial uint32
	if _, err := fmt.Sscan(content, &mname, &rname, &serial); err != nil {
		return 0, fmt.Errorf("soa row %q: %w", content, err)
	}
	return serial, nil
}

// startPowerDNSReader starts a pdns_server on the replica and waits until
// it serves every zone as last pushed; settings are added to the base
// configuration (the caches). It returns the server as a QPS target whose
// err says why it cannot be measured.
func (b *bench) startPowerDNSReader(ctx context.Context, label string, settings ...string) *target {
	t := &target{name: label}
	if b.pdns == nil {
		t.err = fmt.Errorf("dadnsbench: no powerdns databases")
		return t
	}
	bin, err := exec.LookPath("pdns_server")
	if err != nil {
		bin = "/usr/sbin/pdns_server"
	}
	port, err := b.ports.Next()
	if err != nil {
		t.err = err
		return t
	}
	dir := filepath.Join(b.tmp, "pdns-"+strings.ReplaceAll(strings.ToLower(strings.Fields(label)[len(strings.Fields(label))-1]), ")", ""))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.err = err
		return t
	}
	r := b.pdns.replica
	conf := strings.Join(append([]string{
		"launch=gmysql", "gmysql-host=127.0.0.1", "gmysql-port=" + strconv.Itoa(r.port), "gmysql-dbname=" + mariaDatabase,
		"gmysql-user=" + mariaUser, "gmysql-password=" + r.password, "gmysql-dnssec=no",
		"local-address=127.0.0.1", "local-port=" + strconv.Itoa(port), "socket-dir=" + dir,
		"guardian=no", "daemon=no", "disable-syslog=yes", "write-pid=no", "primary=no", "secondary=no",
		"disable-axfr=yes", "api=no", "webserver=no", "loglevel=3", "zone-cache-refresh-interval=0", "dname-processing=yes",
		"receiver-threads=1", "distributor-threads=" + strconv.Itoa(b.opt.serverThreads),
	}, settings...), "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "pdns.conf"), []byte(conf), 0o600); err != nil {
		t.err = err
		return t
	}
	start := time.Now()
	p, err := b.procs.start("pdns_server "+label, filepath.Join(dir, "pdns.log"), serverEnv(), bin, "--config-dir="+dir)
	if err != nil {
		t.err = err
		return t
	}
	lctx, cancel := context.WithTimeout(ctx, b.opt.loadTimeout)
	defer cancel()
	if _, err := awaitServed(lctx, loopback(port), b.current, allIndices(len(b.current)), p.alive); err != nil {
		t.err = fmt.Errorf("dadnsbench: %s: %w", label, err)
		return t
	}
	t.port, t.addr = port, loopback(port)
	b.rep.add("cold load", fmt.Sprintf("%s: start → all %d zones answer SOA", label, len(b.current)), "%s", secs(time.Since(start)))
	return t
}

// pdnsProbes are the push-to-served probes of the PowerDNS part: the SOA
// row in each database, and the PowerDNS on the replica over DNS
// (through replication, caches off).
func (b *bench) pdnsProbes(ctx context.Context) []servedProbe {
	if b.pdns == nil {
		return nil
	}
	var out []servedProbe
	for _, s := range b.pdns.dbs {
		out = append(out, servedProbe{name: s.name, serial: s.pdnsSerial})
	}
	if b.pdns.reader == nil {
		b.pdns.reader = b.startPowerDNSReader(ctx, "PowerDNS (replica, no cache)", "cache-ttl=0", "query-cache-ttl=0", "negquery-cache-ttl=0")
		if b.pdns.reader.err != nil {
			b.rep.fail("push-to-served", "PowerDNS on the replica", b.pdns.reader.err)
		}
	}
	if b.pdns.reader.err == nil {
		out = append(out, newUDPProber(b.pdns.reader.addr).probe("pdns_replica_dns"))
	}
	return out
}

// pdnsTargets are the PowerDNS servers whose QPS is measured: the one on
// the replica with caches off, and one with PowerDNS's default caches.
func (b *bench) pdnsTargets(ctx context.Context) []*target {
	if b.pdns == nil {
		return nil
	}
	out := []*target{}
	if b.pdns.reader != nil {
		out = append(out, b.pdns.reader)
	}
	slog.Info("starting pdns_server with default caches on the replica")
	cached := b.startPowerDNSReader(ctx, "PowerDNS (replica, default caches)")
	if cached.err != nil {
		b.rep.fail("cold load", cached.name, cached.err)
	}
	return append(out, cached)
}

// reportBothPowerDNS reports the powerdns instances together: the time
// until both databases hold every zone.
func (b *bench) reportBothPowerDNS(n int) {
	if b.pdns == nil {
		return
	}
	var slowest time.Duration
	for _, s := range b.pdns.dbs {
		d, ok := b.e2e[s.name]
		if !ok {
			return
		}
		slowest = max(slowest, d)
	}
	b.rep.addGoal("end-to-end", fmt.Sprintf("powerdns: all %d zones in both databases", n), goal{"≥ 1,000 zones/s", rate(n, slowest) >= 1000},
		"%s (%s zones/s)", secs(slowest), thousands(rate(n, slowest)))
}
