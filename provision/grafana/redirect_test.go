package grafana

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/httpx/httpxtest"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// TestCredentialsDoNotFollowRedirects stages the attack: the configured Grafana answers with a 307 or 308 to
// another host or to another port of the same host. Neither the login body (the admin password), nor basic auth,
// nor a token must reach it; the error names both URLs.
func TestCredentialsDoNotFollowRedirects(t *testing.T) {
	const pass, token = "grafana-pw-redirect-test", "glsa_token-redirect-test"
	for _, code := range httpxtest.Codes {
		trap := httpxtest.NewTrap(t)
		for where, target := range trap.Targets() {
			for _, auth := range []string{"password", "token"} {
				t.Run(httpxtest.Name(code, where)+" with a "+auth, func(t *testing.T) {
					srv := httpxtest.NewRedirector(t, code, target)
					cfg := Config{URL: srv.URL, HTTPClient: httpxtest.Client(trap)}
					if auth == "token" {
						cfg.Token = secret.New(token)
					} else {
						cfg.User, cfg.Password = "admin", secret.New(pass)
					}
					c, err := NewClient(cfg)
					if err != nil {
						t.Fatal(err)
					}
					ctx := context.Background()
					err = c.CreateDatasource(ctx, "uid1", map[string]any{"uid": "uid1", "secureJsonData": map[string]string{"password": pass}})
					if !errors.Is(err, httpx.ErrRedirect) || !strings.Contains(err.Error(), srv.URL+"/api/datasources") ||
						!strings.Contains(err.Error(), target+"/api/datasources") {
						t.Errorf("create through a redirect: want a refusal naming both URLs, got %v", err)
					}
					if testing.Verbose() {
						t.Log(err)
					}
					if _, _, err := c.GetDatasource(ctx, "uid1"); !errors.Is(err, httpx.ErrRedirect) {
						t.Errorf("read through a redirect: want a refusal, got %v", err)
					}
					if err := c.CheckCredentials(ctx); !errors.Is(err, httpx.ErrRedirect) {
						t.Errorf("credential check through a redirect: want a refusal, got %v", err)
					}
					c.Close(ctx)
					if got := trap.Requests(); len(got) > 0 {
						t.Errorf("the other origin received %d requests, the first: %+v", len(got), got[0])
					}
				})
			}
		}
	}
}
