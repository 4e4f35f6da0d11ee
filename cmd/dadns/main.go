// Command dadns is an authoritative DNS server for DirectAdmin's Multi
// Server Setup: DirectAdmin pushes zones to it, dadns stores them and makes
// every configured DNS backend serve them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/dadns/dadns/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
