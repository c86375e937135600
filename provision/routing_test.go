package provision

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// TestSecretHeadersJoinTheirTable: a secret header of a contact or an endpoint is set inside the headers table
// Kapacitor takes, and the whole table is named sensitive, so a plan never shows it.
func TestSecretHeadersJoinTheirTable(t *testing.T) {
	src := baseInventory + `
[kapacitor.services.httppost.company]
url = "https://hooks.example.com/c"
headers = { X-Plain = "1", X-Token = { env = "EP_TOKEN" } }

[alerts.contacts.hook]
kind = "post"
url = "https://hooks.example.com/h"
headers = { Authorization = { env = "HOOK_TOKEN" } }

[[hosts]]
name = "web1"
address = "10.0.0.1"
`
	env := map[string]string{"HOME": "/home/ops", "EP_TOKEN": "ep-51cr3t", "HOOK_TOKEN": "hook-51cr3t"}
	inv, err := inventory.Parse("inventory.toml", []byte(src), "/etc/fleet", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	m := secret.NewMasker()
	resolve := func(r inventory.SecretRef) secret.Value {
		v, err := r.Resolve()
		if err != nil {
			t.Fatal(err)
		}
		m.Add(v)
		return v
	}
	c := contacts(inv, resolve)["hook"]
	if !reflect.DeepEqual(c.Options["headers"], map[string]string{"Authorization": "hook-51cr3t"}) || !reflect.DeepEqual(c.Sensitive, []string{"headers"}) {
		t.Errorf("contact: %+v", c)
	}
	ss := services(inv, resolve)
	if len(ss) != 1 || !reflect.DeepEqual(ss[0].Options["headers"], map[string]string{"X-Plain": "1", "X-Token": "ep-51cr3t"}) ||
		!reflect.DeepEqual(ss[0].Sensitive, []string{"headers"}) || len(ss[0].Secrets) != 0 || ss[0].Element != "company" {
		t.Errorf("endpoint: %+v", ss)
	}
	b, _ := json.Marshal(map[string]any{"c": c.Options, "s": ss[0].Options})
	if masked := m.Mask(string(b)); strings.Contains(masked, "51cr3t") {
		t.Errorf("the masker does not know the headers' secrets: %s", masked)
	}
}
