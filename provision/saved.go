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
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// SavedPlanVersion is the version of the saved plan file format. Version 1 (a string, "1") recorded --limit but
// not --only, and gave a side effect the address of its resource; this fleetctl refuses such files.
const SavedPlanVersion = 2

// SavedOptions are the options that shaped a saved plan; `apply FILE` plans again with exactly these.
type SavedOptions struct {
	Limit []string `json:"limit"` // --limit: host globs and groups; empty: every host
	Only  []string `json:"only"`  // --only: change address globs; empty: every change
}

// LeftOutHost is a host the selection held that could not be planned: a saved plan does not cover it.
type LeftOutHost struct {
	Host  string `json:"host"`
	Error string `json:"error"`
}

// SavedPlan is what `plan --out` writes and `apply FILE` carries out: the plan, and what it was made from. It holds
// no secret: changes carry masked texts and digests of non-secret state only.
type SavedPlan struct {
	FormatVersion   int          `json:"format_version"`
	Inventory       string       `json:"inventory"`        // absolute path
	InventoryDigest string       `json:"inventory_digest"` // sha256 of the inventory file
	Options         SavedOptions `json:"options"`
	// LeftOut are the selected hosts that could not be planned; the plan covers the others only.
	LeftOut []LeftOutHost `json:"left_out"`
	Plan    *plan.Plan    `json:"plan"`
}

// Hosts names the hosts the saved plan covers, in plan order.
func (sp *SavedPlan) Hosts() []string {
	names := make([]string, len(sp.Plan.Hosts))
	for i, h := range sp.Plan.Hosts {
		names[i] = h.Host
	}
	return names
}

func fileDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read inventory: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// SavePlan writes the run's plan to path for a later `apply FILE`, recording the options that shaped it (the
// --only selection is the plan's own). Hosts that could not be planned are left out of it and listed as such; it
// returns them. A plan in which no host could be planned is not saved.
//
// The file is written under a new name of its own in the same folder (created exclusively, mode 0600) and renamed
// over path, so a link planted at path or beside it is replaced, never followed, and a reader sees the old plan or
// the new one, never a part.
func (s *Session) SavePlan(path string, p *plan.Plan, limit []string) ([]LeftOutHost, error) {
	abs, err := filepath.Abs(s.Inventory.File)
	if err != nil {
		return nil, err
	}
	d, err := fileDigest(abs)
	if err != nil {
		return nil, err
	}
	sp := SavedPlan{FormatVersion: SavedPlanVersion, Inventory: abs, InventoryDigest: d,
		Options: SavedOptions{Limit: nonNil(limit), Only: nonNil(p.Only)}, LeftOut: []LeftOutHost{}}
	planned := *p
	planned.Hosts = nil
	for _, h := range p.Hosts {
		if h.Error != "" {
			sp.LeftOut = append(sp.LeftOut, LeftOutHost{Host: h.Host, Error: h.Error})
			continue
		}
		planned.Hosts = append(planned.Hosts, h)
	}
	if len(planned.Hosts) == 0 {
		return sp.LeftOut, fmt.Errorf("save plan %s: nothing saved: no host could be planned", path)
	}
	sp.Plan = &planned
	err = writeFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(s.MaskWriter(w))
		enc.SetIndent("", "  ")
		return enc.Encode(sp)
	})
	if err != nil {
		return sp.LeftOut, fmt.Errorf("save plan %s: %w", path, err)
	}
	return sp.LeftOut, nil
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// writeFileAtomic writes a file through write into a temporary file of its own beside path (created exclusively,
// mode 0600: never an existing file or a link), then renames it over path.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// LoadSaved reads a saved plan and checks the inventory it was made from is unchanged.
func LoadSaved(path string) (*SavedPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read saved plan: %w", err)
	}
	var probe struct {
		FormatVersion json.RawMessage `json:"format_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("saved plan %s: %w", path, err)
	}
	if v := string(probe.FormatVersion); v != fmt.Sprint(SavedPlanVersion) {
		return nil, fmt.Errorf("saved plan %s: format version %s, this fleetctl reads %d: make a new plan with `fleetctl plan --out %s`",
			path, v, SavedPlanVersion, path)
	}
	var sp SavedPlan
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, fmt.Errorf("saved plan %s: %w", path, err)
	}
	if sp.Plan == nil {
		return nil, fmt.Errorf("saved plan %s: no plan in the file", path)
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

// Keep narrows the session to the named hosts (a saved plan's), keeping the session's order. A name the selection
// does not hold is an error.
func (s *Session) Keep(names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var kept []HostSpec
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

// Mismatch is one way the current state differs from a saved plan.
type Mismatch struct {
	Host, Address, Why string
}

func (m Mismatch) String() string { return m.Address + ": " + m.Why }

// ErrStalePlan means the world moved on since a saved plan was made.
var ErrStalePlan = errors.New("saved plan is stale")

// needs says in words what a resource needs for an action: "now it needs to be created".
func needs(a plan.Action) string {
	switch a {
	case plan.NoOp:
		return "no change"
	case plan.Create, plan.Update, plan.Delete, plan.Report:
		return "to be " + strings.TrimSuffix(string(a), "e") + "ed"
	case plan.Restart, plan.Reload:
		return "a " + string(a)
	}
	return string(a)
}

// does says in words what the saved plan does to a resource: "the saved plan updates it".
func does(a plan.Action) string {
	if a == plan.NoOp {
		return "leaves it unchanged"
	}
	return string(a) + "s it"
}

// CompareSaved lists every difference between a saved plan and a fresh plan of the same hosts made with the same
// options: a host planned then and not now (or failing now), a change that appeared, disappeared or changed action,
// and any resource whose read state moved on, even one planned as no change.
func CompareSaved(saved, fresh *plan.Plan) []Mismatch {
	index := func(p *plan.Plan) (map[string]map[string]plan.Change, map[string]string) {
		hosts, errs := map[string]map[string]plan.Change{}, map[string]string{}
		for _, h := range p.Hosts {
			m := map[string]plan.Change{}
			for _, c := range h.Changes {
				m[c.Address] = c
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
		for addr, c := range changes {
			n, ok := cur[addr]
			switch {
			case !ok:
				out = append(out, Mismatch{host, addr, fmt.Sprintf("the saved plan %s; now nothing is planned for it", does(c.Action))})
			case n.Action != c.Action:
				out = append(out, Mismatch{host, addr, fmt.Sprintf("the saved plan %s; now it needs %s", does(c.Action), needs(n.Action))})
			case n.ReadDigest != c.ReadDigest:
				out = append(out, Mismatch{host, addr, "changed since the plan was made"})
			}
		}
		for addr, n := range cur {
			if _, ok := changes[addr]; ok {
				continue
			}
			if n.Action == plan.NoOp {
				out = append(out, Mismatch{host, addr, "not in the saved plan (now it needs no change)"})
			} else {
				out = append(out, Mismatch{host, addr, fmt.Sprintf("now it needs %s, and the saved plan does not have it", needs(n.Action))})
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
