package kapacitor

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/views"
	"github.com/fleetctl/fleetctl/provision/views/viewstest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// routingPlan is the plan of one host whose routes and service settings changed, made by the resources' own
// Diff from what Kapacitor would return: a service setting and its secret, a contact changed, a handler created
// with a secret header, and a route removed.
func routingPlan(t *testing.T) (*plan.Plan, []string) {
	t.Helper()
	secrets := []string{"tok-NEW-51cr3t", "Bearer hook-51cr3t", "Bearer old-51cr3t"}
	master := secret.New("master-key")
	cfg, err := NewConfig(nil, ConfigSpec{Section: "pushover", Options: map[string]any{"enabled": true},
		Secrets: map[string]secret.Value{"token": secret.New(secrets[0])}, Master: master}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.actual, cfg.oldFP, cfg.read = &ConfigElement{Options: map[string]any{"enabled": false, "token": true}}, "an-older-fingerprint", true
	topic := HostTopic("web1")
	mail, _ := NewHandler(nil, topic, HandlerSpec{ID: "acme-mail", Kind: "smtp", Options: map[string]any{"to": []string{"oncall2@acme.example"}}, Match: "level() >= WARNING"}, nil, nil)
	mail.actual, mail.read = &HandlerSpec{ID: "acme-mail", Kind: "smtp", Options: map[string]any{"to": []any{"oncall@acme.example"}}, Match: "level() >= WARNING"}, true
	hook, _ := NewHandler(nil, topic, HandlerSpec{ID: "company-hook", Kind: "post", Options: map[string]any{"url": "https://hooks.example.com/k",
		"headers": map[string]string{"Authorization": secrets[1]}}}, []string{"headers"}, nil)
	hook.read = true
	prune, _ := NewHandlerPrune(nil, topic, []string{"acme-mail", "company-hook"}, nil)
	prune.found, prune.read = []HandlerSpec{{ID: "acme-mail", Kind: "smtp"}, {ID: "company-hook", Kind: "post"}, {ID: "acme-push", Kind: "pushover",
		Options: map[string]any{"user-key": "uACME"}}}, true
	var chs []plan.Change
	for _, d := range [][]plan.Change{cfg.Diff(nil), mail.Diff(nil), hook.Diff(nil), prune.Diff(nil)} {
		for _, ch := range d {
			ch.Host, ch.Address = "web1", "web1/"+ch.Kind+":"+ch.Name
			chs = append(chs, ch)
		}
	}
	return &plan.Plan{Created: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Hosts: []plan.HostPlan{{Host: "web1", Changes: chs}}}, secrets
}

// TestRoutingPlanGolden pins how handler and service-setting changes read in text, markdown and JSON, and that no
// secret of a setting or a header shows in any of them.
func TestRoutingPlanGolden(t *testing.T) {
	p, secrets := routingPlan(t)
	var text, md, js bytes.Buffer
	if err := views.Text(&text, p, views.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := views.Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	if err := views.JSON(&js, p); err != nil {
		t.Fatal(err)
	}
	viewstest.OneJSONDocument(t, js.Bytes())
	for name, out := range map[string][]byte{"routing.txt": text.Bytes(), "routing.md": md.Bytes(), "routing.json": js.Bytes()} {
		for _, s := range secrets {
			if bytes.Contains(out, []byte(s)) || bytes.Contains(out, []byte(strings.TrimPrefix(s, "Bearer "))) {
				t.Errorf("%s shows a secret:\n%s", name, out)
			}
		}
		golden(t, name, out)
	}
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"~ update web1/kapacitor.config:pushover", "token: (sensitive value changed)",
		`options.to: ["oncall@acme.example"] → ["oncall2@acme.example"]`, "+ create web1/kapacitor.handler:fleetctl-web1/company-hook",
		"options.headers: (sensitive value changed)", "- delete web1/kapacitor.handler:fleetctl-web1/acme-push"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text plan lacks %q:\n%s", want, text.String())
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	viewstest.Golden(t, name, got, *update)
}
