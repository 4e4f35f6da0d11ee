package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDaemonsServeGeneratedZones starts NSD and BIND as the bench does,
// on a few zones, and checks they serve them and stop with the bench.
func TestDaemonsServeGeneratedZones(t *testing.T) {
	zones := generateZones(9, 5)
	for _, name := range []string{"nsd", "named"} {
		t.Run(name, func(t *testing.T) {
			b := &bench{
				opt: options{
					nsdBin: "/usr/sbin/nsd", namedBin: "/usr/sbin/named", namedCheckconf: "/usr/bin/named-checkconf",
					serverThreads: 1, loadTimeout: 30 * time.Second,
				},
				procs: &procSet{}, zones: zones, zoneDir: filepath.Join(t.TempDir(), "zones"),
			}
			defer b.procs.stopAll()
			if _, err := writeZoneFiles(b.zoneDir, zones); err != nil {
				t.Fatal(err)
			}
			port, err := b.ports.Next()
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			d := b.nsdDaemon(dir, b.zoneDir, port)
			if name == "named" {
				d = b.bindDaemon(dir, b.zoneDir, port)
			}
			needBinary(t, d.bin)
			needBinary(t, d.check[0])
			p, load, err := b.startDaemon(context.Background(), d, dir)
			if err != nil {
				t.Fatal(err)
			}
			if load <= 0 {
				t.Errorf("cold load %v, want a positive time", load)
			}
			checkAnswers(t, d.addr, zones)
			b.procs.stopAll()
			if !p.exited() {
				t.Fatalf("%s still running after stopAll", name)
			}
		})
	}
}

// checkAnswers asks for a name of each kind in the query mix and checks the
// rcode: existing names, the wildcard, missing types and NXDOMAIN.
func checkAnswers(t *testing.T, addr string, zones []*benchZone) {
	t.Helper()
	c := &dns.Client{Timeout: 2 * time.Second}
	z := zones[0].name
	for _, tc := range []struct {
		q       query
		rcode   int
		answers int
	}{
		{query{"www." + z + ".", "A"}, dns.RcodeSuccess, 1},
		{query{z + ".", "MX"}, dns.RcodeSuccess, 1},
		{query{"nothere42." + z + ".", "A"}, dns.RcodeSuccess, 1}, // the wildcard
		{query{"www." + z + ".", "MX"}, dns.RcodeSuccess, 0},
		{query{"nothere42.www." + z + ".", "A"}, dns.RcodeNameError, 0},
		{query{"default._domainkey." + z + ".", "TXT"}, dns.RcodeNameError, 0},
	} {
		m := new(dns.Msg)
		m.SetQuestion(tc.q.name, dns.StringToType[tc.q.qtype])
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%v: %v", tc.q, err)
		}
		if r.Rcode != tc.rcode || len(r.Answer) != tc.answers || !r.Authoritative {
			t.Errorf("%v: %s with %d answers (aa %t), want %s with %d", tc.q, dns.RcodeToString[r.Rcode], len(r.Answer),
				r.Authoritative, dns.RcodeToString[tc.rcode], tc.answers)
		}
	}
}

// TestPortTaken checks which start failures make the bench pick a new port.
func TestPortTaken(t *testing.T) {
	for msg, want := range map[string]bool{
		"nsd exited (exit status 1); last log lines: error: can't bind udp socket 127.0.0.1@43319: Address already in use": true,
		"knotd exited: error: cannot bind address 127.0.0.1@40887 UDP (address already in use)":                            true,
		"named exited: creating IPv4 interface lo failed; interface ignored\nloading configuration: failure":               true,
		"named exited: zone example.com/IN: loading from master file failed":                                               false,
	} {
		if got := portTaken(errors.New(msg)); got != want {
			t.Errorf("portTaken(%q) = %v, want %v", msg, got, want)
		}
	}
}
