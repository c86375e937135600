package alertpacks

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"path"
	"sort"
	"strings"
)

// Target is the server a pack is rendered for.
type Target struct {
	Host            string // the inventory name; replaces $reported_hostname
	Database        string // the server's InfluxDB database, for ${database}
	RetentionPolicy string // for ${retention_policy}; "autogen" when empty
}

func (t Target) rp() string {
	if t.RetentionPolicy == "" {
		return "autogen"
	}
	return t.RetentionPolicy
}

// Handlers are the alert handlers the caller chose; each set field adds one handler to every alert node.
type Handlers struct {
	// Topic is the alert topic the alerts are published to (.topic(name)), where the topic's handlers, managed
	// through Kapacitor's API, pick them up; "" publishes to no topic.
	Topic   string
	LogPath string   // .log(path): an absolute path on the Kapacitor server
	Email   []string // .email(addresses...)
	Webhook string   // .post(url)
}

// lines renders the handlers as TICK property calls, in a fixed order so renderings are stable.
func (h Handlers) lines() ([]string, error) {
	var out []string
	if h.Topic != "" {
		q, err := QuoteString(h.Topic)
		if err != nil {
			return nil, fmt.Errorf("topic: %w", err)
		}
		out = append(out, ".topic("+q+")")
	}
	if h.LogPath != "" {
		// Kapacitor refuses relative paths when the task starts; say so before anything is sent.
		if !path.IsAbs(h.LogPath) {
			return nil, fmt.Errorf("log handler: path %q is not absolute (Kapacitor requires an absolute path)", h.LogPath)
		}
		q, err := QuoteString(h.LogPath)
		if err != nil {
			return nil, fmt.Errorf("log handler: %w", err)
		}
		out = append(out, ".log("+q+")")
	}
	if len(h.Email) > 0 {
		args := make([]string, len(h.Email))
		for i, a := range h.Email {
			addr, err := mail.ParseAddress(a)
			if err != nil || addr.Address != a {
				return nil, fmt.Errorf("email handler: %q is not a plain email address", a)
			}
			q, err := QuoteString(a)
			if err != nil {
				return nil, fmt.Errorf("email handler: %w", err)
			}
			args[i] = q
		}
		out = append(out, ".email("+strings.Join(args, ", ")+")")
	}
	if h.Webhook != "" {
		u, err := url.Parse(h.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("webhook handler: %q is not an http or https URL", h.Webhook)
		}
		q, err := QuoteString(h.Webhook)
		if err != nil {
			return nil, fmt.Errorf("webhook handler: %w", err)
		}
		out = append(out, ".post("+q+")")
	}
	return out, nil
}

// Script is one rendered template: the TICK script of one Kapacitor task.
type Script struct {
	Pack  string
	Alert string // task id suffix: the task is <host>-<alert>
	File  string // template file, for messages
	Host  string
	Text  string // the TICK script, ending in a newline
}

// Render renders every template of the pack for target. vars holds the merged variables of the host (defaults →
// groups → host); names the pack does not declare are ignored, since vars covers every pack, but a declared
// variable whose value does not fit its type is an error naming pack and variable. Variables missing from vars
// take the pack's default.
func (p *Pack) Render(target Target, vars map[string]any, h Handlers) ([]Script, error) {
	env, err := p.env(target, vars, h)
	if err != nil {
		return nil, err
	}
	out := make([]Script, 0, len(p.Templates))
	for _, t := range p.Templates {
		s, err := p.renderTemplate(t, env)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Render renders the named packs for target, in the order given. An unknown or repeated pack name is an error.
func (s *Set) Render(packs []string, target Target, vars map[string]any, h Handlers) ([]Script, error) {
	var out []Script
	seen := map[string]bool{}
	for _, name := range packs {
		if seen[name] {
			return nil, fmt.Errorf("alert pack %q listed twice", name)
		}
		seen[name] = true
		p, ok := s.Pack(name)
		if !ok {
			return nil, fmt.Errorf("unknown alert pack %q (known: %s)", name, strings.Join(s.Names(), ", "))
		}
		scripts, err := p.Render(target, vars, h)
		if err != nil {
			return nil, err
		}
		out = append(out, scripts...)
	}
	return out, nil
}

// env is everything a template's placeholders resolve to.
type env struct {
	host     string            // escaped for the inside of a single-quoted string
	rawHost  string            // for messages
	literals map[string]string // ${name} → TICK literal
	handlers []string
}

func (p *Pack) env(target Target, vars map[string]any, h Handlers) (*env, error) {
	fail := func(err error) error { return fmt.Errorf("alert pack %q: host %q: %w", p.Name, target.Host, err) }
	if err := checkHost(target.Host); err != nil {
		return nil, fail(err)
	}
	if target.Database == "" {
		return nil, fail(errors.New("no database"))
	}
	e := &env{rawHost: target.Host, literals: map[string]string{}}
	e.host, _ = EscapeString(target.Host) // checked by checkHost
	var err error
	if e.literals[phDatabase], err = QuoteString(target.Database); err != nil {
		return nil, fail(fmt.Errorf("database: %w", err))
	}
	if e.literals[phRetentionPolicy], err = QuoteString(target.rp()); err != nil {
		return nil, fail(fmt.Errorf("retention policy: %w", err))
	}
	if e.handlers, err = h.lines(); err != nil {
		return nil, fail(err)
	}
	for _, v := range p.Vars {
		value, set := vars[v.Name]
		if !set || value == nil {
			value = v.Default
		}
		lit, err := literal(v.Type, value)
		if err != nil {
			if set {
				return nil, fail(fmt.Errorf("variable %s (%s): %w", v.Name, v.Type, err))
			}
			return nil, fail(fmt.Errorf("variable %s (%s): default: %w", v.Name, v.Type, err))
		}
		e.literals[v.Name] = lit
	}
	return e, nil
}

func (p *Pack) renderTemplate(t *Template, e *env) (Script, error) {
	text, lineMap, err := t.expand(p, e)
	if err != nil {
		return Script{}, fmt.Errorf("alert pack %q: host %q: %w", p.Name, e.rawHost, err)
	}
	// Parse what is sent first, so a syntax error names the real host; then the per-template checks.
	if _, err := parse(text); err != nil {
		return Script{}, newParseError(p.Name, t.File, e.rawHost, err, lineMap)
	}
	if err := t.checkStructure(p); err != nil {
		return Script{}, err
	}
	return Script{Pack: p.Name, Alert: t.Alert, File: t.File, Host: e.rawHost, Text: text}, nil
}

// expand substitutes the placeholders of t, line by line, and returns the script with, for each of its lines, the
// template line it came from (${handlers} can turn one line into several).
func (t *Template) expand(p *Pack, e *env) (string, []int, error) {
	lines := strings.Split(strings.TrimRight(t.Source, "\n"), "\n")
	var b strings.Builder
	lineMap := make([]int, 0, len(lines)+len(e.handlers))
	for i, line := range lines {
		n := i + 1
		if strings.TrimSpace(line) == "${"+phHandlers+"}" {
			indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			for _, h := range e.handlers {
				b.WriteString(indent + h + "\n")
				lineMap = append(lineMap, n)
			}
			continue
		}
		out, err := scanLine(line, func(name string, bare bool) (string, error) {
			if bare {
				return e.host, nil
			}
			if lit, ok := e.literals[name]; ok {
				return lit, nil
			}
			return "", placeholderErr(p, name)
		})
		if err != nil {
			return "", nil, fmt.Errorf("%s:%d: %w", t.File, n, err)
		}
		b.WriteString(out + "\n")
		lineMap = append(lineMap, n)
	}
	return b.String(), lineMap, nil
}

// checkPlaceholders verifies at load time that every placeholder of t is known and records the variables used.
func (t *Template) checkPlaceholders(p *Pack, used map[string]bool) error {
	var errs []error
	for i, line := range strings.Split(t.Source, "\n") {
		if strings.TrimSpace(line) == "${"+phHandlers+"}" {
			continue
		}
		_, err := scanLine(line, func(name string, bare bool) (string, error) {
			if bare || name == phDatabase || name == phRetentionPolicy {
				return "", nil
			}
			if _, ok := p.Var(name); ok {
				used[name] = true
				return "", nil
			}
			return "", placeholderErr(p, name)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", t.File, i+1, err))
		}
	}
	return errors.Join(errs...)
}

func placeholderErr(p *Pack, name string) error {
	switch name {
	case phHandlers:
		return errors.New("${handlers} must be alone on its line, inside an alert node")
	case phHost:
		return errors.New("write the host as '$reported_hostname' inside a single-quoted string, not ${reported_hostname}")
	}
	declared := make([]string, len(p.Vars))
	for i, v := range p.Vars {
		declared[i] = v.Name
	}
	sort.Strings(declared)
	known := "none"
	if len(declared) > 0 {
		known = strings.Join(declared, ", ")
	}
	return fmt.Errorf("unknown variable ${%s}: pack.toml declares %s (built in: database, retention_policy, handlers)", name, known)
}

// scanLine replaces the placeholders of one line: ${name} (resolve(name, false)) and the bare
// $reported_hostname (resolve("reported_hostname", true)). A "$" followed by anything else is kept: Kapacitor's
// Go templates inside strings use $variables of their own.
func scanLine(line string, resolve func(name string, bare bool) (string, error)) (string, error) {
	if !strings.Contains(line, "$") {
		return line, nil
	}
	var b strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		if c != '$' {
			b.WriteByte(c)
			i++
			continue
		}
		rest := line[i+1:]
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return "", errors.New("unclosed ${")
			}
			name := strings.TrimSpace(rest[1:end])
			if !validVarName(name) {
				return "", fmt.Errorf("invalid placeholder ${%s}: expected ${variable_name}", rest[1:end])
			}
			v, err := resolve(name, false)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += 1 + end + 1
		case strings.HasPrefix(rest, phHost) && !isIdentByte(rest, len(phHost)):
			v, err := resolve(phHost, true)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += 1 + len(phHost)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

func isIdentByte(s string, i int) bool { return i < len(s) && isIdentChar(s[i]) }
