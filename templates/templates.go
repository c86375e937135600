package templates

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"unicode/utf8"
)

//go:embed telegraf/*.tmpl inputs/*.conf inputs/*.toml profiles/*.toml
var files embed.FS

// DefaultProfile is the profile of a host that names none.
const DefaultProfile = "base"

// Profile is a named set of inputs, shipped in profiles/NAME.toml (or the user's inputs_dir/profiles/NAME.toml).
type Profile struct {
	Name        string
	Description string   `toml:"description"`
	Inputs      []string `toml:"inputs"`
}

func shipped() *Set {
	s, err := Shipped()
	if err != nil {
		panic("templates: the shipped inputs do not load: " + err.Error())
	}
	return s
}

// Profiles lists the shipped profiles, sorted by name.
func Profiles() []Profile {
	s := shipped()
	var out []Profile
	for _, n := range s.ProfileNames() {
		p, _ := s.Profile(n)
		out = append(out, p)
	}
	return out
}

// LoadProfile returns a shipped profile; an unknown name is an error listing the known ones.
func LoadProfile(name string) (Profile, error) { return shipped().Profile(name) }

// DefaultInputs is the default profile's input list.
func DefaultInputs() []string {
	p, err := LoadProfile(DefaultProfile)
	if err != nil {
		panic("templates: the default profile does not load: " + err.Error())
	}
	return p.Inputs
}

// KnownInputs lists every input plugin snippet shipped, sorted.
func KnownInputs() []string { return shipped().Names() }

// Agent is what the agent file needs. Durations are Telegraf duration strings; an empty one or a zero number takes
// the default shown in the inventory's FORMAT.md.
type Agent struct {
	Hostname          string
	Interval          string // default "10s"
	FlushInterval     string // default Interval
	CollectionJitter  string // default "0s"
	FlushJitter       string // default "0s"
	MetricBatchSize   int    // default 1000
	MetricBufferLimit int    // default 10000
	GlobalTags        map[string]string
}

// Outputs is what the outputs file needs. Password is the only secret (or a reference to it, "@{store:key}");
// callers mask it in anything they show.
type Outputs struct {
	InfluxURL       string
	Database        string
	RetentionPolicy string
	Username        string
	Password        string
	TLSCA           string // path of the CA certificate the agent trusts for InfluxURL; "" for the system's roots
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
	if a.CollectionJitter == "" {
		a.CollectionJitter = "0s"
	}
	if a.FlushJitter == "" {
		a.FlushJitter = "0s"
	}
	if a.MetricBatchSize == 0 {
		a.MetricBatchSize = 1000
	}
	if a.MetricBufferLimit == 0 {
		a.MetricBufferLimit = 10000
	}
	return render("telegraf/telegraf.conf.tmpl", a)
}

// RenderOutputs renders the outputs file.
func RenderOutputs(o Outputs) (string, error) { return render("telegraf/outputs.conf.tmpl", o) }

// RenderInputs renders the inputs file from shipped input names at their defaults, in the given order. An unknown
// name is an error listing the known ones.
func RenderInputs(inputs []string) (string, error) {
	return shipped().Render(inputs, nil, func(string) string { return TOMLString("(secret)") })
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
		"toml":    TOMLString,
		"tomlKey": TOMLKey,
		"join":    strings.Join,
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

// TOMLKey returns k as a TOML key: bare when TOML allows it, else quoted.
func TOMLKey(k string) string {
	if k != "" && strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == "" {
		return k
	}
	return TOMLString(k)
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
