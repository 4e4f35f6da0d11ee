// Command dadnsbench measures dadns on loopback, in one run: DirectAdmin-
// style zone pushes (ack latency, throughput, time until the builtin DNS
// server serves every zone), DNS queries per second of dadns's builtin
// server next to NSD and BIND serving the same zones, their cold-load
// times, and dadns's peak memory and store size. It prints a markdown
// table and writes it to a file. `make bench` runs it (scripts/bench.sh).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	dadnsBin         string
	dnsperfBin       string
	nsdBin           string
	namedBin         string
	namedCheckconf   string
	rndcBin          string
	mariadbdBin      string
	mariaInstallBin  string
	knotdBin         string
	knotcBin         string
	backends         string
	stores           string // datastores of the stores phase
	serving          string // builtin-only dadns variants besides the deployed one
	skip             string // phases left out
	burstRate        int
	burstPushers     int
	floodDuration    time.Duration
	floodClients     int
	floodOutstanding int
	zones            int
	seed             uint64
	pushers          int
	concurrency      string
	latencyPushes    int
	existsEvery      int
	servedSamples    int
	duration         time.Duration
	perfClients      int
	perfThreads      int
	rounds           int
	serverThreads    int
	loadTimeout      time.Duration
	timeout          time.Duration
	out              string
	keep             bool
	combine          string // reports to put side by side instead of running
	phases           string // only these phases (phase_nsdbackend.go); empty for all
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fl := flag.NewFlagSet("dadnsbench", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.dadnsBin, "dadns", "bin/dadns", "dadns binary")
	fl.StringVar(&o.dnsperfBin, "dnsperf", "/usr/bin/dnsperf", "dnsperf binary")
	fl.StringVar(&o.nsdBin, "nsd", "/usr/sbin/nsd", "nsd binary (nsd-checkconf is taken from its directory)")
	fl.StringVar(&o.namedBin, "named", "/usr/sbin/named", "named binary")
	fl.StringVar(&o.namedCheckconf, "named-checkconf", "/usr/bin/named-checkconf", "named-checkconf binary")
	fl.StringVar(&o.rndcBin, "rndc", "/usr/sbin/rndc", "rndc binary (the bind backend runs it)")
	fl.StringVar(&o.mariadbdBin, "mariadbd", "/usr/sbin/mariadbd", "mariadbd binary (the coredns_mysql backends' databases)")
	fl.StringVar(&o.mariaInstallBin, "mariadb-install-db", "/usr/bin/mariadb-install-db", "mariadb-install-db binary")
	fl.StringVar(&o.knotdBin, "knotd", "/usr/sbin/knotd", "knotd binary (the knot backend's server and its cold load)")
	fl.StringVar(&o.knotcBin, "knotc", "/usr/sbin/knotc", "knotc binary (the knot backend runs it for zone-check and when knotd's version is unknown)")
	fl.StringVar(&o.backends, "backends", "bind,coredns_mysql,knot,powerdns", "backends under test besides builtin: bind (with its own named), coredns_mysql (two instances, each with its own mariadbd), knot (with its own knotd), powerdns (two instances, each with its own mariadbd, the first replicated to a third that pdns_server reads); empty for builtin only")
	fl.StringVar(&o.stores, "stores", "sqlite,mariadb,galera", "datastores to load every zone into, each with a fresh dadns (builtin only): sqlite, mariadb (one server), galera (3 nodes on this host); empty for none")
	fl.StringVar(&o.serving, "serving", "v6,lo,rrl,off,wild", "builtin-only dadns processes besides the deployed one (0.0.0.0, shipped defaults), each on a copy of one imported store, measured beside NSD, Knot and BIND: v6 ([::]), lo (127.0.0.1), rrl (RRL accounting every answer), off (RRL and cookies off), wild (0.0.0.0 with its wildcard sockets only)")
	fl.StringVar(&o.skip, "skip", "", "phases to leave out, comma-separated: "+strings.Join(skippable, ", "))
	fl.IntVar(&o.burstRate, "burst-rate", 200, "re-pushes a second during the push-burst QPS runs")
	fl.IntVar(&o.burstPushers, "burst-pushers", 4, "concurrent pushers of the push burst")
	fl.DurationVar(&o.floodDuration, "flood-duration", 10*time.Second, "length of each flood run")
	fl.IntVar(&o.floodClients, "flood-clients", 64, "dnsperf -c of the flood")
	fl.IntVar(&o.floodOutstanding, "flood-outstanding", 10000, "dnsperf -q of the flood (queries outstanding)")
	fl.IntVar(&o.zones, "zones", 10000, "zones to generate and push")
	fl.Uint64Var(&o.seed, "seed", 1, "seed of the zone and query generators")
	fl.IntVar(&o.pushers, "pushers", 16, "concurrent DirectAdmin pushers of the initial load")
	fl.StringVar(&o.concurrency, "concurrency", "1,16,64", "pusher counts of the ack latency runs")
	fl.IntVar(&o.latencyPushes, "latency-pushes", 1000, "requests per ack latency run: re-pushes of loaded zones with new serials, and exists checks")
	fl.IntVar(&o.existsEvery, "exists-every", 4, "every k-th request of a latency run is an exists check (0: none)")
	fl.IntVar(&o.servedSamples, "served-samples", 50, "single-zone changes timed until each backend serves them")
	fl.DurationVar(&o.duration, "duration", 10*time.Second, "dnsperf run time per server, split over the rounds")
	fl.IntVar(&o.rounds, "rounds", 3, "dnsperf rounds; each round runs every server once, in turn")
	fl.IntVar(&o.perfClients, "clients", 8, "dnsperf -c")
	fl.IntVar(&o.perfThreads, "threads", 2, "dnsperf -T")
	fl.IntVar(&o.serverThreads, "server-threads", runtime.NumCPU(), "threads of each server: nsd server-count, named -n, dadns GOMAXPROCS")
	fl.DurationVar(&o.loadTimeout, "load-timeout", 0, "longest wait for a server to serve every zone, or for one load (0: 10 min per 10,000 zones, at least 10 min)")
	fl.DurationVar(&o.timeout, "timeout", 0, "longest the whole run may take (0: 40 min per 10,000 zones, at least 40 min)")
	fl.StringVar(&o.out, "out", "bench/results/latest.md", "file the markdown report is written to")
	fl.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, zone files, logs)")
	fl.StringVar(&o.combine, "combine", "", "instead of running: reports to put side by side (comma-separated, e.g. bench/results/10k.md,bench/results/100k.md), written to -out")
	fl.StringVar(&o.phases, "phases", "", "run only these phases after generating the zones (comma-separated: "+strings.Join(phaseNames, ", ")+"); empty runs every phase")
	if err := fl.Parse(args); err != nil {
		return o, err
	}
	if fl.NArg() > 0 {
		return o, fmt.Errorf("dadnsbench: unexpected arguments: %v", fl.Args())
	}
	if min(o.zones, o.pushers, o.rounds, o.perfClients, o.perfThreads, o.serverThreads, o.latencyPushes, o.servedSamples) < 1 {
		return o, fmt.Errorf("dadnsbench: -zones, -pushers, -rounds, -clients, -threads, -server-threads, -latency-pushes and -served-samples must be at least 1")
	}
	o.scaleTimeouts()
	for k := range o.servingKeys() {
		if !slices.ContainsFunc(servingVariants[1:], func(v servingVariant) bool { return v.key == k }) {
			return o, fmt.Errorf("dadnsbench: -serving: unknown variant %q (v6, lo, rrl, off, wild)", k)
		}
	}
	for k := range o.skipped() {
		if !slices.Contains(skippable, k) {
			return o, fmt.Errorf("dadnsbench: -skip: unknown phase %q (%s)", k, strings.Join(skippable, ", "))
		}
	}
	if min(o.burstRate, o.burstPushers, o.floodClients, o.floodOutstanding) < 1 || o.floodDuration < time.Second {
		return o, fmt.Errorf("dadnsbench: -burst-rate, -burst-pushers, -flood-clients and -flood-outstanding must be at least 1, -flood-duration at least 1s")
	}
	if o.existsEvery < 0 {
		return o, fmt.Errorf("dadnsbench: -exists-every must not be negative")
	}
	if _, err := o.levels(); err != nil {
		return o, err
	}
	if _, err := o.extraBackends(); err != nil {
		return o, err
	}
	if _, err := o.selectedPhases(); err != nil {
		return o, err
	}
	for _, k := range o.storeKinds() {
		if k != "sqlite" && k != "mariadb" && k != "galera" {
			return o, fmt.Errorf("dadnsbench: -stores: unknown store %q (sqlite, mariadb, galera)", k)
		}
	}
	return o, nil
}

// skippable are the phases -skip can leave out.
var skippable = []string{"latency", "served", "secondary", "restart", "burst", "flood", "stores", "bindbackend", "nsdbackend", "knotbackend"}

// skipped parses -skip.
func (o options) skipped() map[string]bool {
	out := map[string]bool{}
	for f := range strings.SplitSeq(o.skip, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out[f] = true
		}
	}
	return out
}

// scaleTimeouts sets the timeouts left at 0 in proportion to -zones:
// loading, pushing and cold loads grow with the zone count.
func (o *options) scaleTimeouts() {
	per := max(1, float64(o.zones)/10000)
	if o.loadTimeout <= 0 {
		o.loadTimeout = time.Duration(per * float64(10*time.Minute))
	}
	if o.timeout <= 0 {
		o.timeout = time.Duration(per * float64(40*time.Minute))
	}
}

// levels parses -concurrency.
func (o options) levels() ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(o.concurrency, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("dadnsbench: -concurrency: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// extraBackends parses -backends.
func (o options) extraBackends() (map[string]bool, error) {
	out := map[string]bool{}
	for f := range strings.SplitSeq(o.backends, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "bind", "coredns_mysql", "knot", "powerdns":
			out[f] = true
		default:
			return nil, fmt.Errorf("dadnsbench: -backends: unknown backend %q (bind, coredns_mysql, knot, powerdns)", f)
		}
	}
	return out, nil
}

func main() {
	opt, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if opt.combine != "" {
		if err := combine(strings.Split(opt.combine, ","), opt.out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, opt)
	stop()
	os.Exit(code)
}

// run measures everything, prints and saves the report, and returns the
// exit code: 1 when anything failed or was refused.
func run(ctx context.Context, opt options) int {
	ctx, cancel := context.WithTimeout(ctx, opt.timeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "dadnsbench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "dadnsbench: %v\n", err)
		return 1
	}
	b := &bench{opt: opt, tmp: tmp, procs: &procSet{}, rep: &report{}}
	defer b.cleanup()
	b.run(ctx)
	b.procs.stopAll()
	if err := ctx.Err(); err != nil {
		b.rep.problem(fmt.Sprintf("run: stopped early: %v", stopCause(ctx, opt.timeout)))
	}
	fmt.Print(b.rep.markdown())
	if err := b.rep.write(opt.out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	slog.Info("report written", "file", opt.out)
	if len(b.rep.problems) > 0 {
		return 1
	}
	return 0
}

// stopCause says why the run's context ended.
func stopCause(ctx context.Context, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("took longer than -timeout %s", timeout)
	}
	return context.Cause(ctx).Error()
}
