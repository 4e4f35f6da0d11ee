// Package galeratest runs a real Galera cluster for tests: three (or more)
// mariadbd processes with the galera-4 provider on 127.0.0.1, each with its
// own ports (client, group communication, IST, SST) and data directory,
// bootstrapped with --wsrep-new-cluster on the first node; the others join
// it and receive its data by rsync SST. A user that logs in with a password
// and fresh databases are created through any node and replicate.
package galeratest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dadns/dadns/internal/testutil/freeport"
)

// Files the package needs.
const (
	ProviderPath  = "/usr/lib/galera/libgalera_smm.so"
	InstallDBPath = "/usr/bin/mariadb-install-db"
	MariadbdPath  = "/usr/sbin/mariadbd"
)

// User is the account the code under test logs in as.
const User = "dadns"

// startTimeout bounds one node's start, SST included.
const startTimeout = 120 * time.Second

// Cluster is a running Galera cluster.
type Cluster struct {
	Nodes    []*Node
	Password string // User's password
	dir      string
	seq      atomic.Int64
}

// Node is one mariadbd of the cluster.
type Node struct {
	Index               int
	Port                int // client port on 127.0.0.1
	GaleraPort, ISTPort int
	SSTPort             int
	Dir                 string
	cluster             *Cluster
	mu                  sync.Mutex
	cmd                 *exec.Cmd
	done                chan struct{}
}

// Available reports why Galera cannot be run here, or nil.
func Available() error {
	for _, p := range []string{ProviderPath, lookPath("mariadb-install-db", InstallDBPath),
		lookPath("mariadbd", MariadbdPath), lookPath("rsync", "/usr/bin/rsync"), lookPath("wsrep_sst_rsync", "/usr/bin/wsrep_sst_rsync")} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("galeratest: %s not installed", p)
		}
	}
	return nil
}

// Require skips the test when Galera is missing, or fails it when CI=true.
func Require(t testing.TB) {
	t.Helper()
	err := Available()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v and CI=true", err)
	}
	t.Skip(err)
}

// Start bootstraps an n-node cluster in a test temporary directory and
// stops it when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	Require(t)
	c, err := Launch(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Launch bootstraps an n-node cluster under dir. The caller must Close it.
func Launch(dir string, n int) (*Cluster, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, Password: randomHex(12)}
	ports, err := freePorts(4 * n)
	if err != nil {
		return nil, err
	}
	for i := range n {
		c.Nodes = append(c.Nodes, &Node{Index: i, cluster: c, Dir: filepath.Join(dir, fmt.Sprintf("node%d", i)),
			Port: ports[4*i], GaleraPort: ports[4*i+1], ISTPort: ports[4*i+2], SSTPort: ports[4*i+3]})
	}
	if err := c.bootstrap(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) bootstrap() error {
	first := c.Nodes[0]
	if err := first.install(); err != nil {
		return err
	}
	if err := first.start(true); err != nil {
		return err
	}
	for _, n := range c.Nodes[1:] {
		if err := n.prepareJoiner(); err != nil {
			return err
		}
		if err := n.start(false); err != nil {
			return fmt.Errorf("%w\nfirst node's log:\n%s", err, tail(first.errorLog()))
		}
	}
	if err := c.WaitSize(len(c.Nodes), startTimeout); err != nil {
		return err
	}
	return first.rootExec(fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", User, c.Password))
}

// Addrs returns every node's host:port, joined by commas (for a dadns
// datastore.host list).
func (c *Cluster) Addrs() string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Addr())
	}
	return strings.Join(out, ",")
}

// NewDatabase creates a fresh database (through the first running node),
// grants it to User, and returns its name.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("g%d", c.seq.Add(1))
	if err := c.CreateDatabase(name); err != nil {
		t.Fatal(err)
	}
	return name
}

// DSN returns a DSN for User and database db on node i only.
func (c *Cluster) DSN(i int, db string) string {
	return c.dsn("tcp", c.Nodes[i].Addr(), db)
}

// FailoverDSN returns a DSN for User and db over the store's failover
// network, listing every node starting with node i.
func (c *Cluster) FailoverDSN(i int, db string) string {
	var addrs []string
	for k := range c.Nodes {
		addrs = append(addrs, c.Nodes[(i+k)%len(c.Nodes)].Addr())
	}
	return c.dsn("failover", strings.Join(addrs, ","), db)
}

func (c *Cluster) dsn(network, addr, db string) string {
	m := mysql.NewConfig()
	m.User, m.Passwd, m.Net, m.Addr, m.DBName = User, c.Password, network, addr, db
	m.Timeout = 5 * time.Second
	return m.FormatDSN()
}

// Root opens a root connection to db on node i, closed when t ends.
func (c *Cluster) Root(t testing.TB, i int, db string) *sql.DB {
	t.Helper()
	conn, err := c.Nodes[i].open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (c *Cluster) running() *Node {
	for _, n := range c.Nodes {
		if n.Running() {
			return n
		}
	}
	return nil
}

// waitVisible waits until every running node has applied the creation of
// database name (Galera applies replicated DDL asynchronously).
func (c *Cluster) waitVisible(name string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.Nodes {
		for n.Running() {
			db, err := n.open("")
			if err == nil {
				var one int
				err = db.QueryRow(`SELECT 1 FROM mysql.db WHERE Db = ? AND User = ?`, name, User).Scan(&one)
				db.Close()
			}
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("galeratest: database %s not visible on node %d: %w", name, n.Index, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// WaitSize waits until a running node reports a primary component of size
// nodes.
func (c *Cluster) WaitSize(size int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if n := c.running(); n != nil {
			st, err := n.Status("wsrep_cluster_size", "wsrep_ready", "wsrep_cluster_status")
			if err == nil && st["wsrep_cluster_size"] == strconv.Itoa(size) && st["wsrep_ready"] == "ON" &&
				st["wsrep_cluster_status"] == "Primary" {
				return nil
			}
			last = fmt.Sprint(st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("galeratest: cluster not at size %d after %v (last: %s)", size, timeout, last)
}

// Close stops every node.
func (c *Cluster) Close() {
	for i := len(c.Nodes) - 1; i >= 0; i-- {
		c.Nodes[i].Stop()
	}
}

// Addr returns the node's client host:port.
func (n *Node) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port)) }

// Running reports whether the node's process is up.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// Status reads wsrep status variables.
func (n *Node) Status(names ...string) (map[string]string, error) {
	db, err := n.open("")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := map[string]string{}
	for _, name := range names {
		var v string
		if err := db.QueryRowContext(ctx, "SELECT variable_value FROM information_schema.global_status WHERE variable_name = ?",
			strings.ToUpper(name)).Scan(&v); err != nil {
			return out, err
		}
		out[name] = v
	}
	return out, nil
}

// Kill ends the node with SIGKILL (a crash) and waits for it to exit.
func (n *Node) Kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd, n.done = nil, nil
}

// Stop shuts the node down (SIGTERM, SIGKILL after 30 s).
func (n *Node) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
	n.cmd, n.done = nil, nil
}

// Rejoin starts a stopped or killed node again with an empty data
// directory: it receives a full copy (SST) from a member.
func (n *Node) Rejoin() error {
	if err := os.RemoveAll(filepath.Join(n.Dir, "data")); err != nil {
		return err
	}
	if err := n.prepareJoiner(); err != nil {
		return err
	}
	return n.start(false)
}

func (n *Node) start(bootstrap bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return errors.New("galeratest: node already running")
	}
	if err := n.writeConfig(); err != nil {
		return err
	}
	args := []string{"--defaults-file=" + n.cnf()}
	if bootstrap {
		args = append(args, "--wsrep-new-cluster")
	}
	cmd := exec.Command(lookPath("mariadbd", MariadbdPath), args...)
	cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin:"+os.Getenv("PATH"))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("galeratest: start node %d: %w", n.Index, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	if err := n.waitReady(done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		n.cmd, n.done = nil, nil
		return fmt.Errorf("galeratest: node %d: %w\n%s", n.Index, err, tail(n.errorLog()))
	}
	return nil
}

// waitReady polls until the node is synced (wsrep_ready=ON).
func (n *Node) waitReady(done chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errors.New("mariadbd exited at start")
		default:
		}
		st, err := n.Status("wsrep_ready", "wsrep_local_state_comment")
		if err == nil && st["wsrep_ready"] == "ON" && st["wsrep_local_state_comment"] == "Synced" {
			return nil
		}
		last = fmt.Errorf("%v %v", st, err)
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("not synced after %v: %v", startTimeout, last)
}

// prepareJoiner creates the empty data directory SST fills. Run as root,
// the rsync daemon of wsrep_sst_rsync drops to the "nobody" user, which
// must be able to reach and write the directory: test directories only.
func (n *Node) prepareJoiner() error {
	data := filepath.Join(n.Dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return nil
	}
	for _, d := range []string{filepath.Dir(n.cluster.dir), n.cluster.dir, n.Dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return fmt.Errorf("galeratest: rsync SST as root needs the nobody user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(data, uid, gid)
}

func (n *Node) cnf() string { return filepath.Join(n.Dir, "my.cnf") }

func (n *Node) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "error.log"))
	return string(b)
}

// writeConfig writes the node's option file; the SST script reads it too.
func (n *Node) writeConfig() error {
	var peers []string
	for _, p := range n.cluster.Nodes {
		peers = append(peers, fmt.Sprintf("127.0.0.1:%d", p.GaleraPort))
	}
	opts := fmt.Sprintf("gmcast.listen_addr=tcp://127.0.0.1:%d;ist.recv_addr=127.0.0.1:%d;gcache.size=32M;"+
		"evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.keepalive_period=PT1S;evs.install_timeout=PT6S",
		n.GaleraPort, n.ISTPort)
	lines := []string{
		"[mysqld]",
		"datadir=" + filepath.Join(n.Dir, "data"),
		// A private tmpdir: other tests' cleanups of /tmp must not reach
		// the server's temporary tables.
		"tmpdir=" + filepath.Join(n.Dir, "tmp"),
		"port=" + strconv.Itoa(n.Port),
		"bind-address=127.0.0.1",
		"socket=" + filepath.Join(n.Dir, "s"),
		"pid-file=" + filepath.Join(n.Dir, "pid"),
		"log-error=" + filepath.Join(n.Dir, "error.log"),
		"skip-name-resolve",
		"performance-schema=OFF",
		"max-connections=200",
		"innodb-log-file-size=16M",
		"innodb-buffer-pool-size=64M",
		"binlog_format=ROW",
		"default_storage_engine=InnoDB",
		"innodb_autoinc_lock_mode=2",
		"wsrep_on=ON",
		"wsrep_provider=" + ProviderPath,
		"wsrep_cluster_name=dadnstest",
		"wsrep_cluster_address=gcomm://" + strings.Join(peers, ","),
		fmt.Sprintf("wsrep_node_address=127.0.0.1:%d", n.GaleraPort),
		fmt.Sprintf("wsrep_node_name=node%d", n.Index),
		fmt.Sprintf("wsrep_sst_receive_address=127.0.0.1:%d", n.SSTPort),
		"wsrep_sst_method=rsync",
		"wsrep_provider_options=\"" + opts + "\"",
		"wsrep_slave_threads=2",
	}
	if os.Geteuid() == 0 {
		lines = append(lines, "user=root")
	}
	if err := os.MkdirAll(filepath.Join(n.Dir, "tmp"), 0o700); err != nil {
		return err
	}
	return os.WriteFile(n.cnf(), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

func (n *Node) install() error {
	// Installed without Galera (the system tables are plain files); the
	// provider is loaded when the node starts.
	if err := os.MkdirAll(filepath.Join(n.Dir, "tmp"), 0o700); err != nil {
		return err
	}
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(n.Dir, "data"), "--tmpdir=" + filepath.Join(n.Dir, "tmp"),
		"--innodb-log-file-size=16M", "--innodb-buffer-pool-size=64M",
		"--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	out, err := exec.Command(lookPath("mariadb-install-db", InstallDBPath), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("galeratest: mariadb-install-db: %w\n%s", err, tail(string(out)))
	}
	return nil
}

func (n *Node) open(db string) (*sql.DB, error) {
	c := mysql.NewConfig()
	c.User, c.Net, c.Addr, c.DBName = "root", "tcp", n.Addr(), db
	c.Timeout = 3 * time.Second
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

func (n *Node) rootExec(stmts ...string) error {
	db, err := n.open("")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("galeratest: %s: %w", q, err)
		}
	}
	return nil
}

func lookPath(name, fallback string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return fallback
}

// ports picks the nodes' ports (see internal/testutil/freeport: below
// the ephemeral range, where no outgoing connection takes them before
// mariadbd and its rsync SST daemon bind them).
var ports freeport.Picker

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	out := make([]int, 0, n)
	for range n {
		p, err := ports.Next()
		if err != nil {
			return nil, fmt.Errorf("galeratest: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string) string {
	if len(s) > 8000 {
		return "..." + s[len(s)-8000:]
	}
	return s
}

// CreateDatabase creates database name (a plain identifier) through the
// first running node, grants it to User, and waits until every running
// node has it.
func (c *Cluster) CreateDatabase(name string) error {
	n := c.running()
	if n == nil {
		return errors.New("galeratest: no node running")
	}
	if err := n.rootExec("CREATE DATABASE `"+name+"`", fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", name, User)); err != nil {
		return err
	}
	return c.waitVisible(name)
}

// Isolate cuts the node off the group (Galera's gmcast.isolate, what
// Galera's own tests use for a network partition) or, with false, joins it
// again. Cut off, the node leaves the primary component: it answers, but
// refuses reads and writes (1047) while the others keep quorum.
func (n *Node) Isolate(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return n.rootExec(fmt.Sprintf("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=%d'", v))
}

// WaitStatus waits until the node's status variables have the wanted
// values.
func (n *Node) WaitStatus(want map[string]string, timeout time.Duration) error {
	names := make([]string, 0, len(want))
	for k := range want {
		names = append(names, k)
	}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		st, err := n.Status(names...)
		match := err == nil
		for k, v := range want {
			match = match && st[k] == v
		}
		if match {
			return nil
		}
		last = fmt.Sprint(st, err)
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("galeratest: node %d: status not %v after %v (last: %s)", n.Index, want, timeout, last)
}

// Bootstrap makes the node a primary component on its own (pc.bootstrap),
// what an operator does when the other members are lost for good.
func (n *Node) Bootstrap() error {
	return n.rootExec("SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'")
}
