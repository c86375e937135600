package provision

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
)

// CanaryHosts resolves --canary patterns (the syntax of --limit) to the selected hosts they match, in plan order.
// A pattern that matches nothing, or only hosts outside the selection, is an error.
func (s *Session) CanaryHosts(patterns []string) ([]string, error) {
	matched, err := s.Inventory.Select(patterns)
	if err != nil {
		return nil, fmt.Errorf("--canary: %w", err)
	}
	var out []string
	for _, h := range s.Hosts {
		if slices.ContainsFunc(matched, func(m inventory.Host) bool { return m.Name == h.Name }) {
			out = append(out, h.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--canary %s matches none of the selected hosts (see --limit)", strings.Join(patterns, ","))
	}
	return out, nil
}
