// Package app wires dadns together: configuration, store, backends,
// dispatcher, HTTP API; and runs the subcommands.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/config"
)

// Version is set at build time (-ldflags -X).
var Version = "dev"

// Main runs the command line and returns the process exit code: 0 done,
// 1 failed, 2 bad usage (3: `status` of a server that is not ok).
// Flags may come before or after the command and its arguments; --config
// and --help are understood everywhere.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cl, err := splitArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "dadns: %v\n\n%s", err, usage())
		return 2
	}
	if cl.cmd == "" {
		if cl.help {
			fmt.Fprint(stdout, usage())
			return 0
		}
		cl.cmd = "serve"
	}
	c, known := commands[cl.cmd]
	if !known {
		fmt.Fprintf(stderr, "dadns: unknown command %q\n\n%s", cl.cmd, usage())
		return 2
	}
	fl := c.flagSet(cl.cmd)
	fl.SetOutput(stderr)
	run := c.define(fl)
	if err := fl.Parse(cl.commandArgs()); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printUsage(stdout, cl.cmd)
			return 0
		}
		fmt.Fprintln(stderr)
		c.printUsage(stderr, cl.cmd)
		return 2
	}
	in := &invocation{ctx: ctx, name: cl.cmd, cmd: c, cfgFile: cl.config, args: fl.Args(), stdout: stdout, stderr: stderr}
	if !c.argsOK(len(in.args)) {
		return in.usageError("")
	}
	return run(in)
}

// A command is one subcommand: how it is called and what it does.
type command struct {
	synopsis string     // what follows the command's name in its usage
	summary  string     // one line for the overview
	help     string     // more about the command (may be empty)
	nargs    [2]int     // least and most arguments after the flags (-1: any)
	define   defineFunc // declares its flags on fl, returns what runs it
}

// defineFunc declares a command's flags and returns the function that runs
// it once they are parsed (it reads the flag values it captured).
type defineFunc func(fl *flag.FlagSet) func(in *invocation) int

// commands are dadns's subcommands by name.
var commands map[string]command

func init() {
	commands = map[string]command{
		"serve": {synopsis: "", summary: "run the server (the default command)",
			define: noFlags(serveRun)},
		"check-config": {synopsis: "", summary: "print the effective configuration (secrets masked) and exit",
			define: noFlags(checkConfigRun)},
		"reconcile": {synopsis: "[--dry-run]", summary: "one reconciliation pass against the configured DirectAdmin servers",
			define: reconcileFlags},
		"status": {synopsis: "[--url URL] [--insecure]", summary: "the running server's status (exit 3 unless ok)",
			define: statusFlags},
		"zones": {synopsis: "list [--failing] | show NAME | resync NAME|--all | delete NAME",
			summary: "the running server's zones, through its admin API",
			help:    zonesHelp, nargs: [2]int{1, 2}, define: zonesFlags},
		"import": {synopsis: "directdnsonly [--db PATH | --mysql DSN] | zones DIR [--named-conf FILE]",
			summary: "import zones from directdnsonly's database or a zone directory",
			help:    importHelp, nargs: [2]int{1, 2}, define: importFlags},
		"store": {synopsis: "copy --from sqlite:PATH|mysql:DSN --to sqlite:PATH|mysql:DSN",
			summary: "copy the state into an empty store (one node to a cluster, and back)",
			help:    storeHelp, nargs: [2]int{1, 1}, define: storeFlags},
		"node": {synopsis: "list | forget NAME [--force]",
			summary: "the nodes sharing a MariaDB/Galera store; forget a dead one",
			help:    nodeHelp, nargs: [2]int{1, 2}, define: nodeFlags},
		"version": {summary: "print the version and exit", define: noFlags(versionRun)},
		"help":    {synopsis: "[COMMAND]", summary: "this overview, or a command's usage", nargs: [2]int{0, 1}, define: noFlags(helpRun)},
	}
}

// noFlags is the definition of a command without flags of its own.
func noFlags(run func(in *invocation) int) defineFunc {
	return func(*flag.FlagSet) func(in *invocation) int { return run }
}

// flagSet returns an empty flag set for the command that stays quiet: Main
// prints usage itself, to stdout when asked for, else to stderr.
func (c command) flagSet(name string) *flag.FlagSet {
	fl := flag.NewFlagSet("dadns "+name, flag.ContinueOnError)
	fl.Usage = func() {}
	return fl
}

func (c command) argsOK(n int) bool {
	return n >= c.nargs[0] && (c.nargs[1] < 0 || n <= c.nargs[1])
}

// printUsage writes the command's usage, flags included.
func (c command) printUsage(w io.Writer, name string) {
	fmt.Fprintf(w, "usage: dadns %s %s\n", name, c.synopsis)
	fmt.Fprintf(w, "\n%s\n", c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s", c.help)
	}
	fl := c.flagSet(name)
	c.define(fl)
	fmt.Fprintln(w, "\nflags (before or after the command):")
	fl.SetOutput(w)
	fl.PrintDefaults()
	fmt.Fprintf(w, "  -config FILE\n    \t%s\n  -help\n    \tthis help\n", configHelp)
}

const configHelp = "configuration file (default: app.yml in /etc/directdnsonly, ., ./config)"

// usage is the overview of every command.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: dadns [--config FILE] [command [args]]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(commandOrder(a), commandOrder(b)) })
	for _, n := range names {
		fmt.Fprintf(&b, "  %-13s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(&b, "\nflags:\n  --config FILE  %s\n  --help         this overview; `dadns COMMAND --help` for a command\n", configHelp)
	return b.String()
}

// commandOrder lists serve first, help last, the rest by name.
func commandOrder(n string) string {
	switch n {
	case "serve":
		return "0"
	case "help":
		return "2"
	}
	return "1" + n
}

// invocation is one run of a command with its parsed arguments.
type invocation struct {
	ctx            context.Context
	name           string
	cmd            command
	cfgFile        string
	args           []string // the arguments left after the flags
	stdout, stderr io.Writer
}

// config loads the configuration; on failure it says why and returns nil.
func (in *invocation) config() *config.Config {
	cfg, err := config.Load(config.LoadOptions{File: in.cfgFile})
	if err != nil {
		fmt.Fprintf(in.stderr, "dadns: %v\n", err)
		return nil
	}
	return cfg
}

// usageError reports a misuse (why, if given) and the command's usage; 2.
func (in *invocation) usageError(why string) int {
	switch {
	case why != "":
	case len(in.args) < in.cmd.nargs[0]:
		why = "missing arguments"
	default:
		why = fmt.Sprintf("unexpected arguments %q", in.args)
	}
	fmt.Fprintf(in.stderr, "dadns %s: %s\n\n", in.name, why)
	in.cmd.printUsage(in.stderr, in.name)
	return 2
}

func serveRun(in *invocation) int {
	cfg := in.config()
	if cfg == nil {
		return 1
	}
	if err := Serve(in.ctx, cfg, in.stdout, in.stderr); err != nil {
		fmt.Fprintf(in.stderr, "dadns: %v\n", err)
		return 1
	}
	return 0
}

func checkConfigRun(in *invocation) int {
	cfg := in.config()
	if cfg == nil {
		return 1
	}
	fmt.Fprint(in.stdout, cfg.Redacted())
	return 0
}

func versionRun(in *invocation) int {
	fmt.Fprintf(in.stdout, "dadns %s\n", Version)
	return 0
}

func helpRun(in *invocation) int {
	if len(in.args) == 0 {
		fmt.Fprint(in.stdout, usage())
		return 0
	}
	c, ok := commands[in.args[0]]
	if !ok {
		return in.usageError(fmt.Sprintf("unknown command %q", in.args[0]))
	}
	c.printUsage(in.stdout, in.args[0])
	return 0
}
