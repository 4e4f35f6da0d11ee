package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/app"
	"github.com/dadns/dadns/internal/testutil/freeport"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
)

// TestPushAndServeAgainstDadns runs dadns in-process with the bench's
// config and checks that every pushed zone is acknowledged and then served
// with its serial, as the push phase measures it.
func TestPushAndServeAgainstDadns(t *testing.T) {
	var pp freeport.Picker
	httpPort, err := pp.Next()
	if err != nil {
		t.Fatal(err)
	}
	dnsPort, err := pp.Next()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "app.yml")
	if err := os.WriteFile(cfg, []byte(dadnsConfig(filepath.Join(dir, "data"), "s3cret-pw", httpPort, loopback(dnsPort), "")), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var log syncbuf.Buffer
	exited := make(chan int, 1)
	go func() { exited <- app.Main(ctx, []string{"--config", cfg, "serve"}, &log, &log) }()
	defer func() {
		cancel()
		<-exited
	}()
	alive := func() error {
		select {
		case code := <-exited:
			exited <- code
			t.Fatalf("dadns exited with %d:\n%s", code, log.String())
		default:
		}
		return nil
	}

	da := newDAClient(loopback(httpPort), "bench", "s3cret-pw")
	if err := waitLogin(ctx, da, alive); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	zones := generateZones(4, 25)
	acked := make(chan int, len(zones))
	var seen map[int]time.Time
	var serr error
	done := make(chan struct{})
	go func() {
		seen, serr = awaitServed(ctx, loopback(dnsPort), zones, acked, func() error { return nil })
		close(done)
	}()
	st := pushAll(ctx, da, zones, 4, acked)
	<-done
	if st.refused+st.failed > 0 {
		t.Fatalf("dadns refused %d pushes and left %d without reply, first: %v", st.refused, st.failed, st.firstErrs)
	}
	if serr != nil || len(seen) != len(zones) {
		t.Fatalf("%d of %d zones served: %v", len(seen), len(zones), serr)
	}
}
