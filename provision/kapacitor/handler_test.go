package kapacitor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// TestHandlerDiff: per fixture, the actual handler as Kapacitor returns it (JSON, numbers as floats), the desired
// one, and the change planned.
func TestHandlerDiff(t *testing.T) {
	want := HandlerSpec{ID: "acme-mail", Kind: "smtp", Options: map[string]any{"to": []string{"a@acme.example"}, "port": int64(25)}, Match: "level() >= WARNING"}
	post := HandlerSpec{ID: "hook", Kind: "post", Options: map[string]any{"url": "http://h/x", "headers": map[string]string{"Authorization": "Bearer s3cret"}}}
	cases := []struct {
		name      string
		want      HandlerSpec
		actual    string // JSON as the API returns it; "" for missing
		absent    bool
		action    plan.Action
		fields    string
		sensitive []string
	}{
		{name: "missing", want: want, action: plan.Create, fields: `kind:→smtp match:→level() >= WARNING options.port:→25 options.to:→["a@acme.example"]`},
		{name: "same, read back with float numbers", want: want, actual: `{"id":"acme-mail","kind":"smtp","options":{"to":["a@acme.example"],"port":25.0},"match":"level() >= WARNING"}`, action: plan.NoOp},
		{name: "contact changed", want: want, actual: `{"id":"acme-mail","kind":"smtp","options":{"to":["old@acme.example"],"port":25},"match":"level() >= WARNING"}`,
			action: plan.Update, fields: `options.to:["old@acme.example"]→["a@acme.example"]`},
		{name: "edited by hand: option added, match removed", want: want, actual: `{"id":"acme-mail","kind":"smtp","options":{"to":["a@acme.example"],"port":25,"extra":true}}`,
			action: plan.Update, fields: `match:→level() >= WARNING options.extra:true→`},
		{name: "kind changed", want: want, actual: `{"id":"acme-mail","kind":"log","options":{"path":"/tmp/x"}}`, action: plan.Update,
			fields: `kind:log→smtp match:→level() >= WARNING options.path:"/tmp/x"→ options.port:→25 options.to:→["a@acme.example"]`},
		{name: "sensitive header changed", want: post, sensitive: []string{"headers"}, actual: `{"id":"hook","kind":"post","options":{"url":"http://h/x","headers":{"Authorization":"Bearer old"}}}`,
			action: plan.Update, fields: `options.headers:(sensitive)`},
		{name: "sensitive header same", want: post, sensitive: []string{"headers"}, actual: `{"id":"hook","kind":"post","options":{"url":"http://h/x","headers":{"Authorization":"Bearer s3cret"}}}`, action: plan.NoOp},
		{name: "absent wanted, exists", want: want, absent: true, actual: `{"id":"acme-mail","kind":"smtp","options":{"to":["a@acme.example"]}}`, action: plan.Delete,
			fields: `kind:smtp→ options.to:["a@acme.example"]→`},
		{name: "absent wanted, missing", want: want, absent: true, action: plan.NoOp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := NewHandler(nil, "fleetctl-a1", c.want, c.sensitive, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.absent {
				h.Absent()
			}
			if c.actual != "" {
				var a HandlerSpec
				if err := json.Unmarshal([]byte(c.actual), &a); err != nil {
					t.Fatal(err)
				}
				h.actual = &a
			}
			h.read = true
			chs := h.Diff(nil)
			if len(chs) != 1 || chs[0].Action != c.action {
				t.Fatalf("changes %+v, want one %s", chs, c.action)
			}
			if got := fieldString(chs[0]); got != c.fields {
				t.Errorf("fields\n got %s\nwant %s", got, c.fields)
			}
			if chs[0].Name != "fleetctl-a1/"+c.want.ID || chs[0].Kind != KindHandler {
				t.Errorf("address %s:%s", chs[0].Kind, chs[0].Name)
			}
			b, _ := json.Marshal(chs)
			if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "Bearer old") {
				t.Errorf("a sensitive option shows in the change: %s", b)
			}
		})
	}
}

func fieldString(ch plan.Change) string {
	var out []string
	for _, f := range ch.Fields {
		if f.Sensitive {
			out = append(out, f.Name+":(sensitive)")
			continue
		}
		out = append(out, f.Name+":"+f.Before+"→"+f.After)
	}
	return strings.Join(out, " ")
}

// TestHandlerPruneDiff: handlers of the host's topic that no route makes are deleted; the kept ones are left to
// their own resources.
func TestHandlerPruneDiff(t *testing.T) {
	p, err := NewHandlerPrune(nil, "fleetctl-a1", []string{"acme-mail"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.found = []HandlerSpec{{ID: "acme-mail", Kind: "smtp"}, {ID: "old-route", Kind: "pushover"}, {ID: "by-hand", Kind: "log"}}
	p.read = true
	chs := p.Diff(nil)
	var got []string
	for _, c := range chs {
		got = append(got, string(c.Action)+" "+c.Name)
	}
	if strings.Join(got, ", ") != "delete fleetctl-a1/old-route, delete fleetctl-a1/by-hand" {
		t.Errorf("prune: %v", got)
	}
	if _, err := NewHandlerPrune(nil, "acme", nil, nil); err == nil {
		t.Error("a topic fleetctl does not name was accepted for pruning")
	}
}

// TestHandlerDigestHoldsNoSecret: the read digest, printed in JSON plans, does not change with a sensitive
// option's value (so nothing of it is in there), but does with a plain one.
func TestHandlerDigestHoldsNoSecret(t *testing.T) {
	sens := map[string]bool{"headers": true}
	a := &HandlerSpec{ID: "h", Kind: "post", Options: map[string]any{"url": "http://a", "headers": map[string]any{"Authorization": "one"}}}
	b := &HandlerSpec{ID: "h", Kind: "post", Options: map[string]any{"url": "http://a", "headers": map[string]any{"Authorization": "two"}}}
	c := &HandlerSpec{ID: "h", Kind: "post", Options: map[string]any{"url": "http://b", "headers": map[string]any{"Authorization": "one"}}}
	if handlerDigest(a, sens) != handlerDigest(b, sens) {
		t.Error("the digest depends on a secret header")
	}
	if handlerDigest(a, sens) == handlerDigest(c, sens) {
		t.Error("the digest misses a plain option")
	}
}
