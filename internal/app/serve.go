package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/dadns/dadns/internal/api"
	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/zone"
)

// Serve runs dadns until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	pass, err := ensurePassword(cfg.App.AuthPassword, cfg.App.AuthUsername, cfg.DataDir, stdout)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DBPath(), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	backends, err := buildBackends(runCtx, cfg, log)
	if err != nil {
		return err
	}
	defer backends.close()

	disp := dispatch.New(st, backends.byName, dispatch.Options{Logger: log})
	if err := disp.Start(runCtx); err != nil {
		return err
	}
	go housekeep(runCtx, st, log)
	svc := push.New(push.Options{
		Store:      st,
		MaxZones:   cfg.Limits.MaxZones,
		ZoneLimits: zone.Limits{MaxRecords: cfg.Limits.MaxRecordsPerZone},
		Owners:     push.NewOwners(cfg.App.OwnerAliases),
		Changed:    disp.Notify,
		Logger:     log,
	})
	startReconciler(runCtx, cfg, st, svc, log)
	srv := api.New(api.Options{
		Store:               st,
		Push:                svc,
		Credentials:         api.Credentials{Username: cfg.App.AuthUsername, Password: pass},
		MaxBodyBytes:        cfg.App.MaxBodyBytes,
		SubdomainOwnerCheck: cfg.App.CheckSubdomainOwner,
		Logger:              log,
	})
	err = serveHTTP(runCtx, cfg, srv.Handler(), log)
	cancel()
	disp.Wait()
	log.Info("dadns stopped")
	return err
}

// serveHTTP listens on the configured address until ctx ends.
func serveHTTP(ctx context.Context, cfg *config.Config, h http.Handler, log *slog.Logger) error {
	addr := net.JoinHostPort(cfg.App.ListenAddress, strconv.Itoa(cfg.App.ListenPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.App.SSLEnable {
			errc <- hs.ServeTLS(ln, cfg.App.SSLCert, cfg.App.SSLKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	log.Info("DirectAdmin API listening", "addr", ln.Addr().String(), "tls", cfg.App.SSLEnable)
	select {
	case err := <-errc:
		return fmt.Errorf("http serve: %w", err)
	case <-ctx.Done():
	}
	shCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
