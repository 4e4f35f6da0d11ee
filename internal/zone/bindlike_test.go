package zone

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bindHead is an apex for the record cases below.
const bindHead = "$TTL 300\n@ IN SOA ns1 host 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n"

// bindCases are zones named loads that the parser once refused or read
// differently; each record is followed by another one, as the zone
// parser's IPSECKEY bug needed to show. want is a substring of our
// warnings (accepted zones) or of our refusal (zones named refuses too).
var bindCases = []struct {
	name, text, want string
}{
	{"no $TTL, no TTL: SOA minimum", "@ IN SOA ns1 host 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n", "SOA MINIMUM (300)"},
	{"no $TTL, no class: SOA minimum", "@ SOA ns1 host 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n", "SOA MINIMUM"},
	{"SOA minimum acts as $TTL", "@ IN SOA ns1 host 1 3600 600 86400 300\n@ 7200 IN NS ns1\nns1 IN A 192.0.2.1\n", "SOA MINIMUM"},
	{"RFC 1035 TTLs", "@ 900 IN SOA ns1 host 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\nx 60 A 192.0.2.2\ny A 192.0.2.3\n", "RFC 1035"},
	{"missing TTL", "@ IN NS ns1\n@ IN SOA ns1 host 1 3600 600 86400 300\nns1 IN A 192.0.2.1\n", "no TTL, and no $TTL"},
	{"$GENERATE takes $TTL", "$TTL 600\n@ IN SOA ns1 host 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n$GENERATE 1-3 h$ A 192.0.2.$\n", ""},
	{"owners with # % & ! + =", bindHead + "a#b A 192.0.2.2\n100% A 192.0.2.3\nx&y TXT \"amp\"\na\\#c A 192.0.2.4\n!bang A 192.0.2.5\na+b=c A 192.0.2.6\nq.$x A 192.0.2.7\n", ""},
	{"NAPTR bare flags", bindHead + "n IN NAPTR 100 10 S SIP+D2U \"\" _sip._udp.x.example.\nn2 IN NAPTR 100 10 u E2U+sip !^.*$!sip:info@example.com! .\nafter A 192.0.2.9\n", ""},
	{"DHCID", bindHead + "d IN DHCID ( AAIBY2/AuCccgoJbsaxcQc9TUapptP69l\n  OjxfNuVAA2kjEA= )\nd2 DHCID AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No=\nafter A 192.0.2.9\n", ""},
	{"IPSECKEY", bindHead + "i1 IN IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==\n" +
		"i2 IN IPSECKEY ( 10 2 2 2001:db8:0:8002::2000:1\n AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ== ) ; gateway v6\n" +
		"i3 IN IPSECKEY 10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==\n" +
		"$ORIGIN sub\ni4 IN IPSECKEY 10 3 2 gw AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==\nafter A 192.0.2.9\n", ""},
	{"IPSECKEY without a key", bindHead + "i5 IN IPSECKEY 10 3 0 gw.example.com.\nafter A 192.0.2.9\n", "no public key"},
	{"LOC without seconds", bindHead + "l IN LOC 60 9 N 24 39 E 10m 20m 2000m 20m\nl2 LOC 42 21 43.952 N 71 5 W -24m 1m 200m\nl3 LOC 60 N 24 E 0m\nafter A 192.0.2.9\n", ""},
	{"SVCB and HTTPS keyNNNNN", bindHead + "s1 IN SVCB 1 . key65333=ex1 key65444=ex2 mandatory=key65444\n" +
		"s2 SVCB 1 foo.example.com. key667=\"hello\\210qoo\"\ns3 SVCB 1 . key3=53\ns4 SVCB 1 . key7=/dns-query{?dns}\n" +
		"s5 HTTPS 1 . alpn=h2 key65000=foo\ns6 HTTPS 1 . key65001\ns7 SVCB 1 foo.example.com. ( key123=abc key124=\"def\" )\nafter A 192.0.2.9\n", ""},
	{"SVCB keyN value invalid for the key", bindHead + "s IN SVCB 1 . key4=192.0.2.1\n", "not valid for that key"},
	{"WKS", bindHead + "w1 IN WKS 192.0.2.1 TCP 21 25\nw2 WKS 192.0.2.2 6 ftp smtp\nw3 WKS 192.0.2.3 udp domain\nw4 WKS 10.0.0.1 17 53\nafter A 192.0.2.9\n", ""},
	{"NULL", bindHead + "u1 IN NULL \\# 4 0a0b0c0d\nu2 NULL \\# 0\nu3 TYPE10 \\# 3 010203\nafter A 192.0.2.9\n", ""},
	{"APL", bindHead + "a1 IN APL 1:192.168.32.0/21 !1:192.168.38.0/28\na2 APL 1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8\na3 APL\na4 APL !2:fe80::/10\nafter A 192.0.2.9\n", ""},
}

// TestLoadsLikeBIND parses each case and has named-checkzone load it:
// both accept or both refuse, and what named loaded (its -D dump, read
// back) is the zone we made, record for record, TTLs included.
func TestLoadsLikeBIND(t *testing.T) {
	checkzone := tool(t, "named-checkzone")
	dir := t.TempDir()
	for i, c := range bindCases {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(dir, "in"+itoa(i))
			if err := os.WriteFile(in, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, nerr := exec.Command(checkzone, "-D", "-o", in+".dump", "x.example", in).CombinedOutput()
			z, err := Parse("x.example", []byte(c.text), Limits{})
			if nerr != nil {
				if err == nil {
					t.Fatalf("named refuses, we accept:\n%s", out)
				}
				if !strings.Contains(err.Error(), c.want) {
					t.Fatalf("refused for %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("named loads it, we refuse: %v", err)
			}
			dump, rerr := os.ReadFile(in + ".dump")
			if rerr != nil {
				t.Fatal(rerr)
			}
			theirs, err := Parse("x.example", dump, Limits{})
			if err != nil {
				t.Fatalf("named's dump refused: %v\n%s", err, dump)
			}
			if theirs.Text() != z.Text() {
				t.Fatalf("named loaded:\n%s\nwe made:\n%s", theirs.Text(), z.Text())
			}
			if c.want != "" && !strings.Contains(render(z, nil), c.want) {
				t.Errorf("no warning %q in:\n%s", c.want, render(z, nil))
			}
		})
	}
}
