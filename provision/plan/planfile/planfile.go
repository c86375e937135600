package planfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Version is the version of the saved plan file format. Version 1 (a string, "1") recorded --limit but not
// --only, and gave a side effect the address of its resource; this fleetctl refuses such files.
const Version = 2

// Options are the options that shaped a saved plan; `apply FILE` plans again with exactly these.
type Options struct {
	Limit []string `json:"limit"` // --limit: host globs and groups; empty: every host
	Only  []string `json:"only"`  // --only: change address globs; empty: every change
	// Destroy is set for a plan of `fleetctl destroy`, with its --delete-data and --purge-agent.
	Destroy *DestroyOptions `json:"destroy,omitempty"`
}

// DestroyOptions are a destroy's options. A saved destroy plan that deletes data was confirmed when it was made.
type DestroyOptions struct {
	DeleteData bool `json:"delete_data"`
	PurgeAgent bool `json:"purge_agent"`
}

// LeftOutHost is a host the selection held that could not be planned: a saved plan does not cover it.
type LeftOutHost struct {
	Host  string `json:"host"`
	Error string `json:"error"`
}

// File is what `plan --out` writes and `apply FILE` carries out: the plan, and what it was made from. It holds
// no secret: changes carry masked texts and digests of non-secret state only.
type File struct {
	FormatVersion   int     `json:"format_version"`
	Inventory       string  `json:"inventory"`        // absolute path
	InventoryDigest string  `json:"inventory_digest"` // sha256 of the inventory file
	Options         Options `json:"options"`
	// LeftOut are the selected hosts that could not be planned; the plan covers the others only.
	LeftOut []LeftOutHost `json:"left_out"`
	Plan    *plan.Plan    `json:"plan"`
}

// Hosts names the hosts the saved plan covers, in plan order.
func (f *File) Hosts() []string {
	names := make([]string, len(f.Plan.Hosts))
	for i, h := range f.Plan.Hosts {
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

// New makes the file of a plan of the given inventory, recording the options that shaped it (the --only
// selection is the plan's own). Hosts that could not be planned are left out of it and listed as such. A plan in
// which no host could be planned is an error (its LeftOut still listed).
func New(inventory string, p *plan.Plan, limit []string) (*File, error) {
	abs, err := filepath.Abs(inventory)
	if err != nil {
		return nil, err
	}
	d, err := fileDigest(abs)
	if err != nil {
		return nil, err
	}
	f := &File{FormatVersion: Version, Inventory: abs, InventoryDigest: d,
		Options: Options{Limit: nonNil(limit), Only: nonNil(p.Only)}, LeftOut: []LeftOutHost{}}
	planned := *p
	planned.Hosts = nil
	for _, h := range p.Hosts {
		if h.Error != "" {
			f.LeftOut = append(f.LeftOut, LeftOutHost{Host: h.Host, Error: h.Error})
			continue
		}
		planned.Hosts = append(planned.Hosts, h)
	}
	if len(planned.Hosts) == 0 {
		return f, errors.New("nothing saved: no host could be planned")
	}
	f.Plan = &planned
	return f, nil
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// Write writes the file to path, through wrap (a secret masker; nil: none).
//
// The file is written under a new name of its own in the same folder (created exclusively, mode 0600) and renamed
// over path, so a link planted at path or beside it is replaced, never followed, and a reader sees the old plan or
// the new one, never a part.
func Write(path string, f *File, wrap func(io.Writer) io.Writer) error {
	return writeFileAtomic(path, func(w io.Writer) error {
		if wrap != nil {
			w = wrap(w)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	})
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

// Load reads a saved plan and checks the inventory it was made from is unchanged.
func Load(path string) (*File, error) {
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
	if v := string(probe.FormatVersion); v != fmt.Sprint(Version) {
		return nil, fmt.Errorf("saved plan %s: format version %s, this fleetctl reads %d: make a new plan with `fleetctl plan --out %s`",
			path, v, Version, path)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("saved plan %s: %w", path, err)
	}
	if f.Plan == nil {
		return nil, fmt.Errorf("saved plan %s: no plan in the file", path)
	}
	d, err := fileDigest(f.Inventory)
	if err != nil {
		return nil, err
	}
	if d != f.InventoryDigest {
		return nil, fmt.Errorf("saved plan is stale: %s changed since the plan was made; make a new plan", f.Inventory)
	}
	return &f, nil
}

// Mismatch is one way the current state differs from a saved plan.
type Mismatch struct {
	Host, Address, Why string
}

func (m Mismatch) String() string { return m.Address + ": " + m.Why }

// ErrStale means the world moved on since a saved plan was made.
var ErrStale = errors.New("saved plan is stale")
