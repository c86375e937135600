package provision

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/plan/planfile"
)

// SavePlan writes the run's plan to path for a later `apply FILE` (see planfile.New and planfile.Write), with
// every secret the session knows masked. It returns the hosts left out because they could not be planned; a plan
// in which no host could be planned is not saved.
func (s *Session) SavePlan(path string, p *plan.Plan, limit []string) ([]planfile.LeftOutHost, error) {
	f, err := planfile.New(s.Inventory.File, p, limit)
	if err != nil {
		if f != nil {
			return f.LeftOut, fmt.Errorf("save plan %s: %w", path, err)
		}
		return nil, err
	}
	if d := s.destroy; d != nil {
		f.Options.Destroy = &planfile.DestroyOptions{DeleteData: d.DeleteData, PurgeAgent: d.PurgeAgent}
	}
	if err := planfile.Write(path, f, func(w io.Writer) io.Writer { return s.MaskWriter(w) }); err != nil {
		return f.LeftOut, fmt.Errorf("save plan %s: %w", path, err)
	}
	return f.LeftOut, nil
}

// Keep narrows the session to the named hosts (a saved plan's), keeping the session's order. A name the selection
// does not hold is an error.
func (s *Session) Keep(names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var kept []catalog.Host
	for _, h := range s.Hosts {
		if want[h.Name] {
			kept = append(kept, h)
			delete(want, h.Name)
		}
	}
	if len(want) > 0 {
		var missing []string
		for n := range want {
			missing = append(missing, n)
		}
		sort.Strings(missing)
		return fmt.Errorf("%s: no longer selected: %s", s.Inventory.File, strings.Join(missing, ", "))
	}
	s.Hosts = kept
	return nil
}
