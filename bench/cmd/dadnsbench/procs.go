package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a server process the bench started, in its own process group
// so that stopping it stops whatever it forked.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // its stdout and stderr
	done chan struct{}
	err  error // what Wait returned; read after done
}

// procSet remembers every started process so that all are stopped on the
// way out, whatever path the bench took.
type procSet struct {
	mu   sync.Mutex
	list []*proc
}

// start runs bin with args, its output going to logPath.
func (s *procSet) start(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("dadnsbench: start %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = env
	// Pdeathsig: the server dies with the bench even if the bench is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("dadnsbench: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	s.mu.Lock()
	s.list = append(s.list, p)
	s.mu.Unlock()
	return p, nil
}

// stopAll stops every process, the last started first.
func (s *procSet) stopAll() {
	s.mu.Lock()
	list := s.list
	s.list = nil
	s.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].stop()
	}
}

// stop asks the process group to terminate, and kills it after 5 s.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL) // also whatever it left behind
	<-p.done
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// alive returns nil while the process runs, else an error carrying the end
// of its log.
func (p *proc) alive() error {
	if !p.exited() {
		return nil
	}
	return fmt.Errorf("dadnsbench: %s exited (%v); last log lines:\n%s", p.name, p.err, p.logTail(15))
}

// logTail returns the last n lines of the process's log.
func (p *proc) logTail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return "    " + strings.Join(lines[max(0, len(lines)-n):], "\n    ")
}

// serverEnv is the environment of started servers: the bench's, without
// DADNS_ overrides that would change the configuration under test.
func serverEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DADNS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// waitControl runs a daemon's control command (argv: its status command)
// until it succeeds, for at most 30 s, or until the daemon (p) exits; what
// names the daemon in the error.
func waitControl(ctx context.Context, p *proc, what string, argv ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		if err == nil {
			return nil
		}
		if dead := p.alive(); dead != nil {
			return dead
		}
		if perr := pause(ctx, 100*time.Millisecond); perr != nil {
			return fmt.Errorf("dadnsbench: %s: %s: %w (last: %v: %.300s)", what, strings.Join(argv, " "), perr, err, out)
		}
	}
}
