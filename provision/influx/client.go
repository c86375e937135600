package influx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/secret"
	client "github.com/influxdata/influxdb1-client/v2"
)

// Config is how to reach an InfluxDB 1.x server.
type Config struct {
	// URL is the server's HTTP API, for example "http://10.0.0.5:8086". It must not carry credentials.
	URL string
	// Username and Password are the admin credentials every statement runs with (empty: auth disabled).
	Username string
	Password secret.Value
	// HTTPClient is used for every request (through httpx.Client: pinned, with TLS); nil means a client with a 30 s
	// timeout.
	// Cancellation and per-call deadlines come from the context of each call.
	HTTPClient *http.Client
	// TLS is how the server's certificate is checked (and a client certificate given) on https.
	TLS httpx.TLS
}

// Client runs InfluxQL statements and writes points against one server with one set of credentials.
//
// The official client (github.com/influxdata/influxdb1-client/v2) has no context support (Query, Write and Ping
// take none, and no QueryCtx exists in its last release), and it puts the statement into the URL query string, so
// a CREATE USER … WITH PASSWORD would travel in the URL and reappear in any *url.Error. Client therefore sends its
// own requests with net/http: the statement goes in a POST form body, credentials in the Authorization header, and
// every call carries the caller's context. It decodes responses into the official client's types (client.Response,
// client.Result) and formats points with client.Point, so the wire model stays the official one.
type Client struct {
	base *url.URL
	user string
	pass secret.Value
	hc   *http.Client
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	u, err := httpx.BaseURL("influxdb", cfg.URL, "the username and password settings")
	if err != nil {
		return nil, err
	}
	// Credentials go to the configured origin only: no redirect elsewhere (nor of a request with a body).
	hc, err := httpx.Client("influxdb", cfg.HTTPClient, cfg.TLS)
	if err != nil {
		return nil, err
	}
	return &Client{base: u, user: cfg.Username, pass: cfg.Password, hc: hc}, nil
}

// As returns a client for the same server that authenticates as user instead (for credential checks and tests).
func (c *Client) As(user string, pass secret.Value) *Client {
	cc := *c
	cc.user, cc.pass = user, pass
	return &cc
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// ServerError is an error the server reported, either with an HTTP status other than success or inside an HTTP
// 200 body (results[i].error).
type ServerError = httpx.StatusError

// IsAuthFailed reports whether err is the server refusing the credentials (HTTP 401): wrong password or no such
// user. A valid user lacking a privilege gets HTTP 403 instead.
func IsAuthFailed(err error) bool { return httpx.HasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is the server refusing an authenticated user a privilege (HTTP 403).
func IsForbidden(err error) bool { return httpx.HasStatus(err, http.StatusForbidden) }

// isNotFound reports whether the server said what (for example "user", "database") does not exist.
func isNotFound(err error, what string) bool {
	var se *ServerError
	return errors.As(err, &se) && strings.HasPrefix(se.Message, what+" not found")
}

// Ping checks that the server answers and returns its version (header X-Influxdb-Version).
func (c *Client) Ping(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint("ping", nil), nil)
	if err != nil {
		return "", fmt.Errorf("ping influxdb: %w", err)
	}
	resp, err := httpx.Do(c.hc, req)
	if err != nil {
		return "", fmt.Errorf("ping influxdb: %w", err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ping influxdb: %w", c.statusError(resp))
	}
	return resp.Header.Get("X-Influxdb-Version"), nil
}

// Query runs command with db as the default database ("" for none) and returns one result per statement. An error
// anywhere in the response, including HTTP 200 bodies carrying results[i].error, is returned as a *ServerError.
// Send one statement per call where errors matter: when the first of several statements fails, InfluxDB 1.6
// reports only "not executed" and the real error is lost (this package never batches statements).
func (c *Client) Query(ctx context.Context, db, command string) ([]client.Result, error) {
	return c.query(ctx, db, command)
}

// Exec runs statements whose results do not matter (CREATE, GRANT…).
func (c *Client) Exec(ctx context.Context, command string) error {
	_, err := c.query(ctx, "", command)
	return err
}

// execSecret runs a statement that embeds secrets: any of them echoed in the server's error text is masked.
func (c *Client) execSecret(ctx context.Context, command string, secrets ...secret.Value) error {
	_, err := c.query(ctx, "", command, secrets...)
	return err
}

func (c *Client) query(ctx context.Context, db, command string, secrets ...secret.Value) ([]client.Result, error) {
	form := url.Values{"q": {command}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("query", nil), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.auth(req)
	resp, err := httpx.Do(c.hc, req)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, maskErr(c.statusError(resp), secrets)
	}
	var r client.Response
	dec := json.NewDecoder(io.LimitReader(resp.Body, 64<<20))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode influxdb response: %w", err)
	}
	if r.Err != "" {
		return nil, maskErr(&ServerError{Server: "influxdb", StatusCode: resp.StatusCode, Message: r.Err}, secrets)
	}
	for _, res := range r.Results {
		if res.Err != "" {
			return nil, maskErr(&ServerError{Server: "influxdb", StatusCode: resp.StatusCode, Message: res.Err}, secrets)
		}
	}
	return r.Results, nil
}

// Write writes points in line protocol to db (rp "" for the default policy). Lines are sent as they are.
func (c *Client) Write(ctx context.Context, db, rp, lines string) error {
	q := url.Values{"db": {db}}
	if rp != "" {
		q.Set("rp", rp)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("write", q), strings.NewReader(lines))
	if err != nil {
		return fmt.Errorf("write to influxdb database %q: %w", db, err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	c.auth(req)
	resp, err := httpx.Do(c.hc, req)
	if err != nil {
		return fmt.Errorf("write to influxdb database %q: %w", db, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("write to influxdb database %q: %w", db, c.statusError(resp))
	}
	return nil
}

// WritePoints writes points built with the official client's NewPoint.
func (c *Client) WritePoints(ctx context.Context, db, rp string, points ...*client.Point) error {
	var b strings.Builder
	for _, p := range points {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return c.Write(ctx, db, rp, b.String())
}

// CheckCredentials reports whether the server accepts user and pass. It runs SHOW DATABASES as that user: every
// authenticated user may run it (the list is filtered to what the user can read), so a write-only user with the
// right password gets HTTP 200 and only wrong credentials get HTTP 401. An HTTP 403 also counts as authenticated,
// in case a server version forbids the statement. With authentication disabled on the server every password
// passes: drift cannot be seen there.
func (c *Client) CheckCredentials(ctx context.Context, user string, pass secret.Value) (bool, error) {
	_, err := c.As(user, pass).query(ctx, "", "SHOW DATABASES", pass)
	switch {
	case err == nil, IsForbidden(err):
		return true, nil
	case IsAuthFailed(err):
		return false, nil
	default:
		return false, err
	}
}

func (c *Client) endpoint(p string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + p
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *Client) auth(req *http.Request) {
	if c.user != "" || !c.pass.IsZero() {
		req.SetBasicAuth(c.user, c.pass.Reveal())
	}
}

// statusError turns a non-success response into a *ServerError carrying the body's "error" (or its first bytes).
func (c *Client) statusError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	msg := strings.TrimSpace(string(body))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &ServerError{Server: "influxdb", StatusCode: resp.StatusCode, Message: msg}
}

// maskErr replaces every secret (raw or as escaped inside a string literal) in a server error's text.
func maskErr(err error, secrets []secret.Value) error {
	return httpx.Masked(err, secrets, escapeString)
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
}

// column returns the index of the named column in a series, or -1.
func column(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	return -1
}

// cell reads row[col] as a string ("" when out of range or null).
func cell(row []interface{}, col int) string {
	if col < 0 || col >= len(row) || row[col] == nil {
		return ""
	}
	switch v := row[col].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		return fmt.Sprint(v)
	}
}

// Format prints the client without its credentials: fmt cannot reach the secret.Value's own masking through an
// unexported field, so a plain %+v of the struct would show the password.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "influx.Client{url: %s, user: %q}", c.base.Redacted(), c.user)
}
