package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dadns/dadns/internal/activity"
	"github.com/dadns/dadns/internal/api"
	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/reconcile"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// firstRepairAfter is how long the backends' first drift repair waits
// after the workers start, when the builtins have just loaded stored
// zones. Each repair reads every zone its backend holds (all rows of a
// database, every zone file); run by every backend at once right after a
// restart, they took the CPU the freshly loaded builtin needs to answer
// (bench, 10,000 zones, 7 backends: every zone answered 13.0 s after the
// start instead of 3.9 s). Pushes are applied meanwhile as usual; knot's
// start-up resync does at once what its repair would. With no builtin or
// an empty store the first repair comes at once, as before: then it has
// nothing to slow, and later it would land amid the first pushes.
const firstRepairAfter = time.Minute

// Serve runs dadns until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	started := time.Now()
	tuneGC(os.Getenv)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	pass, err := ensurePassword(cfg.App.AuthPassword, cfg.App.AuthUsername, cfg.DataDir, stdout)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, cl := joinCluster(cfg, st)
	if cl != nil {
		go cl.heartbeat(runCtx, log)
	}
	reg := newRegistry()
	// The builtins load the stored zones while the other backends start
	// (startup.go): no other backend's start-up delays their answers.
	builtins, others, load, err := startBackends(runCtx, cfg, st, log)
	if err != nil {
		return err
	}
	defer builtins.close()
	defer others.close()
	defer load.stop() // before the closes: the load uses the builtins
	backends := union(builtins, others)
	if len(backends.byName) == 0 {
		log.Warn("no DNS backend enabled: zones are stored but served nowhere")
	}
	backends.registerMetrics(reg)
	secondaries := backends.registerTransfers(reg, cfg)
	traffic := backends.registerTelemetry(reg)

	// Parsed zones shared by the push and every backend worker (about
	// 3 KB each for a DirectAdmin zone): pushes hand theirs to the
	// workers, and a worker that had to parse one from the store leaves it
	// here for the slower ones; the oldest go first.
	parsed := zone.NewCache(2048)
	backends.setDesired(st, parsed)
	act := activity.New(nil)
	disp := dispatch.New(st, backends.byName, dispatch.Options{Logger: log, Metrics: dispatch.NewMetrics(reg), Parsed: parsed,
		Observe: func(_ string, took time.Duration, applied, failed int) { act.Batch(took, applied, failed) }})
	registerPending(reg, st, disp)
	if cl != nil {
		go cl.watch(runCtx, disp.Notify, log)
	}
	go housekeep(runCtx, st, log)
	popt := push.Options{
		Store:      st,
		MaxZones:   cfg.Limits.MaxZones,
		ZoneLimits: zone.Limits{MaxRecords: cfg.Limits.MaxRecordsPerZone},
		Owners:     ownerAliases(cfg),
		Changed:    func() { disp.Notify(); act.Push() },
		Logger:     log,
		Parsed:     parsed,
	}
	if cl == nil {
		// One node: every change of a zone goes through this process,
		// so its workers get each change handed over in commit order and
		// apply it without reading the store first (dispatch/hint.go).
		popt.Changed, popt.Committed = act.Push, disp.Committed
	}
	svc := push.New(popt)
	rec := startReconciler(runCtx, cfg, st, svc, log, cl)
	registerReconcile(reg, rec)
	srv := api.New(api.Options{
		Store:               st,
		Push:                svc,
		Credentials:         api.Credentials{Username: cfg.App.AuthUsername, Password: pass},
		Admin:               api.Credentials{Username: cfg.App.AdminUsername, Password: cfg.App.AdminPassword},
		MaxBodyBytes:        cfg.App.MaxBodyBytes,
		SubdomainOwnerCheck: cfg.App.CheckSubdomainOwner,
		HealthzPublic:       cfg.App.HealthzPublic,
		ProxySupport:        cfg.App.ProxySupport,
		TrustedProxies:      trustedProxies(cfg),
		Workers:             disp.Statuses,
		Reconciler:          reconcileReport(rec),
		Secondaries:         secondaries,
		Traffic:             traffic,
		Registry:            reg,
		Version:             Version,
		Logger:              log,
		UI: operatorUI(runCtx, cfg, uiDeps{st: st, svc: svc, disp: disp, rec: rec, backends: backends, act: act, started: started,
			secondaries: secondaries},
			log),
		Cluster: clusterStatus(cl),
	})
	// Pushes are taken and /readyz answers 503 (no worker running yet)
	// while the stored zones are loaded; DNS answers only once they are
	// all in, then the workers start.
	web, err := startHTTP(runCtx, cfg, srv.Handler(), log)
	if err != nil {
		return err
	}
	held, err := load.wait()
	if err != nil {
		if ctx.Err() != nil {
			err = nil // asked to stop while loading
		}
		cancel()
		return errors.Join(err, web.wait(runCtx))
	}
	if held > 0 {
		disp.DelayFirstRepair(firstRepairAfter)
	}
	if err := disp.Start(runCtx); err != nil {
		cancel()
		return errors.Join(err, web.wait(runCtx))
	}
	err = web.wait(runCtx)
	cancel()
	disp.Wait()
	log.Info("dadns stopped")
	return err
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// registerPending exposes, per backend, the zones it has not applied yet;
// read from the store at scrape time.
func registerPending(reg *prometheus.Registry, st store.Store, disp *dispatch.Dispatcher) {
	for _, w := range disp.Workers() {
		name := w.Name()
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "dadns_backend_zones_pending", Help: "Zone changes a backend has not applied yet (pending or awaiting retry).",
			ConstLabels: prometheus.Labels{"backend": name},
		}, func() float64 {
			a, d, err := st.Pending(context.Background(), name)
			if err != nil {
				return -1
			}
			return float64(a + d)
		}))
	}
}

func trustedProxies(cfg *config.Config) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range cfg.App.TrustedProxies {
		if pfx, err := config.ParseProxy(p); err == nil { // validated at load
			out = append(out, pfx)
		}
	}
	return out
}

// webServer is the running HTTP server.
type webServer struct {
	hs   *http.Server
	errc chan error
}

// startHTTP listens on the configured address and serves in the
// background until ctx ends.
func startHTTP(ctx context.Context, cfg *config.Config, h http.Handler, log *slog.Logger) (*webServer, error) {
	addr := net.JoinHostPort(cfg.App.ListenAddress, strconv.Itoa(cfg.App.ListenPort))
	hs := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: time.Duration(cfg.App.ReadHeaderTimeoutSeconds) * time.Second,
		ReadTimeout:       time.Duration(cfg.App.ReadTimeoutSeconds) * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	var certs *certReloader
	if cfg.App.SSLEnable {
		var err error
		if certs, err = newCertReloader(cfg.App.SSLCert, cfg.App.SSLKey, log); err != nil {
			return nil, err
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate}
	}
	go reloadOnHangup(ctx, certs, log)
	ln, err := listenHTTP(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("http listen: %w", err)
	}
	w := &webServer{hs: hs, errc: make(chan error, 1)}
	go func() {
		if hs.TLSConfig != nil {
			w.errc <- hs.ServeTLS(ln, "", "")
		} else {
			w.errc <- hs.Serve(ln)
		}
	}()
	log.Info("DirectAdmin API listening", "addr", ln.Addr().String(), "tls", cfg.App.SSLEnable)
	return w, nil
}

// listenHTTP listens for the API. Its connections get no TCP keep-alive:
// the server's read, write and idle timeouts (all required) end every
// connection whose peer went silent, and DirectAdmin opens a connection
// per request, which the keep-alive options cost four setsockopt(2)
// calls each.
func listenHTTP(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(ctx, "tcp", addr)
}

// wait blocks until ctx ends (then shuts the server down gracefully) or
// the server fails.
func (w *webServer) wait(ctx context.Context) error {
	select {
	case err := <-w.errc:
		return fmt.Errorf("http serve: %w", err)
	case <-ctx.Done():
	}
	shCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := w.hs.Shutdown(shCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// reloadOnHangup reloads the certificate on every SIGHUP until ctx ends.
// Without TLS there is nothing to reload, but SIGHUP (sent by service
// managers and log rotation) must still not stop the process.
func reloadOnHangup(ctx context.Context, certs *certReloader, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if certs == nil {
				log.Info("SIGHUP: nothing to reload (TLS is off)")
				continue
			}
			if err := certs.Reload(); err != nil {
				log.Warn("SIGHUP: certificate not reloaded; keeping the previous one", "err", err)
			} else {
				log.Info("SIGHUP: certificate reloaded", "file", certs.certFile)
			}
		}
	}
}

// reconcileReport returns the status endpoint's view of the last pass.
func reconcileReport(rec *reconcile.Reconciler) func() any {
	return func() any {
		if rec == nil {
			return map[string]any{"enabled": false}
		}
		return rec.Last()
	}
}

// registerReconcile exposes the time of the last pass that completed with
// every DirectAdmin server answering.
func registerReconcile(reg *prometheus.Registry, rec *reconcile.Reconciler) {
	if rec == nil {
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dadns_reconcile_last_success_timestamp_seconds",
		Help: "Unix time of the last reconciliation pass in which every DirectAdmin server answered completely.",
	}, lastSuccess(rec.Last)))
}

// lastSuccess remembers the finish time of the latest complete pass it has
// seen, so a failed pass does not reset the gauge.
func lastSuccess(last func() reconcile.Report) func() float64 {
	var mu sync.Mutex
	var best time.Time
	return func() float64 {
		r := last()
		mu.Lock()
		defer mu.Unlock()
		if !r.Finished.IsZero() && r.Unreachable == 0 && r.Error == "" && r.Finished.After(best) {
			best = r.Finished
		}
		if best.IsZero() {
			return 0
		}
		return float64(best.Unix())
	}
}
