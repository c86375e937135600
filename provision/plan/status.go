package plan

import "time"

// Health states of a host in a status report, from best to worst.
const (
	Reporting   = "reporting"   // points newer than the stale window, and every check passed
	Failing     = "failing"     // reporting, but a check failed: the agent, a task, the datasource
	Stale       = "stale"       // its newest point is older than the stale window
	Silent      = "silent"      // no point at all in its database
	Unreachable = "unreachable" // SSH could not reach it (its server side is still reported)
)

// HostStatus is what `fleetctl status` found for one host.
type HostStatus struct {
	Host     string
	State    string   // one of Reporting, Failing, Stale, Silent, Unreachable
	Problems []string // every reason the host is not Reporting, in check order; empty when it is
	Database string
	// Agent is the service's state as the host's service manager says ("active", "inactive", "failed"…);
	// empty when the host was not asked (--no-ssh, or unreachable).
	Agent string
	// LastPoint is the time of the newest point the host's agent wrote to its database; zero when there is none.
	LastPoint time.Time
	// Age is how old LastPoint was when the status was taken.
	Age        time.Duration
	Tasks      []TaskStatus
	Alerts     []AlertStatus
	Datasource DatasourceStatus
	// Error is why the host could not be reached over SSH.
	Error string
}

// TaskStatus is one of the host's Kapacitor tasks.
type TaskStatus struct {
	Name      string
	Status    string // "enabled", "disabled", or "missing" when Kapacitor has no such task
	Executing bool
	Error     string
}

// AlertStatus is one alert event currently not OK on a topic the host's tasks publish to.
type AlertStatus struct {
	Topic   string
	ID      string
	Level   string // WARNING, CRITICAL, INFO
	Message string
	Since   time.Time
}

// DatasourceStatus is Grafana's verdict on the host's datasource.
type DatasourceStatus struct {
	UID     string
	Health  string // "OK", "ERROR", or "missing"
	Message string
}

// Status is one `fleetctl status`: every selected host, in inventory order.
type Status struct {
	Taken      time.Time
	StaleAfter time.Duration
	SSH        bool // the hosts were asked over SSH (false with --no-ssh)
	Hosts      []HostStatus
}

// Healthy reports whether every host is reporting with every check passed.
func (s *Status) Healthy() bool {
	for _, h := range s.Hosts {
		if h.State != Reporting {
			return false
		}
	}
	return true
}

// Counts is how many hosts are in each state.
func (s *Status) Counts() map[string]int {
	out := map[string]int{Reporting: 0, Failing: 0, Stale: 0, Silent: 0, Unreachable: 0}
	for _, h := range s.Hosts {
		out[h.State]++
	}
	return out
}
