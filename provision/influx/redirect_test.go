package influx_test

import (
	"context"
	"errors"
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
	httpxtest.Each(t, func(t *testing.T, a httpxtest.Attack) {
		c, err := influx.NewClient(influx.Config{URL: a.URL, Username: "admin", Password: secret.New(adminPass), HTTPClient: a.Client})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := c.Exec(ctx, `CREATE USER "u" WITH PASSWORD '`+userPass+`'`); !a.Refused(err, "/query") {
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
	})
}
