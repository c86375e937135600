package kapacitor

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// ServiceTestResult is Kapacitor's answer to a service test: whether the service accepted the test notification.
type ServiceTestResult struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// ServiceTestOptions reads the options a service's test takes, with their defaults
// (GET /service-tests/<service>). A service without a test is an error for which IsNotFound is true.
func (c *Client) ServiceTestOptions(ctx context.Context, service string) (map[string]any, error) {
	var out struct {
		Options map[string]any `json:"options"`
	}
	if err := c.do(ctx, http.MethodGet, "/service-tests/"+url.PathEscape(service), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("read kapacitor service test %q: %w", service, err)
	}
	if out.Options == nil {
		out.Options = map[string]any{}
	}
	return out.Options, nil
}

// TestService sends a test notification through a service (POST /service-tests/<service>). Kapacitor answers 200
// whatever the service did; Success says whether the service accepted it.
func (c *Client) TestService(ctx context.Context, service string, options map[string]any) (ServiceTestResult, error) {
	var out ServiceTestResult
	if err := c.do(ctx, http.MethodPost, "/service-tests/"+url.PathEscape(service), nil, options, &out); err != nil {
		return out, fmt.Errorf("kapacitor service test %q: %w", service, err)
	}
	return out, nil
}

// TestServiceOf is the service whose test checks a handler kind, "" for kinds without one (log, exec).
func TestServiceOf(kind string) string {
	switch kind {
	case "post":
		return "httppost"
	case "smtp", "pushover", "slack", "pagerduty2", "opsgenie2", "telegram", "teams":
		return kind
	}
	return ""
}

// TestOptions builds a service test's options for a handler: the test's defaults, overridden by the handler's
// options the test knows (its recipients, channel, URL, headers), and the message fields set to message.
func TestOptions(defaults map[string]any, handler map[string]any, message string) map[string]any {
	out := make(map[string]any, len(defaults))
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range handler {
		if _, known := defaults[k]; known {
			out[k] = v
		}
	}
	for _, k := range []string{"message", "subject", "body", "text", "title"} {
		if _, known := defaults[k]; known {
			out[k] = message
		}
	}
	return out
}
