package config

import (
	"path/filepath"
	"time"
)

// DnstapConfig is the builtin's dnstap output (internal/dnsserver/dnstap.go;
// off unless socket or file is set).
type DnstapConfig struct {
	// Socket is the unix socket of a dnstap collector (such as
	// `dnstap -u /path.sock`); File a file written instead. Not both.
	Socket string `yaml:"socket"`
	File   string `yaml:"file"`
	// Queries and Responses choose AUTH_QUERY and AUTH_RESPONSE messages.
	Queries   bool `yaml:"queries"`
	Responses bool `yaml:"responses"`
	// Identity is the dnstap identity field (empty: the host name).
	Identity string `yaml:"identity"`
	// Buffer is how many answered queries may wait for the collector;
	// past it they are dropped and counted (answers never wait).
	Buffer int `yaml:"buffer"`
	// ReconnectSeconds is the wait between attempts to reach the collector.
	ReconnectSeconds int `yaml:"reconnect_seconds"`
	// TimeoutSeconds bounds the handshake and each write: a collector that
	// does not read for that long is disconnected.
	TimeoutSeconds int `yaml:"timeout_seconds"`
}

// Enabled reports a dnstap destination.
func (c DnstapConfig) Enabled() bool { return c.Socket != "" || c.File != "" }

// DefaultDnstap is dnstap as shipped: off, both message kinds once a
// destination is set.
func DefaultDnstap() DnstapConfig {
	return DnstapConfig{Queries: true, Responses: true, Buffer: 4096, ReconnectSeconds: 1, TimeoutSeconds: 2}
}

func (c *DnstapConfig) validate(r *report, key string) {
	if !c.Enabled() {
		return
	}
	if c.Socket != "" && c.File != "" {
		r.add(key+".file", "set either dnstap.socket (a collector's unix socket) or dnstap.file, not both")
	}
	for k, p := range map[string]string{".socket": c.Socket, ".file": c.File} {
		if p != "" && !filepath.IsAbs(p) {
			r.add(key+k, "%q is not an absolute path", p)
		}
	}
	if !c.Queries && !c.Responses {
		r.add(key+".queries", "dnstap writes nothing with queries and responses both false; turn one on or unset socket/file")
	}
	if len(c.Identity) > 255 {
		r.add(key+".identity", "longer than 255 characters")
	}
	checkRange(r, key+".buffer", c.Buffer, 16, 1<<20)
	checkRange(r, key+".reconnect_seconds", c.ReconnectSeconds, 1, 3600)
	checkRange(r, key+".timeout_seconds", c.TimeoutSeconds, 1, 300)
}

// TCPConfig bounds the builtin's TCP clients (internal/dnsserver/tcplimit.go).
type TCPConfig struct {
	// MaxConnections caps connections open at once per listen address,
	// MaxConnectionsPerPrefix those from one client /24 (IPv4) or /56
	// (IPv6).
	MaxConnections          int `yaml:"max_connections"`
	MaxConnectionsPerPrefix int `yaml:"max_connections_per_prefix"`
	// ReadTimeoutMS: time for a new connection's first query;
	// IdleTimeoutMS: time between queries; BusyIdleTimeoutMS caps both
	// once more than half of MaxConnections are open; WriteTimeoutMS
	// bounds each write.
	ReadTimeoutMS     int `yaml:"read_timeout_ms"`
	IdleTimeoutMS     int `yaml:"idle_timeout_ms"`
	BusyIdleTimeoutMS int `yaml:"busy_idle_timeout_ms"`
	WriteTimeoutMS    int `yaml:"write_timeout_ms"`
	// MaxQueriesPerConnection closes a connection after that many queries
	// (answered one at a time: one in flight per connection).
	MaxQueriesPerConnection int `yaml:"max_queries_per_connection"`
}

// DefaultTCP is TCP as shipped (the reasoning is in the README's "On
// the open internet").
func DefaultTCP() TCPConfig {
	return TCPConfig{MaxConnections: 1000, MaxConnectionsPerPrefix: 100, ReadTimeoutMS: 2000, IdleTimeoutMS: 8000,
		BusyIdleTimeoutMS: 500, WriteTimeoutMS: 10000, MaxQueriesPerConnection: 128}
}

// Millis turns a validated millisecond key into a duration.
func Millis(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

func (c *TCPConfig) validate(r *report, key string) {
	checkRange(r, key+".max_connections", c.MaxConnections, 1, 1_000_000)
	if c.MaxConnectionsPerPrefix < 1 || c.MaxConnectionsPerPrefix > c.MaxConnections {
		r.add(key+".max_connections_per_prefix", "%d is out of range; use 1 to max_connections (%d)", c.MaxConnectionsPerPrefix, c.MaxConnections)
	}
	checkRange(r, key+".read_timeout_ms", c.ReadTimeoutMS, 100, 60_000)
	checkRange(r, key+".idle_timeout_ms", c.IdleTimeoutMS, 100, 3_600_000)
	if c.BusyIdleTimeoutMS < 10 || c.BusyIdleTimeoutMS > min(c.IdleTimeoutMS, c.ReadTimeoutMS) {
		r.add(key+".busy_idle_timeout_ms", "%d is out of range; use 10 to the smaller of read_timeout_ms and idle_timeout_ms (%d): it shortens them while the table is busy",
			c.BusyIdleTimeoutMS, min(c.IdleTimeoutMS, c.ReadTimeoutMS))
	}
	checkRange(r, key+".write_timeout_ms", c.WriteTimeoutMS, 100, 300_000)
	checkRange(r, key+".max_queries_per_connection", c.MaxQueriesPerConnection, 1, 1_000_000)
}
