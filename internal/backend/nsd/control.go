package nsd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dadns/dadns/internal/zone"
)

// control runs nsd-control against the configured NSD, or speaks its
// protocol on NSD's local control socket itself.
type control struct {
	path    string
	base    []string // -c <conf> when configured
	socket  string   // NSD's control-interface path; "" runs nsd-control
	timeout time.Duration
	calls   atomic.Int64
}

func newControl(c Control) *control {
	var base []string
	if c.Conf != "" {
		base = []string{"-c", c.Conf}
	}
	return &control{path: c.Path, base: base, socket: c.Socket, timeout: c.Timeout}
}

// listChunk is the most zones one addzones or delzones run carries:
// NSD 4.6 stops answering (its control and server processes wait on each
// other) when one run carries about 700 zones or more.
const listChunk = 250

// exec runs nsd-control with stdin; a non-zero exit is an error carrying
// its message. The output is returned for the caller to read, also with
// the error.
func (c *control) exec(ctx context.Context, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	c.calls.Add(1)
	if c.socket != "" {
		return c.direct(ctx, stdin, args)
	}
	cmd := exec.CommandContext(ctx, c.path, append(c.base[:len(c.base):len(c.base)], args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("nsd: nsd-control %s: %w: %s", strings.Join(args, " "), err, clip(string(out)))
	}
	return string(out), nil
}

// direct sends the command over NSD's local control socket the way
// nsd-control does on one (no TLS there): "NSDCT1 <args>\n", then for
// addzones and delzones the lines of stdin and an end marker (0x04 and a
// newline); NSD answers in lines and closes. As with nsd-control, an answer
// whose first line starts with "error" is an error.
func (c *control) direct(ctx context.Context, stdin string, args []string) (string, error) {
	fail := func(err error, out string) (string, error) {
		return out, fmt.Errorf("nsd: nsd-control %s (socket %s): %w: %s", strings.Join(args, " "), c.socket, err, clip(out))
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.socket)
	if err != nil {
		return fail(err, "")
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	msg := "NSDCT1 " + strings.Join(args, " ") + "\n"
	if len(args) == 1 && (args[0] == "addzones" || args[0] == "delzones") {
		msg += stdin + "\x04\n"
	}
	if _, err := io.WriteString(conn, msg); err != nil {
		return fail(err, "")
	}
	out, err := io.ReadAll(io.LimitReader(conn, 16<<20))
	if ctx.Err() != nil {
		return fail(ctx.Err(), string(out))
	}
	if err != nil {
		return fail(err, string(out))
	}
	if strings.HasPrefix(string(out), "error") {
		return fail(errors.New("NSD answered an error"), string(out))
	}
	return string(out), nil
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
			return fmt.Errorf("nsd: nsd-control %s: %s", strings.Join(args, " "), clip(out))
		}
		ok = ok || l == "ok"
	}
	if !ok {
		return fmt.Errorf("nsd: nsd-control %s: no \"ok\" in its answer: %s", strings.Join(args, " "), clip(out))
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
		for _, n := range names[i:min(i+listChunk, len(names))] {
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
		if err := listErrors(cmd, out, bad); err != nil {
			return bad, err
		}
	}
	return bad, nil
}

// listErrors ties the error lines of an addzones/delzones answer to the
// zone they were for; an error line not followed by "error for input
// line" fails the run.
func listErrors(cmd, out string, bad map[zone.Name]error) error {
	var msgs []string
	for _, l := range lines(out) {
		if rest, ok := strings.CutPrefix(l, "error for input line '"); ok {
			n := zone.Name(strings.Fields(strings.TrimSuffix(rest, "'") + " ")[0])
			if cmd == "delzones" && len(msgs) == 0 {
				continue // "warning zone X not present": already absent
			}
			bad[n] = fmt.Errorf("nsd: nsd-control %s: %s", cmd, strings.Join(msgs, "; "))
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

// clip keeps nsd-control's message to one bounded line.
func clip(s string) string {
	s = strings.Join(lines(s), "; ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
