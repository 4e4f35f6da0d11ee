package pdnstest

import (
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestServesRowsAndRestarts loads a zone into PowerDNS's tables by hand,
// checks the server answers from them, and that it comes back on the same
// address after a restart.
func TestServesRowsAndRestarts(t *testing.T) {
	Require(t)
	db := mariadbtest.Start(t)
	name := db.NewDatabase(t)
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = mariadbtest.User, db.Password, "tcp", db.Addr(), name
	conn, err := mysql.NewConnector(c)
	if err != nil {
		t.Fatal(err)
	}
	sdb := sql.OpenDB(conn)
	defer sdb.Close()
	for _, q := range []string{
		"CREATE TABLE domains (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, master VARCHAR(128), last_check INT, type VARCHAR(8) NOT NULL, notified_serial INT UNSIGNED, account VARCHAR(40), options VARCHAR(64000), catalog VARCHAR(255))",
		"CREATE TABLE records (id BIGINT AUTO_INCREMENT PRIMARY KEY, domain_id INT, name VARCHAR(255), type VARCHAR(10), content VARCHAR(64000), ttl INT, prio INT, disabled TINYINT(1) DEFAULT 0, ordername VARCHAR(255) BINARY, auth TINYINT(1) DEFAULT 1)",
		"CREATE TABLE domainmetadata (id INT AUTO_INCREMENT PRIMARY KEY, domain_id INT NOT NULL, kind VARCHAR(32), content TEXT)",
		"CREATE TABLE cryptokeys (id INT AUTO_INCREMENT PRIMARY KEY, domain_id INT NOT NULL, flags INT NOT NULL, active BOOL, published BOOL DEFAULT 1, content TEXT)",
		"CREATE TABLE comments (id INT AUTO_INCREMENT PRIMARY KEY, domain_id INT NOT NULL, name VARCHAR(255) NOT NULL, type VARCHAR(10) NOT NULL, modified_at INT NOT NULL, account VARCHAR(40), comment TEXT NOT NULL)",
		"INSERT INTO domains (name, type) VALUES ('t.example', 'NATIVE')",
		"INSERT INTO records (domain_id, name, type, content, ttl, prio) VALUES (1, 't.example', 'SOA', 'ns1.t.example h.t.example 7 3600 600 86400 300', 300, 0), (1, 't.example', 'NS', 'ns1.t.example', 300, 0), (1, 'ns1.t.example', 'A', '192.0.2.1', 300, 0)",
	} {
		if _, err := sdb.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s := Start(t, Options{DB: DB{Host: db.Host, Port: db.Port, Name: name, User: mariadbtest.User, Password: db.Password}})
	ask := func() *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("ns1.t.example.", dns.TypeA)
		r, err := s.Exchange(m, "tcp")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := ask(); !r.Authoritative || len(r.Answer) != 1 {
		t.Fatalf("reply %v", r)
	}
	addr := s.Addr
	s.Stop()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if r := ask(); s.Addr != addr || len(r.Answer) != 1 {
		t.Fatalf("after restart at %s: %v", s.Addr, r)
	}
}

// TestExplain checks a documented difference is recognised and any other
// is not.
func TestExplain(t *testing.T) {
	p := dnsdiff.Probe{Name: "www.t.example.", QType: dns.TypeA, V: dnsdiff.VRD}
	reply := func(cd bool, a string) *dns.Msg {
		m := p.Msg()
		r := new(dns.Msg)
		r.SetReply(m)
		r.Authoritative, r.CheckingDisabled = true, cd
		rr, err := dns.NewRR("www.t.example. 300 IN A " + a)
		if err != nil {
			t.Fatal(err)
		}
		r.Answer = []dns.RR{rr}
		return r
	}
	if got := Explain(p, reply(true, "192.0.2.1"), reply(false, "192.0.2.1"), nil); got != ReasonCD {
		t.Errorf("CD only: %q", got)
	}
	if got := Explain(p, reply(true, "192.0.2.1"), reply(true, "192.0.2.2"), nil); got != "" {
		t.Errorf("a different address explained as %q", got)
	}
}
