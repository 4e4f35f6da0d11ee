package nsd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dadns/dadns/internal/zone"
)

// control reaches NSD's remote control: natively (TLS over TCP with the
// keys nsd.conf names, or plain on a local socket), speaking nsd-control's
// protocol itself, or by running nsd-control where the configuration
// cannot be used natively.
type control struct {
	path    string
	base    []string // -c <conf> when configured
	socket  string   // nsd_control_socket: spoken to directly, nsd.conf unread
	conf    string   // the nsd.conf read natively
	spawn   bool     // always run nsd-control
	timeout time.Duration
	log     *slog.Logger
	calls   atomic.Int64

	mu     sync.Mutex
	native *remote // nil: run nsd-control
	stale  bool    // read nsd.conf again before the next command
	shown  string  // the way last logged
}

func newControl(c Control, log *slog.Logger) *control {
	var base []string
	if c.Conf != "" {
		base = []string{"-c", c.Conf}
	}
	if log == nil {
		log = slog.Default()
	}
	conf := c.Conf
	if conf == "" {
		conf = DefaultControlConf
	}
	ctl := &control{path: c.Path, base: base, socket: c.Socket, conf: conf, spawn: c.Exec, timeout: c.Timeout, log: log}
	if ctl.socket == "" && !ctl.spawn {
		ctl.mu.Lock()
		ctl.resolve()
		ctl.mu.Unlock()
	} else {
		ctl.show()
	}
	return ctl
}

// resolve reads nsd.conf again and logs the way commands go when it
// changed. Called with mu held.
func (c *control) resolve() {
	r, err := resolveRemote(c.conf)
	c.native, c.stale = r, false
	if err != nil {
		c.native = nil
		c.showWhy(err.Error())
		return
	}
	c.show()
}

func (c *control) show() { c.showWhy("") }

// showWhy logs, at Info and once per change, how commands reach NSD.
func (c *control) showWhy(why string) {
	var way string
	var attrs []any
	switch {
	case c.socket != "":
		way, attrs = "socket", []any{"socket", c.socket}
	case c.spawn:
		way, attrs = "nsd-control", []any{"nsd_control", c.path, "reason", "nsd_control_exec is set"}
	case c.native != nil && c.native.tls != nil:
		way, attrs = "tls", []any{"address", c.native.show, "conf", c.conf}
	case c.native != nil:
		way, attrs = "socket", []any{"socket", c.native.addr, "conf", c.conf}
	default:
		way, attrs = "nsd-control", []any{"nsd_control", c.path, "reason", why}
	}
	key := way + fmt.Sprint(attrs...)
	if key == c.shown {
		return
	}
	c.shown = key
	c.log.Info("nsd: remote control via "+way, attrs...)
}

// way returns how the next command goes: natively to r, or with
// nsd-control when r is nil.
func (c *control) way() *remote {
	if c.socket != "" {
		return &remote{network: "unix", addr: c.socket, show: "socket " + c.socket}
	}
	if c.spawn {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stale {
		c.resolve()
	}
	return c.native
}

// listChunk is the most zones one addzones or delzones run carries:
// NSD 4.6 stops answering (its control and server processes wait on each
// other) when one run carries about 700 zones or more.
const listChunk = 250

// exec runs one command with stdin (addzones/delzones) natively or with
// nsd-control; a failure (nsd-control's non-zero exit, an answer starting
// with "error", no answer) is an error carrying the message. The output
// is returned for the caller to read, also with the error.
func (c *control) exec(ctx context.Context, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	c.calls.Add(1)
	if r := c.way(); r != nil {
		out, err := c.direct(ctx, r, stdin, args)
		if err != nil && !errors.Is(err, errAnswered) && c.socket == "" {
			// NSD unreachable or refusing: nsd.conf or the keys may have
			// changed since they were read.
			c.mu.Lock()
			c.stale = true
			c.mu.Unlock()
		}
		return out, err
	}
	cmd := exec.CommandContext(ctx, c.path, append(c.base[:len(c.base):len(c.base)], args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if !c.spawn {
			// The fallback: nsd.conf or the keys may be usable natively
			// by now (fixed permissions, say).
			c.mu.Lock()
			c.stale = true
			c.mu.Unlock()
		}
		return string(out), fmt.Errorf("nsd: nsd-control %s: %w: %s", strings.Join(args, " "), err, clip(string(out)))
	}
	return string(out), nil
}

// errAnswered marks NSD's own error answer (as opposed to not reaching it).
var errAnswered = errors.New("NSD answered an error")

// silent wraps an error as a mark only: it adds nothing to the message.
type silent struct{ err error }

func (s silent) Error() string { return "" }
func (s silent) Unwrap() error { return s.err }

// maxAnswer bounds what is read of one answer: the commands dadns sends
// are answered in a few bytes, or a line per zone for addzones/delzones
// (about 15 KB for a run of 250 zones).
const maxAnswer = 4 << 20

// direct sends the command the way nsd-control does, over TLS or on a
// local socket (plain): "NSDCT1 <args>\n", then for addzones and delzones
// the lines of stdin and an end marker (0x04 and a newline); NSD answers
// in lines and closes. As with nsd-control, an answer whose first line
// starts with "error" is an error.
func (c *control) direct(ctx context.Context, r *remote, stdin string, args []string) (string, error) {
	fail := func(err error, out string) (string, error) {
		if out == "" {
			return out, fmt.Errorf("nsd: nsd-control %s (%s): %w", strings.Join(args, " "), r.show, err)
		}
		return out, fmt.Errorf("nsd: nsd-control %s (%s): %w: %s", strings.Join(args, " "), r.show, err, clip(out))
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, r.network, r.addr)
	if err != nil {
		return fail(err, "")
	}
	conn := raw
	defer func() { conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Now()) })
	defer stop()
	if r.tls != nil {
		tc := tls.Client(raw, r.tls)
		conn = tc
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("TLS handshake: %w", refused(r, err)), "")
		}
	}
	msg := "NSDCT1 " + strings.Join(args, " ") + "\n"
	if len(args) == 1 && (args[0] == "addzones" || args[0] == "delzones") {
		msg += stdin + "\x04\n"
	}
	if _, err := io.WriteString(conn, msg); err != nil {
		if r.tls != nil && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
			// NSD checks the client certificate after the handshake
			// returned (TLS 1.3): a refusal may cut the connection
			// before its alert can be read.
			err = fmt.Errorf("NSD cut the connection after the TLS handshake (did it refuse control-cert-file %s?): %w", r.cert, err)
		}
		return fail(refused(r, err), "")
	}
	out, err := io.ReadAll(io.LimitReader(conn, maxAnswer+1))
	if ctx.Err() != nil {
		return fail(ctx.Err(), string(out))
	}
	if err != nil {
		return fail(refused(r, err), string(out))
	}
	if len(out) > maxAnswer {
		return fail(fmt.Errorf("answer longer than %d bytes", maxAnswer), string(out[:300]))
	}
	if len(out) == 0 {
		// NSD answers every command; an empty answer is a connection
		// closed early (over TLS Go reads a close without close_notify
		// as a clean end, where nsd-control would fail on it).
		return fail(errors.New("connection closed without an answer"), "")
	}
	if strings.HasPrefix(string(out), "error") {
		return fail(errAnswered, string(out))
	}
	return string(out), nil
}

// refused explains a TLS alert from NSD: it refuses a client certificate
// so, during the handshake (TLS 1.2) or after it returned (TLS 1.3).
func refused(r *remote, err error) error {
	var oe *net.OpError
	if r.tls != nil && errors.As(err, &oe) && oe.Op == "remote error" {
		return fmt.Errorf("NSD refused the TLS connection (is control-cert-file %s signed by NSD's server-cert-file?): %w", r.cert, err)
	}
	return err
}

// run runs a command that answers "ok" on success (reload, reconfig,
// addzone, delzone); an "error" line or no "ok" is an error even when
// nsd-control exits 0.
func (c *control) run(ctx context.Context, args ...string) error {
	out, err := c.exec(ctx, "", args...)
	if err != nil {
		return err
	}
	ok := false
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "error") {
			return fmt.Errorf("nsd: nsd-control %s: %s%w", strings.Join(args, " "), clip(out), silent{errAnswered})
		}
		ok = ok || l == "ok"
	}
	if !ok {
		return fmt.Errorf("nsd: nsd-control %s: no \"ok\" in its answer: %s%w", strings.Join(args, " "), clip(out), silent{errAnswered})
	}
	return nil
}

// list runs addzones or delzones over names in chunks, one "name[ pattern]"
// line each. It returns NSD's error per zone it names ("error for input
// line"), and err when a run failed as a whole (the zones of that run and
// the later ones were not handled).
func (c *control) list(ctx context.Context, cmd string, names []zone.Name, pattern string) (map[zone.Name]error, error) {
	bad := map[zone.Name]error{}
	for i := 0; i < len(names); i += listChunk {
		var in strings.Builder
		chunk := names[i:min(i+listChunk, len(names))]
		for _, n := range chunk {
			in.WriteString(string(n))
			if pattern != "" {
				in.WriteString(" " + pattern)
			}
			in.WriteByte('\n')
		}
		out, err := c.exec(ctx, in.String(), cmd)
		// nsd-control exits 1 when NSD's answer starts with an error line,
		// as it does when the first zone of the run fails: errors tied to
		// zones are those zones' failures, not the run's.
		if err != nil && !strings.Contains(out, "error for input line") {
			return bad, err
		}
		runBad := map[zone.Name]error{}
		if err := listErrors(cmd, out, runBad); err != nil {
			return bad, err
		}
		for n, e := range runBad {
			if !slices.Contains(chunk, n) {
				return bad, fmt.Errorf("nsd: nsd-control %s: the answer names a zone not sent: %s", cmd, clip(out))
			}
			bad[n] = e
		}
		if !listDone(cmd, out) {
			// NSD ends its answer with "added N zones" ("deleted N
			// zones"); without it the run was cut short, and which of
			// its zones NSD took is unknown.
			return bad, fmt.Errorf("nsd: nsd-control %s: answer cut short (no summary line): %s", cmd, clip(out))
		}
	}
	return bad, nil
}

// listDone tells whether an addzones/delzones answer ends with NSD's
// summary line.
func listDone(cmd, out string) bool {
	ls := lines(out)
	if len(ls) == 0 {
		return false
	}
	word := map[string]string{"addzones": "added", "delzones": "deleted"}[cmd]
	f := strings.Fields(ls[len(ls)-1])
	if len(f) != 3 || f[0] != word || f[2] != "zones" {
		return false
	}
	_, err := strconv.Atoi(f[1])
	return err == nil
}

// listErrors ties the error lines of an addzones/delzones answer to the
// zone they were for; an error line not followed by "error for input
// line" fails the run.
func listErrors(cmd, out string, bad map[zone.Name]error) error {
	var msgs []string
	for _, l := range lines(out) {
		if rest, ok := strings.CutPrefix(l, "error for input line '"); ok {
			f := strings.Fields(strings.TrimSuffix(rest, "'"))
			if len(f) == 0 {
				msgs = append(msgs, l)
				continue
			}
			n := zone.Name(f[0])
			if cmd == "delzones" && len(msgs) == 0 {
				continue // "warning zone X not present": already absent
			}
			bad[n] = fmt.Errorf("nsd: nsd-control %s: %s", cmd, clip(strings.Join(msgs, "; ")))
			msgs = nil
			continue
		}
		if strings.HasPrefix(l, "error") {
			msgs = append(msgs, l)
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("nsd: nsd-control %s: %s", cmd, clip(strings.Join(msgs, "; ")))
	}
	return nil
}

// status runs "nsd-control status": NSD answers with its version.
func (c *control) status(ctx context.Context) error {
	out, err := c.exec(ctx, "", "status")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "version:") {
		return errors.New("nsd: nsd-control status: unexpected answer: " + clip(out))
	}
	return nil
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// clip keeps nsd-control's message to one bounded printable line.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r == '\uFFFD' {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	s = strings.Join(lines(s), "; ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
