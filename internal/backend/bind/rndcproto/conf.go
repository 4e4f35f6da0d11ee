package rndcproto

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of Debian's rndc (rndc -h, man rndc).
const (
	DefaultConf = "/etc/bind/rndc.conf"
	DefaultKey  = "/etc/bind/rndc.key"
	DefaultPort = 953
)

// ErrUnsupported marks a configuration this package does not understand
// (a statement or option it does not implement): the caller should run
// rndc itself, which does.
var ErrUnsupported = errors.New("rndcproto: configuration not supported")

// Params are rndc's command-line options that choose the configuration:
// -c, -k, -s and -p. Empty fields are rndc's defaults.
type Params struct {
	Conf    string // -c; DefaultConf when empty
	KeyFile string // -k; DefaultKey when empty
	Server  string // -s
	Port    int    // -p
}

// Config is a resolved configuration: the server, its port or addresses
// and the key, as rndc would use them, and the files it came from.
type Config struct {
	Server string
	Port   int
	Key    Key
	// addrs are the server statement's addresses; empty means Server is
	// looked up when a client is made.
	addrs []Addr
	files stamps
}

// Load reads the configuration the way rndc does: the rndc.conf (-c, or
// DefaultConf when it exists), else the key file (-k or DefaultKey) with
// server 127.0.0.1. A file that cannot be read or parsed is an error; one
// that uses what this package does not implement wraps ErrUnsupported.
// The Config is returned with the error too: its Fresh tells when the
// files changed and are worth reading again.
func Load(p Params) (*Config, error) {
	cfg := &Config{}
	err := cfg.load(p)
	return cfg, err
}

func (cfg *Config) load(p Params) error {
	conf, explicit := p.Conf, p.Conf != ""
	if !explicit {
		conf = DefaultConf
	}
	keyFile := p.KeyFile
	if keyFile == "" {
		keyFile = DefaultKey
	}
	cfg.files.add(conf)
	if _, err := os.Stat(conf); err != nil {
		if explicit {
			return fmt.Errorf("rndc: %s does not exist", conf)
		}
		cfg.files.add(keyFile)
		if _, err := os.Stat(keyFile); err != nil {
			return fmt.Errorf("rndc: neither %s nor %s was found", conf, keyFile)
		}
		return cfg.loadKeyFile(keyFile, p)
	}
	return cfg.loadConf(conf, p)
}

// loadKeyFile: a key file holds one key statement; the server is -s or
// 127.0.0.1, the port -p or 953.
func (c *Config) loadKeyFile(path string, p Params) error {
	stmts, err := parseFile(path, &c.files, 0)
	if err != nil {
		return fmt.Errorf("rndc: could not load rndc configuration: %w", err)
	}
	var keys []stmt
	for _, s := range stmts {
		if s.name() != "key" {
			return fmt.Errorf("%w: %s: %q in a key file", ErrUnsupported, s.where(), s.words[0].text)
		}
		keys = append(keys, s)
	}
	if len(keys) != 1 {
		return fmt.Errorf("%w: %s has %d key statements, want one", ErrUnsupported, path, len(keys))
	}
	if c.Key, err = keyStmt(keys[0]); err != nil {
		return err
	}
	c.Server, c.Port = cmp(p.Server, "127.0.0.1"), cmp(p.Port, DefaultPort)
	return nil
}

func cmp[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// rndcConf is what an rndc.conf holds.
type rndcConf struct {
	options map[string]stmt
	servers []stmt
	keys    []stmt
}

func (c *Config) loadConf(path string, p Params) error {
	stmts, err := parseFile(path, &c.files, 0)
	if err != nil {
		return fmt.Errorf("rndc: could not load rndc configuration: %w", err)
	}
	rc, err := sortConf(stmts)
	if err != nil {
		return err
	}
	c.Server = p.Server
	if c.Server == "" {
		if s, ok := rc.options["default-server"]; ok {
			c.Server = s.words[1].text
		}
	}
	if c.Server == "" {
		return errors.New("rndc: no server specified and no default")
	}
	var server *stmt
	for i, s := range rc.servers {
		if strings.EqualFold(s.words[1].text, c.Server) {
			server = &rc.servers[i]
			break
		}
	}
	keyName, err := rc.keyName(server)
	if err != nil {
		return err
	}
	if c.Key, err = rc.key(keyName); err != nil {
		return err
	}
	if c.Port, err = rc.port(server, p.Port); err != nil {
		return err
	}
	if server != nil {
		if c.addrs, err = addresses(*server, c.Port); err != nil {
			return err
		}
	}
	return nil
}

// sortConf checks the statements of an rndc.conf and sorts them by kind.
// Options this package does not implement (source addresses) make the
// configuration unsupported rather than silently ignored.
func sortConf(stmts []stmt) (*rndcConf, error) {
	rc := &rndcConf{options: map[string]stmt{}}
	for _, s := range stmts {
		switch s.name() {
		case "options":
			if !s.hasBlock || len(s.words) != 1 {
				return nil, fmt.Errorf("rndc: %s: options takes a block", s.where())
			}
			for _, o := range s.block {
				switch o.name() {
				case "default-server", "default-key", "default-port":
					if len(o.words) != 2 || o.hasBlock {
						return nil, fmt.Errorf("rndc: %s: %s takes one value", o.where(), o.name())
					}
					if _, dup := rc.options[o.name()]; dup {
						return nil, fmt.Errorf("rndc: %s: %s twice", o.where(), o.name())
					}
					rc.options[o.name()] = o
				default:
					return nil, fmt.Errorf("%w: %s: option %q", ErrUnsupported, o.where(), o.words[0].text)
				}
			}
		case "server", "key":
			if !s.hasBlock || len(s.words) != 2 {
				return nil, fmt.Errorf("rndc: %s: %s takes a name and a block", s.where(), s.name())
			}
			if s.name() == "server" {
				rc.servers = append(rc.servers, s)
			} else {
				rc.keys = append(rc.keys, s)
			}
		default:
			return nil, fmt.Errorf("%w: %s: statement %q", ErrUnsupported, s.where(), s.words[0].text)
		}
	}
	return rc, nil
}

// keyName: the server statement's key, else options' default-key.
func (rc *rndcConf) keyName(server *stmt) (string, error) {
	if server != nil {
		for _, o := range server.block {
			if o.name() == "key" && len(o.words) == 2 {
				return o.words[1].text, nil
			}
		}
		return "", fmt.Errorf("rndc: %s: server %q has no key", server.where(), server.words[1].text)
	}
	if d, ok := rc.options["default-key"]; ok {
		return d.words[1].text, nil
	}
	return "", errors.New("rndc: no key for server and no default")
}

func (rc *rndcConf) key(name string) (Key, error) {
	for _, k := range rc.keys {
		if strings.EqualFold(k.words[1].text, name) {
			return keyStmt(k)
		}
	}
	return Key{}, fmt.Errorf("rndc: no key definition for name %s", name)
}

// port: -p, else the server's port, else default-port, else 953.
func (rc *rndcConf) port(server *stmt, flag int) (int, error) {
	if flag != 0 {
		return flag, nil
	}
	var w *token
	if server != nil {
		for _, o := range server.block {
			if o.name() == "port" && len(o.words) == 2 {
				w = &o.words[1]
			}
		}
	}
	if d, ok := rc.options["default-port"]; ok && w == nil {
		w = &d.words[1]
	}
	if w == nil {
		return DefaultPort, nil
	}
	return parsePort(w.text)
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		return 0, fmt.Errorf("rndc: port %s out of range", s)
	}
	return n, nil
}

// keyStmt reads key "name" { algorithm ...; secret "..."; }.
func keyStmt(s stmt) (Key, error) {
	name := s.words[1].text
	var alg, secret string
	for _, o := range s.block {
		if len(o.words) != 2 || o.hasBlock {
			return Key{}, fmt.Errorf("%w: %s: key clause %q", ErrUnsupported, o.where(), o.words[0].text)
		}
		switch o.name() {
		case "algorithm":
			alg = o.words[1].text
		case "secret":
			secret = o.words[1].text
		default:
			return Key{}, fmt.Errorf("%w: %s: key clause %q", ErrUnsupported, o.where(), o.words[0].text)
		}
	}
	if alg == "" || secret == "" {
		return Key{}, errors.New("rndc: key must have algorithm and secret")
	}
	k, err := NewKey(name, alg, secret)
	if err != nil && strings.Contains(err.Error(), "unsupported algorithm") {
		return Key{}, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return k, err
}

// addresses reads a server statement's clauses: key and port (read
// elsewhere) and addresses { host-or-address [port N]; ... }. Source
// addresses are not implemented.
func addresses(server stmt, port int) ([]Addr, error) {
	var out []Addr
	for _, o := range server.block {
		switch o.name() {
		case "key", "port":
			if len(o.words) != 2 || o.hasBlock {
				return nil, fmt.Errorf("rndc: %s: %s takes one value", o.where(), o.name())
			}
		case "addresses":
			if !o.hasBlock || len(o.words) != 1 {
				return nil, fmt.Errorf("rndc: %s: addresses takes a block", o.where())
			}
			for _, a := range o.block {
				p := port
				switch {
				case len(a.words) == 3 && strings.EqualFold(a.words[1].text, "port"):
					var err error
					if p, err = parsePort(a.words[2].text); err != nil {
						return nil, err
					}
				case len(a.words) != 1 || a.hasBlock:
					return nil, fmt.Errorf("%w: %s: address %q", ErrUnsupported, a.where(), a.words[0].text)
				}
				out = append(out, Addr{"tcp", net.JoinHostPort(a.words[0].text, strconv.Itoa(p))})
			}
		default:
			return nil, fmt.Errorf("%w: %s: server clause %q", ErrUnsupported, o.where(), o.words[0].text)
		}
	}
	return out, nil
}

// Client makes a client for the configuration: the server statement's
// addresses, else the server name (an address, a unix socket path
// starting with '/', or a host name, looked up at each connection as rndc
// looks it up on every run) at the port.
func (c *Config) Client() *Client {
	cl := &Client{Server: c.Server, Key: c.Key, Addrs: c.addrs}
	switch {
	case len(cl.Addrs) > 0:
	case strings.HasPrefix(c.Server, "/"):
		cl.Addrs = []Addr{{"unix", c.Server}}
	default:
		cl.Addrs = []Addr{{"tcp", net.JoinHostPort(c.Server, strconv.Itoa(c.Port))}}
	}
	return cl
}

// Fresh reports whether every file the configuration was read from (or
// found missing) is still as it was, so the configuration need not be
// read again.
func (c *Config) Fresh() bool { return c.files.fresh() }

// stamps remember files by size, modification time and inode (or their
// absence).
type stamps []stamp

type stamp struct {
	path string
	ok   bool
	size int64
	mod  time.Time
	ino  uint64
}

func (s *stamps) add(path string) { *s = append(*s, stampOf(path)) }

func (s stamps) fresh() bool {
	for _, st := range s {
		now := stampOf(st.path)
		if now.ok != st.ok || now.size != st.size || !now.mod.Equal(st.mod) || now.ino != st.ino {
			return false
		}
	}
	return true
}

func stampOf(path string) stamp {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{path: path}
	}
	st := stamp{path: path, ok: true, size: fi.Size(), mod: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}
