package kapacitor

import (
	"context"
	"net/url"
)

// Internals the integration tests (package kapacitor_test, which may import provision) need.

// DoForTest sends one request to the API, for endpoints the client has no method for (alert topics, vars).
func (c *Client) DoForTest(ctx context.Context, method, path string, q url.Values, body, out any) error {
	return c.do(ctx, method, path, q, body, out)
}

var (
	GlobEscape         = globEscape
	ReasonScriptReload = reasonScriptReload
	ReasonDBRPReload   = reasonDBRPReload
)
