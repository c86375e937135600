package kapacitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// KindConfig is the kind of Kapacitor service settings (/kapacitor/v1/config/<section>).
const KindConfig = "kapacitor.config"

// SettingsTopic holds, for every config section fleetctl sets secrets in, one handler whose match expression
// carries the secrets' keyed fingerprint (secret.Fingerprint): Kapacitor redacts secrets when read, so this is how
// a changed secret is told from an unchanged one without storing it. No task publishes to this topic, and its
// name cannot be a host's topic (those start with TopicPrefix), so the handlers never run.
const SettingsTopic = "fleetctl.settings"

// ConfigElement is one element of a config section as GET /config/<section>/<element> returns it.
type ConfigElement struct {
	Options  map[string]any `json:"options"`
	Redacted []string       `json:"redacted"`
}

// ConfigElement reads one element of a section ("" for the default element of a list section, or the only one).
func (c *Client) ConfigElement(ctx context.Context, section, element string) (*ConfigElement, error) {
	var out ConfigElement
	if err := c.do(ctx, http.MethodGet, configPath(section, element), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("read kapacitor config %s: %w", configName(section, element), err)
	}
	return &out, nil
}

// SetConfig overrides options of one element (POST {"set": ...}).
func (c *Client) SetConfig(ctx context.Context, section, element string, set map[string]any) error {
	if err := c.do(ctx, http.MethodPost, configPath(section, element), nil, map[string]any{"set": set}, nil); err != nil {
		return fmt.Errorf("set kapacitor config %s: %w", configName(section, element), err)
	}
	return nil
}

// ResetConfig removes fleetctl's overrides of options (POST {"delete": [...]}): they go back to kapacitor.conf's.
func (c *Client) ResetConfig(ctx context.Context, section, element string, keys []string) error {
	if err := c.do(ctx, http.MethodPost, configPath(section, element), nil, map[string]any{"delete": keys}, nil); err != nil {
		return fmt.Errorf("reset kapacitor config %s: %w", configName(section, element), err)
	}
	return nil
}

func configPath(section, element string) string {
	return "/config/" + url.PathEscape(section) + "/" + url.PathEscape(element)
}

func configName(section, element string) string {
	if element == "" {
		return section
	}
	return section + "/" + element
}

// ConfigSpec is what fleetctl sets in one config element.
type ConfigSpec struct {
	Section string
	Element string
	Options map[string]any          // non-secret options, Kapacitor's names
	Secrets map[string]secret.Value // options Kapacitor redacts
	// Sensitive are options Kapacitor returns in clear that hold a secret (an endpoint's headers): compared as
	// read, shown in a plan only as changed.
	Sensitive []string
	Master    secret.Value // keys the secrets' fingerprint
}

// ServiceConfig is the engine.Resource of one Kapacitor config element: its options set, its secrets set and known
// unchanged by their fingerprint in SettingsTopic. Only the options the inventory writes are compared; the others
// are left as kapacitor.conf or someone else set them.
type ServiceConfig struct {
	c    *Client
	spec ConfigSpec
	fp   string
	// fps reads SettingsTopic once for every Config of a run.
	fps *TopicListing

	read   bool
	actual *ConfigElement
	oldFP  string
	absent bool
	todo   struct {
		set      map[string]any
		writeFP  bool
		reset    []string
		deleteFP bool
		add      map[string]any // a list element to add, with every option
		remove   bool           // remove the list element fleetctl added
	}
}

// NewConfig returns the resource of spec. fps is the shared listing of SettingsTopic (nil: its own).
func NewConfig(c *Client, spec ConfigSpec, fps *TopicListing) (*ServiceConfig, error) {
	if spec.Section == "" || strings.ContainsAny(spec.Section, "/") {
		return nil, fmt.Errorf("kapacitor config section %q: invalid", spec.Section)
	}
	if len(spec.Secrets) > 0 && spec.Master.IsZero() {
		return nil, fmt.Errorf("kapacitor config %s: secrets need the master secret for their fingerprint", configName(spec.Section, spec.Element))
	}
	if fps == nil {
		fps = NewTopicListing(c, SettingsTopic)
	}
	cfg := &ServiceConfig{c: c, spec: spec, fps: fps}
	if len(spec.Secrets) > 0 {
		cfg.fp = secretsFingerprint(spec.Master, spec.Secrets)
	}
	return cfg, nil
}

// NewSettingsListing returns the listing of SettingsTopic, to share between a run's Configs.
func NewSettingsListing(c *Client) *TopicListing { return NewTopicListing(c, SettingsTopic) }

func secretsFingerprint(master secret.Value, secrets map[string]secret.Value) string {
	keys := make([]string, 0, len(secrets))
	for k := range secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + secrets[k].Reveal() + "\x00")
	}
	return secret.Fingerprint(master, secret.New(b.String()))
}

// Absent makes the settings desired gone (engine.Absenter): fleetctl's overrides are removed, the options return
// to kapacitor.conf's values. The settings belong to the fleet: the catalog never lists them for a host's destroy.
func (c *ServiceConfig) Absent() { c.absent = true }

func (c *ServiceConfig) Kind() string { return KindConfig }
func (c *ServiceConfig) Name() string { return configName(c.spec.Section, c.spec.Element) }

// fpHandlerID names the fingerprint handler of the element.
func (c *ServiceConfig) fpHandlerID() string {
	if c.spec.Element == "" {
		return c.spec.Section
	}
	return c.spec.Section + "." + c.spec.Element
}

const fpMatchPrefix = `"fleetctl_fingerprint" == '`

func (c *ServiceConfig) Read(ctx context.Context) error {
	el, err := c.c.ConfigElement(ctx, c.spec.Section, c.spec.Element)
	switch {
	case IsNotFound(err) && c.spec.Element != "":
		// An element of a list section (an [[httppost]] endpoint) that does not exist yet: Apply adds it.
		el = nil
	case err != nil:
		return err
	}
	hs, err := c.fps.Handlers(ctx)
	if err != nil {
		return fmt.Errorf("read kapacitor config %s: %w", c.Name(), err)
	}
	c.oldFP = ""
	for _, h := range hs {
		if h.ID == c.fpHandlerID() {
			c.oldFP = strings.TrimSuffix(strings.TrimPrefix(h.Match, fpMatchPrefix), "'")
		}
	}
	c.actual, c.read = el, true
	return nil
}

// redactedSet reports whether a redacted option has a value: Kapacitor shows it as true (set) or false (empty).
func redactedSet(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v != ""
	}
	return v != nil
}

func (c *ServiceConfig) Diff([]plan.Change) []plan.Change {
	ch := plan.Change{Kind: KindConfig, Name: c.Name(), ReadDigest: c.readDigest()}
	c.todo.set, c.todo.reset, c.todo.writeFP, c.todo.deleteFP = map[string]any{}, nil, false, false
	c.todo.add, c.todo.remove = nil, false
	if c.actual == nil {
		return c.diffMissing(ch)
	}
	have := canonicalOptions(c.actual.Options)
	if c.absent {
		for _, k := range slices.Sorted(mapKeys(c.spec.Options)) {
			c.todo.reset = append(c.todo.reset, k)
		}
		for _, k := range slices.Sorted(mapKeys(c.spec.Secrets)) {
			c.todo.reset = append(c.todo.reset, k)
			ch.Fields = append(ch.Fields, plan.Field{Name: k, Sensitive: true})
		}
		c.todo.deleteFP = c.oldFP != ""
		if c.spec.Element != "" && c.spec.Section == "httppost" {
			// An endpoint fleetctl added is removed whole (one in kapacitor.conf cannot be: Kapacitor refuses).
			c.todo.reset, c.todo.remove = nil, true
		}
		ch.Action = plan.Delete
		ch.Reason = "fleetctl's overrides are removed: the options return to kapacitor.conf's values"
		return []plan.Change{ch}
	}
	want := canonicalOptions(c.spec.Options)
	for _, k := range slices.Sorted(mapKeys(want)) {
		if have[k] != want[k] {
			if slices.Contains(c.spec.Sensitive, k) {
				ch.Fields = append(ch.Fields, plan.Field{Name: k, Sensitive: true})
			} else {
				ch.Fields = append(ch.Fields, plan.Field{Name: k, Before: have[k], After: want[k]})
			}
			c.todo.set[k] = c.spec.Options[k]
		}
	}
	if len(c.spec.Secrets) > 0 {
		unset := false
		for k := range c.spec.Secrets {
			if !redactedSet(c.actual.Options[k]) {
				unset = true
			}
		}
		if unset || c.oldFP != c.fp {
			for _, k := range slices.Sorted(mapKeys(c.spec.Secrets)) {
				ch.Fields = append(ch.Fields, plan.Field{Name: k, Sensitive: true})
				c.todo.set[k] = c.spec.Secrets[k].Reveal()
			}
			c.todo.writeFP = true
		}
	}
	ch.Action = plan.NoOp
	if len(ch.Fields) > 0 {
		ch.Action = plan.Update
	}
	return []plan.Change{ch}
}

// diffMissing plans a missing list element: added with every option (absent: nothing to do).
func (c *ServiceConfig) diffMissing(ch plan.Change) []plan.Change {
	if c.absent {
		ch.Action = plan.NoOp
		return []plan.Change{ch}
	}
	c.todo.add = map[string]any{}
	want := canonicalOptions(c.spec.Options)
	for _, k := range slices.Sorted(mapKeys(want)) {
		if slices.Contains(c.spec.Sensitive, k) {
			ch.Fields = append(ch.Fields, plan.Field{Name: k, Sensitive: true})
		} else {
			ch.Fields = append(ch.Fields, plan.Field{Name: k, After: want[k]})
		}
		c.todo.add[k] = c.spec.Options[k]
	}
	for _, k := range slices.Sorted(mapKeys(c.spec.Secrets)) {
		ch.Fields = append(ch.Fields, plan.Field{Name: k, Sensitive: true})
		c.todo.add[k] = c.spec.Secrets[k].Reveal()
		c.todo.writeFP = true
	}
	ch.Action = plan.Create
	return []plan.Change{ch}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Apply sets the options, then records the secrets' fingerprint; a failed set leaves the old fingerprint, so the
// next plan tries again.
func (c *ServiceConfig) Apply(ctx context.Context, changes []plan.Change) error {
	if !c.read {
		return fmt.Errorf("apply kapacitor config %s: not read", c.Name())
	}
	if len(changes) == 0 {
		return nil
	}
	defer c.fps.invalidate()
	if c.todo.add != nil {
		if err := c.c.do(ctx, http.MethodPost, "/config/"+url.PathEscape(c.spec.Section), nil, map[string]any{"add": c.todo.add}, nil); err != nil {
			return fmt.Errorf("add kapacitor config %s: %w", c.Name(), err)
		}
	}
	if c.todo.remove {
		if err := c.c.do(ctx, http.MethodPost, "/config/"+url.PathEscape(c.spec.Section), nil, map[string]any{"remove": []string{c.spec.Element}}, nil); err != nil {
			return fmt.Errorf("remove kapacitor config %s: %w", c.Name(), err)
		}
	}
	if len(c.todo.reset) > 0 {
		if err := c.c.ResetConfig(ctx, c.spec.Section, c.spec.Element, c.todo.reset); err != nil {
			return err
		}
	}
	if c.todo.deleteFP {
		return c.c.DeleteHandler(ctx, SettingsTopic, c.fpHandlerID())
	}
	if len(c.todo.set) > 0 {
		if err := c.c.SetConfig(ctx, c.spec.Section, c.spec.Element, c.todo.set); err != nil {
			return err
		}
	}
	if c.todo.writeFP {
		h := HandlerSpec{ID: c.fpHandlerID(), Kind: "log", Options: map[string]any{"path": "/dev/null"}, Match: fpMatchPrefix + c.fp + "'"}
		if c.oldFP == "" {
			if err := c.c.CreateHandler(ctx, SettingsTopic, h); err == nil {
				return nil
			}
		}
		return c.c.ReplaceHandler(ctx, SettingsTopic, h)
	}
	return nil
}

// readDigest hashes the options read (redacted ones only as set or not) and the fingerprint found.
func (c *ServiceConfig) readDigest() string {
	h := sha256.New()
	if c.actual != nil {
		opts := canonicalOptions(c.actual.Options)
		for _, k := range slices.Sorted(mapKeys(opts)) {
			if slices.Contains(c.spec.Sensitive, k) {
				h.Write([]byte(k + "=(sensitive)\x00"))
				continue
			}
			h.Write([]byte(k + "=" + opts[k] + "\x00"))
		}
	}
	h.Write([]byte("fp=" + c.oldFP))
	return hex.EncodeToString(h.Sum(nil))[:16]
}
