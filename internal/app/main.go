// Package app wires dadns together: configuration, store, backends,
// dispatcher, HTTP API; and runs the subcommands.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dadns/dadns/internal/config"
)

// Version is set at build time (-ldflags -X).
var Version = "dev"

const usage = `usage: dadns [--config FILE] [command [args]]

commands:
  serve                 run the server (default)
  check-config          print the effective configuration (secrets masked) and exit
  reconcile [--dry-run] one reconciliation pass against the configured DirectAdmin servers
  status                the running server's status (exit 3 unless ok)
  zones list [--failing] | show NAME | resync NAME|--all | delete NAME
                        the running server's zones, through its admin API
  store copy --from sqlite:PATH|mysql:DSN --to sqlite:PATH|mysql:DSN
                        copy the state into an empty store (one node → a cluster, and back)
  version               print the version and exit
`

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("dadns", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, usage) }
	cfgFile := fl.String("config", "", "configuration file (default: app.yml in /etc/directdnsonly, ., ./config)")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cmd, rest := "serve", []string(nil)
	if fl.NArg() > 0 {
		cmd, rest = fl.Arg(0), fl.Args()[1:]
	}
	run, known := commands[cmd]
	if !known {
		fmt.Fprintf(stderr, "dadns: unknown command %q\n%s", cmd, usage)
		return 2
	}
	if cmd == "version" {
		fmt.Fprintf(stdout, "dadns %s\n", Version)
		return 0
	}
	cfg, err := config.Load(config.LoadOptions{File: *cfgFile})
	if err != nil {
		fmt.Fprintf(stderr, "dadns: %v\n", err)
		return 1
	}
	return run(ctx, cfg, rest, stdout, stderr)
}

// command runs one subcommand with its own arguments.
type command func(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int

var commands = map[string]command{
	"serve":        serveCommand,
	"check-config": checkConfigCommand,
	"reconcile":    reconcileCommand,
	"status":       statusCommand,
	"zones":        zonesCommand,
	"store":        storeCommand,
	"version":      nil, // answered before the configuration is read
}

func serveCommand(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "dadns: serve takes no arguments, got %v\n", args)
		return 2
	}
	if err := Serve(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "dadns: %v\n", err)
		return 1
	}
	return 0
}

func checkConfigCommand(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "dadns: check-config takes no arguments, got %v\n", args)
		return 2
	}
	fmt.Fprint(stdout, cfg.Redacted())
	return 0
}
