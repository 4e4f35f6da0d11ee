package config

import (
	"encoding/hex"
	"net/netip"
	"strings"
)

// RRLConfig is the builtin server's response rate limiting (see
// internal/dnsserver/rrl.go and the README's "On the open internet").
type RRLConfig struct {
	// Enabled turns RRL on (the default).
	Enabled bool `yaml:"enabled"`
	// ResponsesPerSecond is the rate of identical answers (or NXDOMAINs
	// of one zone, ...) one client prefix gets.
	ResponsesPerSecond int `yaml:"responses_per_second"`
	// Slip: every Slip-th limited answer is sent truncated (TC=1) so real
	// resolvers retry over TCP; 0 drops them all, 1 truncates them all.
	Slip int `yaml:"slip"`
	// Window is how many seconds of debt a flood can run up.
	Window int `yaml:"window"`
	// IPv4Prefix and IPv6Prefix group client addresses.
	IPv4Prefix int `yaml:"ipv4_prefix"`
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// Exempt lists CIDRs (or addresses) never limited.
	Exempt []string `yaml:"exempt"`
	// LogOnly counts and logs what would be limited, and answers it.
	LogOnly bool `yaml:"log_only"`
	// TableSize bounds the buckets kept (32 bytes each).
	TableSize int `yaml:"table_size"`
}

// DefaultRRL is RRL as shipped: on, 20 answers a second per /24 or /56
// and response, every second limited answer truncated, 15 s window.
// Loopback is exempt: spoofed packets cannot arrive from it, and the
// host's own checks (dadns verifies what it serves) ask from there.
func DefaultRRL() RRLConfig {
	return RRLConfig{Enabled: true, ResponsesPerSecond: 20, Slip: 2, Window: 15, IPv4Prefix: 24, IPv6Prefix: 56,
		Exempt: []string{"127.0.0.0/8", "::1/128"}, TableSize: 65536}
}

// ExemptPrefixes parses Exempt (validated already).
func (c RRLConfig) ExemptPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, e := range c.Exempt {
		if p, ok := parsePrefixOrAddr(e); ok {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefixOrAddr(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), true
	}
	return netip.Prefix{}, false
}

func (c *RRLConfig) validate(r *report, key string) {
	if !c.Enabled {
		return
	}
	checkRange(r, key+".responses_per_second", c.ResponsesPerSecond, 1, 1_000_000)
	checkRange(r, key+".slip", c.Slip, 0, 10)
	checkRange(r, key+".window", c.Window, 1, 3600)
	checkRange(r, key+".ipv4_prefix", c.IPv4Prefix, 8, 32)
	checkRange(r, key+".ipv6_prefix", c.IPv6Prefix, 16, 128)
	checkRange(r, key+".table_size", c.TableSize, 1024, 1<<24)
	for _, e := range c.Exempt {
		if _, ok := parsePrefixOrAddr(e); !ok {
			r.add(key+".exempt", "%q is not a CIDR prefix or an IP address", e)
		}
	}
}

func checkRange(r *report, key string, n, lo, hi int) {
	if n < lo || n > hi {
		r.add(key, "%d is out of range; use %d to %d", n, lo, hi)
	}
}

// CookieSecretBytes decodes a validated cookie secret (ok false: unset).
func CookieSecretBytes(s string) (k [16]byte, ok bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return k, false
	}
	copy(k[:], b)
	return k, true
}

func checkCookieSecret(r *report, key, s string) {
	if s == "" {
		return
	}
	if _, ok := CookieSecretBytes(s); !ok {
		r.add(key, "not 32 hexadecimal digits (a 128-bit secret); generate one with: openssl rand -hex 16")
	}
}
