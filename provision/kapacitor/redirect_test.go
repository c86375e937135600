package kapacitor

import (
	"context"
	"errors"
	"testing"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/httpx/httpxtest"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// TestCredentialsDoNotFollowRedirects stages the attack: the configured Kapacitor answers with a 307 or 308 to
// another host or to another port of the same host. Neither basic auth nor a task body must reach it; the error
// names both URLs.
func TestCredentialsDoNotFollowRedirects(t *testing.T) {
	httpxtest.Each(t, func(t *testing.T, a httpxtest.Attack) {
		c, err := NewClient(Config{URL: a.URL, Username: "admin", Password: secret.New("kapacitor-pw-redirect-test"), HTTPClient: a.Client})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, err = c.CreateTask(ctx, NewTaskRequest{ID: "t1", Type: TypeStream, Script: "stream|from()", Status: StatusEnabled})
		if !a.Refused(err, "/kapacitor/v1/tasks") {
			t.Errorf("create through a redirect: want a refusal naming both URLs, got %v", err)
		}
		if _, err := c.List(ctx, "t"); !errors.Is(err, httpx.ErrRedirect) {
			t.Errorf("list through a redirect: want a refusal, got %v", err)
		}
		if err := c.Ping(ctx); !errors.Is(err, httpx.ErrRedirect) {
			t.Errorf("ping through a redirect: want a refusal, got %v", err)
		}
	})
}
