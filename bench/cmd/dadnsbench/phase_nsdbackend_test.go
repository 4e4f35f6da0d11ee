package main

import (
	"strings"
	"testing"
)

func TestPhasesFlag(t *testing.T) {
	var errs strings.Builder
	o, err := parseFlags([]string{"-phases", "nsdbackend"}, &errs)
	if err != nil {
		t.Fatal(err)
	}
	if sel, _ := o.selectedPhases(); !sel["nsdbackend"] || len(sel) != 1 {
		t.Fatalf("selected %v", sel)
	}
	if o, err := parseFlags([]string{"-phases", "latency"}, &errs); err != nil {
		t.Fatal(err)
	} else if sel, _ := o.selectedPhases(); !sel["latency"] || len(sel) != 1 {
		t.Fatalf("selected %v", sel)
	}
	if _, err := parseFlags([]string{"-phases", "nsdbackend,push"}, &errs); err == nil || !strings.Contains(err.Error(), "push") {
		t.Fatalf("unknown phase: %v", err)
	}
	if o, _ := parseFlags(nil, &errs); o.phases != "" {
		t.Fatalf("default phases %q, want all", o.phases)
	}
}

func TestNSDBackendConfig(t *testing.T) {
	h := &nsdBackendHost{dir: "/d", zonesDir: "/d/zones", include: "/d/inc.conf", socket: "/s/nsd.ctl", conf: "/d/nsd.conf", addr: "127.0.0.1:5353"}
	conf := nsdBackendConfig(h, 5353, 2)
	for _, want := range []string{`control-interface: "/s/nsd.ctl"`, "rrl-ratelimit: 0", `zonefile: "/d/zones/%s.db"`, "server-count: 2"} {
		if !strings.Contains(conf, want) {
			t.Errorf("nsd.conf lacks %q:\n%s", want, conf)
		}
	}
	y := h.backendYAML("/usr/sbin/nsd")
	for _, want := range []string{"type: nsd", `nsd_control_socket: "/s/nsd.ctl"`, "mode: addzone", `nsd_checkzone: "/usr/sbin/nsd-checkzone"`, "verify_address: 127.0.0.1:5353"} {
		if !strings.Contains(y, want) {
			t.Errorf("backend entry lacks %q:\n%s", want, y)
		}
	}
}
