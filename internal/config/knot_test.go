package config

import (
	"testing"
)

// TestKnotKeys: a knot instance's keys from the file, their defaults, an
// environment override, and the values validation refuses.
func TestKnotKeys(t *testing.T) {
	c := mustLoad(t, `dns:
  backends:
    k:
      type: knot
      zones_dir: /var/lib/dadns/knot
      knot_socket: /run/knot/dadns.sock
      verify_address: 127.0.0.1:5300
      verify_transfer: true
      template: dadns
      file_mode: "0640"
`, "DADNS_DNS_BACKENDS_K_KNOTC_PATH=/usr/sbin/knotc")
	k := c.DNS.Backends["k"].Knot
	want(t, k.ZonesDir, "/var/lib/dadns/knot")
	want(t, k.KnotSocket, "/run/knot/dadns.sock")
	want(t, k.KnotcPath, "/usr/sbin/knotc")
	want(t, k.VerifyAddress, "127.0.0.1:5300")
	want(t, k.VerifyTransfer, true)
	want(t, k.Template, "dadns")
	want(t, uint32(k.FileMode), uint32(0o640))
	want(t, uint32(k.DirMode), uint32(0o755))

	d := mustLoad(t, "dns: {backends: {k: {type: knot, zones_dir: /z}}}").DNS.Backends["k"].Knot
	want(t, d.KnotcPath, "knotc")
	want(t, d.KnotSocket, "/run/knot/knot.sock")

	_, err := loadYAML(t, `dns: {backends: {k: {type: knot, zones_dir: /z, knot_socket: "", template: "a b", verify_address: nope}}}`)
	ps := problemsOf(t, err)
	for _, p := range []struct{ key, msg string }{
		{"dns.backends.k.knot_socket", "control socket"},
		{"dns.backends.k.template", "template id"},
		{"dns.backends.k.verify_address", ""},
	} {
		if _, ok := findProblem(ps, p.key, p.msg); !ok {
			t.Errorf("no problem about %s (%q): %v", p.key, p.msg, ps)
		}
	}
}
