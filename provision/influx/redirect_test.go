package influx_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/httpx/httpxtest"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// TestCredentialsDoNotFollowRedirects stages the attack: the configured InfluxDB answers with a 307 or 308 to
// another host or to another port of the same host. The statement (which carries a new user's password) and the
// admin's Authorization header must never reach it; the error names both URLs.
func TestCredentialsDoNotFollowRedirects(t *testing.T) {
	const adminPass, userPass = "admin-pw-redirect-test", "user-pw-redirect-test"
	for _, code := range httpxtest.Codes {
		trap := httpxtest.NewTrap(t)
		for where, target := range trap.Targets() {
			t.Run(httpxtest.Name(code, where), func(t *testing.T) {
				srv := httpxtest.NewRedirector(t, code, target)
				c, err := influx.NewClient(influx.Config{URL: srv.URL, Username: "admin", Password: secret.New(adminPass),
					HTTPClient: httpxtest.Client(trap)})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				err = c.Exec(ctx, `CREATE USER "u" WITH PASSWORD '`+userPass+`'`)
				if !errors.Is(err, httpx.ErrRedirect) || !strings.Contains(err.Error(), srv.URL+"/query") || !strings.Contains(err.Error(), target+"/query") {
					t.Errorf("exec through a redirect: want a refusal naming both URLs, got %v", err)
				}
				if _, err := c.CheckCredentials(ctx, "admin", secret.New(adminPass)); !errors.Is(err, httpx.ErrRedirect) {
					t.Errorf("credential check through a redirect: want a refusal, got %v", err)
				}
				if err := c.Write(ctx, "db", "", "m v=1"); !errors.Is(err, httpx.ErrRedirect) {
					t.Errorf("write through a redirect: want a refusal, got %v", err)
				}
				if _, err := c.Ping(ctx); !errors.Is(err, httpx.ErrRedirect) {
					t.Errorf("ping through a redirect: want a refusal, got %v", err)
				}
				if got := trap.Requests(); len(got) > 0 {
					t.Errorf("the other origin received %d requests, the first: %+v", len(got), got[0])
				}
			})
		}
	}
}
