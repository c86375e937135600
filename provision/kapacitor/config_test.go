package kapacitor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// TestServiceConfigDiff: Kapacitor shows a redacted secret only as set or not; the fingerprint fleetctl stored
// beside it tells a changed secret from the same one.
func TestServiceConfigDiff(t *testing.T) {
	master := secret.New("master-key")
	spec := ConfigSpec{Section: "pushover", Options: map[string]any{"enabled": true, "url": "http://127.0.0.1:1/p"},
		Secrets: map[string]secret.Value{"token": secret.New("tok-NEW")}, Master: master}
	fpNew := secretsFingerprint(master, spec.Secrets)
	fpOld := secretsFingerprint(master, map[string]secret.Value{"token": secret.New("tok-OLD")})
	cases := []struct {
		name, actual, fp string
		action           plan.Action
		fields           string
	}{
		{"fresh", `{"options":{"enabled":false,"token":false,"url":"https://api.pushover.net/1/messages.json"},"redacted":["token"]}`, "",
			plan.Update, `enabled:false→true url:"https://api.pushover.net/1/messages.json"→"http://127.0.0.1:1/p" token:(sensitive)`},
		{"converged", `{"options":{"enabled":true,"token":true,"url":"http://127.0.0.1:1/p"},"redacted":["token"]}`, fpNew, plan.NoOp, ``},
		{"secret changed", `{"options":{"enabled":true,"token":true,"url":"http://127.0.0.1:1/p"},"redacted":["token"]}`, fpOld, plan.Update, `token:(sensitive)`},
		{"secret removed in Kapacitor", `{"options":{"enabled":true,"token":false,"url":"http://127.0.0.1:1/p"},"redacted":["token"]}`, fpNew, plan.Update, `token:(sensitive)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewConfig(nil, spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			var el ConfigElement
			if err := json.Unmarshal([]byte(c.actual), &el); err != nil {
				t.Fatal(err)
			}
			r.actual, r.oldFP, r.read = &el, c.fp, true
			chs := r.Diff(nil)
			if len(chs) != 1 || chs[0].Action != c.action {
				t.Fatalf("changes %+v, want %s", chs, c.action)
			}
			if got := fieldString(chs[0]); got != c.fields {
				t.Errorf("fields\n got %s\nwant %s", got, c.fields)
			}
			b, _ := json.Marshal(chs)
			if strings.Contains(string(b), "tok-") {
				t.Errorf("the secret shows in the plan: %s", b)
			}
			if c.action == plan.Update && strings.Contains(c.fields, "token") && r.todo.set["token"] != "tok-NEW" {
				t.Errorf("the new secret is not what apply sets")
			}
		})
	}
}
