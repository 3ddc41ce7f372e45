package faults

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// BuildExample builds the example daemon (./examples/simple) into dir with `go build` and returns
// the binary's path.
func BuildExample(dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "simple")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/simple")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./examples/simple: %v\n%s", err, out)
	}
	return bin, nil
}

// Child is a child process whose stdout is read line by line.
type Child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once stdout hit EOF and the process was reaped
	err  error         // cmd.Wait's error
}

// StartChild starts bin with args and extra environment; every stdout line goes to onLine (on one
// goroutine, in order); stderr is appended to stderrPath.
func StartChild(bin string, args, env []string, stderrPath string, onLine func(string)) (*Child, error) {
	errf, err := os.OpenFile(stderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = errf
	out, err := cmd.StdoutPipe()
	if err != nil {
		errf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		errf.Close()
		return nil, err
	}
	c := &Child{cmd: cmd, done: make(chan struct{})}
	go func() {
		s := bufio.NewScanner(out)
		s.Buffer(make([]byte, 64*1024), 1<<20)
		for s.Scan() {
			onLine(s.Text())
		}
		c.err = cmd.Wait()
		errf.Close()
		close(c.done)
	}()
	return c, nil
}

// PID is the child's process id.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// Done is closed when the child has exited and its output was read.
func (c *Child) Done() <-chan struct{} { return c.done }

// ExitCode is the exit code after Done (-1 when killed by a signal).
func (c *Child) ExitCode() int { return c.cmd.ProcessState.ExitCode() }

// Signaled reports the signal that killed the child, if any (after Done).
func (c *Child) Signaled() (syscall.Signal, bool) {
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

// Kill sends SIGKILL (kill -9) and waits for the child to be reaped.
func (c *Child) Kill() error {
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-c.done
	return nil
}

// Terminate sends SIGTERM and waits up to within for the child to exit; it returns how long the
// exit took. After within it kills the child and returns an error.
func (c *Child) Terminate(within time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-c.done:
		return time.Since(start), nil
	case <-time.After(within):
		_ = c.Kill()
		return time.Since(start), fmt.Errorf("child did not exit within %s of SIGTERM; killed", within)
	}
}
