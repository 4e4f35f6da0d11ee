package rndcproto

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile is a control channel server that answers every request with
// what answer makes of it (nil: close the connection; a message shorter
// than its length field: close after sending it).
func hostile(t *testing.T, k Key, answer func(req Table, n int) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				for n := 0; ; n++ {
					raw, err := readMessage(conn)
					if err != nil {
						return
					}
					req, err := Unmarshal(raw, k)
					if err != nil {
						return
					}
					out := answer(req, n)
					if out == nil {
						return
					}
					if _, err := conn.Write(out); err != nil {
						return
					}
					if len(out) < 4 || int(binary.BigEndian.Uint32(out)) != len(out)-4 {
						return // a message cut short: the server goes away
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// reply is named's answer to req: same serial, _rpl, the nonce, data.
func reply(req Table, nonce string, data Table) Table {
	ctrl, _ := req.Table("_ctrl")
	ser, _ := ctrl.String("_ser")
	c := Table{{"_ser", []byte(ser)}, {"_tim", []byte("1")}, {"_exp", []byte("61")}, {"_rpl", []byte("1")}}
	if nonce != "" {
		c = append(c, Field{"_nonce", []byte(nonce)})
	}
	return Table{{"_ctrl", c}, {"_data", data}}
}

func signed(t *testing.T, tb Table, k Key) []byte {
	msg, err := Marshal(tb, k)
	if err != nil {
		t.Error(err)
	}
	return msg
}

// TestHostileServer: answers that are not named's own to this request
// (another key, another serial, no reply mark, no nonce, oversized,
// garbage, cut short) fail with a clear error and do not hang.
func TestHostileServer(t *testing.T) {
	k := testKey(t, "hmac-sha256")
	other, _ := NewKey("k", "hmac-sha256", base64.StdEncoding.EncodeToString([]byte("not the key")))
	ok := Table{{"type", []byte("status")}, {"result", []byte("0")}}
	cases := []struct {
		name   string
		answer func(req Table, n int) []byte
		want   string
	}{
		{"signed with another key", func(req Table, n int) []byte { return signed(t, reply(req, "7", ok), other) },
			"rndc: parse message: rndcproto: bad auth"},
		{"another serial", func(req Table, n int) []byte {
			r := reply(req, "7", ok)
			ctrl, _ := r.Table("_ctrl")
			s, _ := ctrl.Uint32("_ser")
			ctrl[0].Value = []byte(strconv.FormatUint(uint64(s+1), 10))
			return signed(t, r, k)
		}, "rndc: response to serial"},
		{"not a reply", func(req Table, n int) []byte {
			r := reply(req, "7", ok)
			ctrl, _ := r.Table("_ctrl")
			r[0].Value = ctrl[:3]
			return signed(t, r, k)
		}, "not marked as a reply"},
		{"no nonce", func(req Table, n int) []byte { return signed(t, reply(req, "", ok), k) }, "named sent no nonce"},
		{"no data section", func(req Table, n int) []byte {
			if n == 0 {
				return signed(t, reply(req, "7", ok), k)
			}
			return signed(t, reply(req, "7", ok)[:1], k)
		}, "bad or missing data section"},
		{"oversized", func(req Table, n int) []byte { return []byte{0xff, 0xff, 0xff, 0xff} }, "over the"},
		{"garbage", func(req Table, n int) []byte {
			return append(binary.BigEndian.AppendUint32(nil, 12), "hello, world"...)
		}, "rndc: parse message"},
		{"cut short", func(req Table, n int) []byte {
			return append(binary.BigEndian.AppendUint32(nil, 100), "0123456789"...)
		}, "rndc: recv failed"},
		{"closed after the nonce", func(req Table, n int) []byte {
			if n == 0 {
				return signed(t, reply(req, "7", ok), k)
			}
			return nil
		}, "connection to remote host closed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := &Client{Key: k, Addrs: []Addr{{"tcp", hostile(t, k, c.answer)}}}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := cl.Run(ctx, "status")
			if err == nil || !strings.HasPrefix(err.Error(), "rndc: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v; want an error with %q", err, c.want)
			}
			if ctx.Err() != nil {
				t.Fatal("the client waited for its deadline")
			}
		})
	}
	// And the same fake server answering properly is accepted, so the
	// cases above fail for their one fault.
	cl := &Client{Key: k, Addrs: []Addr{{"tcp", hostile(t, k, func(req Table, n int) []byte {
		return signed(t, reply(req, "7", Table{{"type", []byte("status")}, {"result", []byte("0")}, {"text", []byte("fine")}}), k)
	})}}}
	if r, err := cl.Run(context.Background(), "status"); err != nil || r.Text != "fine" {
		t.Fatalf("proper answer: %+v %v", r, err)
	}
}

// TestHandshakeClosedOnce: a new connection named closes before it
// answers the null request (no command ran on it) is tried once more on
// another connection; a server that keeps doing so fails the command
// after that one retry, with named's words.
func TestHandshakeClosedOnce(t *testing.T) {
	k := testKey(t, "hmac-sha256")
	var mu sync.Mutex
	nulls, closeFirst := 0, 1
	addr := hostile(t, k, func(req Table, n int) []byte {
		data, _ := req.Table("_data")
		typ, _ := data.String("type")
		if typ == "null" {
			mu.Lock()
			nulls++
			drop := nulls <= closeFirst
			mu.Unlock()
			if drop {
				return nil
			}
		}
		return signed(t, reply(req, "7", Table{{"type", []byte(typ)}, {"result", []byte("0")}, {"text", []byte("fine")}}), k)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := &Client{Key: k, Addrs: []Addr{{"tcp", addr}}}
	if r, err := cl.Run(ctx, "reconfig"); err != nil || r.Text != "fine" {
		t.Fatalf("after one closed handshake: %+v %v", r, err)
	}
	mu.Lock()
	if nulls != 2 {
		t.Errorf("%d null requests, want 2 (one closed, one answered)", nulls)
	}
	nulls, closeFirst = 0, 1<<30
	mu.Unlock()
	cl = &Client{Key: k, Addrs: []Addr{{"tcp", addr}}}
	_, err := cl.Run(ctx, "reconfig")
	if err == nil || !strings.Contains(err.Error(), "connection to remote host closed") {
		t.Fatalf("handshake always closed: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if nulls != 2 {
		t.Errorf("%d connections tried, want 2 (one retry only)", nulls)
	}
}
