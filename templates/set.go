package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/BurntSushi/toml"
)

// Set is the Telegraf inputs and profiles a fleet can use: the shipped ones and those of the user's own folder
// (telegraf.inputs_dir), which may replace a shipped one only when it says so (overrides_shipped = true).
type Set struct {
	inputs   map[string]*Input
	profiles map[string]Profile
}

// Input is one snippet: a Telegraf TOML template over its declared variables.
type Input struct {
	Name      string
	File      string // where it was read from, for messages: "templates/inputs/nginx.conf" or the user's file
	Doc       string
	Vars      []Var // sorted by name
	Overrides bool  // a user snippet that replaces the shipped one of the same name
	// AgentGroups are groups of the host the agent's user must be in to read what the snippet reads (docker: the
	// daemon's socket); SudoCommands are the absolute commands the snippet runs as root with `sudo -n` (smart:
	// smartctl). Both sorted, declared in NAME.toml; fleetctl grants them on each host using the snippet.
	AgentGroups  []string
	SudoCommands []string
	source       string
	tmpl         *template.Template
}

// Var is one variable an input declares (in NAME.toml beside NAME.conf).
type Var struct {
	Name       string
	Type       VarType
	Default    any // as TOML decoded it; nil without default
	HasDefault bool
	Doc        string
	Line       int // line of its declaration, for messages
}

// VarType is what a variable holds and how it renders into the snippet's TOML.
type VarType string

// The variable types. Every value is rendered as a TOML value of its type, never pasted as text.
const (
	String   VarType = "string"   // a TOML basic string, escaped
	Strings  VarType = "strings"  // an array of strings
	Int      VarType = "int"      // an integer
	Float    VarType = "float"    // a float (an integer is accepted)
	Bool     VarType = "bool"     // true or false
	Duration VarType = "duration" // a duration string Telegraf reads ("10s", "1m30s")
	Secret   VarType = "secret"   // a { env } or { file } reference in the inventory; the file holding it is 0640
)

var varTypes = []VarType{String, Strings, Int, Float, Bool, Duration, Secret}

// Problem is a problem of a snippet, a declaration or a profile, located in its file.
type Problem struct {
	File string
	Line int
	Msg  string
	Fix  string
}

func (p *Problem) Error() string {
	s := p.File
	if p.Line > 0 {
		s += ":" + strconv.Itoa(p.Line)
	}
	s += ": " + p.Msg
	if p.Fix != "" {
		s += " (" + p.Fix + ")"
	}
	return s
}

// Problems is every problem found in a folder of inputs, sorted by file and line.
type Problems []*Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Problem.
func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// groupRE is a portable group name (what useradd and groupadd accept everywhere, at most 32 characters).
var groupRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// commandRE is an absolute command path sudoers can hold as it is: no spaces, and none of its special characters.
var commandRE = regexp.MustCompile(`^(/[A-Za-z0-9._+-]+)+$`)

// Shipped returns the inputs and profiles fleetctl ships.
func Shipped() (*Set, error) {
	s := &Set{inputs: map[string]*Input{}, profiles: map[string]Profile{}}
	var ps Problems
	sub, _ := fs.Sub(files, "inputs")
	s.loadInputs(sub, "templates/inputs", false, &ps)
	psub, _ := fs.Sub(files, "profiles")
	s.loadProfiles(psub, "templates/profiles", false, &ps)
	if len(ps) > 0 {
		return nil, ps
	}
	return s, nil
}

// WithDir returns the set with the inputs of a user's folder added: NAME.conf snippets (with an optional NAME.toml
// declaring their variables) and profiles/NAME.toml. Every problem of the folder is reported, each with its file and
// line; the inputs and profiles that loaded are still in the returned set, so their mentions can be checked too.
// broken names the inputs and profiles that failed to load.
func (s *Set) WithDir(dir string) (out *Set, broken []string, err error) {
	out = &Set{inputs: maps.Clone(s.inputs), profiles: maps.Clone(s.profiles)}
	st, err := os.Stat(dir)
	if err != nil {
		return out, nil, fmt.Errorf("telegraf.inputs_dir: %w", err)
	}
	if !st.IsDir() {
		return out, nil, fmt.Errorf("telegraf.inputs_dir: %s is not a folder", dir)
	}
	var ps Problems
	fsys := os.DirFS(dir)
	broken = out.loadInputs(fsys, dir, true, &ps)
	if pst, err := os.Stat(path.Join(dir, "profiles")); err == nil && pst.IsDir() {
		pfs, _ := fs.Sub(fsys, "profiles")
		broken = append(broken, out.loadProfiles(pfs, path.Join(dir, "profiles"), true, &ps)...)
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool {
			if ps[i].File != ps[j].File {
				return ps[i].File < ps[j].File
			}
			return ps[i].Line < ps[j].Line
		})
		return out, broken, ps
	}
	return out, nil, nil
}

// loadInputs reads every NAME.conf (and NAME.toml) at the root of fsys; it returns the names that failed.
func (s *Set) loadInputs(fsys fs.FS, origin string, user bool, ps *Problems) (broken []string) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		*ps = append(*ps, &Problem{File: origin, Msg: err.Error()})
		return nil
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		name, isConf := strings.CutSuffix(n, ".conf")
		if !isConf {
			decl, isDecl := strings.CutSuffix(n, ".toml")
			if isDecl && !slices.ContainsFunc(ents, func(o fs.DirEntry) bool { return o.Name() == decl+".conf" }) {
				*ps = append(*ps, &Problem{File: path.Join(origin, n), Msg: "declares the variables of a snippet that does not exist",
					Fix: fmt.Sprintf("add %s.conf beside it, or remove it", decl)})
			}
			continue
		}
		file := path.Join(origin, n)
		before := len(*ps)
		in := loadInput(fsys, name, file, path.Join(origin, name+".toml"), ps)
		if in != nil && user {
			if shipped, clash := s.inputs[name]; clash && !in.Overrides {
				*ps = append(*ps, &Problem{File: file, Msg: fmt.Sprintf("input %q is also shipped with fleetctl (%s)", name, shipped.File),
					Fix: fmt.Sprintf("rename it, or write overrides_shipped = true in %s.toml to replace the shipped one", name)})
			} else if !clash && in.Overrides {
				*ps = append(*ps, &Problem{File: path.Join(origin, name+".toml"), Msg: fmt.Sprintf("overrides_shipped = true, but fleetctl ships no input %q", name),
					Fix: "remove overrides_shipped"})
			}
		}
		if len(*ps) > before || in == nil {
			broken = append(broken, name)
			continue
		}
		s.inputs[name] = in
	}
	return broken
}

// declFile is NAME.toml, the declaration of a snippet's variables.
type declFile struct {
	Doc          string                    `toml:"doc"`
	Overrides    bool                      `toml:"overrides_shipped"`
	AgentGroups  []string                  `toml:"agent_groups"`
	SudoCommands []string                  `toml:"sudo_commands"`
	Vars         map[string]toml.Primitive `toml:"vars"`
}

// declKeys is what NAME.toml may hold, for messages.
const declKeys = "the keys are doc, overrides_shipped, agent_groups, sudo_commands and [vars.NAME] with type, default and doc"

type declVar struct {
	Type    string `toml:"type"`
	Default any    `toml:"default"`
	Doc     string `toml:"doc"`
}

func loadInput(fsys fs.FS, name, file, declPath string, ps *Problems) *Input {
	add := func(f string, line int, fix, format string, args ...any) {
		*ps = append(*ps, &Problem{File: f, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix})
	}
	if !nameRE.MatchString(name) {
		add(file, 0, `use lowercase letters, digits, "_" and "-", such as "site_check"`, "%q is not a valid input name", name)
		return nil
	}
	src, err := fs.ReadFile(fsys, name+".conf")
	if err != nil {
		add(file, 0, "", "%v", err)
		return nil
	}
	in := &Input{Name: name, File: file, source: string(src)}
	before := len(*ps)
	if raw, err := fs.ReadFile(fsys, name+".toml"); err == nil {
		var d declFile
		md, err := toml.Decode(string(raw), &d)
		if err != nil {
			add(declPath, tomlErrLine(err), "", "not valid TOML: %v", firstLine(err))
			return nil
		}
		lines := keyLines(string(raw))
		for _, k := range md.Undecoded() {
			if len(k) == 3 && k[0] == "vars" {
				continue // read below, per variable
			}
			add(declPath, lines[k.String()], declKeys, "unknown key %s", k)
		}
		in.Doc, in.Overrides = d.Doc, d.Overrides
		for _, g := range d.AgentGroups {
			if !groupRE.MatchString(g) {
				add(declPath, lines["agent_groups"], `a group name as the host has it: lowercase letters, digits, "_" and "-", such as "docker"`, "agent_groups: %q is not a group name", g)
			} else if !slices.Contains(in.AgentGroups, g) {
				in.AgentGroups = append(in.AgentGroups, g)
			}
		}
		for _, c := range d.SudoCommands {
			if !commandRE.MatchString(c) || path.Clean(c) != c {
				add(declPath, lines["sudo_commands"], `the command's absolute path, without arguments, such as "/usr/sbin/smartctl"`, "sudo_commands: %q is not an absolute command path", c)
			} else if !slices.Contains(in.SudoCommands, c) {
				in.SudoCommands = append(in.SudoCommands, c)
			}
		}
		slices.Sort(in.AgentGroups)
		slices.Sort(in.SudoCommands)
		for _, vn := range slices.Sorted(maps.Keys(d.Vars)) {
			line := lines["vars."+vn]
			var dv declVar
			if err := md.PrimitiveDecode(d.Vars[vn], &dv); err != nil {
				add(declPath, line, "write [vars.NAME] with type, default and doc", "vars.%s: %v", vn, err)
				continue
			}
			if !varNameRE.MatchString(vn) {
				add(declPath, line, `use letters, digits and "_", starting with a letter or "_"`, "%q is not a valid variable name", vn)
				continue
			}
			v := Var{Name: vn, Type: VarType(dv.Type), Doc: dv.Doc, Line: line}
			if !slices.Contains(varTypes, v.Type) {
				add(declPath, line, "one of "+joinTypes(), "vars.%s: type %q is not a variable type", vn, dv.Type)
				continue
			}
			if dv.Default != nil {
				if v.Type == Secret {
					add(declPath, line, "remove the default: a secret comes from the inventory ({ env } or { file })", "vars.%s: a secret cannot have a default", vn)
					continue
				}
				norm, err := v.Check(dv.Default)
				if err != nil {
					add(declPath, line, "", "vars.%s: default: %v", vn, err)
					continue
				}
				v.Default, v.HasDefault = norm, true
			}
			in.Vars = append(in.Vars, v)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		add(declPath, 0, "", "%v", err)
		return nil
	}
	t, err := template.New(file).Option("missingkey=error").Parse(in.source)
	if err != nil {
		add(file, templateErrLine(err), "write Go template actions such as {{ .url }}", "not a valid template: %v", templateErrMsg(err))
		return nil
	}
	in.tmpl = t
	// Every variable the snippet uses must be declared: an undeclared one would have no value and no type.
	declared := map[string]bool{}
	for _, v := range in.Vars {
		declared[v.Name] = true
	}
	for _, u := range usedFields(t) {
		if !declared[u.name] {
			fix := fmt.Sprintf("declare it in %s as [vars.%s] with a type (and a default, or set it in the inventory's input_vars.%s.%s)", path.Base(declPath), u.name, name, u.name)
			add(file, u.line, fix, "variable %q is not declared", u.name)
		}
	}
	if len(*ps) > before {
		return in
	}
	// Render with every variable at its default (or a stand-in of its type) and check the TOML it makes.
	probe := map[string]any{}
	for _, v := range in.Vars {
		switch {
		case v.HasDefault:
			probe[v.Name] = v.Default
		default:
			probe[v.Name] = v.standIn()
		}
	}
	text, err := in.Render(probe, func(string) string { return TOMLString("(secret)") })
	if err != nil {
		add(file, 0, "", "%v", err)
		return in
	}
	if p := CheckSnippet(text); p != nil {
		p.File = file
		*ps = append(*ps, p)
	}
	return in
}

func joinTypes() string {
	var s []string
	for _, t := range varTypes {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

var tomlLineRE = regexp.MustCompile(`^toml: line (\d+)`)

// tomlErrLine is the line of a TOML error: a syntax error's position, or the line a type mismatch names.
func tomlErrLine(err error) int {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return pe.Position.Line
	}
	if m := tomlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

var tmplErrRE = regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)? ?(.*)$`)

func templateErrLine(err error) int {
	if m := tmplErrRE.FindStringSubmatch(firstLine(err)); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func templateErrMsg(err error) string {
	if m := tmplErrRE.FindStringSubmatch(firstLine(err)); m != nil {
		return m[2]
	}
	return firstLine(err)
}

// keyLines maps the dotted table headers and keys of a small TOML file to their lines (for messages only).
func keyLines(src string) map[string]int {
	out := map[string]int{}
	table := ""
	for i, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "["):
			table = strings.Trim(l, "[] ")
			out[table] = i + 1
		case strings.Contains(l, "=") && !strings.HasPrefix(l, "#"):
			k := strings.TrimSpace(l[:strings.Index(l, "=")])
			if table != "" {
				k = table + "." + k
			}
			out[k] = i + 1
		}
	}
	return out
}

type fieldUse struct {
	name string
	line int
}

// usedFields lists the variables a template refers to ({{ .x }}, {{ $.x }}), with their lines.
func usedFields(t *template.Template) []fieldUse {
	var out []fieldUse
	seen := map[string]bool{}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		var walk func(n parse.Node, top bool)
		walk = func(n parse.Node, top bool) {
			if n == nil {
				return
			}
			use := func(name string) {
				if seen[name] {
					return
				}
				seen[name] = true
				loc, _ := tt.ErrorContext(n)
				line := 0
				if parts := strings.Split(loc, ":"); len(parts) >= 3 {
					line, _ = strconv.Atoi(parts[len(parts)-2])
				}
				out = append(out, fieldUse{name, line})
			}
			switch n := n.(type) {
			case *parse.ListNode:
				if n == nil {
					return
				}
				for _, c := range n.Nodes {
					walk(c, top)
				}
			case *parse.ActionNode:
				walk(n.Pipe, top)
			case *parse.PipeNode:
				if n == nil {
					return
				}
				for _, c := range n.Cmds {
					walk(c, top)
				}
			case *parse.CommandNode:
				for _, a := range n.Args {
					walk(a, top)
				}
			case *parse.FieldNode:
				if top {
					use(n.Ident[0])
				}
			case *parse.VariableNode:
				if len(n.Ident) > 1 && n.Ident[0] == "$" {
					use(n.Ident[1])
				}
			case *parse.ChainNode:
				walk(n.Node, top)
			case *parse.IfNode:
				walk(n.Pipe, top)
				walk(n.List, top)
				walk(n.ElseList, top)
			case *parse.RangeNode:
				// Inside range, dot is the element: only $.x refers to variables.
				walk(n.Pipe, top)
				walk(n.List, false)
				walk(n.ElseList, top)
			case *parse.WithNode:
				walk(n.Pipe, top)
				walk(n.List, false)
				walk(n.ElseList, top)
			case *parse.TemplateNode:
				walk(n.Pipe, top)
			}
		}
		walk(tt.Tree.Root, true)
	}
	return out
}

// Check accepts a value for the variable as TOML gives it (string, int64, float64, bool, []any) and returns it
// normalised for rendering; an error says what the type wants.
func (v Var) Check(val any) (any, error) {
	switch v.Type {
	case String:
		if s, ok := val.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("want a string, not %s", typeWord(val))
	case Strings:
		switch l := val.(type) {
		case []any:
			out := make([]string, 0, len(l))
			for _, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("want an array of strings, found %s in it", typeWord(e))
				}
				out = append(out, s)
			}
			return out, nil
		case []string:
			return l, nil
		}
		return nil, fmt.Errorf(`want an array of strings, such as ["a", "b"], not %s`, typeWord(val))
	case Int:
		if n, ok := val.(int64); ok {
			return n, nil
		}
		return nil, fmt.Errorf("want an integer, not %s", typeWord(val))
	case Float:
		switch n := val.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		}
		return nil, fmt.Errorf("want a number, not %s", typeWord(val))
	case Bool:
		if b, ok := val.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("want true or false, not %s", typeWord(val))
	case Duration:
		s, ok := val.(string)
		if !ok {
			return nil, fmt.Errorf(`want a duration string such as "10s", not %s`, typeWord(val))
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, fmt.Errorf(`%q is not a duration: write one such as "10s", "1m30s" or "500ms"`, s)
		}
		return d, nil
	case Secret:
		return nil, fmt.Errorf(`a secret comes from { env = "NAME" } or { file = "path" }, never written in the inventory`)
	}
	return nil, fmt.Errorf("unknown type %q", v.Type)
}

func (v Var) standIn() any {
	switch v.Type {
	case String:
		return "x"
	case Strings:
		return []string{"x"}
	case Int:
		return int64(1)
	case Float:
		return 1.0
	case Bool:
		return true
	case Duration:
		return time.Second
	}
	return nil
}

func typeWord(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("%T", v)
}

// tomlValue is a variable's value as its TOML text: what a snippet prints for {{ .x }}.
type tomlValue string

func (v tomlValue) String() string { return string(v) }

// tomlList is an array variable: {{ .x }} prints the TOML array; {{ range .x }} gives each element as TOML.
type tomlList []tomlValue

func (l tomlList) String() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = string(e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// renderValue turns a checked value into what the template sees.
func renderValue(v any) any {
	switch v := v.(type) {
	case string:
		return tomlValue(TOMLString(v))
	case []string:
		l := make(tomlList, len(v))
		for i, s := range v {
			l[i] = tomlValue(TOMLString(s))
		}
		return l
	case int64:
		return tomlValue(strconv.FormatInt(v, 10))
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return tomlValue(s)
	case bool:
		return tomlValue(strconv.FormatBool(v))
	case time.Duration:
		return tomlValue(TOMLString(FormatDuration(v)))
	}
	return tomlValue(TOMLString(fmt.Sprint(v)))
}

// FormatDuration writes d as Telegraf reads durations, without the zero parts Go's String adds ("1m", not "1m0s").
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	for _, z := range []string{"0s", "0m"} {
		if t, ok := strings.CutSuffix(s, z); ok && t != "" && !strings.HasSuffix(t, ".") && (t[len(t)-1] < '0' || t[len(t)-1] > '9') {
			s = t
		}
	}
	return s
}

// SecretText returns the TOML text a snippet gets for one of its secret variables (given as "input.var").
type SecretText func(key string) string

// Render renders the snippet with checked values (see Var.Check) by variable name; a variable without a value
// takes its default. Secret variables get secret's text instead of a value.
func (in *Input) Render(values map[string]any, secret SecretText) (string, error) {
	data := map[string]any{}
	for _, v := range in.Vars {
		if v.Type == Secret {
			data[v.Name] = tomlValue(secret(in.Name + "." + v.Name))
			continue
		}
		val, ok := values[v.Name]
		if !ok {
			if !v.HasDefault {
				return "", fmt.Errorf("input %s: variable %s has no value and no default", in.Name, v.Name)
			}
			val = v.Default
		}
		data[v.Name] = renderValue(val)
	}
	var b bytes.Buffer
	if err := in.tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render input %s: %w", in.Name, err)
	}
	return b.String(), nil
}

// Var returns the declared variable.
func (in *Input) Var(name string) (Var, bool) {
	for _, v := range in.Vars {
		if v.Name == name {
			return v, true
		}
	}
	return Var{}, false
}

// HasSecret reports whether the snippet declares a secret variable: the file it is rendered into holds a secret.
func (in *Input) HasSecret() bool {
	return slices.ContainsFunc(in.Vars, func(v Var) bool { return v.Type == Secret })
}

// CheckSnippet checks a rendered snippet: TOML holding only Telegraf plugin tables ([[inputs.*]], [[processors.*]],
// [[aggregators.*]]), so a snippet cannot change the agent, its tags or its outputs. The problem's line is in the
// rendered text; File is left for the caller.
func CheckSnippet(text string) *Problem {
	var m map[string]any
	if _, err := toml.Decode(text, &m); err != nil {
		line := 0
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line = pe.Position.Line
		}
		return &Problem{Line: line, Msg: "not valid TOML: " + firstLine(err), Fix: "a snippet is TOML such as [[inputs.NAME]] with its settings; quote strings with {{ .var }}, which renders them quoted"}
	}
	kinds := []string{"inputs", "processors", "aggregators"}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(kinds, k) {
			return &Problem{Line: headerLine(text, k), Msg: fmt.Sprintf("%q is not a Telegraf plugin table", k),
				Fix: "a snippet holds only [[inputs.NAME]], [[processors.NAME]] and [[aggregators.NAME]] tables; global tags and agent settings are the inventory's global_tags and agent keys"}
		}
		plugins, ok := m[k].(map[string]any)
		if !ok {
			return &Problem{Line: headerLine(text, k), Msg: fmt.Sprintf("%q must be a table of plugins", k), Fix: fmt.Sprintf("write [[%s.NAME]]", k)}
		}
		for _, p := range slices.Sorted(maps.Keys(plugins)) {
			if _, ok := plugins[p].([]map[string]any); !ok {
				return &Problem{Line: headerLine(text, k+"."+p), Msg: fmt.Sprintf("%s.%s is not an array of tables", k, p),
					Fix: fmt.Sprintf("write [[%s.%s]] (double brackets)", k, p)}
			}
		}
	}
	return nil
}

// headerLine is the first line mentioning a table name at its start, for messages; 1 when none does.
func headerLine(text, name string) int {
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimLeft(strings.TrimSpace(l), "[")
		if strings.HasPrefix(l, name) {
			return i + 1
		}
	}
	return 1
}

// Names lists the inputs, sorted.
func (s *Set) Names() []string { return slices.Sorted(maps.Keys(s.inputs)) }

// Input returns the named input.
func (s *Set) Input(name string) (*Input, bool) {
	in, ok := s.inputs[name]
	return in, ok
}

// ProfileNames lists the profiles, sorted.
func (s *Set) ProfileNames() []string { return slices.Sorted(maps.Keys(s.profiles)) }

// Profile returns the named profile; an unknown name is an error listing the known ones.
func (s *Set) Profile(name string) (Profile, error) {
	p, ok := s.profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("unknown input profile %q: known profiles are %s", name, strings.Join(s.ProfileNames(), ", "))
	}
	return p, nil
}

// Render renders the inputs file from input names, in the given order, each with its values (by input, then
// variable); secret gives the text of secret variables. Each rendered snippet is checked like a loaded one, so a
// value cannot turn a snippet into something else.
func (s *Set) Render(names []string, values map[string]map[string]any, secret SecretText) (string, error) {
	var snippets []string
	for _, name := range names {
		in, ok := s.inputs[name]
		if !ok {
			return "", fmt.Errorf("unknown telegraf input %q: known inputs are %s", name, strings.Join(s.Names(), ", "))
		}
		text, err := in.Render(values[name], secret)
		if err != nil {
			return "", err
		}
		if p := CheckSnippet(text); p != nil {
			p.File = in.File + " (rendered)"
			return "", p
		}
		snippets = append(snippets, strings.TrimRight(text, "\n"))
	}
	return render("telegraf/inputs.conf.tmpl", struct {
		Inputs   []string
		Snippets []string
	}{names, snippets})
}

// loadProfiles reads every NAME.toml at the root of fsys; it returns the names that failed.
func (s *Set) loadProfiles(fsys fs.FS, origin string, user bool, ps *Problems) (broken []string) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		*ps = append(*ps, &Problem{File: origin, Msg: err.Error()})
		return nil
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".toml")
		if e.IsDir() || !ok || strings.HasPrefix(name, ".") {
			continue
		}
		file := path.Join(origin, e.Name())
		before := len(*ps)
		add := func(line int, fix, format string, args ...any) {
			*ps = append(*ps, &Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix})
		}
		if !nameRE.MatchString(name) {
			add(0, `use lowercase letters, digits, "_" and "-"`, "%q is not a valid profile name", name)
			broken = append(broken, name)
			continue
		}
		raw, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			add(0, "", "%v", err)
			broken = append(broken, name)
			continue
		}
		var p struct {
			Profile
			Overrides bool `toml:"overrides_shipped"`
		}
		p.Name = name
		md, err := toml.Decode(string(raw), &p)
		if err != nil {
			line := 0
			var pe toml.ParseError
			if errors.As(err, &pe) {
				line = pe.Position.Line
			}
			add(line, "", "not valid TOML: %v", firstLine(err))
			broken = append(broken, name)
			continue
		}
		lines := keyLines(string(raw))
		for _, k := range md.Undecoded() {
			add(lines[k.String()], "the keys are description, inputs and overrides_shipped", "unknown key %s", k)
		}
		for _, in := range p.Inputs {
			if _, ok := s.inputs[in]; !ok {
				fix := "known inputs: " + strings.Join(s.Names(), ", ")
				add(lines["inputs"], fix, "unknown telegraf input %q", in)
			}
		}
		if user {
			if _, clash := s.profiles[name]; clash && !p.Overrides {
				add(0, "rename it, or write overrides_shipped = true in it to replace the shipped one", "profile %q is also shipped with fleetctl", name)
			} else if !clash && p.Overrides {
				add(lines["overrides_shipped"], "remove overrides_shipped", "overrides_shipped = true, but fleetctl ships no profile %q", name)
			}
		}
		if len(*ps) > before {
			broken = append(broken, name)
			continue
		}
		s.profiles[name] = p.Profile
	}
	return broken
}
