package plan

import (
	"sort"
	"time"
)

// Action is what applying a Change does to its resource.
type Action string

const (
	// NoOp means the resource already matches; such changes are kept only to count what was checked.
	NoOp   Action = "no-op"
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
	// Restart and Reload are side effects of other changes (an agent restart, a Kapacitor task reload).
	Restart Action = "restart"
	Reload  Action = "reload"
	// Report marks something fleetctl noticed but never touches (an unmanaged file in a managed directory).
	Report Action = "report"
)

// Changes reports whether the action alters anything.
func (a Action) Changes() bool { return a != NoOp && a != Report }

// Field is one attribute of an API object or resource, before or after.
type Field struct {
	Name      string `json:"name"`
	Before    string `json:"before,omitempty"`
	After     string `json:"after,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"` // Before and After are empty; only the fact of a change is known
}

// IsSideEffect reports whether the action follows from other changes rather than from the resource's own state.
func (a Action) IsSideEffect() bool { return a == Restart || a == Reload }

// Changed reports whether the field differs. A sensitive field is listed only when it changes.
func (f Field) Changed() bool { return f.Sensitive || f.Before != f.After }

// Change is one resource's difference between actual and desired state.
type Change struct {
	// Address names the change uniquely within a run: "HOST/KIND:NAME", for example
	// "web1/file:/etc/telegraf/telegraf.d/fleetctl-outputs.conf" or "web1/kapacitor.task:web1-cpu". A side effect
	// (a restart or reload) has its resource's address with "#restart" or "#reload" appended, so that the update
	// of a task and its reload, or the service's own change and its restart, are told apart.
	Address string `json:"address"`
	Host    string `json:"host"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Action  Action `json:"action"`
	// Fields hold before → after for structured resources; only fields that matter to the diff.
	Fields []Field `json:"fields,omitempty"`
	// BeforeText and AfterText hold file or script contents with secrets masked; renderers show a unified diff.
	BeforeText *string `json:"before_text,omitempty"`
	AfterText  *string `json:"after_text,omitempty"`
	// Reason says why a side effect happens or why something is reported.
	Reason string `json:"reason,omitempty"`
	// ReadDigest fingerprints the actual state this change was computed from, so a saved plan can tell when the
	// resource moved on. It is a hash of non-secret data only.
	ReadDigest string `json:"read_digest,omitempty"`
}

// HostPlan is every change planned for one host, or the error that kept it from being planned.
type HostPlan struct {
	Host    string   `json:"host"`
	Changes []Change `json:"changes"`
	Error   string   `json:"error,omitempty"`
	// Hidden is how many changes that would alter something the plan's Only selection left out on this host.
	Hidden int `json:"hidden,omitempty"`
}

// Counts is the number of changes by action.
type Counts struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Restart int `json:"restart"`
	Reload  int `json:"reload"`
	Report  int `json:"report"`
}

// Total is the number of changes that alter something.
func (c Counts) Total() int { return c.Create + c.Update + c.Delete + c.Restart + c.Reload }

func (c *Counts) add(a Action) {
	switch a {
	case Create:
		c.Create++
	case Update:
		c.Update++
	case Delete:
		c.Delete++
	case Restart:
		c.Restart++
	case Reload:
		c.Reload++
	case Report:
		c.Report++
	}
}

// Counts tallies the host's changes.
func (h HostPlan) Counts() Counts {
	var c Counts
	for _, ch := range h.Changes {
		c.add(ch.Action)
	}
	return c
}

// Pending returns the changes that alter something, in order.
func (h HostPlan) Pending() []Change {
	var out []Change
	for _, ch := range h.Changes {
		if ch.Action.Changes() {
			out = append(out, ch)
		}
	}
	return out
}

// Plan is the whole run's decision.
type Plan struct {
	Created time.Time  `json:"created"`
	Hosts   []HostPlan `json:"hosts"`
	// Only is the selection of changes by address glob the plan was made with (--only); empty: every change.
	Only []string `json:"only,omitempty"`
	// Unmatched lists the Only globs that matched no address on any host that could be planned.
	Unmatched []string `json:"unmatched,omitempty"`
	// Warnings are fleet-wide facts every view of the plan shows (a server whose certificate is not verified).
	Warnings []string `json:"warnings,omitempty"`
}

// Hidden is how many changes that would alter something the Only selection left out, and on how many hosts.
func (p *Plan) Hidden() (changes, hosts int) {
	for _, h := range p.Hosts {
		if h.Hidden > 0 {
			changes += h.Hidden
			hosts++
		}
	}
	return changes, hosts
}

// Sort orders hosts by name; changes keep their apply order.
func (p *Plan) Sort() {
	sort.SliceStable(p.Hosts, func(i, j int) bool { return p.Hosts[i].Host < p.Hosts[j].Host })
}

// Counts tallies every host's changes.
func (p *Plan) Counts() Counts {
	var c Counts
	for _, h := range p.Hosts {
		for _, ch := range h.Changes {
			c.add(ch.Action)
		}
	}
	return c
}

// HostsChanging is the number of hosts with at least one change that alters something.
func (p *Plan) HostsChanging() int {
	n := 0
	for _, h := range p.Hosts {
		if h.Counts().Total() > 0 {
			n++
		}
	}
	return n
}

// Failed returns the hosts that could not be planned.
func (p *Plan) Failed() []HostPlan {
	var out []HostPlan
	for _, h := range p.Hosts {
		if h.Error != "" {
			out = append(out, h)
		}
	}
	return out
}

// Empty reports whether nothing would change and no host failed.
func (p *Plan) Empty() bool { return p.Counts().Total() == 0 && len(p.Failed()) == 0 }
