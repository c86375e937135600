package templates

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

//go:embed telegraf/*.tmpl inputs/*.conf profiles/*.toml
var files embed.FS

// DefaultProfile is the profile of a host that names none.
const DefaultProfile = "base"

// Profile is a named set of inputs, shipped in profiles/NAME.toml.
type Profile struct {
	Name        string
	Description string   `toml:"description"`
	Inputs      []string `toml:"inputs"`
}

// Profiles lists the shipped profiles, sorted by name.
func Profiles() []Profile {
	ents, _ := fs.ReadDir(files, "profiles")
	var out []Profile
	for _, e := range ents {
		p, err := LoadProfile(strings.TrimSuffix(e.Name(), ".toml"))
		if err == nil {
			out = append(out, p)
		}
	}
	return out
}

// LoadProfile returns a shipped profile; an unknown name is an error listing the known ones.
func LoadProfile(name string) (Profile, error) {
	b, err := files.ReadFile("profiles/" + name + ".toml")
	if err != nil {
		var names []string
		ents, _ := fs.ReadDir(files, "profiles")
		for _, e := range ents {
			names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
		}
		return Profile{}, fmt.Errorf("unknown input profile %q: known profiles are %s", name, strings.Join(names, ", "))
	}
	p := Profile{Name: name}
	md, err := toml.Decode(string(b), &p)
	if err != nil {
		return Profile{}, fmt.Errorf("profile %s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Profile{}, fmt.Errorf("profile %s: unknown key %s", name, und[0])
	}
	for _, in := range p.Inputs {
		if !slices.Contains(KnownInputs(), in) {
			return Profile{}, fmt.Errorf("profile %s: unknown telegraf input %q", name, in)
		}
	}
	return p, nil
}

// DefaultInputs is the default profile's input list.
func DefaultInputs() []string {
	p, err := LoadProfile(DefaultProfile)
	if err != nil {
		panic("templates: the default profile does not load: " + err.Error())
	}
	return p.Inputs
}

// KnownInputs lists every input plugin snippet shipped, sorted.
func KnownInputs() []string {
	ents, _ := fs.ReadDir(files, "inputs")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".conf"))
	}
	sort.Strings(out)
	return out
}

// Agent is what the agent file needs.
type Agent struct {
	Hostname      string
	Interval      string
	FlushInterval string
	GlobalTags    map[string]string
}

// Outputs is what the outputs file needs. Password is the only secret (or a reference to it, "@{store:key}");
// callers mask it in anything they show.
type Outputs struct {
	InfluxURL       string
	Database        string
	RetentionPolicy string
	Username        string
	Password        string
	// SecretStore, when set, is the id of a systemd secret store (Telegraf's [[secretstores.systemd]]) the file
	// declares, for the password's reference.
	SecretStore string
}

// RenderAgent renders telegraf.conf.
func RenderAgent(a Agent) (string, error) {
	if a.Interval == "" {
		a.Interval = "10s"
	}
	if a.FlushInterval == "" {
		a.FlushInterval = a.Interval
	}
	return render("telegraf/telegraf.conf.tmpl", a)
}

// RenderOutputs renders the outputs file.
func RenderOutputs(o Outputs) (string, error) { return render("telegraf/outputs.conf.tmpl", o) }

// RenderInputs renders the inputs file from input names, in the given order. An unknown name is an error listing
// the known ones.
func RenderInputs(inputs []string) (string, error) {
	var snippets []string
	for _, name := range inputs {
		b, err := files.ReadFile("inputs/" + name + ".conf")
		if err != nil {
			return "", fmt.Errorf("unknown telegraf input %q: known inputs are %s", name, strings.Join(KnownInputs(), ", "))
		}
		snippets = append(snippets, strings.TrimRight(string(b), "\n"))
	}
	return render("telegraf/inputs.conf.tmpl", struct {
		Inputs   []string
		Snippets []string
	}{inputs, snippets})
}

// ResolveInputs applies drops and adds to a base list: drops first, then adds not already present, in order.
func ResolveInputs(base, add, drop []string) []string {
	var out []string
	for _, in := range base {
		if !slices.Contains(drop, in) && !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	for _, in := range add {
		if !slices.Contains(drop, in) && !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	return out
}

func render(name string, data any) (string, error) {
	src, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(template.FuncMap{
		"toml": TOMLString,
		"join": strings.Join,
	}).Parse(string(src))
	if err != nil {
		return "", fmt.Errorf("parse template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render template %s: %w", name, err)
	}
	return b.String(), nil
}

// TOMLString returns s as a TOML basic string, escaping what TOML requires. Invalid UTF-8 is replaced, since a
// TOML file must be valid UTF-8 and Telegraf would refuse it.
func TOMLString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, string(utf8.RuneError)) {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
