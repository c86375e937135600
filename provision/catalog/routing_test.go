package catalog

import (
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// TestRoutesBecomeHandlers: each route of a host is one handler in the host's topic, after the fleet's service
// settings (on the first host only) and before the prune and the tasks, whose scripts publish to that topic.
func TestRoutesBecomeHandlers(t *testing.T) {
	ic, _ := influx.NewClient(influx.Config{URL: "http://127.0.0.1:9"})
	gc, _ := grafana.NewClient(grafana.Config{URL: "http://127.0.0.1:9", Token: secret.New("t")})
	kc, _ := kapacitor.NewClient(kapacitor.Config{URL: "http://127.0.0.1:9"})
	packs, err := alertpacks.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	hosts := []Host{
		{Host: engine.Host{Name: "a1"}, Database: "a1", AlertPacks: []string{"cpu"}, Routes: []string{"hook", "acme-mail"}},
		{Host: engine.Host{Name: "b1"}, Database: "b1", AlertPacks: []string{"cpu"}, Routes: []string{"hook"}},
	}
	c := New(Config{Servers: Servers{Influx: ic, Grafana: gc, Kapacitor: kc, GrafanaInfluxURL: "http://influx"}, Master: secret.New("m"), Packs: packs,
		Contacts: map[string]Contact{"hook": {Kind: "post", Options: map[string]any{"url": "http://h"}}, "acme-mail": {Kind: "smtp", Options: map[string]any{"to": []string{"a@acme.example"}}}},
		Services: []kapacitor.ConfigSpec{{Section: "smtp", Options: map[string]any{"host": "mail"}}}}, hosts)
	for _, h := range hosts {
		d, err := Desired(h, system.Families()["apt"], AgentOutput{URL: "http://influx"}, secret.New("p"), packs, c.cfg.Handlers)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(d.Scripts[0].Text, ".topic('fleetctl-"+h.Name+"')") {
			t.Errorf("%s: the task does not publish to the host's topic:\n%s", h.Name, d.Scripts[0].Text)
		}
		rs, err := c.serverResources(h, d.Scripts, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rs, err = c.withFleetSettings(h, rs); err != nil {
			t.Fatal(err)
		}
		var kap []string
		for _, r := range rs {
			if strings.HasPrefix(r.Kind(), "kapacitor.") {
				kap = append(kap, r.Kind()+":"+r.Name())
			}
		}
		want := map[string]string{
			"a1": "kapacitor.config:smtp kapacitor.handler:fleetctl-a1/hook kapacitor.handler:fleetctl-a1/acme-mail kapacitor.handlers:fleetctl-a1 kapacitor.task:a1-cpu kapacitor.prune:a1-*",
			"b1": "kapacitor.handler:fleetctl-b1/hook kapacitor.handlers:fleetctl-b1 kapacitor.task:b1-cpu kapacitor.prune:b1-*",
		}[h.Name]
		if got := strings.Join(kap, " "); got != want {
			t.Errorf("%s:\n got %s\nwant %s", h.Name, got, want)
		}
	}
}
