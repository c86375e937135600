package kapacitor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/resourcetest"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// handlerSet is a host's handlers and their prune, sharing one listing of the topic, as the catalog makes them.
func handlerSet(t *testing.T, c *kapacitor.Client, topic string, specs ...kapacitor.HandlerSpec) []engine.Resource {
	t.Helper()
	l := kapacitor.NewTopicListing(c, topic)
	var rs []engine.Resource
	var keep []string
	for _, s := range specs {
		h, err := kapacitor.NewHandler(c, topic, s, []string{"headers"}, l)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, h)
		keep = append(keep, s.ID)
	}
	p, err := kapacitor.NewHandlerPrune(c, topic, keep, l)
	if err != nil {
		t.Fatal(err)
	}
	return append(rs, p)
}

func (e *bedEnv) cleanupTopic(t *testing.T, topic string) {
	t.Cleanup(func() {
		ctx := context.Background()
		hs, _ := e.c.Handlers(ctx, topic)
		for _, h := range hs {
			_ = e.c.DeleteHandler(ctx, topic, h.ID)
		}
	})
}

// TestIntegrationHandlers against Kapacitor 1.5.9: handlers converge (options read back as written, numbers and
// all), a handler edited or deleted behind fleetctl's back is repaired, one added by hand and one no route makes
// are deleted, and a destroyed host's handlers go while the topic stays.
func TestIntegrationHandlers(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	topic := kapacitor.HostTopic(uniqueHost(t, "kh"))
	e.cleanupTopic(t, topic)
	mail := kapacitor.HandlerSpec{ID: "acme-mail", Kind: "smtp", Options: map[string]any{"to": []string{"oncall@acme.example"}}, Match: "level() >= WARNING"}
	hook := kapacitor.HandlerSpec{ID: "company-hook", Kind: "post", Options: map[string]any{"url": "http://127.0.0.1:9/hook",
		"headers": map[string]string{"Authorization": "Bearer 51cr3t"}, "timeout": int64(5e9)}}
	logH := kapacitor.HandlerSpec{ID: "audit", Kind: "log", Options: map[string]any{"path": "/tmp/fleetctl-kh.log", "mode": int64(0o644)}}
	first := resourcetest.Converge(t, ctx, handlerSet(t, e.c, topic, mail, hook, logH)...)
	if got := resourcetest.Actions(first); len(got) != 3 {
		t.Fatalf("first apply: %v", got)
	}
	resourcetest.NoSecret(t, first, "Bearer 51cr3t", "51cr3t")

	// Drift: an option edited, a handler deleted, one added by hand.
	if err := e.c.ReplaceHandler(ctx, topic, kapacitor.HandlerSpec{ID: "acme-mail", Kind: "smtp", Options: map[string]any{"to": []string{"mallory@example.com"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.c.DeleteHandler(ctx, topic, "audit"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.CreateHandler(ctx, topic, kapacitor.HandlerSpec{ID: "by-hand", Kind: "log", Options: map[string]any{"path": "/tmp/x.log"}}); err != nil {
		t.Fatal(err)
	}
	repaired := resourcetest.Converge(t, ctx, handlerSet(t, e.c, topic, mail, hook, logH)...)
	var got []string
	for _, ch := range repaired {
		got = append(got, string(ch.Action)+" "+ch.Name)
	}
	if want := "update " + topic + "/acme-mail,create " + topic + "/audit,delete " + topic + "/by-hand"; strings.Join(got, ",") != want {
		t.Fatalf("repair: %v, want %s", got, want)
	}

	// A route removed: its handler goes.
	removed := resourcetest.Converge(t, ctx, handlerSet(t, e.c, topic, mail, hook)...)
	if len(removed) != 1 || removed[0].Action != plan.Delete || removed[0].Name != topic+"/audit" {
		t.Fatalf("removed route: %+v", removed)
	}

	// Destroying the host: every handler wanted absent goes; the topic itself is left.
	var absent []engine.Resource
	for _, s := range []kapacitor.HandlerSpec{mail, hook} {
		h, err := kapacitor.NewHandler(e.c, topic, s, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.Absent()
		absent = append(absent, h)
	}
	resourcetest.Converge(t, ctx, absent...)
	if hs, err := e.c.Handlers(ctx, topic); err != nil || len(hs) != 0 {
		t.Fatalf("after destroy: %v %v", hs, err)
	}
}

// TestIntegrationHandlerWriteFails: Kapacitor refuses one handler (a log handler with a relative path); the
// handler before it is written, the one after it is left as it was, and the error names the refused handler.
func TestIntegrationHandlerWriteFails(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	topic := kapacitor.HostTopic(uniqueHost(t, "kf"))
	e.cleanupTopic(t, topic)
	good := kapacitor.HandlerSpec{ID: "a-good", Kind: "log", Options: map[string]any{"path": "/tmp/fleetctl-kf.log"}}
	bad := kapacitor.HandlerSpec{ID: "b-bad", Kind: "log", Options: map[string]any{"path": "relative.log"}}
	later := kapacitor.HandlerSpec{ID: "c-later", Kind: "log", Options: map[string]any{"path": "/tmp/fleetctl-kf2.log"}}
	rs := handlerSet(t, e.c, topic, good, bad, later)
	declared := make([]engine.Declared, len(rs))
	for i, r := range rs {
		declared[i] = engine.OnServer(r)
	}
	_, steps, err := engine.PlanHost(ctx, "test", declared)
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.ApplyHost(ctx, steps)
	if err == nil || !strings.Contains(err.Error(), topic+"/b-bad") {
		t.Fatalf("apply error %v, want one naming %s/b-bad", err, topic)
	}
	hs, err := e.c.Handlers(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.ID)
	}
	if strings.Join(ids, ",") != "a-good" {
		t.Fatalf("handlers after the failed write: %v, want only a-good", ids)
	}
}

// TestIntegrationServiceConfig: a service's options and secret set through the config API; Kapacitor shows the
// secret only as set, the fingerprint tells the same secret (no change) from a new one (one change), and the
// overrides can be removed again.
func TestIntegrationServiceConfig(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	master := secret.New("kc-master")
	mk := func(token string) *kapacitor.ServiceConfig {
		r, err := kapacitor.NewConfig(e.c, kapacitor.ConfigSpec{Section: "telegram", Options: map[string]any{"enabled": true, "chat-id": "4711", "url": "http://127.0.0.1:9/bot"},
			Secrets: map[string]secret.Value{"token": secret.New(token)}, Master: master}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Cleanup(func() {
		r, _ := kapacitor.NewConfig(e.c, kapacitor.ConfigSpec{Section: "telegram", Options: map[string]any{"enabled": true, "chat-id": "", "url": ""},
			Secrets: map[string]secret.Value{"token": secret.New("x")}, Master: master}, nil)
		r.Absent()
		resourcetest.Apply(t, context.Background(), r)
	})
	first := resourcetest.Converge(t, ctx, mk("tg-token-1"))
	if len(first) != 1 || first[0].Action != plan.Update {
		t.Fatalf("first: %+v", first)
	}
	resourcetest.NoSecret(t, first, "tg-token-1")
	el, err := e.c.ConfigElement(ctx, "telegram", "")
	if err != nil {
		t.Fatal(err)
	}
	if el.Options["token"] != true || el.Options["chat-id"] != "4711" {
		t.Fatalf("read back: %v", el.Options)
	}
	changed := resourcetest.Converge(t, ctx, mk("tg-token-2"))
	if len(changed) != 1 || resourcetest.Fields(changed[0]) != "token:(sensitive)" {
		t.Fatalf("changed secret: %+v", changed)
	}
}

// TestIntegrationHTTPPostEndpoint: an [[httppost]] endpoint of Kapacitor's, added through the config API when
// missing, updated in place, and removed whole when no longer wanted.
func TestIntegrationHTTPPostEndpoint(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	name := uniqueHost(t, "kp")
	mk := func(u string) *kapacitor.ServiceConfig {
		r, err := kapacitor.NewConfig(e.c, kapacitor.ConfigSpec{Section: "httppost", Element: name,
			Options: map[string]any{"endpoint": name, "url": u, "headers": map[string]string{"X-Fleet": "1"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Cleanup(func() {
		r := mk("http://127.0.0.1:9/x")
		r.Absent()
		resourcetest.Apply(t, context.Background(), r)
	})
	if first := resourcetest.Converge(t, ctx, mk("http://127.0.0.1:9/a")); len(first) != 1 || first[0].Action != plan.Create {
		t.Fatalf("first: %+v", first)
	}
	if changed := resourcetest.Converge(t, ctx, mk("http://127.0.0.1:9/b")); len(changed) != 1 || resourcetest.Fields(changed[0]) != `url:"http://127.0.0.1:9/a"→"http://127.0.0.1:9/b"` {
		t.Fatalf("changed: %+v", changed)
	}
	gone := mk("http://127.0.0.1:9/b")
	gone.Absent()
	if removed := resourcetest.Converge(t, ctx, gone); len(removed) != 1 || removed[0].Action != plan.Delete {
		t.Fatalf("removed: %+v", removed)
	}
	if _, err := e.c.ConfigElement(ctx, "httppost", name); !kapacitor.IsNotFound(err) {
		t.Fatalf("the endpoint is still there: %v", err)
	}
}
