package nsd

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Defaults nsd-control uses when nsd.conf leaves them out (Debian's
// build: nsd-control -h and nsd.conf(5) on the machine).
const (
	DefaultControlConf = "/etc/nsd/nsd.conf"
	defaultZonesDir    = "/etc/nsd"
	defaultControlPort = 8952
	defaultServerCert  = "/etc/nsd/nsd_server.pem"
	defaultControlKey  = "/etc/nsd/nsd_control.key"
	defaultControlCert = "/etc/nsd/nsd_control.pem"
)

// maxIncludeDepth bounds nested include: directives (a file including
// itself would otherwise never end).
const maxIncludeDepth = 16

// remoteConf is what nsd-control reads from nsd.conf to reach NSD.
type remoteConf struct {
	enable      bool
	interfaces  []string // control-interface, in order; nsd-control uses the first
	port        int
	serverCert  string
	controlKey  string
	controlCert string
	zonesDir    string
	doIP4       bool
}

// readRemoteConf reads the remote-control settings of an nsd.conf and the
// files it includes, with NSD's defaults for what it leaves out.
func readRemoteConf(path string) (remoteConf, error) {
	rc := remoteConf{port: defaultControlPort, serverCert: defaultServerCert, controlKey: defaultControlKey,
		controlCert: defaultControlCert, zonesDir: defaultZonesDir, doIP4: true}
	var toks []token
	if err := tokenize(path, 0, &toks); err != nil {
		return rc, err
	}
	clause := ""
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.keyword() {
			continue // a value of a keyword dadns does not need
		}
		key := strings.TrimSuffix(t.text, ":")
		var vals []token
		for i+1 < len(toks) && !toks[i+1].keyword() {
			i++
			vals = append(vals, toks[i])
		}
		switch key {
		case "server", "remote-control", "zone", "pattern", "key", "tls-auth", "verify", "dnstap":
			clause = key
			if len(vals) > 0 {
				return rc, fmt.Errorf("%s: %q after %s:", vals[0].where, vals[0].text, key)
			}
			continue
		}
		one := func() (string, error) {
			if len(vals) != 1 {
				return "", fmt.Errorf("%s: %s: wants one value, has %d", t.where, key, len(vals))
			}
			return vals[0].text, nil
		}
		yes := func() (bool, error) {
			v, err := one()
			if err != nil {
				return false, err
			}
			switch v {
			case "yes":
				return true, nil
			case "no":
				return false, nil
			}
			return false, fmt.Errorf("%s: %s: %q is not yes or no", t.where, key, v)
		}
		var err error
		switch clause + "/" + key {
		case "server/zonesdir":
			rc.zonesDir, err = one()
		case "server/do-ip4":
			rc.doIP4, err = yes()
		case "server/ip6-only":
			var v bool
			if v, err = yes(); v {
				rc.doIP4 = false
			}
		case "remote-control/control-enable":
			rc.enable, err = yes()
		case "remote-control/control-interface":
			var v string
			if v, err = one(); err == nil {
				rc.interfaces = append(rc.interfaces, v)
			}
		case "remote-control/control-port":
			var v string
			if v, err = one(); err == nil {
				rc.port, err = strconv.Atoi(v)
				if err != nil || rc.port <= 0 || rc.port > 65535 {
					err = fmt.Errorf("%s: control-port %q is not a port number", t.where, v)
				}
			}
		case "remote-control/server-cert-file":
			rc.serverCert, err = one()
		case "remote-control/control-key-file":
			rc.controlKey, err = one()
		case "remote-control/control-cert-file":
			rc.controlCert, err = one()
		}
		if err != nil {
			return rc, err
		}
	}
	return rc, nil
}

// token is a word or quoted string of nsd.conf; where is file:line.
type token struct {
	text   string
	quoted bool
	where  string
}

// keyword: an unquoted word of letters, digits and '-' ending in a colon
// starts an option or clause ("::" or "fe80::" are values).
func (t token) keyword() bool {
	name, ok := strings.CutSuffix(t.text, ":")
	if t.quoted || !ok || name == "" || !('a' <= name[0] && name[0] <= 'z' || 'A' <= name[0] && name[0] <= 'Z') {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// tokenize splits an nsd.conf into words the way NSD's lexer does:
// blanks and newlines separate, '#' at the start of a word comments out
// the rest of the line, "..." is one word (newlines allowed), and
// include: splices in the named files (a glob pattern included every
// file it matches, in order; no match includes nothing).
func tokenize(path string, depth int, out *[]token) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: includes nested deeper than %d", path, maxIncludeDepth)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(data)
	line := 1
	include := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		}
		t := token{where: fmt.Sprintf("%s:%d", path, line)}
		if c == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return fmt.Errorf("%s: quoted string without its end", t.where)
			}
			t.text, t.quoted = s[i+1:i+1+end], true
			line += strings.Count(t.text, "\n")
			i += end + 2
		} else {
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n\"", rune(s[j])) {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				j++
			}
			t.text = s[i:j]
			i = j
		}
		if include {
			include = false
			if err := tokenizeInclude(t, depth, out); err != nil {
				return err
			}
			continue
		}
		if !t.quoted && t.text == "include:" {
			include = true
			continue
		}
		*out = append(*out, t)
	}
	if include {
		return fmt.Errorf("%s: include: without a file name", path)
	}
	return nil
}

func tokenizeInclude(t token, depth int, out *[]token) error {
	name := t.text
	if name == "" {
		return fmt.Errorf("%s: empty include file name", t.where)
	}
	if !strings.ContainsAny(name, "*?[{~") {
		return tokenize(name, depth+1, out)
	}
	if strings.ContainsAny(name, "{~") {
		return fmt.Errorf("%s: include %q: brace and tilde patterns are not read by dadns", t.where, name)
	}
	files, err := filepath.Glob(name)
	if err != nil {
		return fmt.Errorf("%s: include %q: %w", t.where, name, err)
	}
	for _, f := range files {
		if err := tokenize(f, depth+1, out); err != nil {
			return err
		}
	}
	return nil
}

// remote is how dadns reaches NSD's remote control natively: a local
// socket (plain) or TCP with TLS.
type remote struct {
	network string // "unix" or "tcp"
	addr    string // socket path or host:port
	show    string // for messages: the path, or address@port as nsd-control writes it
	tls     *tls.Config
	cert    string // control-cert-file, for messages
}

// errNotNative says why the configuration cannot be used without
// nsd-control.
type errNotNative struct{ reason string }

func (e *errNotNative) Error() string { return e.reason }

func notNative(format string, args ...any) error {
	return &errNotNative{fmt.Sprintf(format, args...)}
}

// resolveRemote reads conf as nsd-control would and returns how to reach
// NSD natively, or an errNotNative saying why that is not possible.
func resolveRemote(conf string) (*remote, error) {
	rc, err := readRemoteConf(conf)
	if err != nil {
		return nil, notNative("read %s: %v", conf, err)
	}
	if !rc.enable {
		return nil, notNative("%s: control-enable is not yes", conf)
	}
	svr := ""
	switch {
	case len(rc.interfaces) > 0 && rc.interfaces[0] == "":
		return nil, notNative("%s: the first control-interface is empty", conf)
	case len(rc.interfaces) > 0:
		svr = rc.interfaces[0]
	case rc.doIP4:
		svr = "127.0.0.1"
	default:
		svr = "::1"
	}
	port := rc.port
	if h, p, ok := strings.Cut(svr, "@"); ok {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, notNative("%s: control-interface %q: port is not a number", conf, svr)
		}
		svr, port = h, n
	}
	if strings.HasPrefix(svr, "/") {
		return &remote{network: "unix", addr: svr, show: "socket " + svr}, nil
	}
	switch svr {
	case "0.0.0.0":
		svr = "127.0.0.1"
	case "::0", "0::0", "0::", "::":
		svr = "::1"
	}
	ip := net.ParseIP(svr)
	if ip == nil {
		return nil, notNative("%s: control-interface %q is not an IP address or socket path", conf, svr)
	}
	cfg, err := rc.tlsConfig()
	if err != nil {
		return nil, notNative("%s: %v", conf, err)
	}
	return &remote{network: "tcp", addr: net.JoinHostPort(svr, strconv.Itoa(port)),
		show: svr + "@" + strconv.Itoa(port), tls: cfg, cert: rc.keyPath(rc.controlCert)}, nil
}

// keyPath resolves a key or certificate file as nsd-control does: a
// relative name is taken in zonesdir when that is set.
func (rc remoteConf) keyPath(p string) string {
	if filepath.IsAbs(p) || rc.zonesDir == "" {
		return p
	}
	return filepath.Join(rc.zonesDir, p)
}

// tlsConfig presents control-cert-file and control-key-file, and accepts
// the server when its certificate chains to a certificate of
// server-cert-file: no host name is checked, as nsd-control checks none
// (NSD's certificate names "nsd", not an address).
func (rc remoteConf) tlsConfig() (*tls.Config, error) {
	certFile, keyFile, serverFile := rc.keyPath(rc.controlCert), rc.keyPath(rc.controlKey), rc.keyPath(rc.serverCert)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("control-cert-file %s, control-key-file %s: %v", certFile, keyFile, err)
	}
	data, err := os.ReadFile(serverFile)
	if err != nil {
		return nil, fmt.Errorf("server-cert-file: %v", err)
	}
	roots := x509.NewCertPool()
	n := 0
	for len(data) > 0 {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("server-cert-file %s: %v", serverFile, err)
		}
		roots.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("server-cert-file %s: no certificate", serverFile)
	}
	return &tls.Config{
		// The configured pair is presented whatever CAs NSD names, as
		// nsd-control presents it: NSD decides.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil },
		// Verified below against server-cert-file, without a host name.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("nsd: NSD presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil {
				return fmt.Errorf("nsd: NSD's certificate is not signed by server-cert-file %s: %w", serverFile, err)
			}
			return nil
		},
		MinVersion: tls.VersionTLS12,
	}, nil
}
