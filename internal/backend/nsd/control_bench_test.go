package nsd

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/nsdtest"
	"github.com/dadns/dadns/internal/testutil/procstat"
)

// BenchmarkControl measures one control command ("status", and "reload
// ZONE" of an unchanged zone among 50) against a real NSD whose remote
// control is TLS with nsd-control-setup's keys: spoken natively, and by
// running nsd-control; and on a local socket natively for comparison.
// Reported: wall time per command (ns/op), CPU per command of this
// process (dadns's side), of the nsd-control processes it ran, and of
// NSD (every process of its tree).
//
//	go test -run '^$' -bench Control -benchtime 200x ./internal/backend/nsd/
func BenchmarkControl(b *testing.B) {
	for _, cmd := range []string{"status", "reload"} {
		for _, way := range []string{"tls-native", "tls-nsd-control", "socket-native"} {
			b.Run(cmd+"/"+way, func(b *testing.B) {
				// Over TLS with nsd-control-setup's keys (RSA 3072), an
				// operator's; DADNS_NSD_BENCH_KEYS=ecdsa for MakeKeys'.
				tls := way != "socket-native"
				r := startRigWith(b, false, nsdtest.Options{TLS: tls, SetupKeys: tls && os.Getenv("DADNS_NSD_BENCH_KEYS") != "ecdsa"})
				opt := r.options(ModeAddZone, false)
				switch way {
				case "tls-nsd-control":
					opt.Control = Control{Path: "/usr/sbin/nsd-control", Conf: r.nsd.Conf, Exec: true}
				default:
					opt.Control = Control{Path: "/nonexistent/nsd-control", Conf: r.nsd.Conf}
				}
				opt.Logger = slog.New(slog.DiscardHandler)
				be, err := New(opt)
				if err != nil {
					b.Fatal(err)
				}
				ctx := b.Context()
				zs := zones(b, "bench", 50, 1)
				if err := be.Apply(ctx, zs); err != nil {
					b.Fatal(err)
				}
				mustVerify(b, be, zs[:1])
				time.Sleep(500 * time.Millisecond) // let NSD's loading settle
				before, nsd0 := usage(b), treeCPU(b, r.nsd.PID())
				b.ResetTimer()
				for i := range b.N {
					var err error
					if cmd == "status" {
						err = be.ctl.status(ctx)
					} else {
						err = be.ctl.run(ctx, "reload", string(zs[i%len(zs)].Name))
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				after, nsd1 := usage(b), treeCPU(b, r.nsd.PID())
				n := float64(b.N)
				b.ReportMetric(float64(after.self-before.self)/n, "self-cpu-ns/op")
				b.ReportMetric(float64(after.children-before.children)/n, "nsd-control-cpu-ns/op")
				b.ReportMetric(float64(nsd1-nsd0)/n, "nsd-cpu-ns/op")
			})
		}
	}
}

type rusage struct{ self, children time.Duration }

func usage(b *testing.B) rusage {
	self, children, err := procstat.Own()
	if err != nil {
		b.Fatal(err)
	}
	return rusage{self, children}
}

// treeCPU is the CPU time of pid and its descendants, with the children
// they waited for.
func treeCPU(b *testing.B, pid int) time.Duration {
	all := procstat.All()
	in := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for _, s := range all {
			if !in[s.PID] && in[s.PPID] {
				in[s.PID], changed = true, true
			}
		}
	}
	var d time.Duration
	for _, s := range all {
		if in[s.PID] {
			d += s.Self + s.Children
		}
	}
	return d
}
