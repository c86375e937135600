package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// SavedPlanVersion is the version of the saved plan file format.
const SavedPlanVersion = "1"

// SavedPlan is what `plan --out` writes and `apply FILE` carries out: the plan, and what it was made from. It holds
// no secret: changes carry masked texts and digests of non-secret state only.
type SavedPlan struct {
	FormatVersion   string     `json:"format_version"`
	Inventory       string     `json:"inventory"`        // absolute path
	InventoryDigest string     `json:"inventory_digest"` // sha256 of the inventory file
	Limit           []string   `json:"limit,omitempty"`
	Plan            *plan.Plan `json:"plan"`
}

func fileDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read inventory: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Save writes the run's plan for a later `apply FILE`.
func (s *Session) Save(w io.Writer, p *plan.Plan, limit []string) error {
	abs, err := filepath.Abs(s.Inventory.File)
	if err != nil {
		return err
	}
	d, err := fileDigest(abs)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(SavedPlan{FormatVersion: SavedPlanVersion, Inventory: abs, InventoryDigest: d, Limit: limit, Plan: p})
}

// LoadSaved reads a saved plan and checks the inventory it was made from is unchanged.
func LoadSaved(path string) (*SavedPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read saved plan: %w", err)
	}
	var sp SavedPlan
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, fmt.Errorf("saved plan %s: %w", path, err)
	}
	if sp.FormatVersion != SavedPlanVersion || sp.Plan == nil {
		return nil, fmt.Errorf("saved plan %s: format version %q, this fleetctl reads %q", path, sp.FormatVersion, SavedPlanVersion)
	}
	d, err := fileDigest(sp.Inventory)
	if err != nil {
		return nil, err
	}
	if d != sp.InventoryDigest {
		return nil, fmt.Errorf("saved plan is stale: %s changed since the plan was made; make a new plan", sp.Inventory)
	}
	return &sp, nil
}

// Mismatch is one way the current state differs from a saved plan.
type Mismatch struct {
	Host, Address, Why string
}

func (m Mismatch) String() string { return m.Address + ": " + m.Why }

// ErrStalePlan means the world moved on since a saved plan was made.
var ErrStalePlan = errors.New("saved plan is stale")

// CompareSaved lists every difference between a saved plan and a fresh plan of the same hosts: a host planned
// then and not now (or failing now), a change that appeared, disappeared or changed action, and any resource whose
// read state moved on, even one planned as no change.
func CompareSaved(saved, fresh *plan.Plan) []Mismatch {
	type key struct{ addr, action string }
	index := func(p *plan.Plan) (map[string]map[key]plan.Change, map[string]string) {
		hosts, errs := map[string]map[key]plan.Change{}, map[string]string{}
		for _, h := range p.Hosts {
			m := map[key]plan.Change{}
			for _, c := range h.Changes {
				m[key{c.Address, string(c.Action)}] = c
			}
			hosts[h.Host], errs[h.Host] = m, h.Error
		}
		return hosts, errs
	}
	was, wasErr := index(saved)
	now, nowErr := index(fresh)
	var out []Mismatch
	for host, changes := range was {
		if wasErr[host] != "" {
			out = append(out, Mismatch{host, host, "could not be planned when the plan was made"})
			continue
		}
		cur, ok := now[host]
		switch {
		case !ok:
			out = append(out, Mismatch{host, host, "not in the current selection"})
			continue
		case nowErr[host] != "":
			out = append(out, Mismatch{host, host, "cannot be planned now: " + nowErr[host]})
			continue
		}
		for k, c := range changes {
			n, ok := cur[k]
			switch {
			case !ok:
				out = append(out, Mismatch{host, k.addr, fmt.Sprintf("planned %s, no longer needed or needs something else now", k.action)})
			case n.ReadDigest != c.ReadDigest:
				out = append(out, Mismatch{host, k.addr, "changed since the plan was made"})
			}
		}
		for k := range cur {
			if _, ok := changes[k]; !ok {
				out = append(out, Mismatch{host, k.addr, fmt.Sprintf("now needs %s, which the plan does not have", k.action)})
			}
		}
	}
	for host := range now {
		if _, ok := was[host]; !ok {
			out = append(out, Mismatch{host, host, "not in the saved plan"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address+out[i].Why < out[j].Address+out[j].Why })
	return out
}
