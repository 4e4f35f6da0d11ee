package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mariaUser and mariaDatabase are the account and database each
// coredns_mysql backend writes into.
const (
	mariaUser     = "dadns"
	mariaDatabase = "dns"
)

// mariaServer is a private mariadbd on loopback holding one data centre's
// CoreDNS database.
type mariaServer struct {
	name     string // the dadns backend instance writing into it
	port     int
	password string  // mariaUser's
	root     *sql.DB // root, on mariaDatabase: the bench reads rows with it
	proc     *proc
}

// mariaFlags are shared by mariadb-install-db and mariadbd: durable
// defaults (every commit flushed), buffers sized for a bench of 10,000
// zones.
func mariaFlags(dir string) []string {
	// A temporary directory of its own: in the shared /tmp, another
	// process's cleanup can remove the temporary tables of a running
	// mariadb-install-db ("Error on delete of '/tmp/#sql-temptable-...'",
	// seen with two installs at once on a loaded machine).
	tmp := filepath.Join(dir, "tmp")
	_ = os.MkdirAll(tmp, 0o700)
	f := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"), "--tmpdir=" + tmp,
		"--innodb-log-file-size=64M", "--innodb-buffer-pool-size=128M"}
	if os.Geteuid() == 0 {
		f = append(f, "--user=root")
	}
	return f
}

// startMaria initialises a data directory under dir, starts mariadbd on
// port and creates the database and the user dadns writes as.
func (b *bench) startMaria(ctx context.Context, name, dir string, port int, extra ...string) (*mariaServer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dadnsbench: %s: %w", name, err)
	}
	ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	install := append(mariaFlags(dir), "--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := exec.CommandContext(ictx, b.opt.mariaInstallBin, install...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dadnsbench: %s: mariadb-install-db: %w: %.600s", name, err, out)
	}
	args := append(mariaFlags(dir), "--port="+strconv.Itoa(port), "--bind-address=127.0.0.1",
		"--socket="+filepath.Join(dir, "s"), "--pid-file="+filepath.Join(dir, "mariadbd.pid"),
		"--skip-name-resolve", "--performance-schema=OFF", "--max-connections=200")
	args = append(args, extra...)
	p, err := b.procs.start(name+" mariadbd", filepath.Join(dir, "mariadbd.log"), serverEnv(), b.opt.mariadbdBin, args...)
	if err != nil {
		return nil, err
	}
	pass, err := randomPassword()
	if err != nil {
		return nil, err
	}
	s := &mariaServer{name: name, port: port, password: pass, proc: p}
	if err := s.setUp(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// setUp waits until the server takes connections, then creates the
// database and the user and keeps a root connection to the database.
func (s *mariaServer) setUp(ctx context.Context) error {
	admin, err := s.open("root", "", "")
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := waitPing(ctx, admin, s.proc.alive); err != nil {
		return fmt.Errorf("dadnsbench: %s mariadbd: %w", s.name, err)
	}
	for _, q := range []string{
		"CREATE DATABASE `" + mariaDatabase + "`",
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", mariaUser, s.password),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", mariaDatabase, mariaUser),
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("dadnsbench: %s mariadbd: set up: %w", s.name, err)
		}
	}
	s.root, err = s.open("root", "", mariaDatabase)
	return err
}

// open connects to the server as user.
func (s *mariaServer) open(user, pass, db string) (*sql.DB, error) {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, pass, "tcp", loopback(s.port), db
	c.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("dadnsbench: %s mariadbd: %w", s.name, err)
	}
	db2 := sql.OpenDB(conn)
	db2.SetMaxOpenConns(4)
	return db2, nil
}

// waitPing pings db until it answers, for at most a minute, or until
// alive reports the server gone.
func waitPing(ctx context.Context, db *sql.DB, alive func() error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		if dead := alive(); dead != nil {
			return dead
		}
		if perr := pause(ctx, 100*time.Millisecond); perr != nil {
			return fmt.Errorf("not ready: %w (last: %v)", perr, err)
		}
	}
}

// backendYAML is the dns.backends entry of the coredns_mysql instance
// writing into s.
func (s *mariaServer) backendYAML() string {
	return fmt.Sprintf("    %s:\n      type: coredns_mysql\n      host: 127.0.0.1\n      port: %d\n      database: %s\n"+
		"      username: %s\n      password: %s\n", s.name, s.port, mariaDatabase, mariaUser, strconv.Quote(s.password))
}

// soaSerial reads the serial of zone's SOA row as CoreDNS would see it
// (online rows only).
func (s *mariaServer) soaSerial(ctx context.Context, zone string) (uint32, error) {
	var data string
	err := s.root.QueryRowContext(ctx, `SELECT r.data FROM records r JOIN zones z ON r.zone_id = z.id
WHERE z.zone_name = ? AND r.hostname = '@' AND r.type = 'SOA' AND r.online = 1`, zone+".").Scan(&data)
	if err != nil {
		return 0, err
	}
	var mname, rname string
	var serial uint32
	if _, err := fmt.Sscan(data, &mname, &rname, &serial); err != nil {
		return 0, fmt.Errorf("soa row %q: %w", data, err)
	}
	return serial, nil
}

// rowCount is how many record rows the database holds.
func (s *mariaServer) rowCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.root.QueryRowContext(ctx, "SELECT count(*) FROM records").Scan(&n)
	return n, err
}
