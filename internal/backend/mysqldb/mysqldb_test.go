package mysqldb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type lims struct{ n int }

var errUnfit = errors.New("unfit tables")

// schema counts its calls and fails as told.
type schema struct {
	creates, inspects int
	createErr         error
	inspectErr        error
	lim               lims
}

func (s *schema) gate() Schema[lims] {
	return Schema[lims]{
		Create: func(context.Context) error { s.creates++; return s.createErr },
		Inspect: func(context.Context) (lims, error) {
			s.inspects++
			if s.inspectErr != nil {
				return lims{}, s.inspectErr
			}
			return s.lim, nil
		},
		Incompatible: errUnfit,
	}
}

func TestGateChecksOncePerEpoch(t *testing.T) {
	ctx := context.Background()
	g := Gate[lims]{Default: lims{1}}
	if got := g.Limits(); got != (lims{1}) {
		t.Fatalf("closed gate limits %v, want the default", got)
	}
	s := &schema{lim: lims{7}}
	for range 3 {
		got, err := g.Prepare(ctx, s.gate())
		if err != nil || got != (lims{7}) {
			t.Fatalf("Prepare = %v, %v", got, err)
		}
	}
	if s.creates != 1 || s.inspects != 1 {
		t.Fatalf("open gate checked again: %d creates, %d inspects", s.creates, s.inspects)
	}
	if got := g.Limits(); got != (lims{7}) {
		t.Fatalf("open gate limits %v, want the inspected ones", got)
	}
	g.Failed()
	if got := g.Limits(); got != (lims{1}) {
		t.Fatalf("limits after Failed %v, want the default", got)
	}
	s.lim = lims{9}
	if got, err := g.Prepare(ctx, s.gate()); err != nil || got != (lims{9}) || s.creates != 2 {
		t.Fatalf("after Failed: Prepare = %v, %v with %d creates; want a new check", got, err, s.creates)
	}
}

func TestGateErrors(t *testing.T) {
	ctx := context.Background()
	createErr := errors.New("create refused")
	cases := []struct {
		name       string
		createErr  error
		inspectErr error
		want       error
	}{
		{"create fails, tables fit", createErr, nil, createErr},
		{"create fails, tables unfit", createErr, fmt.Errorf("column type: %w", errUnfit), errUnfit},
		{"create fails, inspect fails otherwise", createErr, errors.New("connection lost"), createErr},
		{"inspect says unfit", nil, fmt.Errorf("column type: %w", errUnfit), errUnfit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g Gate[lims]
			s := &schema{createErr: c.createErr, inspectErr: c.inspectErr, lim: lims{3}}
			if _, err := g.Prepare(ctx, s.gate()); !errors.Is(err, c.want) {
				t.Fatalf("Prepare error %v, want %v", err, c.want)
			}
			// A failed check leaves the gate closed: the next call checks again.
			s.createErr, s.inspectErr = nil, nil
			if got, err := g.Prepare(ctx, s.gate()); err != nil || got != (lims{3}) {
				t.Fatalf("retry: Prepare = %v, %v", got, err)
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var g Gate[lims]
	s := &schema{}
	if _, err := g.Prepare(cctx, s.gate()); !errors.Is(err, context.Canceled) || s.creates != 0 {
		t.Fatalf("ended context: %v after %d creates", err, s.creates)
	}
}

func TestTLSConfig(t *testing.T) {
	c, err := TLSConfig("db.example", "", true)
	if err != nil || c.ServerName != "db.example" || !c.InsecureSkipVerify || c.RootCAs != nil {
		t.Fatalf("TLSConfig without CA = %+v, %v", c, err)
	}
	dir := t.TempDir()
	if _, err := TLSConfig("db.example", filepath.Join(dir, "missing.pem"), false); err == nil || !strings.HasPrefix(err.Error(), "tls_ca:") {
		t.Fatalf("missing CA file: %v", err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := TLSConfig("db.example", junk, false); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("CA file without PEM: %v", err)
	}
}
