package kapacitor

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/httpx/httpxtest"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// TestCredentialsDoNotFollowRedirects stages the attack: the configured Kapacitor answers with a 307 or 308 to
// another host or to another port of the same host. Neither basic auth nor a task body must reach it; the error
// names both URLs.
func TestCredentialsDoNotFollowRedirects(t *testing.T) {
	for _, code := range httpxtest.Codes {
		trap := httpxtest.NewTrap(t)
		for where, target := range trap.Targets() {
			t.Run(httpxtest.Name(code, where), func(t *testing.T) {
				srv := httpxtest.NewRedirector(t, code, target)
				c, err := NewClient(Config{URL: srv.URL, Username: "admin", Password: secret.New("kapacitor-pw-redirect-test"),
					HTTPClient: httpxtest.Client(trap)})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				_, err = c.CreateTask(ctx, NewTaskRequest{ID: "t1", Type: TypeStream, Script: "stream|from()", Status: StatusEnabled})
				if !errors.Is(err, httpx.ErrRedirect) || !strings.Contains(err.Error(), srv.URL+"/kapacitor/v1/tasks") ||
					!strings.Contains(err.Error(), target+"/kapacitor/v1/tasks") {
					t.Errorf("create through a redirect: want a refusal naming both URLs, got %v", err)
				}
				if _, err := c.List(ctx, "t"); !errors.Is(err, httpx.ErrRedirect) {
					t.Errorf("list through a redirect: want a refusal, got %v", err)
				}
				if err := c.Ping(ctx); !errors.Is(err, httpx.ErrRedirect) {
					t.Errorf("ping through a redirect: want a refusal, got %v", err)
				}
				if got := trap.Requests(); len(got) > 0 {
					t.Errorf("the other origin received %d requests, the first: %+v", len(got), got[0])
				}
			})
		}
	}
}
