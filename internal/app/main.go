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

const usage = `usage: dadns [--config FILE] [command]

commands:
  serve          run the server (default)
  check-config   print the effective configuration (secrets masked) and exit
  version        print the version and exit
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
	cmd := "serve"
	if fl.NArg() > 0 {
		cmd = fl.Arg(0)
	}
	if fl.NArg() > 1 {
		fmt.Fprintf(stderr, "dadns: unexpected arguments after %s: %v\n", cmd, fl.Args()[1:])
		return 2
	}
	switch cmd {
	case "version":
		fmt.Fprintf(stdout, "dadns %s\n", Version)
		return 0
	case "serve", "check-config":
	default:
		fmt.Fprintf(stderr, "dadns: unknown command %q\n%s", cmd, usage)
		return 2
	}
	cfg, err := config.Load(config.LoadOptions{File: *cfgFile})
	if err != nil {
		fmt.Fprintf(stderr, "dadns: %v\n", err)
		return 1
	}
	if cmd == "check-config" {
		fmt.Fprint(stdout, cfg.Redacted())
		return 0
	}
	if err := Serve(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "dadns: %v\n", err)
		return 1
	}
	return 0
}
