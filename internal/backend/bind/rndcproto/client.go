package rndcproto

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// MaxMessage bounds the size of a message the client reads (rndc's own
// limit).
const MaxMessage = 1 << 20

// Client sends commands to one named control channel. It is safe for
// concurrent use: one connection is kept between commands, others are
// opened when several commands run at once.
type Client struct {
	// Server is the name rndc would print (the configured server).
	Server string
	// Addrs are tried in turn until one accepts the connection: "tcp"
	// host:port pairs, or a "unix" socket path.
	Addrs []Addr
	Key   Key
	// Now is the clock for the message times; nil means time.Now.
	Now func() time.Time

	serial atomic.Uint32
	mu     sync.Mutex
	idle   *session // kept between commands
	closed bool
}

// Addr is one address of the control channel.
type Addr struct {
	Network string // "tcp" or "unix"
	Address string // host:port or a path
}

// String formats the address the way rndc prints it (127.0.0.1#953).
func (a Addr) String() string {
	if a.Network == "unix" {
		return a.Address
	}
	host, port, err := net.SplitHostPort(a.Address)
	if err != nil {
		return a.Address
	}
	return host + "#" + port
}

// Response is named's answer to a command.
type Response struct {
	// Text is what rndc prints on success (empty for most commands).
	Text string
	// Result is named's result code, 0 for success, when it sent one.
	Result    uint32
	HasResult bool
}

// CommandError is named's refusal of a command, as rndc prints it.
type CommandError struct {
	Command string // the first word of the command
	Err     string // named's "err" item (isc_result text: "not found")
	Text    string // named's "text" item, the explanation
	Result  uint32
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("rndc: '%s' failed: %s", e.Command, e.Err)
	if e.Text != "" {
		msg += "\n" + e.Text
	}
	return msg
}

// Run sends command (for example "reload example.com") and returns named's
// answer. A command named refuses returns a *CommandError; every error
// message starts with "rndc: " as rndc's do. The context bounds the whole
// exchange.
//
// The connection and its nonce are kept for the next command (named
// serves any number of commands on one connection), so a command costs
// one round trip; a kept connection that named closed meanwhile (a
// restart) is replaced once, before anything of the command was
// answered, and so is a new connection named closed before it answered
// the null request that opens it.
func (c *Client) Run(ctx context.Context, command string) (*Response, error) {
	if strings.TrimSpace(command) == "" {
		return nil, errors.New("rndc: empty command")
	}
	s := c.take()
	kept := s != nil
	resp, err := c.runOn(ctx, &s, command)
	var st *staleError
	if errors.As(err, &st) && (kept || st.handshake) && ctx.Err() == nil {
		s = nil
		resp, err = c.runOn(ctx, &s, command)
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("rndc: %s: %w (%v)", command, ctx.Err(), err)
	}
	var ce *CommandError
	if s != nil && (err == nil || errors.As(err, &ce)) && ctx.Err() == nil {
		c.put(s)
	} else if s != nil {
		s.conn.Close()
	}
	return resp, err
}

// session is a connection on which named handed out a nonce.
type session struct {
	conn  net.Conn
	nonce uint32
}

// take returns the kept session, if any.
func (c *Client) take() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.idle
	c.idle = nil
	return s
}

// put keeps s for the next command (one is kept; another is closed).
func (c *Client) put(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle != nil || c.closed {
		s.conn.Close()
		return
	}
	c.idle = s
}

// Close closes the kept connection; later commands still work, each on
// a connection of its own.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.idle != nil {
		c.idle.conn.Close()
		c.idle = nil
	}
}

// runOn sends command on *s, opening a session first when *s is nil; on
// an error other than named's refusal *s is closed and set to nil.
func (c *Client) runOn(ctx context.Context, sp **session, command string) (*Response, error) {
	if *sp == nil {
		conn, err := c.dial(ctx)
		if err != nil {
			return nil, err
		}
		*sp = &session{conn: conn}
	}
	s := *sp
	// Cut the exchange when the context ends (its error is then set,
	// unlike with a deadline on the connection that may fire first).
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	resp, err := c.exchange(s, command)
	var ce *CommandError
	if !stop() || (err != nil && !errors.As(err, &ce)) {
		// Broken, or cut by the context (its deadline is set): done.
		s.conn.Close()
		*sp = nil
	}
	return resp, err
}

// dial connects to the first address that accepts, as rndc does.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	if len(c.Addrs) == 0 {
		return nil, fmt.Errorf("rndc: no address for server %q", c.Server)
	}
	var d net.Dialer
	var last error
	for _, a := range c.Addrs {
		conn, err := d.DialContext(ctx, a.Network, a.Address)
		if err == nil {
			return conn, nil
		}
		last = fmt.Errorf("rndc: connect failed: %s: %s", a, reason(err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// reason is the system's words for a dial error ("connection refused").
func reason(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// exchange sends command on s, first asking for a nonce with a null
// request when s has none: named runs commands only on a connection
// whose nonce it handed out.
func (c *Client) exchange(s *session, command string) (*Response, error) {
	if s.nonce == 0 {
		reply, err := c.roundTrip(s.conn, c.nextSerial(), "null", 0)
		if st := (*staleError)(nil); errors.As(err, &st) {
			st.handshake = true // nothing ran yet: worth one more connection
		}
		if err != nil {
			return nil, err
		}
		if data, _ := reply.Table("_data"); hasErr(data) {
			return nil, commandError("null", data)
		}
		ctrl, _ := reply.Table("_ctrl")
		s.nonce, _ = ctrl.Uint32("_nonce")
		if s.nonce == 0 {
			return nil, errors.New("rndc: named sent no nonce")
		}
	}
	reply, err := c.roundTrip(s.conn, c.nextSerial(), command, s.nonce)
	if err != nil {
		return nil, err
	}
	// named 9.18 answers with the connection's nonce; should a named
	// hand out another one (the answer is signed and for our serial),
	// the next command on this connection carries that.
	ctrl, _ := reply.Table("_ctrl")
	if got, ok := ctrl.Uint32("_nonce"); ok && got != 0 {
		s.nonce = got
	}
	data, ok := reply.Table("_data")
	if !ok {
		return nil, errors.New("rndc: bad or missing data section in response")
	}
	word := strings.Fields(command)[0]
	if hasErr(data) {
		return nil, commandError(word, data)
	}
	r := &Response{}
	r.Text, _ = data.String("text")
	r.Result, r.HasResult = data.Uint32("result")
	return r, nil
}

func hasErr(data Table) bool {
	_, ok := data.Get("err")
	return ok
}

func commandError(word string, data Table) error {
	e := &CommandError{Command: word}
	e.Err, _ = data.String("err")
	e.Text, _ = data.String("text")
	e.Result, _ = data.Uint32("result")
	return e
}

// roundTrip sends one request and reads its response, checking the
// response's signature and that it answers this request (_ser, _rpl).
func (c *Client) roundTrip(conn net.Conn, ser uint32, command string, nonce uint32) (Table, error) {
	msg, err := Marshal(c.request(ser, command, nonce), c.Key)
	if err != nil {
		return nil, fmt.Errorf("rndc: render message: %w", err)
	}
	if _, err := conn.Write(msg); err != nil {
		return nil, &staleError{err: fmt.Errorf("rndc: send failed: %w", err)}
	}
	raw, err := readMessage(conn)
	if err != nil {
		return nil, err
	}
	reply, err := Unmarshal(raw, c.Key)
	if err != nil {
		return nil, fmt.Errorf("rndc: parse message: %w", err)
	}
	ctrl, ok := reply.Table("_ctrl")
	if !ok {
		return nil, errors.New("rndc: bad or missing ctrl section in response")
	}
	if got, ok := ctrl.Uint32("_ser"); !ok || got != ser {
		return nil, fmt.Errorf("rndc: response to serial %d, want %d", got, ser)
	}
	if rpl, _ := ctrl.String("_rpl"); rpl != "1" {
		return nil, errors.New("rndc: response is not marked as a reply")
	}
	return reply, nil
}

// request builds the table of one request: _ctrl with serial, time,
// expiry (60 s, as rndc) and the nonce when there is one, _data with the
// command.
func (c *Client) request(ser uint32, command string, nonce uint32) Table {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := uint32(now().Unix())
	num := func(n uint32) []byte { return strconv.AppendUint(nil, uint64(n), 10) }
	ctrl := Table{{"_ser", num(ser)}, {"_tim", num(t)}, {"_exp", num(t + 60)}}
	if nonce != 0 {
		ctrl = append(ctrl, Field{"_nonce", num(nonce)})
	}
	return Table{{"_ctrl", ctrl}, {"_data", Table{{"type", []byte(command)}}}}
}

// nextSerial numbers requests from a random start, so that two clients
// (or two dadns processes) do not send the same serial in one second,
// which named would drop as a duplicate.
func (c *Client) nextSerial() uint32 {
	if c.serial.Load() == 0 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.serial.CompareAndSwap(0, binary.BigEndian.Uint32(b[:])|1)
	}
	return c.serial.Add(1)
}

// staleError is a failure before named answered anything: on a kept
// connection, named closed it meanwhile and the command is worth
// sending again on a new one. So is a new connection named closed
// before it answered the null request that opens it (handshake): no
// command ran on it. Seen once in CI, under heavy load, on the first
// command to a named that had just started.
type staleError struct {
	err       error
	handshake bool
}

func (e *staleError) Error() string { return e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }

// readMessage reads one length-prefixed message.
func readMessage(conn net.Conn) ([]byte, error) {
	var hdr [4]byte
	if n, err := io.ReadFull(conn, hdr[:]); err != nil {
		if n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
			return nil, &staleError{err: errors.New("rndc: connection to remote host closed: named stopped, or refused the request " +
				"(this host not allowed, clocks not synchronized, wrong key algorithm or invalid key)")}
		}
		return nil, fmt.Errorf("rndc: recv failed: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxMessage {
		return nil, fmt.Errorf("rndc: response of %d bytes is over the %d byte limit", n, MaxMessage)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, fmt.Errorf("rndc: recv failed: %w", err)
	}
	return buf, nil
}
