package plan

import (
	"sort"
	"strings"
	"time"
)

// HostOutcome is what applying one host did.
type HostOutcome struct {
	Host     string        `json:"host"`
	Applied  []Change      `json:"applied"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// SSHSessions is how many remote commands (SSH sessions, each at least one round trip) the host cost, reads
	// and writes together; Uploads counts sftp file uploads.
	SSHSessions int64 `json:"ssh_sessions"`
	Uploads     int64 `json:"uploads"`
	// Skipped says why the host was never started (the canary failed, the failure budget ran out, Ctrl-C).
	Skipped string `json:"skipped,omitempty"`
	// HostSkipped says why only the host's servers' side was applied (it was unreachable); empty: the whole host.
	HostSkipped string `json:"host_skipped,omitempty"`
}

// Outcome is what an apply did, host by host.
type Outcome struct {
	Hosts      []HostOutcome `json:"hosts"`
	StopReason string        `json:"stop_reason,omitempty"` // why hosts were left unstarted, if any were
}

// Skipped lists the hosts never started.
func (o *Outcome) Skipped() []HostOutcome {
	return o.where(func(h HostOutcome) bool { return h.Skipped != "" })
}

// Failed lists the hosts that failed to plan or apply.
func (o *Outcome) Failed() []HostOutcome {
	return o.where(func(h HostOutcome) bool { return h.Error != "" })
}

func (o *Outcome) where(keep func(HostOutcome) bool) []HostOutcome {
	var out []HostOutcome
	for _, h := range o.Hosts {
		if keep(h) {
			out = append(out, h)
		}
	}
	return out
}

// Divergence is a planned change that was not applied, or an applied change that was not planned.
type Divergence struct {
	Host    string `json:"host"`
	Address string `json:"address"`
	Planned string `json:"planned,omitempty"`
	Applied string `json:"applied,omitempty"`
}

// Divergences compares what was planned for each host with what was applied, host by host in plan order.
func Divergences(p *Plan, hosts []HostOutcome) []Divergence {
	var out []Divergence
	applied := map[string]map[string]Action{}
	for _, h := range hosts {
		m := map[string]Action{}
		for _, c := range h.Applied {
			m[c.Address+"\x00"+string(c.Action)] = c.Action
		}
		applied[h.Host] = m
	}
	planned := p.Hosts
	if p.Prune && len(p.Orphans) > 0 {
		// Pruned orphans are reported as one more "host", named as their changes are.
		planned = append(planned[:len(planned):len(planned)], HostPlan{Host: p.Orphans[0].Host, Changes: p.Orphans})
	}
	for _, hp := range planned {
		got := applied[hp.Host]
		for _, c := range hp.Pending() {
			key := c.Address + "\x00" + string(c.Action)
			if _, ok := got[key]; ok {
				delete(got, key)
				continue
			}
			out = append(out, Divergence{Host: hp.Host, Address: c.Address, Planned: string(c.Action)})
		}
	}
	for _, h := range hosts {
		keys := make([]string, 0, len(applied[h.Host]))
		for key := range applied[h.Host] {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			addr, _, _ := strings.Cut(key, "\x00")
			out = append(out, Divergence{Host: h.Host, Address: addr, Applied: string(applied[h.Host][key])})
		}
	}
	return out
}
