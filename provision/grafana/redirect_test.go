package grafana

import (
	"context"
	"errors"
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
	for _, auth := range []string{"password", "token"} {
		t.Run("with a "+auth, func(t *testing.T) {
			httpxtest.Each(t, func(t *testing.T, a httpxtest.Attack) {
				cfg := Config{URL: a.URL, HTTPClient: a.Client}
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
				if !a.Refused(err, "/api/datasources") {
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
			})
		})
	}
}
