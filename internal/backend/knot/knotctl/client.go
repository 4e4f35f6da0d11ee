package knotctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Client runs control commands on one knotd. Each call connects, sends
// its commands, reads the answers and closes (sending END first, as knotc
// does): knotd serves one control client at a time, so an idle kept
// connection would lock out everything else (an operator's knotc, knotd's
// own timeout drops it after control.timeout anyway), while a UNIX socket
// connect costs microseconds. A Client is safe for concurrent use; knotd
// serves the calls one after another.
type Client struct {
	// Socket is the path of knotd's control socket.
	Socket string
	// Timeout bounds one call (all its commands); 0: only the context
	// bounds it. A context deadline that comes sooner wins.
	Timeout time.Duration

	checked atomic.Bool // the knotd behind Socket has a known version
}

// Result is knotd's answer to one command.
type Result struct {
	Units []Unit
	// Text is the answer as knotc prints it; Failed is true when knotd
	// reported an error (knotc exits 1 then).
	Text   string
	Failed bool
}

// ConnectError is returned when the control socket cannot be reached;
// its text is knotc's.
type ConnectError struct {
	Socket string
	Err    error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("error: failed to connect to socket '%s' (%s)", e.Socket, reason(e.Err))
}

func (e *ConnectError) Unwrap() error { return e.Err }

// ControlError is an I/O or protocol failure after the connection was
// made (knotd stopped mid-call, a timeout, malformed data); its text is
// knotc's "failed to control" message.
type ControlError struct{ Err error }

func (e *ControlError) Error() string {
	return fmt.Sprintf("error: failed to control (%s)", reason(e.Err))
}

func (e *ControlError) Unwrap() error { return e.Err }

// ErrVersion is wrapped when knotd's version is not one whose control
// protocol this package knows; the caller should use knotc instead.
var ErrVersion = errors.New("knotctl: unknown knotd control protocol version")

// Run sends one knotc-style action (see ParseArgs) and returns knotd's
// answer. An answer reporting an error is a Result with Failed set, not
// an error.
func (c *Client) Run(ctx context.Context, args ...string) (Result, error) {
	rs, err := c.Session(ctx, [][]string{args})
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// Session sends several actions over one connection, one after the other,
// and stops after the first answer that reports an error: the results
// are those of the actions sent.
func (c *Client) Session(ctx context.Context, actions [][]string) ([]Result, error) {
	reqs := make([]Request, len(actions))
	for i, a := range actions {
		r, err := ParseArgs(a)
		if err != nil {
			return nil, err
		}
		reqs[i] = r
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.close()
	if !c.checked.Load() {
		if err := conn.checkVersion(); err != nil {
			return nil, err
		}
		c.checked.Store(true)
	}
	var out []Result
	for _, r := range reqs {
		res, err := conn.do(r)
		if err != nil {
			c.checked.Store(false) // knotd may have been replaced
			return out, err
		}
		out = append(out, res)
		if res.Failed {
			break
		}
	}
	return out, nil
}

// conn is one control connection.
type conn struct {
	ctx  context.Context
	c    net.Conn
	dec  *Decoder
	buf  []byte
	stop func() bool
}

func (c *Client) dial(ctx context.Context) (*conn, error) {
	// The client's timeout is the connection's deadline; the context's
	// end (deadline or cancellation) cuts it short below, so that its
	// error is the one reported.
	var deadline time.Time
	if c.Timeout > 0 {
		deadline = time.Now().Add(c.Timeout)
	}
	var d net.Dialer
	d.Deadline = deadline
	nc, err := d.DialContext(ctx, "unix", c.Socket)
	if err != nil {
		c.checked.Store(false)
		return nil, &ConnectError{Socket: c.Socket, Err: err}
	}
	_ = nc.SetDeadline(deadline)
	// A cancelled context ends the call at once.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	return &conn{ctx: ctx, c: nc, dec: NewDecoder(nc), stop: stop}, nil
}

func (cn *conn) close() {
	cn.stop()
	if b, err := (&Unit{Type: End}).Append(cn.buf[:0]); err == nil {
		_, _ = cn.c.Write(b)
	}
	_ = cn.c.Close()
}

// do sends one command and reads its answer.
func (cn *conn) do(r Request) (Result, error) {
	b := cn.buf[:0]
	var err error
	for i := range r.Units {
		if b, err = r.Units[i].Append(b); err != nil {
			return Result{}, err
		}
	}
	b = append(b, byte(Block))
	cn.buf = b
	if _, err := cn.c.Write(b); err != nil {
		return Result{}, cn.failed(err)
	}
	units, err := cn.dec.Answer()
	if err != nil {
		return Result{}, cn.failed(err)
	}
	text, failed := Format(r.Cmd, units)
	return Result{Units: units, Text: text, Failed: failed}, nil
}

// failed names the cause of an I/O failure: the context's when it ended.
func (cn *conn) failed(err error) error {
	if cerr := cn.ctx.Err(); cerr != nil {
		err = cerr
	}
	return &ControlError{Err: err}
}

// checkVersion asks knotd's version ("status version") and accepts the
// major versions whose control protocol this package was written
// against (Knot DNS 3.x); an answer that is not the protocol as this
// package reads it is an unknown version too.
func (cn *conn) checkVersion() error {
	req, _ := ParseArgs([]string{"status", "version"})
	res, err := cn.do(req)
	if errors.Is(err, ErrMalformed) {
		return fmt.Errorf("%w: status version: %w", ErrVersion, err)
	}
	if err != nil {
		return err
	}
	if res.Failed || len(res.Units) == 0 {
		return fmt.Errorf("%w: status version answered %q", ErrVersion, strings.TrimSpace(res.Text))
	}
	v := strings.TrimSpace(strings.TrimPrefix(res.Units[0].Value(Value), "Version:"))
	major, _, _ := strings.Cut(v, ".")
	if n, err := strconv.Atoi(major); err != nil || n != 3 {
		return fmt.Errorf("%w: knotd %q", ErrVersion, v)
	}
	return nil
}

// reason words an error as knotd's knot_strerror would, where knotc users
// know the words.
func reason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOENT):
		return "not exists"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "operation not permitted"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, context.Canceled):
		return "operation canceled"
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "connection timeout"
	case errors.Is(err, ErrMalformed):
		return "malformed data: " + strings.TrimPrefix(strings.TrimPrefix(err.Error(), ErrMalformed.Error()), ": ")
	}
	return err.Error()
}
