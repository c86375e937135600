package kapacitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Resource kinds of topic handlers.
const (
	KindHandler      = "kapacitor.handler"
	KindHandlerPrune = "kapacitor.handlers"
)

// TopicPrefix starts the name of every topic fleetctl's tasks publish to: a host's tasks publish to
// HostTopic(host), and every handler in such a topic is fleetctl's.
const TopicPrefix = "fleetctl-"

// HostTopic is the topic a host's tasks publish to. Kapacitor creates a topic when the first event or handler
// arrives; fleetctl never deletes one (Kapacitor drops the handlers of a deleted topic, kapacitor#1939).
func HostTopic(host string) string { return TopicPrefix + host }

// HandlerSpec is one topic handler as the API takes and returns it (/alerts/topics/<topic>/handlers).
type HandlerSpec struct {
	ID      string         `json:"id"`
	Kind    string         `json:"kind"`
	Options map[string]any `json:"options,omitempty"`
	Match   string         `json:"match,omitempty"`
}

// canonicalOptions renders each option as canonical JSON, so a value read back (numbers as float64) compares
// equal to the value written.
func canonicalOptions(opts map[string]any) map[string]string {
	out := make(map[string]string, len(opts))
	for k, v := range opts {
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte(fmt.Sprint(v))
		}
		var round any
		if json.Unmarshal(b, &round) == nil {
			b, _ = json.Marshal(round)
		}
		out[k] = string(b)
	}
	return out
}

// Handlers lists the handlers of a topic, sorted by id. A topic that does not exist has none.
func (c *Client) Handlers(ctx context.Context, topic string) ([]HandlerSpec, error) {
	if err := CheckTaskID(topic); err != nil {
		return nil, fmt.Errorf("kapacitor topic: %w", err)
	}
	var out struct {
		Handlers []HandlerSpec `json:"handlers"`
	}
	err := c.do(ctx, http.MethodGet, "/alerts/topics/"+url.PathEscape(topic)+"/handlers", nil, nil, &out)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list handlers of kapacitor topic %q: %w", topic, err)
	}
	sort.Slice(out.Handlers, func(i, j int) bool { return out.Handlers[i].ID < out.Handlers[j].ID })
	return out.Handlers, nil
}

// CreateHandler adds a handler to a topic (creating the topic when needed).
func (c *Client) CreateHandler(ctx context.Context, topic string, h HandlerSpec) error {
	if err := c.do(ctx, http.MethodPost, "/alerts/topics/"+url.PathEscape(topic)+"/handlers", nil, h, nil); err != nil {
		return fmt.Errorf("create kapacitor handler %s/%s: %w", topic, h.ID, err)
	}
	return nil
}

// ReplaceHandler replaces a handler with h (PUT: kind, options and match all replaced).
func (c *Client) ReplaceHandler(ctx context.Context, topic string, h HandlerSpec) error {
	if err := c.do(ctx, http.MethodPut, "/alerts/topics/"+url.PathEscape(topic)+"/handlers/"+url.PathEscape(h.ID), nil, h, nil); err != nil {
		return fmt.Errorf("update kapacitor handler %s/%s: %w", topic, h.ID, err)
	}
	return nil
}

// DeleteHandler removes a handler; the topic stays.
func (c *Client) DeleteHandler(ctx context.Context, topic, id string) error {
	err := c.do(ctx, http.MethodDelete, "/alerts/topics/"+url.PathEscape(topic)+"/handlers/"+url.PathEscape(id), nil, nil, nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete kapacitor handler %s/%s: %w", topic, id, err)
	}
	return nil
}

// TopicListing is one topic's handlers, read once and shared by the topic's Handlers and its HandlerPrune.
type TopicListing struct {
	c     *Client
	topic string

	mu       sync.Mutex
	loaded   bool
	handlers []HandlerSpec
}

// NewTopicListing returns the (not yet read) listing of a topic's handlers.
func NewTopicListing(c *Client, topic string) *TopicListing { return &TopicListing{c: c, topic: topic} }

// invalidate makes the next Handlers read the topic again: called after a write to it, so that a resource read
// again (a re-plan with the same resources) sees what was written.
func (l *TopicListing) invalidate() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.loaded = false
}

// Handlers reads the listing on first use and returns it.
func (l *TopicListing) Handlers(ctx context.Context) ([]HandlerSpec, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.loaded {
		hs, err := l.c.Handlers(ctx, l.topic)
		if err != nil {
			return nil, err
		}
		l.handlers, l.loaded = hs, true
	}
	return l.handlers, nil
}

// Handler is one handler of a topic, desired to exist with exactly its kind, options and match (or, after
// Absent, desired gone). Options named in sensitive (a post handler's headers, which may carry a token) are
// compared like the others but shown in a plan only as "(sensitive value changed)".
type Handler struct {
	c         *Client
	topic     string
	spec      HandlerSpec
	sensitive map[string]bool
	absent    bool

	listing *TopicListing
	read    bool
	actual  *HandlerSpec
	action  plan.Action
}

// NewHandler returns the handler spec.ID of topic. The listing (may be nil) is shared with the topic's other
// handlers and its prune, so the topic is read once.
func NewHandler(c *Client, topic string, spec HandlerSpec, sensitive []string, l *TopicListing) (*Handler, error) {
	if err := CheckTaskID(topic); err != nil {
		return nil, fmt.Errorf("kapacitor topic: %w", err)
	}
	if err := CheckTaskID(spec.ID); err != nil {
		return nil, fmt.Errorf("kapacitor handler of topic %q: %w", topic, err)
	}
	if spec.Kind == "" {
		return nil, fmt.Errorf("kapacitor handler %s/%s: no kind", topic, spec.ID)
	}
	if l == nil {
		l = NewTopicListing(c, topic)
	}
	s := map[string]bool{}
	for _, k := range sensitive {
		s[k] = true
	}
	return &Handler{c: c, topic: topic, spec: spec, sensitive: s, listing: l}, nil
}

// Absent makes the handler desired gone (engine.Absenter): Diff plans its deletion when it exists, for
// destroying a host.
func (h *Handler) Absent() { h.absent = true }

func (h *Handler) Kind() string { return KindHandler }

// Name is "<topic>/<id>".
func (h *Handler) Name() string { return h.topic + "/" + h.spec.ID }

// Spec is the desired handler.
func (h *Handler) Spec() HandlerSpec { return h.spec }

func (h *Handler) Read(ctx context.Context) error {
	hs, err := h.listing.Handlers(ctx)
	if err != nil {
		return fmt.Errorf("read kapacitor handler %s: %w", h.Name(), err)
	}
	h.actual = nil
	for _, a := range hs {
		if a.ID == h.spec.ID {
			a := a
			h.actual = &a
		}
	}
	h.read = true
	return nil
}

// handlerFields are the fields a plan shows of a handler: kind, match, and each option by name. A sensitive
// option shows only that it changed.
func handlerFields(actual, want *HandlerSpec, sensitive map[string]bool) []plan.Field {
	get := func(s *HandlerSpec) (kind, match string, opts map[string]string) {
		if s == nil {
			return "", "", map[string]string{}
		}
		return s.Kind, s.Match, canonicalOptions(s.Options)
	}
	bk, bm, bo := get(actual)
	ak, am, ao := get(want)
	var fields []plan.Field
	add := func(name, before, after string, sens bool) {
		if before == after {
			return
		}
		if sens {
			fields = append(fields, plan.Field{Name: name, Sensitive: true})
			return
		}
		fields = append(fields, plan.Field{Name: name, Before: before, After: after})
	}
	add("kind", bk, ak, false)
	add("match", bm, am, false)
	keys := map[string]bool{}
	for k := range bo {
		keys[k] = true
	}
	for k := range ao {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		add("options."+k, bo[k], ao[k], sensitive[k])
	}
	return fields
}

func (h *Handler) Diff([]plan.Change) []plan.Change {
	ch := plan.Change{Kind: KindHandler, Name: h.Name(), ReadDigest: handlerDigest(h.actual, h.sensitive)}
	switch {
	case h.absent && h.actual == nil:
		ch.Action = plan.NoOp
	case h.absent:
		ch.Action = plan.Delete
		ch.Fields = handlerFields(h.actual, nil, h.sensitive)
	case h.actual == nil:
		ch.Action = plan.Create
		ch.Fields = handlerFields(nil, &h.spec, h.sensitive)
	default:
		ch.Fields = handlerFields(h.actual, &h.spec, h.sensitive)
		ch.Action = plan.NoOp
		if len(ch.Fields) > 0 {
			ch.Action = plan.Update
		}
	}
	h.action = ch.Action
	return []plan.Change{ch}
}

func (h *Handler) Apply(ctx context.Context, changes []plan.Change) error {
	if !h.read {
		return fmt.Errorf("apply kapacitor handler %s: not read", h.Name())
	}
	if len(changes) == 0 {
		return nil
	}
	defer h.listing.invalidate()
	switch h.action {
	case plan.Create:
		return h.c.CreateHandler(ctx, h.topic, h.spec)
	case plan.Update:
		return h.c.ReplaceHandler(ctx, h.topic, h.spec)
	case plan.Delete:
		return h.c.DeleteHandler(ctx, h.topic, h.spec.ID)
	}
	return nil
}

// handlerDigest fingerprints a handler as read, without the values of its sensitive options (a digest is printed
// in JSON plans: no secret goes into it, not even hashed).
func handlerDigest(s *HandlerSpec, sensitive map[string]bool) string {
	sum := sha256.New()
	if s == nil {
		sum.Write([]byte("absent"))
	} else {
		opts := canonicalOptions(s.Options)
		keys := make([]string, 0, len(opts))
		for k := range opts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := []string{s.ID, s.Kind, s.Match}
		for _, k := range keys {
			if sensitive[k] {
				parts = append(parts, k+"=(sensitive)")
				continue
			}
			parts = append(parts, k+"="+opts[k])
		}
		sum.Write([]byte(strings.Join(parts, "\x00")))
	}
	return hex.EncodeToString(sum.Sum(nil))[:16]
}

// HandlerPrune deletes the handlers of a fleetctl topic that the inventory no longer routes to (a route renamed
// or removed, a handler added by hand). The topic itself is never deleted.
type HandlerPrune struct {
	c       *Client
	topic   string
	keep    []string
	listing *TopicListing

	read  bool
	found []HandlerSpec
}

// NewHandlerPrune returns the prune of topic's handlers; keep lists the ids still desired. Only topics named
// with TopicPrefix are pruned: those are fleetctl's.
func NewHandlerPrune(c *Client, topic string, keep []string, l *TopicListing) (*HandlerPrune, error) {
	if !strings.HasPrefix(topic, TopicPrefix) {
		return nil, fmt.Errorf("prune handlers of kapacitor topic %q: not a fleetctl topic (%s*)", topic, TopicPrefix)
	}
	if l == nil {
		l = NewTopicListing(c, topic)
	}
	return &HandlerPrune{c: c, topic: topic, keep: slices.Clone(keep), listing: l}, nil
}

// Absent makes every handler of the topic unwanted (engine.Absenter): a destroyed host's topic keeps no
// handler, one added by hand included. The topic itself stays.
func (p *HandlerPrune) Absent() { p.keep = nil }

func (p *HandlerPrune) Kind() string { return KindHandlerPrune }
func (p *HandlerPrune) Name() string { return p.topic }

func (p *HandlerPrune) Read(ctx context.Context) error {
	hs, err := p.listing.Handlers(ctx)
	if err != nil {
		return err
	}
	p.found, p.read = hs, true
	return nil
}

const reasonHandlerPrune = "no route of the host's inventory entry makes this handler any more"

func (p *HandlerPrune) Diff([]plan.Change) []plan.Change {
	var chs []plan.Change
	for _, h := range p.found {
		if slices.Contains(p.keep, h.ID) {
			continue
		}
		h := h
		chs = append(chs, plan.Change{Kind: KindHandler, Name: p.topic + "/" + h.ID, Action: plan.Delete,
			Reason: reasonHandlerPrune, Fields: []plan.Field{{Name: "kind", Before: h.Kind}}, ReadDigest: handlerDigest(&h, allSensitive(h.Options))})
	}
	if len(chs) == 0 {
		chs = append(chs, plan.Change{Action: plan.NoOp})
	}
	return chs
}

func (p *HandlerPrune) Apply(ctx context.Context, changes []plan.Change) error {
	if !p.read {
		return fmt.Errorf("prune handlers of kapacitor topic %q: not read", p.topic)
	}
	defer p.listing.invalidate()
	for _, ch := range changes {
		if ch.Action != plan.Delete {
			continue
		}
		id := strings.TrimPrefix(ch.Name, p.topic+"/")
		if err := p.c.DeleteHandler(ctx, p.topic, id); err != nil {
			return err
		}
	}
	return nil
}

// allSensitive treats every option of a handler fleetctl does not describe as sensitive, for its digest: a
// hand-made handler's options may hold anything.
func allSensitive(opts map[string]any) map[string]bool {
	out := make(map[string]bool, len(opts))
	for k := range opts {
		out[k] = true
	}
	return out
}
