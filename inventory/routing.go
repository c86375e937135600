package inventory

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Contact is one [alerts.contacts.NAME] entry: a Kapacitor topic handler of a kind, with its options. A host
// that routes to the contact gets one handler named after it in the host's topic.
type Contact struct {
	Name string
	Kind string // a Kapacitor handler kind: smtp, pushover, slack, post, log, ...
	// Options are the handler's options under Kapacitor's own names ("user-key", "to"), as TOML decoded them,
	// without the secret ones.
	Options map[string]any
	// Secrets are the options given as secret sources, by option path: "routing-key", or "headers.Authorization"
	// for a post handler's header.
	Secrets map[string]SecretRef
	Match   string // Kapacitor's match expression; "" matches every event
	Line    int
}

// Service is one [kapacitor.services.SECTION] table: settings of a Kapacitor service (its SMTP server, Pushover
// token, Slack webhook) set through Kapacitor's config API.
type Service struct {
	Section string
	Element string         // the element of a list section (slack's workspace); "" for the default one
	Options map[string]any // non-secret options, Kapacitor's names
	Secrets map[string]SecretRef
	Line    int
}

// optType is what one handler or service option accepts.
type optType int

const (
	optString optType = iota
	optStrings
	optBool
	optInt
	optURL
	optEmails
	optAbsPath
	optHeaders
	optSecret // a secret source only: the value is redacted by Kapacitor
	optStringOrSecret
	optDuration // a duration string ("10s"), sent to Kapacitor as nanoseconds (it decodes a time.Duration)
)

// handlerKinds are the Kapacitor handler kinds fleetctl writes, with their options (Kapacitor 1.5's names) and
// the option one of which must be given.
var handlerKinds = map[string]struct {
	opts     map[string]optType
	required []string
}{
	"log":        {opts: map[string]optType{"path": optAbsPath, "mode": optInt}, required: []string{"path"}},
	"smtp":       {opts: map[string]optType{"to": optEmails}, required: []string{"to"}},
	"pushover":   {opts: map[string]optType{"user-key": optStringOrSecret, "device": optString, "title": optString, "url": optURL, "url-title": optString, "sound": optString}},
	"slack":      {opts: map[string]optType{"workspace": optString, "channel": optString, "username": optString, "icon-emoji": optString}},
	"post":       {opts: map[string]optType{"url": optURL, "endpoint": optString, "headers": optHeaders, "capture-response": optBool, "timeout": optDuration, "skipSSLVerification": optBool}},
	"pagerduty2": {opts: map[string]optType{"routing-key": optStringOrSecret}},
	"opsgenie2":  {opts: map[string]optType{"teams": optStrings, "recipients": optStrings}},
	"telegram":   {opts: map[string]optType{"chat-id": optString, "parse-mode": optString, "disable-web-page-preview": optBool, "disable-notification": optBool}},
	"teams":      {opts: map[string]optType{"channel-url": optURL}},
	"exec":       {opts: map[string]optType{"prog": optAbsPath, "args": optStrings}, required: []string{"prog"}},
}

// serviceSections are the Kapacitor config sections fleetctl sets, with their options; optSecret ones are those
// Kapacitor redacts when read.
var serviceSections = map[string]map[string]optType{
	"smtp": {"enabled": optBool, "host": optString, "port": optInt, "username": optString, "password": optSecret,
		"no-verify": optBool, "global": optBool, "state-changes-only": optBool, "from": optString, "to": optEmails, "idle-timeout": optString},
	"pushover": {"enabled": optBool, "token": optSecret, "user-key": optSecret, "url": optURL},
	"slack": {"enabled": optBool, "default": optBool, "workspace": optString, "url": optSecret, "channel": optString,
		"username": optString, "icon-emoji": optString, "global": optBool, "state-changes-only": optBool},
	"pagerduty2": {"enabled": optBool, "url": optURL, "routing-key": optSecret, "global": optBool},
	"opsgenie2":  {"enabled": optBool, "url": optURL, "recovery_url": optURL, "api-key": optSecret, "teams": optStrings, "recipients": optStrings, "global": optBool},
	"telegram": {"enabled": optBool, "url": optURL, "token": optSecret, "chat-id": optString, "parse-mode": optString,
		"disable-web-page-preview": optBool, "disable-notification": optBool, "global": optBool, "state-changes-only": optBool},
	"teams": {"enabled": optBool, "channel-url": optSecret, "global": optBool, "state-changes-only": optBool},
	// A list section: each [kapacitor.services.httppost.ENDPOINT] is one endpoint, added when missing.
	"httppost": {"url": optURL, "headers": optHeaders, "alert-template": optString, "row-template": optString},
}

// requiredWhenEnabled are the options Kapacitor's validation requires of an enabled service.
var requiredWhenEnabled = map[string][]string{"pushover": {"token", "user-key"}, "slack": {"url"}, "telegram": {"token"}}

// HandlerKinds are the handler kinds a contact may have, sorted.
func HandlerKinds() []string { return slices.Sorted(maps.Keys(handlerKinds)) }

// ServiceSections are the Kapacitor config sections [kapacitor.services] may set, sorted.
func ServiceSections() []string { return slices.Sorted(maps.Keys(serviceSections)) }

// SecretOption reports whether a section's option is one Kapacitor redacts.
func SecretOption(section, option string) bool { return serviceSections[section][option] == optSecret }

func (b *builder) contacts(t *table) {
	if t == nil || t.missing {
		return
	}
	a := &b.inv.Alerts
	a.Contacts = map[string]Contact{}
	for _, name := range slices.Sorted(maps.Keys(t.m)) {
		ct := t.sub(name)
		if ct == nil {
			continue
		}
		if !itemRE.MatchString(name) {
			t.errorf(name, `use lowercase letters, digits, "_" and "-", such as "acme-mail"`, "%q is not a valid contact name: it names a Kapacitor handler", name)
		}
		c := Contact{Name: name, Options: map[string]any{}, Secrets: map[string]SecretRef{}, Line: b.d.at(ct.path).line}
		c.Kind, _ = ct.str("kind")
		kind, ok := handlerKinds[c.Kind]
		switch {
		case !ct.has("kind"):
			ct.errorf("kind", fmt.Sprintf("add kind = \"smtp\" (one of %s)", strings.Join(HandlerKinds(), ", ")), "required")
		case !ok && c.Kind != "":
			fix := DidYouMean(c.Kind, HandlerKinds())
			if fix == "" {
				fix = "use one of " + strings.Join(HandlerKinds(), ", ")
			}
			ct.errorf("kind", fix, "unknown handler kind %q", c.Kind)
		}
		if m, ok := ct.str("match"); ok {
			if m == "" {
				ct.errorf("match", `write an expression such as "level() >= WARNING", or remove the key`, "must not be empty")
			}
			c.Match = m
		}
		if ok {
			for _, k := range slices.Sorted(maps.Keys(kind.opts)) {
				ct.get(k) // known, so a misspelling gets "did you mean"
				if ct.has(k) {
					b.option(ct, k, kind.opts[k], c.Options, c.Secrets, b.inv)
				}
			}
			for _, k := range kind.required {
				if !ct.has(k) {
					ct.errorf(k, fmt.Sprintf("add %s to the %s contact", k, c.Kind), "required by handler kind %q", c.Kind)
				}
			}
			if c.Kind == "post" && !ct.has("url") && !ct.has("endpoint") {
				ct.errorf("url", `add url = "https://hooks.example.com/alerts" (or endpoint, naming a [[httppost]] of Kapacitor)`, "a post handler needs url or endpoint")
			}
			ct.done()
		} else {
			// Options of an unknown kind cannot be checked; only the kind is reported.
			for k := range ct.m {
				ct.get(k)
			}
		}
		a.Contacts[name] = c
		a.contactNames = append(a.contactNames, name)
	}
	t.done()
}

// option reads one option of type typ into opts (or secrets, for a secret source).
func (b *builder) option(t *table, k string, typ optType, opts map[string]any, secrets map[string]SecretRef, inv *Inventory) {
	v, _ := t.get(k)
	if _, isTable := v.(map[string]any); isTable && (typ == optSecret || typ == optStringOrSecret) {
		secrets[k] = t.secret(k, inv)
		return
	}
	switch typ {
	case optSecret:
		t.secret(k, inv) // reports the inline value without echoing it
	case optString, optStringOrSecret:
		if s, ok := t.str(k); ok {
			opts[k] = s
		}
	case optStrings:
		if l, ok := t.strings(k); ok {
			opts[k] = l
		}
	case optBool:
		if x, ok := t.boolean(k); ok {
			opts[k] = x
		}
	case optDuration:
		if d, ok := t.duration(k); ok {
			opts[k] = int64(d)
		}
	case optInt:
		if n, ok := t.integer(k); ok {
			opts[k] = n
		}
	case optURL:
		s, ok := t.str(k)
		if !ok {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.errorf(k, `write an http or https URL such as "https://hooks.example.com/alerts"`, "%q is not an http or https URL", s)
			return
		}
		if problem, fix := checkURLChars(s); problem != "" {
			t.errorf(k, fix, "%s", problem)
			return
		}
		opts[k] = s
	case optEmails:
		list, ok := t.strings(k)
		if !ok {
			return
		}
		if len(list) == 0 {
			t.errorf(k, `list at least one address, such as ["ops@example.com"]`, "must not be empty")
		}
		var good []string
		for i, s := range list {
			ek := indexKey(t.key(k), i)
			if addr, err := mailAddress(s); err != nil || addr != s {
				b.d.add(ek, b.d.at(ek), `write a bare address such as "ops@example.com"`, "%q is not an email address", s)
				continue
			}
			good = append(good, s)
		}
		opts[k] = good
	case optAbsPath:
		if s, ok := t.str(k); ok {
			if !strings.HasPrefix(s, "/") {
				t.errorf(k, `write an absolute path on the Kapacitor server, such as "/var/log/kapacitor/alerts.log"`, "must be an absolute path")
				return
			}
			opts[k] = s
		}
	case optHeaders:
		ht := t.sub(k)
		if ht == nil || ht.missing {
			return
		}
		headers := map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(ht.m)) {
			hv, _ := ht.get(name)
			switch hv := hv.(type) {
			case map[string]any:
				secrets[k+"."+name] = ht.secret(name, inv)
			case string:
				headers[name] = hv
			default:
				ht.wrongType(name, hv, "a string or a secret source", name+` = "value" or { env = "NAME" }`)
			}
		}
		opts[k] = headers
	}
}

func (b *builder) services(t *table) {
	if t == nil || t.missing {
		return
	}
	for _, section := range slices.Sorted(maps.Keys(t.m)) {
		st := t.sub(section)
		if st == nil {
			continue
		}
		opts, ok := serviceSections[section]
		if !ok {
			fix := DidYouMean(section, ServiceSections())
			if fix == "" {
				fix = "use one of " + strings.Join(ServiceSections(), ", ")
			}
			t.errorf(section, fix, "unknown Kapacitor service %q", section)
			continue
		}
		if section == "httppost" {
			b.endpoints(st, opts)
			continue
		}
		s := Service{Section: section, Options: map[string]any{}, Secrets: map[string]SecretRef{}, Line: b.d.at(st.path).line}
		for _, k := range slices.Sorted(maps.Keys(opts)) {
			st.get(k)
			if st.has(k) {
				b.option(st, k, opts[k], s.Options, s.Secrets, b.inv)
			}
		}
		// Kapacitor refuses to enable these without their credentials (a handler's own user-key overrides the
		// default one, but Kapacitor 1.5 still wants a default).
		if on, _ := s.Options["enabled"].(bool); on {
			for _, k := range requiredWhenEnabled[section] {
				if !st.has(k) {
					st.errorf(k, fmt.Sprintf(`add %s = { env = "NAME" } or { file = "path" }`, k), "required when %s is enabled: Kapacitor refuses the settings without it", section)
				}
			}
		}
		if w, ok := s.Options["workspace"].(string); ok {
			s.Element = w
		}
		st.done()
		b.inv.Kapacitor.Services = append(b.inv.Kapacitor.Services, s)
	}
	t.done()
}

// endpoints reads [kapacitor.services.httppost.ENDPOINT] tables: one Kapacitor [[httppost]] endpoint each, which
// a post contact names with endpoint = "ENDPOINT".
func (b *builder) endpoints(t *table, opts map[string]optType) {
	for _, name := range slices.Sorted(maps.Keys(t.m)) {
		et := t.sub(name)
		if et == nil {
			continue
		}
		if !itemRE.MatchString(name) {
			t.errorf(name, `use lowercase letters, digits, "_" and "-"`, "%q is not a valid endpoint name", name)
		}
		s := Service{Section: "httppost", Element: name, Options: map[string]any{"endpoint": name}, Secrets: map[string]SecretRef{}, Line: b.d.at(et.path).line}
		for _, k := range slices.Sorted(maps.Keys(opts)) {
			et.get(k)
			if et.has(k) {
				b.option(et, k, opts[k], s.Options, s.Secrets, b.inv)
			}
		}
		if !et.has("url") {
			et.errorf("url", `add url = "https://hooks.example.com/alerts"`, "required: the endpoint's URL")
		}
		et.done()
		b.inv.Kapacitor.Services = append(b.inv.Kapacitor.Services, s)
	}
	t.done()
}

// checkRoutes reports every route that names no contact; run once contacts and levels are read.
func (b *builder) checkRoutes() {
	for _, r := range b.routeRefs {
		if _, ok := b.inv.Alerts.Contacts[r.name]; ok {
			continue
		}
		fix := DidYouMean(r.name, b.inv.Alerts.contactNames)
		if fix == "" {
			fix = fmt.Sprintf("define it with an [alerts.contacts.%s] section", r.name)
		}
		b.d.add(r.key, b.d.at(r.key), fix, "route %q names no contact", r.name)
	}
}

// routeRef is a mention of a contact in a route list, checked once every contact is known.
type routeRef struct{ name, key string }

// secretRefs of the alerting configuration: contacts' and services' secret options.
func (inv *Inventory) routingSecretRefs() []SecretRef {
	var out []SecretRef
	for _, name := range inv.Alerts.contactNames {
		c := inv.Alerts.Contacts[name]
		for _, k := range slices.Sorted(maps.Keys(c.Secrets)) {
			out = append(out, c.Secrets[k])
		}
	}
	for _, s := range inv.Kapacitor.Services {
		for _, k := range slices.Sorted(maps.Keys(s.Secrets)) {
			out = append(out, s.Secrets[k])
		}
	}
	return out
}

// ContactNames are the contacts' names, sorted.
func (a Alerts) ContactNames() []string { return slices.Clone(a.contactNames) }
