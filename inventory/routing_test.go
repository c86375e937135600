package inventory

import (
	"reflect"
	"strings"
	"testing"
)

// routed is an inventory of two customers (groups) with their own contacts and the company's webhook for all.
const routed = base + `
[kapacitor.services.smtp]
enabled = true
host = "127.0.0.1"
port = 2525
from = "kapacitor@example.com"
password = { env = "SMTP_PASSWORD" }

[kapacitor.services.pushover]
enabled = true
token = { env = "PUSHOVER_TOKEN" }
user-key = { env = "PUSHOVER_USER" }
url = "http://127.0.0.1:9300/1/messages.json"

[kapacitor.services.httppost.company]
url = "https://hooks.example.com/company"
headers = { X-Token = { env = "ENDPOINT_TOKEN" } }

[alerts.contacts.company-hook]
kind = "post"
url = "https://hooks.example.com/kapacitor"
headers = { X-Source = "kapacitor", Authorization = { env = "HOOK_TOKEN" } }

[alerts.contacts.acme-mail]
kind = "smtp"
to = ["oncall@acme.example"]
match = "level() >= WARNING"

[alerts.contacts.acme-push]
kind = "pushover"
user-key = "uacme"

[alerts.contacts.beta-mail]
kind = "smtp"
to = ["ops@beta.example"]

[defaults]
alert_routes = ["company-hook"]

[groups.acme]
alert_routes_add = ["acme-mail", "acme-push"]

[groups.beta]
alert_routes_add = ["beta-mail"]

[[hosts]]
name = "a1"
address = "10.0.0.1"
groups = ["acme"]

[[hosts]]
name = "a2"
address = "10.0.0.2"
groups = ["acme"]
alert_routes_drop = ["acme-push"]

[[hosts]]
name = "b1"
address = "10.0.0.3"
groups = ["beta"]
alert_routes = ["beta-mail"]
`

func TestRoutesMerge(t *testing.T) {
	inv := parse(t, routed)
	want := map[string][]string{
		"a1": {"company-hook", "acme-mail", "acme-push"},
		"a2": {"company-hook", "acme-mail"},
		"b1": {"beta-mail"},
	}
	for name, routes := range want {
		h, _ := inv.Host(name)
		if !reflect.DeepEqual(h.Routes, routes) {
			t.Errorf("%s: routes %v, want %v", name, h.Routes, routes)
		}
	}
	c := inv.Alerts.Contacts["company-hook"]
	if c.Kind != "post" || c.Options["url"] != "https://hooks.example.com/kapacitor" {
		t.Errorf("company-hook: %+v", c)
	}
	if h := c.Options["headers"].(map[string]string); h["X-Source"] != "kapacitor" || h["Authorization"] != "" {
		t.Errorf("headers: %v (a secret header must not be among the plain ones)", h)
	}
	if ref, ok := c.Secrets["headers.Authorization"]; !ok || ref.Env != "HOOK_TOKEN" {
		t.Errorf("secret header: %+v", c.Secrets)
	}
	if m := inv.Alerts.Contacts["acme-mail"].Match; m != "level() >= WARNING" {
		t.Errorf("match %q", m)
	}
	if len(inv.Kapacitor.Services) != 3 || inv.Kapacitor.Services[0].Element != "company" || inv.Kapacitor.Services[0].Options["endpoint"] != "company" ||
		inv.Kapacitor.Services[1].Section != "pushover" || inv.Kapacitor.Services[2].Secrets["password"].Env != "SMTP_PASSWORD" {
		t.Errorf("services: %+v", inv.Kapacitor.Services)
	}
	var envs []string
	for _, r := range inv.secretRefs() {
		envs = append(envs, r.Env)
	}
	for _, e := range []string{"HOOK_TOKEN", "PUSHOVER_TOKEN", "SMTP_PASSWORD"} {
		if !strings.Contains(strings.Join(envs, ","), e) {
			t.Errorf("secret %s is not among the inventory's secrets %v (CheckSecrets would not resolve it)", e, envs)
		}
	}
}

func TestRoutesBadInput(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"unknown kind", `[alerts.contacts.x]
kind = "smpt"
`, `inventory.toml:20: alerts.contacts.x.kind: unknown handler kind "smpt" (did you mean "smtp"?)`},
		{"unknown option", `[alerts.contacts.x]
kind = "smtp"
to = ["a@example.com"]
too = 1
`, `inventory.toml:22: alerts.contacts.x.too: unknown key (did you mean "to"?)`},
		{"misspelt option", `[alerts.contacts.x]
kind = "pushover"
user_key = "u"
`, `inventory.toml:21: alerts.contacts.x.user_key: unknown key (did you mean "user-key"?)`},
		{"bad email", `[alerts.contacts.x]
kind = "smtp"
to = ["not an address"]
`, `inventory.toml:21: alerts.contacts.x.to[0]: "not an address" is not an email address`},
		{"bad url", `[alerts.contacts.x]
kind = "post"
url = "ftp://example.com"
`, `inventory.toml:21: alerts.contacts.x.url: "ftp://example.com" is not an http or https URL`},
		{"inline secret", `[kapacitor.services.pushover]
token = "abc123"
`, `inventory.toml:20: kapacitor.services.pushover.token: secrets cannot be written in the inventory`},
		{"enabled without credential", `[kapacitor.services.pushover]
enabled = true
token = { env = "T" }
`, `kapacitor.services.pushover.user-key: required when pushover is enabled`},
		{"endpoint without url", `[kapacitor.services.httppost.company]
headers = { X-A = "1" }
`, `kapacitor.services.httppost.company.url: required: the endpoint's URL`},
		{"unknown service", `[kapacitor.services.smpt]
host = "x"
`, `kapacitor.services.smpt: unknown Kapacitor service "smpt" (did you mean "smtp"?)`},
		{"route without contact", `[alerts.contacts.acme-mail]
kind = "smtp"
to = ["a@example.com"]

[defaults]
alert_routes = ["acme-mial"]
`, `inventory.toml:24: defaults.alert_routes[0]: route "acme-mial" names no contact (did you mean "acme-mail"?)`},
		{"missing required", `[alerts.contacts.x]
kind = "log"
`, `alerts.contacts.x.path: required by handler kind "log"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := base + "\n" + c.src + "\n[[hosts]]\nname = \"h1\"\naddress = \"10.0.0.1\"\n"
			_, err := Parse("inventory.toml", []byte(src), "/etc/fleet", env())
			if err == nil {
				t.Fatalf("accepted; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, c.want)
			}
			if strings.Contains(err.Error(), "abc123") {
				t.Fatalf("the inline secret is echoed: %v", err)
			}
		})
	}
}
