package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"time"

	"github.com/fleetctl/fleetctl/provision/remote"
)

// RunLock is apply's lock on each host, so that one run at a time applies to a host: it is taken on the host as
// soon as the run has connected to it, before the host is read, and held until the run ends, so the plan, the
// host's changes and its server-side writes (InfluxDB, Grafana, Kapacitor) all happen under it. A second run waits
// up to Wait for it, then fails naming the holder (user, machine, pid, since when).
type RunLock struct {
	Holder remote.LockHolder
	Wait   time.Duration
}

// DefaultLockWait is how long apply waits for another run's lock on a host unless told otherwise.
const DefaultLockWait = 10 * time.Second

// NewRunLock describes this run as a lock holder, waiting up to wait for another run.
func NewRunLock(wait time.Duration, getenv func(string) string, now time.Time) *RunLock {
	who := getenv("USER")
	if who == "" {
		if u, err := user.Current(); err == nil {
			who = u.Username
		}
	}
	if by := getenv("SUDO_USER"); by != "" && by != who {
		who = fmt.Sprintf("%s (sudo from %s)", who, by)
	}
	machine, _ := os.Hostname()
	return &RunLock{Holder: remote.LockHolder{User: who, Machine: machine, PID: os.Getpid(), Since: now}, Wait: wait}
}

func (l *RunLock) take(ctx context.Context, conn *remote.Conn, log *slog.Logger) (*remote.Lock, error) {
	return conn.Lock(ctx, l.Holder, l.Wait, func(heldBy string) {
		log.Warn(fmt.Sprintf("%s: another run holds the host, waiting up to %s for it: %s", conn.Host, l.Wait, heldBy))
	})
}
