package deploy_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestKnotPathsAgree: the knot image's app.yml writes zone files where
// knot.conf's default template loads them from, and drives the control
// socket knot.conf opens.
func TestKnotPathsAgree(t *testing.T) {
	knot := checkConfig(t, repoPath(t, "deploy/docker/app-knot.yml"), nil).DNS.Backends["knot"]
	conf := readFile(t, "deploy/docker/knot.conf")
	value := func(key string) string {
		m := regexp.MustCompile(`(?m)^\s*` + key + `:\s+"([^"]+)"`).FindStringSubmatch(conf)
		if m == nil {
			t.Fatalf("knot.conf has no %s", key)
		}
		return m[1]
	}
	tmpl := regexp.MustCompile(`(?m)^\s*storage:\s+"([^"]+)"\n\s*file:`).FindStringSubmatch(conf)
	if tmpl == nil {
		t.Fatal("knot.conf has no template with a storage and a file")
	}
	if got, want := str(knot["zones_dir"]), tmpl[1]; got != want {
		t.Errorf("app-knot.yml zones_dir %q, knot.conf's template storage %q", got, want)
	}
	if !regexp.MustCompile(`(?m)^\s*file: "%s\.zone"`).MatchString(conf) {
		t.Errorf("knot.conf's default template must load %q, the files dadns writes", "%s.zone")
	}
	if got, want := str(knot["knot_socket"]), value("listen"); got != want {
		t.Errorf("app-knot.yml knot_socket %q, knot.conf's control socket %q", got, want)
	}
}

// startKnot runs the entrypoint of the DNS_SERVER=knot image: knotd with
// the image's knot.conf and dadns with the image's app.yml, both moved to
// a free loopback port and a temporary volume (vol, the same for every
// start of one test).
func startKnot(t *testing.T, c *container, vol string) {
	t.Helper()
	conf := c.relocate(t, "deploy/docker/knot.conf",
		"/var/lib/dadns", vol,
		"listen: 0.0.0.0@53", fmt.Sprintf("listen: 127.0.0.1@%d", c.dnsPort),
	)
	app := c.relocate(t, "deploy/docker/app-knot.yml",
		"/var/lib/dadns", vol,
		"verify_address: 127.0.0.1:53", fmt.Sprintf("verify_address: 127.0.0.1:%d", c.dnsPort),
	)
	c.start(t, c.env(t, "knot", "KNOT_CONF="+conf, "KNOT_DIR="+filepath.Join(vol, "knot")), "--config", app, "serve")
	eventually(t, "the health check to pass", func() error {
		select {
		case <-c.done:
			t.Fatalf("entrypoint exited: %v\n%s", c.err, c.out)
		default:
		}
		return c.healthcheck(t)
	})
}

// TestEntrypointKnot is the single-container topology with Knot DNS: the
// entrypoint starts knotd and dadns, a zone pushed through the API is
// served by knotd; when knotd dies the entrypoint stops dadns and exits
// non-zero; the restarted container (same volume) serves the zone again
// although knotd's text configuration lists no zones.
func TestEntrypointKnot(t *testing.T) {
	requireTool(t, "knotd")
	requireTool(t, "knotc")
	c := newContainer(t)
	vol := filepath.Join(c.dir, "volume")
	startKnot(t, c, vol)
	c.push(t)
	served := func() {
		eventually(t, "knotd to serve the pushed zone", func() error {
			serial, err := c.soaSerial()
			if err == nil && serial != 2026112801 {
				err = fmt.Errorf("serial %d", serial)
			}
			return err
		})
	}
	served()

	knotd := childNamed(t, c.cmd.Process.Pid, "knotd")
	if err := syscall.Kill(knotd, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := c.exit(t); code == 0 {
		t.Errorf("entrypoint exited 0 after knotd died\n%s", c.out)
	}
	c.checkGroupGone(t)
	if !strings.Contains(c.out.String(), "knot exited") {
		t.Errorf("entrypoint did not say knotd exited:\n%s", c.out)
	}

	startKnot(t, c, vol) // the restart policy's new container
	served()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.exit(t); code != 0 {
		t.Errorf("entrypoint exited %d after SIGTERM, want 0\n%s", code, c.out)
	}
	c.checkGroupGone(t)
}
