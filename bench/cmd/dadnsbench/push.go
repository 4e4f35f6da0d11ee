package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// daHostname and daUsername are who the pushes say they come from.
const (
	daHostname = "bench.da"
	daUsername = "u"
)

// daClient talks to dadns the way DirectAdmin does: one HTTP/1.0
// connection per request, Basic auth, the raw zone as the body.
type daClient struct {
	addr string // host:port
	auth string // the Authorization header's value
}

// newDAClient returns a client for the dadns HTTP API at addr.
func newDAClient(addr, user, pass string) *daClient {
	return &daClient{addr: addr, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

// rawsave pushes z and returns an error unless dadns answered HTTP 200
// with error=0.
func (c *daClient) rawsave(ctx context.Context, z *benchZone) error {
	target := "/CMD_API_DNS_ADMIN?action=rawsave&domain=" + url.QueryEscape(z.name) +
		"&hostname=" + daHostname + "&username=" + daUsername
	status, body, err := c.do(ctx, "POST", target, z.text())
	if err != nil {
		return fmt.Errorf("dadnsbench: rawsave %s: %w", z.name, err)
	}
	return checkReply("rawsave "+z.name, status, body)
}

// exists is DirectAdmin's Domain Check for a zone the bench pushed: it
// fails unless dadns answers exists=1.
func (c *daClient) exists(ctx context.Context, z *benchZone) error {
	status, body, err := c.do(ctx, "GET", "/CMD_API_DNS_ADMIN?action=exists&domain="+url.QueryEscape(z.name), "")
	if err != nil {
		return fmt.Errorf("dadnsbench: exists %s: %w", z.name, err)
	}
	if err := checkReply("exists "+z.name, status, body); err != nil {
		return err
	}
	if v, _ := url.ParseQuery(strings.TrimSpace(body)); v.Get("exists") != "1" {
		return &refusal{op: "exists " + z.name, status: status, text: body}
	}
	return nil
}

// loginTest is DirectAdmin's "Test connection".
func (c *daClient) loginTest(ctx context.Context) error {
	status, body, err := c.do(ctx, "GET", "/CMD_API_LOGIN_TEST", "")
	if err != nil {
		return fmt.Errorf("dadnsbench: login test: %w", err)
	}
	return checkReply("login test", status, body)
}

// do sends one HTTP/1.0 request on a new connection and reads the reply
// (its first 64 KiB).
func (c *daClient) do(ctx context.Context, method, target, body string) (int, string, error) {
	return c.doLimit(ctx, method, target, body, 64<<10)
}

// doLimit is do reading up to limit bytes of the reply.
func (c *daClient) doLimit(ctx context.Context, method, target, body string, limit int64) (int, string, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "%s %s HTTP/1.0\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n%s",
		method, target, c.addr, c.auth, len(body), body)
	if err := w.Flush(); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp.StatusCode, string(reply), err
}

// refusal is a reply that DirectAdmin would not take for success.
type refusal struct {
	op     string
	status int
	text   string
}

func (r *refusal) Error() string {
	return fmt.Sprintf("dadnsbench: %s: HTTP %d: %.300s", r.op, r.status, r.text)
}

// checkReply accepts only what DirectAdmin takes for success.
func checkReply(op string, status int, body string) error {
	if status == http.StatusOK && strings.HasPrefix(body, "error=0") {
		return nil
	}
	text := body
	if v, err := url.ParseQuery(strings.TrimSpace(body)); err == nil && v.Get("text") != "" {
		text = "error=" + v.Get("error") + " text=" + v.Get("text")
	}
	return &refusal{op: op, status: status, text: text}
}

// pushStats is what pushing every zone measured.
type pushStats struct {
	start     time.Time       // when the first push started
	last      time.Time       // when the last reply arrived
	latency   []time.Duration // per accepted push, request start to reply
	ackedAt   map[int]time.Time
	refused   int     // replies other than error=0: dadns bugs
	failed    int     // no reply at all (connection errors, timeouts)
	firstErrs []error // the first few of either
}

// pushAll pushes every zone with c concurrent pushers, sending each
// accepted zone's index on acked, which it closes at the end.
func pushAll(ctx context.Context, da *daClient, zones []*benchZone, c int, acked chan<- int) *pushStats {
	st := &pushStats{start: time.Now(), ackedAt: make(map[int]time.Time, len(zones))}
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				t0 := time.Now()
				err := da.rawsave(ctx, zones[i])
				mu.Lock()
				st.record(ctx, i, t0, time.Now(), err)
				mu.Unlock()
				if err == nil {
					acked <- i
				}
			}
		}()
	}
	feed(ctx, work, len(zones))
	wg.Wait()
	close(acked)
	return st
}

// feed sends 0..n-1 on work, stopping early when ctx ends.
func feed(ctx context.Context, work chan<- int, n int) {
	defer close(work)
	for i := range n {
		if ended(ctx) {
			return
		}
		select {
		case work <- i:
		case <-ctx.Done():
			return
		}
	}
}

// record notes one push's outcome; a push cut short because the run is
// ending counts as neither success nor failure.
func (st *pushStats) record(ctx context.Context, i int, t0, t1 time.Time, err error) {
	var ref *refusal
	switch {
	case err == nil:
	case errors.As(err, &ref):
		st.refused++
	case ended(ctx):
		return
	default:
		st.failed++
	}
	if t1.After(st.last) {
		st.last = t1
	}
	if err != nil {
		if len(st.firstErrs) < 5 {
			st.firstErrs = append(st.firstErrs, err)
		}
		return
	}
	st.latency = append(st.latency, t1.Sub(t0))
	st.ackedAt[i] = t1
}

// ended reports whether ctx is over, also in the moment between its
// deadline passing (which fails network calls at once) and Err being set.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
