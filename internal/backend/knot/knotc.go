package knot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dadns/dadns/internal/backend/knot/knotctl"
	"github.com/dadns/dadns/internal/zone"
)

// knotc runs knotc actions against one control socket: through knotd's
// control protocol (package knotctl) unless knotd's version is not one
// knotctl knows, and with the knotc binary then (and for zone-check,
// which knotc performs itself). Either way an action's output is knotc's
// text and its failure an error carrying that text.
type knotc struct {
	path    string
	socket  string
	timeout time.Duration
	marker  string // exists while dadns has a configuration transaction open
	calls   atomic.Int64
	log     *slog.Logger

	native   *knotctl.Client // nil: knotc only
	execOnly atomic.Bool     // knotd's protocol version is unknown: knotc only
	// trace, when set (tests), sees every action sent natively, as the
	// arguments knotc would have been given (nil for a session), and may
	// fail it.
	trace func(args []string) error
}

// nativeOK reports whether actions go through the control protocol.
func (k *knotc) nativeOK() bool { return k.native != nil && !k.execOnly.Load() }

// unsupported notes that knotd's version is unknown to knotctl, so knotc
// runs every later action.
func (k *knotc) unsupported(err error) {
	if !k.execOnly.Swap(true) {
		k.log.Warn("knot: knotd's control protocol version is not one dadns knows; running knotc for every action", "err", err)
	}
}

// runNative runs one action through the control protocol; ok is false
// when knotc must run it instead (knotd's version unknown, or an action
// knotctl does not send).
func (k *knotc) runNative(ctx context.Context, args []string) (out string, ok bool, err error) {
	if _, perr := knotctl.ParseArgs(args); perr != nil {
		return "", false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	k.calls.Add(1)
	if k.trace != nil {
		if terr := k.trace(args); terr != nil {
			return terr.Error(), true, fmt.Errorf("knot: knotd %s: %w", describe(args), terr)
		}
	}
	res, err := k.native.Run(ctx, args...)
	switch {
	case errors.Is(err, knotctl.ErrVersion):
		k.calls.Add(-1)
		k.unsupported(err)
		return "", false, nil
	case err != nil:
		if errors.Is(err, knotctl.ErrMalformed) {
			k.unsupported(err) // this action failed; knotc runs the next ones
		}
		return err.Error(), true, fmt.Errorf("knot: knotd %s: %w", describe(args), err)
	case res.Failed:
		return res.Text, true, fmt.Errorf("knot: knotd %s: %s", describe(args), clip(res.Text))
	}
	return res.Text, true, nil
}

// sessionNative runs the lines over one control connection; each must
// succeed. ok is false when knotc must run them instead.
func (k *knotc) sessionNative(ctx context.Context, lines []string) (ok bool, err error) {
	actions := make([][]string, len(lines))
	for i, l := range lines {
		actions[i] = strings.Fields(l)
		if _, perr := knotctl.ParseArgs(actions[i]); perr != nil {
			return false, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	k.calls.Add(1)
	if k.trace != nil {
		if terr := k.trace(nil); terr != nil {
			return true, fmt.Errorf("knot: knotd session: %w", terr)
		}
	}
	rs, err := k.native.Session(ctx, actions)
	if errors.Is(err, knotctl.ErrVersion) {
		k.calls.Add(-1)
		k.unsupported(err)
		return false, nil
	}
	if errors.Is(err, knotctl.ErrMalformed) {
		k.unsupported(err)
	}
	for i, r := range rs {
		if r.Failed {
			return true, fmt.Errorf("knot: knotd %s: %s", describe(actions[i]), clip(r.Text))
		}
	}
	if err != nil {
		return true, fmt.Errorf("knot: knotd %s (and %d more): %w", describe(actions[len(rs)]), len(actions)-len(rs)-1, err)
	}
	return true, nil
}

func (k *knotc) base() []string {
	secs := max(1, int(k.timeout/time.Second))
	return []string{"-s", k.socket, "-t", strconv.Itoa(secs)}
}

// run runs one knotc action and returns its output; a non-zero exit is an
// error carrying knotc's message.
func (k *knotc) run(ctx context.Context, args ...string) (string, error) {
	if k.nativeOK() {
		if out, ok, err := k.runNative(ctx, args); ok {
			return out, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout+5*time.Second)
	defer cancel()
	k.calls.Add(1)
	out, err := exec.CommandContext(ctx, k.path, append(k.base(), args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("knot: knotc %s: %w: %s", describe(args), err, clip(string(out)))
	}
	return string(out), nil
}

// session runs several actions through one knotc reading them from its
// standard input. Each action must answer "OK"; the first that does not
// is returned as the error (knotc's own exit status is 0 either way).
func (k *knotc) session(ctx context.Context, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	if k.nativeOK() {
		if ok, err := k.sessionNative(ctx, lines); ok {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout+5*time.Second)
	defer cancel()
	k.calls.Add(1)
	cmd := exec.CommandContext(ctx, k.path, k.base()...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("knot: knotc %s (and %d more): %w: %s", describe(strings.Fields(lines[0])), len(lines)-1, err, clip(string(out)))
	}
	got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i, line := range lines {
		if i >= len(got) {
			return fmt.Errorf("knot: knotc %s: no answer", describe(strings.Fields(line)))
		}
		if strings.TrimSpace(got[i]) != "OK" {
			return fmt.Errorf("knot: knotc %s: %s", describe(strings.Fields(line)), clip(got[i]))
		}
	}
	return nil
}

// describe names a knotc action for an error message without listing
// thousands of zone names.
func describe(args []string) string {
	if len(args) > 4 {
		return strings.Join(args[:3], " ") + fmt.Sprintf(" ... (%d arguments)", len(args))
	}
	return strings.Join(args, " ")
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// zoneErrors reads knotc's per-zone error lines, "error: [NAME] (why)",
// as knotc prints them for zone actions.
func zoneErrors(out string) map[zone.Name]string {
	errs := map[zone.Name]string{}
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "error: [")
		if !ok {
			continue
		}
		name, why, ok := strings.Cut(rest, "]")
		if !ok {
			continue
		}
		n := zone.Name(strings.TrimSuffix(strings.ToLower(name), "."))
		if errs[n] != "" {
			errs[n] += "; "
		}
		errs[n] += strings.TrimSpace(why)
	}
	return errs
}

// configured returns the zones knotd's running configuration holds.
func (k *knotc) configured(ctx context.Context) (map[zone.Name]bool, error) {
	out, err := k.run(ctx, "conf-read", "zone.domain")
	if err != nil {
		return nil, err
	}
	set := map[zone.Name]bool{}
	for _, line := range bytes.Split([]byte(out), []byte("\n")) {
		_, v, ok := bytes.Cut(line, []byte("zone.domain = "))
		if !ok {
			continue
		}
		set[zone.Name(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(string(v))), "."))] = true
	}
	return set, nil
}

// transaction runs a configuration transaction: conf-begin, the actions,
// conf-commit. A failure after conf-begin aborts the transaction, so none
// is ever left open; the error says what failed (and whether the abort
// failed too). While a transaction is open a marker file says so: a
// transaction dadns left open when it was killed is aborted before the
// next one begins, while one an operator opened by hand makes conf-begin
// fail ("too many transactions") and is left alone.
func (k *knotc) transaction(ctx context.Context, actions [][]string, session []string) error {
	if _, err := os.Stat(k.marker); err == nil {
		if err := k.abort(ctx); err != nil {
			return fmt.Errorf("knot: abort the transaction an earlier dadns left open: %w", err)
		}
	}
	if err := os.WriteFile(k.marker, nil, 0o600); err != nil {
		return fmt.Errorf("knot: transaction marker: %w", err)
	}
	if _, err := k.run(ctx, "conf-begin"); err != nil {
		_ = os.Remove(k.marker)
		return err
	}
	err := func() error {
		for _, a := range actions {
			if _, err := k.run(ctx, a...); err != nil {
				return err
			}
		}
		if err := k.session(ctx, session); err != nil {
			return err
		}
		_, err := k.run(ctx, "conf-commit")
		return err
	}()
	if err == nil {
		_ = os.Remove(k.marker)
		return nil
	}
	if aerr := k.abort(ctx); aerr != nil {
		return fmt.Errorf("%w (and the transaction could not be aborted: %v)", err, aerr)
	}
	return err
}

// abort runs conf-abort (which knotd answers OK with no transaction open)
// even when ctx is done, and removes the marker once it succeeded.
func (k *knotc) abort(ctx context.Context) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.timeout)
	defer cancel()
	if _, err := k.run(actx, "conf-abort"); err != nil {
		return err
	}
	_ = os.Remove(k.marker)
	return nil
}

// confValue returns the value of item in conf-read output, "" when absent.
func confValue(out, item string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), item+" = "); ok {
			return strings.Trim(strings.TrimSpace(v), "\"")
		}
	}
	return ""
}
