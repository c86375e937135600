package alertpacks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// shipped holds the packs fleetctl ships; it is the package's only global, read-only.
//
//go:embed packs
var shipped embed.FS

// validItemName: a pack or alert name ends up in a Kapacitor task id (<server>-<alert>) and in file names, and the
// inventory refers to packs by name, so both follow the inventory's rule for item names:
// ^[a-z0-9][a-z0-9_-]{0,62}$.
func validItemName(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '_' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validVarName: a variable is named in the inventory and inside ${...}, so it is an identifier:
// ^[A-Za-z_][A-Za-z0-9_]*$.
func validVarName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Reserved placeholder names: filled by the renderer, never declared by a pack.
const (
	phHandlers        = "handlers"
	phDatabase        = "database"
	phRetentionPolicy = "retention_policy"
	phHost            = "reported_hostname"
)

func reserved(name string) bool {
	switch name {
	case phHandlers, phDatabase, phRetentionPolicy, phHost:
		return true
	}
	return false
}

// VarType is the TICK type a variable renders as.
type VarType string

const (
	// Number accepts integers and floats and renders them as given (80, 85.5): thresholds compared with float
	// fields work either way, and a user writing 85 or 85.5 means what they wrote.
	Number VarType = "number"
	// Int accepts whole numbers only (a float without fraction, as JSON decodes numbers, is fine).
	Int VarType = "int"
	// Float always renders with a decimal point, for arguments Kapacitor requires to be float (deadman's
	// threshold).
	Float VarType = "float"
	// String renders as a single-quoted TICK string literal.
	String VarType = "string"
	// Duration accepts a TICK duration literal ("15m", "2d") or a Go duration ("1h30m") and renders a TICK
	// duration literal.
	Duration VarType = "duration"
	// Regex accepts a Go regular expression (Kapacitor uses Go's regexp) and renders a /regex/ literal.
	Regex VarType = "regex"
)

func (t VarType) valid() bool {
	switch t {
	case Number, Int, Float, String, Duration, Regex:
		return true
	}
	return false
}

// Var is one variable a pack declares.
type Var struct {
	Name    string
	Type    VarType
	Default any    // as pack.toml has it: int64, float64 or string
	Doc     string // one line
}

// Template is one .tick file of a pack; it renders into one task per server.
type Template struct {
	File   string // "cpu.tick"
	Alert  string // "cpu": the task id is <server>-<alert>
	Source string

	// check verifies once what holds for every rendering of the template (where $reported_hostname may appear,
	// that it parses); see Template.checkStructure.
	checkOnce sync.Once
	checkErr  error
}

// Pack is one alert pack.
type Pack struct {
	Name      string
	Doc       string
	Origin    string // where it was loaded from, for messages: "shipped" or a directory
	Vars      []Var  // sorted by name
	Templates []*Template
}

// Var returns the declared variable name.
func (p *Pack) Var(name string) (Var, bool) {
	for _, v := range p.Vars {
		if v.Name == name {
			return v, true
		}
	}
	return Var{}, false
}

// Set is a collection of packs with unique pack, alert and variable names.
type Set struct {
	packs []*Pack // sorted by name
}

// Packs returns the packs sorted by name.
func (s *Set) Packs() []*Pack { return append([]*Pack(nil), s.packs...) }

// Names returns the pack names, sorted.
func (s *Set) Names() []string {
	out := make([]string, len(s.packs))
	for i, p := range s.packs {
		out[i] = p.Name
	}
	return out
}

// Pack returns the pack called name.
func (s *Set) Pack(name string) (*Pack, bool) {
	for _, p := range s.packs {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Shipped returns the packs fleetctl ships (cpu, deadman, disk, load, memory, swap).
func Shipped() (*Set, error) {
	sub, err := fs.Sub(shipped, "packs")
	if err != nil {
		return nil, fmt.Errorf("shipped alert packs: %w", err)
	}
	return LoadFS(sub, "shipped")
}

// LoadDir loads a team's own packs from dir: one subdirectory per pack, same layout as the shipped ones.
func LoadDir(dir string) (*Set, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load alert packs: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("load alert packs: %s is not a directory", dir)
	}
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS loads every pack directory at the root of fsys; origin names fsys in messages. Files at the root and
// directories starting with "." are skipped (a README, .git). Every problem found is reported, not only the first.
func LoadFS(fsys fs.FS, origin string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("load alert packs from %s: %w", origin, err)
	}
	var packs []*Pack
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p, err := loadPack(fsys, e.Name(), origin)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		packs = append(packs, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(packs) == 0 {
		return nil, fmt.Errorf("load alert packs from %s: no pack directories (each pack is a directory with pack.toml and .tick files)", origin)
	}
	return newSet(packs)
}

// Merge combines sets, for example the shipped packs and a team's own. A pack name, alert name or variable used
// twice is an error: the inventory could not say which one it means.
func Merge(sets ...*Set) (*Set, error) {
	var all []*Pack
	for _, s := range sets {
		if s != nil {
			all = append(all, s.packs...)
		}
	}
	return newSet(all)
}

func newSet(packs []*Pack) (*Set, error) {
	sort.SliceStable(packs, func(i, j int) bool { return packs[i].Name < packs[j].Name })
	var errs []error
	byName := map[string]*Pack{}
	alerts := map[string]*Pack{}
	vars := map[string]*Pack{}
	for _, p := range packs {
		if o, dup := byName[p.Name]; dup {
			errs = append(errs, fmt.Errorf("alert pack %q is defined twice (%s and %s)", p.Name, o.Origin, p.Origin))
			continue
		}
		byName[p.Name] = p
		for _, t := range p.Templates {
			if o, dup := alerts[t.Alert]; dup {
				errs = append(errs, fmt.Errorf("alert %q is defined by packs %q and %q: both would create the task <server>-%s", t.Alert, o.Name, p.Name, t.Alert))
				continue
			}
			alerts[t.Alert] = p
		}
		for _, v := range p.Vars {
			if o, dup := vars[v.Name]; dup {
				errs = append(errs, fmt.Errorf("variable %s is declared by packs %q and %q: variables share one namespace in the inventory", v.Name, o.Name, p.Name))
				continue
			}
			vars[v.Name] = p
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Set{packs: packs}, nil
}

// packFile is pack.toml.
type packFile struct {
	Doc  string             `toml:"doc"`
	Vars map[string]varFile `toml:"vars"`
}

type varFile struct {
	Type    string `toml:"type"`
	Default any    `toml:"default"`
	Doc     string `toml:"doc"`
}

func loadPack(fsys fs.FS, name, origin string) (*Pack, error) {
	where := path.Join(origin, name)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("alert pack %q (%s): %s", name, where, fmt.Sprintf(format, args...))
	}
	if !validItemName(name) {
		return nil, fail("invalid pack name: use lowercase letters, digits, '-' and '_', starting with a letter or digit (it becomes part of task ids)")
	}
	raw, err := fs.ReadFile(fsys, path.Join(name, "pack.toml"))
	if err != nil {
		return nil, fail("read pack.toml: %v", err)
	}
	var pf packFile
	md, err := toml.Decode(string(raw), &pf)
	if err != nil {
		return nil, fail("pack.toml: %v", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fail("pack.toml: unknown keys %s (allowed: doc, vars.<name>.type, .default, .doc)", strings.Join(keys, ", "))
	}
	p := &Pack{Name: name, Doc: strings.TrimSpace(pf.Doc), Origin: origin}
	var errs []error
	if err := checkDoc(p.Doc); err != nil {
		errs = append(errs, fail("pack.toml: doc: %v", err))
	}
	for vn, vf := range pf.Vars {
		v, err := newVar(vn, vf)
		if err != nil {
			errs = append(errs, fail("pack.toml: vars.%s: %v", vn, err))
			continue
		}
		p.Vars = append(p.Vars, v)
	}
	sort.Slice(p.Vars, func(i, j int) bool { return p.Vars[i].Name < p.Vars[j].Name })

	files, err := fs.ReadDir(fsys, name)
	if err != nil {
		return nil, fail("%v", err)
	}
	used := map[string]bool{}
	for _, f := range files {
		if f.IsDir() || !strings.HasSuffix(f.Name(), ".tick") {
			continue
		}
		alert := strings.TrimSuffix(f.Name(), ".tick")
		if !validItemName(alert) {
			errs = append(errs, fail("%s: invalid alert name %q: use lowercase letters, digits, '-' and '_' (it becomes the task id suffix)", f.Name(), alert))
			continue
		}
		src, err := fs.ReadFile(fsys, path.Join(name, f.Name()))
		if err != nil {
			errs = append(errs, fail("%v", err))
			continue
		}
		t := &Template{File: f.Name(), Alert: alert, Source: strings.ReplaceAll(string(src), "\r\n", "\n")}
		if err := t.checkPlaceholders(p, used); err != nil {
			errs = append(errs, fail("%v", err))
			continue
		}
		p.Templates = append(p.Templates, t)
	}
	if len(p.Templates) == 0 && len(errs) == 0 {
		errs = append(errs, fail("no .tick templates"))
	}
	// Unused variables are only worth reporting when the templates were all read: a template that failed its
	// placeholder check did not record what it uses.
	complete := len(errs) == 0
	for _, v := range p.Vars {
		if complete && !used[v.Name] {
			errs = append(errs, fail("variable %s is declared in pack.toml but no template uses ${%s}", v.Name, v.Name))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func newVar(name string, vf varFile) (Var, error) {
	if !validVarName(name) {
		return Var{}, errors.New("invalid variable name: use letters, digits and '_', not starting with a digit")
	}
	if reserved(name) {
		return Var{}, fmt.Errorf("%s is reserved: the renderer fills ${%s} itself", name, name)
	}
	doc := strings.TrimSpace(vf.Doc)
	if err := checkDoc(doc); err != nil {
		return Var{}, fmt.Errorf("doc: %w", err)
	}
	if vf.Default == nil {
		return Var{}, errors.New("no default: every variable needs one, so a host without settings still gets a working alert")
	}
	typ := VarType(vf.Type)
	if typ == "" {
		switch vf.Default.(type) {
		case int64:
			typ = Number
		case float64:
			typ = Float
		case string:
			typ = String
		default:
			return Var{}, fmt.Errorf("cannot infer a type from default %v (%T): set type", vf.Default, vf.Default)
		}
	}
	if !typ.valid() {
		return Var{}, fmt.Errorf("unknown type %q (use number, int, float, string, duration or regex)", vf.Type)
	}
	v := Var{Name: name, Type: typ, Default: vf.Default, Doc: doc}
	if _, err := literal(typ, vf.Default); err != nil {
		return Var{}, fmt.Errorf("default: %w", err)
	}
	return v, nil
}

func checkDoc(doc string) error {
	if doc == "" {
		return errors.New("missing: say in one line what it is")
	}
	if strings.ContainsAny(doc, "\r\n") {
		return errors.New("must be one line")
	}
	return nil
}
