package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fleetctl/fleetctl/provision/engine"
)

// progress shows hosts finishing: a status line redrawn in place on a terminal, one plain line per host otherwise
// (logs, CI). It writes to stderr so stdout stays the plan and the report.
type progress struct {
	w        io.Writer
	terminal bool
	mu       sync.Mutex
	drawn    bool
}

func (p *progress) onHost(ev engine.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		eta := ""
		if d := ev.ETA(); d > 0 {
			eta = ", ETA " + d.Round(time.Second).String()
		}
		verb := "planning"
		if ev.Phase == "apply" {
			verb = "applying"
		}
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d/%s done, %d changed, %d failed, %s elapsed%s", verb, ev.Done, count(ev.Total, "host"), ev.Changed, ev.Failed,
			ev.Elapsed.Round(time.Second), eta)
		p.drawn = true
		return
	}
	h := ev.Host
	switch {
	case h.Error != "":
		fmt.Fprintf(p.w, "%s %s: failed after %s: %s\n", ev.Phase, h.Host, h.Duration.Round(time.Millisecond), oneLine(h.Error))
	case ev.Phase == "apply":
		fmt.Fprintf(p.w, "apply %s: %d changed in %s [%d/%d]\n", h.Host, len(h.Applied), h.Duration.Round(time.Millisecond), ev.Done, ev.Total)
	default:
		fmt.Fprintf(p.w, "plan %s: read in %s [%d/%d]\n", h.Host, h.Duration.Round(time.Millisecond), ev.Done, ev.Total)
	}
}

// onBatch says on stderr which hosts a batch of a rollout applies, when it starts.
func (p *progress) onBatch(n, of int, hosts []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
	fmt.Fprintf(p.w, "batch %d/%d: %d %s: %s\n", n, of, len(hosts), plural(len(hosts), "host", "hosts"), strings.Join(hosts, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// end finishes the status line so later output starts on a clean line.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
