package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestGenerateZonesIsDeterministic(t *testing.T) {
	a, b, c := generateZones(7, 50), generateZones(7, 50), generateZones(8, 50)
	names := map[string]bool{}
	differs := false
	for i := range a {
		if a[i].text() != b[i].text() || a[i].name != b[i].name {
			t.Fatalf("zone %d differs between two runs with the same seed", i)
		}
		if a[i].text() != c[i].text() {
			differs = true
		}
		if names[a[i].name] {
			t.Fatalf("zone name %s generated twice", a[i].name)
		}
		names[a[i].name] = true
	}
	if !differs {
		t.Fatal("seeds 7 and 8 generated the same zones")
	}
}

func TestGeneratedZonesHaveDirectAdminShape(t *testing.T) {
	for _, z := range generateZones(1, 20) {
		if strings.Contains(z.text(), "$ORIGIN") || !strings.HasPrefix(z.text(), "\n\n\n") || !strings.Contains(z.text(), "$TTL 3600\n") {
			t.Fatalf("%s: not in DirectAdmin's shape:\n%s", z.name, z.text())
		}
		rrs := parseZone(t, z)
		if len(rrs) != zoneRecords {
			t.Errorf("%s: %d records, want %d", z.name, len(rrs), zoneRecords)
		}
		checkTypes(t, z, rrs)
		checkDKIM(t, z, rrs)
	}
}

// parseZone parses z the way a server does: origin from the zone name.
func parseZone(t *testing.T, z *benchZone) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(z.text()), z.name+".", z.name+".db")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("%s: %v", z.name, err)
	}
	return rrs
}

// checkTypes checks the record types, the SOA serial and the wildcard.
func checkTypes(t *testing.T, z *benchZone, rrs []dns.RR) {
	t.Helper()
	want := map[string]int{"SOA": 1, "NS": 2, "A": 5, "AAAA": 4, "MX": 1, "TXT": 3, "CAA": 1, "SRV": 1}
	got := map[string]int{}
	for _, rr := range rrs {
		got[dns.TypeToString[rr.Header().Rrtype]]++
		if soa, ok := rr.(*dns.SOA); ok && soa.Serial != z.serial {
			t.Errorf("%s: SOA serial %d, want %d", z.name, soa.Serial, z.serial)
		}
	}
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d %s records, want %d", z.name, got[typ], typ, n)
		}
	}
	if !strings.Contains(z.text(), "\n*\t3600\tIN\tA\t") {
		t.Errorf("%s: no wildcard", z.name)
	}
}

// checkDKIM checks the DKIM key is split into several strings and is a
// well-formed 2048-bit RSA public key.
func checkDKIM(t *testing.T, z *benchZone, rrs []dns.RR) {
	t.Helper()
	for _, rr := range rrs {
		txt, ok := rr.(*dns.TXT)
		if !ok || txt.Hdr.Name != "x._domainkey."+z.name+"." {
			continue
		}
		if len(txt.Txt) < 2 {
			t.Fatalf("%s: DKIM in %d string(s), want several", z.name, len(txt.Txt))
		}
		p, ok := strings.CutPrefix(strings.Join(txt.Txt, ""), "v=DKIM1; k=rsa; p=")
		if !ok {
			t.Fatalf("%s: DKIM record %q", z.name, txt.Txt)
		}
		der, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			t.Fatalf("%s: DKIM key: %v", z.name, err)
		}
		key, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatalf("%s: DKIM key: %v", z.name, err)
		}
		if rk, ok := key.(*rsa.PublicKey); !ok || rk.N.BitLen() != 2048 || rk.E != 65537 {
			t.Fatalf("%s: DKIM key is not RSA-2048 with e=65537", z.name)
		}
		return
	}
	t.Fatalf("%s: no DKIM record", z.name)
}

func TestGeneratedZonesPassServerCheckers(t *testing.T) {
	dir := t.TempDir()
	zones := generateZones(3, 3)
	if _, err := writeZoneFiles(dir, zones); err != nil {
		t.Fatal(err)
	}
	checkers := map[string]func(z *benchZone) []string{
		"/usr/bin/named-checkzone": func(z *benchZone) []string { return []string{z.name, zoneFile(dir, z)} },
		"/usr/sbin/nsd-checkzone":  func(z *benchZone) []string { return []string{z.name, zoneFile(dir, z)} },
	}
	for bin, args := range checkers {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			needBinary(t, bin)
			for _, z := range zones {
				if out, err := exec.Command(bin, args(z)...).CombinedOutput(); err != nil {
					t.Errorf("%s %s: %v\n%s", bin, z.name, err, out)
				}
			}
		})
	}
}

// needBinary skips the test when bin is missing, and fails it in CI.
func needBinary(t *testing.T, bin string) {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing in CI: %v", bin, err)
		}
		t.Skipf("%s missing: %v", bin, err)
	}
}
