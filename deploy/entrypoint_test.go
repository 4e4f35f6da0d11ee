package deploy_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/testutil/procstat"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
)

// waitLimit bounds every wait below; nothing asserts how fast things go.
const waitLimit = 60 * time.Second

// container is the image's entrypoint running on this machine, with the
// paths and ports of the image moved into a temporary folder.
type container struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
	err  error

	dir                        string
	httpPort, dnsPort, ctlPort int
	password                   string
}

// newContainer prepares a folder standing for the container's volume.
func newContainer(t *testing.T) *container {
	return &container{
		dir: t.TempDir(), httpPort: freePort(t), dnsPort: freePort(t), ctlPort: freePort(t),
		password: "deploytest-password",
	}
}

// relocate rewrites one of the image's files for this machine: each old
// string must occur (the test pins the file's shape) and is replaced.
func (c *container) relocate(t *testing.T, rel string, pairs ...string) string {
	t.Helper()
	text := readFile(t, rel)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(text, pairs[i]) {
			t.Fatalf("%s no longer contains %q", rel, pairs[i])
		}
		text = strings.ReplaceAll(text, pairs[i], pairs[i+1])
	}
	path := filepath.Join(c.dir, filepath.Base(rel))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// env is the environment the image gives the entrypoint, plus the moved
// paths and dadns's address.
func (c *container) env(t *testing.T, server string, extra ...string) []string {
	binDir := filepath.Dir(dadnsBinary(t))
	return append(append(cleanEnv(),
		"PATH="+binDir+":"+os.Getenv("PATH")+":/usr/sbin:/sbin",
		"DNS_SERVER="+server,
		"DADNS_APP_LISTEN_ADDRESS=127.0.0.1",
		"DADNS_APP_LISTEN_PORT="+strconv.Itoa(c.httpPort),
		"DADNS_APP_AUTH_PASSWORD="+c.password,
	), extra...)
}

// start runs the entrypoint in its own process group.
func (c *container) start(t *testing.T, env []string, args ...string) {
	t.Helper()
	c.cmd = exec.Command("bash", append([]string{repoPath(t, "deploy/docker/entrypoint.sh")}, args...)...)
	c.cmd.Env = env
	c.cmd.Dir = c.dir
	c.out = &syncbuf.Buffer{}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.done = make(chan struct{})
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	})
}

// exit waits for the entrypoint to stop and returns its status.
func (c *container) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitLimit):
		t.Fatalf("entrypoint still running after %v\n%s", waitLimit, c.out)
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode()
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	return 0
}

// checkGroupGone: no process the entrypoint started outlives it.
func (c *container) checkGroupGone(t *testing.T) {
	t.Helper()
	eventually(t, "the entrypoint's children to stop", func() error {
		if err := syscall.Kill(-c.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("process group %d still has members", c.cmd.Process.Pid)
		}
		return nil
	})
}

// healthcheck runs the image's health check against this container.
func (c *container) healthcheck(t *testing.T) error {
	return runHealthcheck(t, c.httpPort)
}

func runHealthcheck(t *testing.T, port int) error {
	cmd := exec.Command("bash", repoPath(t, "deploy/docker/healthcheck.sh"))
	cmd.Env = append(cleanEnv(), "HEALTHCHECK_PORT="+strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// eventually polls check until it succeeds or waitLimit passes.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startBind runs the entrypoint of the DNS_SERVER=bind image: named with
// the image's named.conf and dadns with the image's app.yml, both moved to
// free loopback ports and a temporary volume.
func startBind(t *testing.T) *container {
	namedtest.Require(t)
	c := newContainer(t)
	vol := filepath.Join(c.dir, "volume")
	conf := c.relocate(t, "deploy/docker/named.conf",
		"/var/lib/dadns", vol,
		"listen-on port 53 { any; };", fmt.Sprintf("listen-on port %d { 127.0.0.1; };", c.dnsPort),
		"listen-on-v6 port 53 { any; };", "listen-on-v6 { none; };",
		"inet 127.0.0.1 port 953 ", fmt.Sprintf("inet 127.0.0.1 port %d ", c.ctlPort),
	)
	app := c.relocate(t, "deploy/docker/app-bind.yml",
		"/var/lib/dadns", vol,
		"rndc_port: 953", fmt.Sprintf("rndc_port: %d", c.ctlPort),
		"verify_address: 127.0.0.1:53", fmt.Sprintf("verify_address: 127.0.0.1:%d", c.dnsPort),
	)
	c.start(t, c.env(t, "bind",
		"NAMED_CONF="+conf, "BIND_DIR="+filepath.Join(vol, "bind"), "RNDC_PORT="+strconv.Itoa(c.ctlPort),
	), "--config", app, "serve")
	eventually(t, "the health check to pass", func() error {
		select {
		case <-c.done:
			t.Fatalf("entrypoint exited: %v\n%s", c.err, c.out)
		default:
		}
		return c.healthcheck(t)
	})
	return c
}

const testZone = `$TTL 3600
@	IN	SOA	ns1.example.com.	hostmaster.example.com. ( 2026112801 3600 3600 1209600 86400 )
example.com.	3600	IN	NS	ns1.example.com.
ns1	3600	IN	A	192.0.2.1
www	3600	IN	A	192.0.2.80
`

// push saves testZone through the DirectAdmin API, as DirectAdmin does.
func (c *container) push(t *testing.T) {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/CMD_API_DNS_ADMIN?action=rawsave&domain=example.com&hostname=da1.example.net&username=admin", c.httpPort)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(testZone))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("directdnsonly", c.password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "error=0") {
		t.Fatalf("rawsave: %s %s\n%s", resp.Status, body, c.out)
	}
}

// soaSerial asks the DNS server on dnsPort for example.com's SOA.
func (c *container) soaSerial() (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeSOA)
	cl := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := cl.Exchange(m, "127.0.0.1:"+strconv.Itoa(c.dnsPort))
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !r.Authoritative {
		return 0, fmt.Errorf("answer %s aa=%v with %d records", dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
	}
	soa, ok := r.Answer[0].(*dns.SOA)
	if !ok {
		return 0, fmt.Errorf("answer is %s", r.Answer[0])
	}
	return soa.Serial, nil
}

// TestEntrypointBind is the single-container topology A on this machine:
// the entrypoint starts named and dadns, a zone pushed through the API is
// served by named, and SIGTERM stops both.
func TestEntrypointBind(t *testing.T) {
	c := startBind(t)
	key := filepath.Join(c.dir, "volume", "bind", "rndc.key")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("generated rndc.key: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	c.push(t)
	eventually(t, "named to serve the pushed zone", func() error {
		serial, err := c.soaSerial()
		if err == nil && serial != 2026112801 {
			err = fmt.Errorf("serial %d", serial)
		}
		return err
	})
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.exit(t); code != 0 {
		t.Errorf("entrypoint exited %d after SIGTERM, want 0\n%s", code, c.out)
	}
	c.checkGroupGone(t)
	if err := c.healthcheck(t); err == nil {
		t.Error("health check passes with dadns stopped")
	}
}

// TestEntrypointServerDies: when named dies, the entrypoint stops dadns
// and exits non-zero so the restart policy restarts the container.
func TestEntrypointServerDies(t *testing.T) {
	c := startBind(t)
	named := childNamed(t, c.cmd.Process.Pid, "named")
	if err := syscall.Kill(named, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := c.exit(t); code == 0 {
		t.Errorf("entrypoint exited 0 after named died\n%s", c.out)
	}
	c.checkGroupGone(t)
	if !strings.Contains(c.out.String(), "bind exited") {
		t.Errorf("entrypoint did not say named exited:\n%s", c.out)
	}
}

// childNamed returns the pid of parent's child running comm.
func childNamed(t *testing.T, parent int, comm string) int {
	t.Helper()
	for _, st := range procstat.All() {
		if st.Comm == comm && st.PPID == parent {
			return st.PID
		}
	}
	t.Fatalf("no child %s of %d", comm, parent)
	return 0
}

// TestEntrypointNSD: the DNS_SERVER=nsd image starts NSD with the image's
// nsd.conf and waits for its control socket before starting dadns with
// the image's app.yml (the nsd backend); a zone pushed through the API is
// served by NSD, and SIGTERM stops both.
func TestEntrypointNSD(t *testing.T) {
	requireTool(t, "nsd")
	c := newContainer(t)
	vol := filepath.Join(c.dir, "volume")
	conf := c.relocate(t, "deploy/docker/nsd.conf",
		"/var/lib/dadns", vol,
		"ip-address: 0.0.0.0@53", fmt.Sprintf("ip-address: 127.0.0.1@%d", c.dnsPort),
	)
	app := c.relocate(t, "deploy/docker/app-nsd.yml",
		"/var/lib/dadns", vol,
		"/etc/dadns/nsd.conf", conf,
		"verify_address: 127.0.0.1:53", fmt.Sprintf("verify_address: 127.0.0.1:%d", c.dnsPort),
	)
	c.start(t, c.env(t, "nsd",
		"NSD_CONF="+conf, "NSD_DIR="+filepath.Join(vol, "nsd"),
	), "--config", app, "serve")
	eventually(t, "the health check to pass", func() error {
		select {
		case <-c.done:
			t.Fatalf("entrypoint exited: %v\n%s", c.err, c.out)
		default:
		}
		return c.healthcheck(t)
	})
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeSOA)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, "127.0.0.1:"+strconv.Itoa(c.dnsPort))
	if err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("NSD without zones: %v, %v; want REFUSED", err, r)
	}
	c.push(t)
	eventually(t, "NSD to serve the pushed zone", func() error {
		serial, err := c.soaSerial()
		if err == nil && serial != 2026112801 {
			err = fmt.Errorf("serial %d", serial)
		}
		return err
	})
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.exit(t); code != 0 {
		t.Errorf("entrypoint exited %d after SIGTERM, want 0\n%s", code, c.out)
	}
	c.checkGroupGone(t)
}

// TestEntrypointOtherCommands: check-config, version and the like run
// dadns alone, even in an image with a DNS server.
func TestEntrypointOtherCommands(t *testing.T) {
	c := newContainer(t)
	bindDir := filepath.Join(c.dir, "bind")
	c.start(t, c.env(t, "bind", "BIND_DIR="+bindDir, "NAMED_CONF=/nonexistent"), "version")
	if code := c.exit(t); code != 0 {
		t.Fatalf("entrypoint version exited %d\n%s", code, c.out)
	}
	if got := strings.TrimSpace(c.out.String()); got != "dadns "+testVersion {
		t.Errorf("entrypoint version printed %q", got)
	}
	if _, err := os.Stat(bindDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("entrypoint prepared named for `version`: %v", err)
	}
}

// TestEntrypointUnknownServer: a DNS_SERVER the image does not know stops
// the container with a message instead of running dadns without DNS.
func TestEntrypointUnknownServer(t *testing.T) {
	c := newContainer(t)
	c.start(t, c.env(t, "powerdns"), "serve")
	if code := c.exit(t); code != 2 || !strings.Contains(c.out.String(), "use none, bind, nsd or knot") {
		t.Errorf("DNS_SERVER=powerdns: exit %d\n%s", code, c.out)
	}
}
