package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/fleetctl/fleetctl/provision/secret"
)

// StatusError is a server refusing a request: an HTTP status other than success, or an error the server reports
// inside a 200 body (InfluxDB's results[i].error), with the server's message, secrets masked.
type StatusError struct {
	Server     string // who answered, prefixing the message: "influxdb", "grafana"
	StatusCode int    // HTTP status of the response
	Message    string // the server's error text, secrets masked
}

func (e *StatusError) Error() string {
	if e.StatusCode == http.StatusOK {
		return e.Server + ": " + e.Message
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Server, e.Message, e.StatusCode)
}

// HasStatus reports whether err is, or wraps, a *StatusError with the given HTTP status.
func HasStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.StatusCode == code
}

// Masked returns err with every secret replaced by secret.Mask in the message of the *StatusError it holds, raw and
// in each of the extra forms (the escaping a query language gives a secret inside a string literal, say). Any other
// error, and nil, come back as they are.
func Masked(err error, secrets []secret.Value, forms ...func(string) string) error {
	var se *StatusError
	if len(secrets) == 0 || !errors.As(err, &se) {
		return err
	}
	msg := se.Message
	for _, s := range secrets {
		if s.IsZero() {
			continue
		}
		msg = strings.ReplaceAll(msg, s.Reveal(), secret.Mask)
		for _, form := range forms {
			msg = strings.ReplaceAll(msg, form(s.Reveal()), secret.Mask)
		}
	}
	return &StatusError{Server: se.Server, StatusCode: se.StatusCode, Message: msg}
}

// BaseURL checks a server's configured URL and returns it without its trailing slash: http or https, with a host,
// and no credentials in it (they go in the settings named by credentials). server names it in errors ("influxdb").
func BaseURL(server, raw, credentials string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("%s url: %w", server, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s url %q: want http(s)://host:port", server, u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s url %q: put credentials in %s, not the url", server, u.Redacted(), credentials)
	}
	return u, nil
}
