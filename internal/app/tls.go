package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves the certificate from files and picks up a renewed
// one without a restart: on SIGHUP (Reload) or when a file's modification
// time changes (checked at most once a second, at handshakes).
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // the files' modification times when loaded
	checked time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// stampOf returns the files' modification times as one string.
func (r *certReloader) stampOf() (string, error) {
	var s string
	for _, f := range []string{r.certFile, r.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		s += st.ModTime().String() + "|" + fmt.Sprint(st.Size()) + ";"
	}
	return s, nil
}

// Reload reads the certificate and key again; on failure the previous
// certificate stays in use.
func (r *certReloader) Reload() error {
	stamp, err := r.stampOf()
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s: %w", r.certFile, err)
	}
	r.mu.Lock()
	r.cert, r.stamp, r.checked = &cert, stamp, time.Now()
	r.mu.Unlock()
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	due := time.Since(r.checked) >= time.Second
	if due {
		r.checked = time.Now()
	}
	stamp := r.stamp
	r.mu.Unlock()
	if due {
		if now, err := r.stampOf(); err == nil && now != stamp {
			if err := r.Reload(); err != nil {
				r.log.Warn("renewed certificate not loaded; keeping the previous one", "err", err)
			} else {
				r.log.Info("certificate reloaded", "file", r.certFile)
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert, nil
}
