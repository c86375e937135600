package alertpacks

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/influxdata/kapacitor/tick/ast"
)

// ParseError is a rendered script Kapacitor's TICK parser refused.
type ParseError struct {
	Pack string
	File string // template file
	Host string
	Line int // line in the template, 0 when the parser did not say
	Err  error

	msg string // the parser's message with its line number translated to the template's
}

func (e *ParseError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	return fmt.Sprintf("alert pack %q: %s: host %q: invalid TICK script: %s", e.Pack, loc, e.Host, e.msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

func newParseError(pack, file, host string, err error, lineMap []int) *ParseError {
	pe := &ParseError{Pack: pack, File: file, Host: host, Err: err, msg: err.Error()}
	start, end, n := parserLine(pe.msg)
	if start < 0 || len(lineMap) == 0 || n < 1 {
		return pe
	}
	if n > len(lineMap) { // at the end of the input
		pe.Line = lineMap[len(lineMap)-1]
	} else {
		pe.Line = lineMap[n-1]
	}
	pe.msg = pe.msg[:start] + strconv.Itoa(pe.Line) + pe.msg[end:]
	return pe
}

// parserLine finds the line number in the parser's messages ("unexpected ... line 12 char 5 in ...") and returns
// its position in msg; start is -1 when there is none.
func parserLine(msg string) (start, end, line int) {
	const key = "line "
	for off := 0; ; {
		i := strings.Index(msg[off:], key)
		if i < 0 {
			return -1, -1, 0
		}
		start = off + i + len(key)
		end = start
		for end < len(msg) && msg[end] >= '0' && msg[end] <= '9' {
			end++
		}
		if end > start && strings.HasPrefix(msg[end:], " char ") {
			n, err := strconv.Atoi(msg[start:end])
			if err == nil {
				return start, end, n
			}
		}
		off = start
	}
}

// Parse parses a TICK script with Kapacitor's own parser. The parser signals errors by panicking and recovers
// them itself, but it re-panics runtime errors; a user's pack must not crash fleetctl, so those become errors too.
func Parse(script string) (ast.Node, error) { return parse(script) }

func parse(script string) (n ast.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("parser failed: %v", r)
		}
	}()
	return ast.Parse(script)
}

// sentinelHost stands in for the server name when checking where $reported_hostname lands.
const sentinelHost = "fleetctlsentinelhost"

// checkStructure verifies, once per template, what must hold for every rendering:
//   - $reported_hostname appears only inside single-quoted string literals, where EscapeString makes any name
//     safe (in code, a comment, a triple-quoted string or a regex a name would need other escaping, or none
//     would do);
//   - the script is a stream task and declares no dbrp (fleetctl sets the server's database and retention policy;
//     Kapacitor refuses both at once);
//   - a template with an alert node has a ${handlers} line, or the inventory's handlers would be dropped silently.
func (t *Template) checkStructure(p *Pack) error {
	t.checkOnce.Do(func() { t.checkErr = t.structure(p) })
	return t.checkErr
}

func (t *Template) structure(p *Pack) error {
	e, err := p.env(Target{Host: sentinelHost, Database: "db"}, nil, Handlers{})
	if err != nil {
		return err
	}
	text, lineMap, err := t.expand(p, e)
	if err != nil {
		return fmt.Errorf("alert pack %q: %w", p.Name, err)
	}
	root, err := parse(text)
	if err != nil {
		return newParseError(p.Name, t.File, sentinelHost, err, lineMap)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("alert pack %q: %s: %s", p.Name, t.File, fmt.Sprintf(format, args...))
	}
	var (
		inStrings, stream, batch, alert int
		dbrp                            bool
	)
	walk(root, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.StringNode:
			if !n.TripleQuotes {
				inStrings += strings.Count(n.Literal, sentinelHost)
			}
		case *ast.DBRPNode:
			dbrp = true
		case *ast.IdentifierNode:
			switch n.Ident {
			case "stream":
				stream++
			case "batch":
				batch++
			}
		case *ast.FunctionNode:
			if n.Type == ast.ChainFunc && (n.Func == "alert" || n.Func == "deadman") {
				alert++
			}
		}
	})
	var errs []error
	if total := strings.Count(text, sentinelHost); total != inStrings {
		errs = append(errs, fail("$reported_hostname may only appear inside single-quoted strings ('$reported_hostname'); found %d of %d uses elsewhere (code, comments, triple-quoted strings or regexes)", total-inStrings, total))
	}
	if dbrp {
		errs = append(errs, fail("declares a dbrp: fleetctl sets the server's database and retention policy on the task"))
	}
	if batch > 0 || stream == 0 {
		errs = append(errs, fail("must be a stream task (start from stream, not batch)"))
	}
	if alert > 0 && !strings.Contains(t.Source, "${"+phHandlers+"}") {
		errs = append(errs, fail("has an alert node but no ${handlers} line: the handlers chosen in the inventory would be ignored"))
	}
	return errors.Join(errs...)
}

// walk calls f for every node of the tree. ast.Walk does not descend into chains and lists, which is where
// nearly everything of a TICK script is.
func walk(n ast.Node, f func(ast.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch n := n.(type) {
	case *ast.ProgramNode:
		for _, c := range n.Nodes {
			walk(c, f)
		}
	case *ast.DeclarationNode:
		walk(n.Left, f)
		walk(n.Right, f)
	case *ast.ChainNode:
		walk(n.Left, f)
		walk(n.Right, f)
	case *ast.FunctionNode:
		for _, c := range n.Args {
			walk(c, f)
		}
	case *ast.LambdaNode:
		walk(n.Expression, f)
	case *ast.BinaryNode:
		walk(n.Left, f)
		walk(n.Right, f)
	case *ast.UnaryNode:
		walk(n.Node, f)
	case *ast.ListNode:
		for _, c := range n.Nodes {
			walk(c, f)
		}
	}
}

// sampleTargets and sampleHandlers are what Validate renders every pack with: a plain name, and one with the
// characters TICK strings make hard, so a template that only works for plain names is caught.
func sampleTargets() []Target {
	return []Target{
		{Host: "sample-host.example.com", Database: "sample_db", RetentionPolicy: "autogen"},
		{Host: `o'brien\x-"quoted"`, Database: "o'db", RetentionPolicy: "one_week"},
	}
}

func sampleHandlers() []Handlers {
	return []Handlers{
		{},
		{LogPath: "/var/log/kapacitor/alerts.log", Email: []string{"ops@example.com", "oncall@example.com"}, Webhook: "https://hooks.example.com/kapacitor?team=ops"},
	}
}

// Validate renders every template of every pack with sample hosts, default variables and with and without
// handlers, and parses each result; it returns every problem found. fleetctl validate runs it on a team's packs.
func (s *Set) Validate() error {
	var errs []error
	for _, p := range s.packs {
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Validate checks one pack as Set.Validate does. Each template reports its first problem only: the same broken
// line would otherwise be reported once per sample.
func (p *Pack) Validate() error {
	var errs []error
	for _, t := range p.Templates {
		if err := p.validateTemplate(t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *Pack) validateTemplate(t *Template) error {
	for _, target := range sampleTargets() {
		for _, h := range sampleHandlers() {
			e, err := p.env(target, nil, h)
			if err == nil {
				_, err = p.renderTemplate(t, e)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// VarPack returns the pack that declares the variable name (variable names are unique within a Set).
func (s *Set) VarPack(name string) (*Pack, bool) {
	for _, p := range s.packs {
		if _, ok := p.Var(name); ok {
			return p, true
		}
	}
	return nil, false
}

// CheckValue says whether value (as the inventory decodes it) is acceptable for the pack's variable name, so that
// validate can point at the line of the value rather than at the host it ends up on.
func (p *Pack) CheckValue(name string, value any) error {
	v, ok := p.Var(name)
	if !ok {
		return fmt.Errorf("alert pack %q declares no variable %s", p.Name, name)
	}
	if _, err := literal(v.Type, value); err != nil {
		return fmt.Errorf("%s (%s, of alert pack %q): %w", name, v.Type, p.Name, err)
	}
	return nil
}

// CheckDir is LoadDir, Merge with base and Validate in one, for `fleetctl validate`: it goes on past every problem
// and returns everything found at once. set holds base and every pack of dir that loaded and does not collide
// with another; broken names every pack directory of dir left out of set (it failed to load, or collides), so a
// caller can tell a mention of a broken pack from a mention of an unknown one. The packs of set that fail to render
// are reported in err but kept, since their names and variables are known. set is nil when dir cannot be read.
func CheckDir(base *Set, dir string) (set *Set, broken []string, err error) {
	var errs []error
	var own []*Pack
	entries, rerr := os.ReadDir(dir)
	if rerr != nil {
		return nil, nil, fmt.Errorf("load alert packs: %w", rerr)
	}
	fsys := os.DirFS(dir)
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p, err := loadPack(fsys, e.Name(), dir)
		if err != nil {
			errs = append(errs, err)
			broken = append(broken, e.Name())
			continue
		}
		own = append(own, p)
	}
	if len(own) == 0 && len(broken) == 0 {
		errs = append(errs, fmt.Errorf("load alert packs from %s: no pack directories (each pack is a directory with pack.toml and .tick files)", dir))
	}
	// Packs colliding with the shipped ones or with each other stay out: which one a mention means is unknown.
	var kept []*Pack
	all := append([]*Pack(nil), base.packs...)
	for _, p := range own {
		if _, err := newSet(append(append([]*Pack(nil), all...), p)); err != nil {
			errs = append(errs, err)
			broken = append(broken, p.Name)
			continue
		}
		all = append(all, p)
		kept = append(kept, p)
	}
	for _, p := range kept {
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	set, serr := newSet(all)
	if serr != nil { // cannot happen: every pack was added only if the set stayed consistent
		return base, broken, errors.Join(append(errs, serr)...)
	}
	return set, broken, errors.Join(errs...)
}
