package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/grafana-tools/sdk"
)

// Config is how to reach Grafana's HTTP API.
type Config struct {
	// URL is Grafana's root, for example "http://grafana:3000". It must not carry credentials.
	URL string
	// Token is a service-account token, sent as Bearer. When empty, User and Password are sent as basic auth.
	Token    secret.Value
	User     string
	Password secret.Value
	// HTTPClient is used for every request (through httpx.Client: pinned, with TLS); nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// TLS is how the server's certificate is checked (and a client certificate given) on https.
	TLS httpx.TLS
}

// Client calls Grafana's datasource API.
//
// The SDK (github.com/grafana-tools/sdk) addresses datasources only by numeric id (deprecated since Grafana 9.0)
// or name, and its CreateDatasource/UpdateDatasource ignore the HTTP status (a 409 comes back as a nil error), so
// the uid endpoints (GET, POST, PUT, DELETE /api/datasources[/uid/:uid] and …/health) are plain net/http calls
// here. Datasources are decoded into the SDK's sdk.Datasource, and Ping uses the SDK's GetHealth.
//
// Grafana keys its datasource caches (decrypted secrets, plugin instances) on the datasource's "updated" time,
// which has one-second resolution: a second write to a datasource within the same second as the previous one is
// stored but never seen by queries or health checks until a later write (measured on Grafana 10.0). The client
// therefore keeps at least a second between its own writes to one uid. Independently, reads through the
// datasource (queries, Health) may see the previous settings for about 5 s after a write; WaitHealthy waits that
// out.
//
// Grafana checks a password or a service-account token by hashing it (PBKDF2) on every request: about 10 ms of its
// CPU each, measured on Grafana 10.0, which adds up over a fleet. With a user and password the client therefore
// logs in once (POST /login, as Grafana's own UI does) and sends the session cookie, which costs Grafana a lookup;
// Close logs out. Where login is not possible (a disabled login form, an auth proxy) it falls back to basic auth.
type Client struct {
	base  *url.URL
	token secret.Value
	user  string
	pass  secret.Value
	hc    *http.Client
	sdk   *sdk.Client // unauthenticated: only /api/health

	writes  *writeLog
	session *session
}

// session is the client's Grafana login: its cookies, or the verdict that basic auth must do.
type session struct {
	mu      sync.Mutex
	tried   bool
	cookies []*http.Cookie // nil: not logged in (basic auth)
}

// writeLog remembers when a client last wrote each datasource uid.
type writeLog struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	u, err := httpx.BaseURL("grafana", cfg.URL, "the token or user and password settings")
	if err != nil {
		return nil, err
	}
	if cfg.Token.IsZero() && cfg.User == "" {
		return nil, errors.New("grafana: no credentials: set a service-account token or a user and password")
	}
	// Credentials go to the configured origin only: no redirect elsewhere (nor of a request with a body).
	hc, err := httpx.Client("grafana", cfg.HTTPClient, cfg.TLS)
	if err != nil {
		return nil, err
	}
	// /api/health needs no authentication: the SDK client gets no credentials at all (it would put basic auth
	// into the URL).
	sc, err := sdk.NewClient(u.String(), "", hc)
	if err != nil {
		return nil, fmt.Errorf("grafana url: %w", err)
	}
	return &Client{base: u, token: cfg.Token, user: cfg.User, pass: cfg.Password, hc: hc, sdk: sc,
		writes: &writeLog{last: map[string]time.Time{}}, session: &session{}}, nil
}

// spaceWrite waits until at least a second has passed since this client last wrote uid (see Client), then
// records the write about to happen.
func (c *Client) spaceWrite(ctx context.Context, uid string) error {
	c.writes.mu.Lock()
	wait := time.Until(c.writes.last[uid].Add(time.Second + 10*time.Millisecond))
	c.writes.last[uid] = time.Now().Add(max(wait, 0))
	c.writes.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Ping checks that Grafana answers and its database is ok, and returns its version.
func (c *Client) Ping(ctx context.Context) (string, error) {
	h, err := c.sdk.GetHealth(ctx)
	if err != nil {
		return "", fmt.Errorf("ping grafana: %w", err)
	}
	if h.Database != "ok" {
		return h.Version, fmt.Errorf("ping grafana: database %q", h.Database)
	}
	return h.Version, nil
}

// APIError is a non-success HTTP answer from Grafana.
type APIError = httpx.StatusError

// IsNotFound reports whether err is an HTTP 404 from Grafana.
func IsNotFound(err error) bool { return httpx.HasStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is an HTTP 409 from Grafana (for datasources: the name is taken).
func IsConflict(err error) bool { return httpx.HasStatus(err, http.StatusConflict) }

// IsUnauthorized reports whether err is Grafana refusing the credentials (HTTP 401: a wrong password, user or token).
func IsUnauthorized(err error) bool { return httpx.HasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is Grafana refusing an authenticated user or token a permission (HTTP 403).
func IsForbidden(err error) bool { return httpx.HasStatus(err, http.StatusForbidden) }

// ValidUID reports whether uid is acceptable to Grafana as a datasource uid: 1 to 40 of [A-Za-z0-9_-].
func ValidUID(uid string) bool {
	if len(uid) == 0 || len(uid) > 40 {
		return false
	}
	for _, r := range uid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// credentialCheckUID is a datasource uid fleetctl never creates (DatasourceUIDs start with "fleetctl-" and a host).
const credentialCheckUID = "fleetctl--credential-check"

// CheckCredentials makes one authenticated request, a read of a datasource that does not exist (logging in first
// with a user and password), and returns nil when Grafana accepted the credentials and lets them read datasources.
// Otherwise the error is an *APIError: IsUnauthorized for wrong credentials, IsForbidden for missing permissions.
func (c *Client) CheckCredentials(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "api/datasources/uid/"+credentialCheckUID, nil)
	if err == nil || IsNotFound(err) {
		return nil
	}
	return err
}

// RemoteDatasource is a datasource as Grafana returns it.
type RemoteDatasource struct {
	sdk.Datasource
	Version          int             `json:"version"`
	SecureJSONFields map[string]bool `json:"secureJsonFields"`
	// Raw is the whole object, so an update can send back what fleetctl does not manage.
	Raw map[string]any `json:"-"`
}

// JSONString returns jsonData[key] as a string ("" if absent or not a string).
func (d *RemoteDatasource) JSONString(key string) string {
	m, _ := d.JSONData.(map[string]any)
	s, _ := m[key].(string)
	return s
}

// GetDatasource reads the datasource with uid; found is false on HTTP 404.
func (c *Client) GetDatasource(ctx context.Context, uid string) (ds *RemoteDatasource, found bool, err error) {
	body, err := c.do(ctx, http.MethodGet, "api/datasources/uid/"+url.PathEscape(uid), nil)
	if IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	ds = &RemoteDatasource{}
	if err := json.Unmarshal(body, ds); err != nil {
		return nil, false, fmt.Errorf("decode grafana datasource: %w", err)
	}
	if err := json.Unmarshal(body, &ds.Raw); err != nil {
		return nil, false, fmt.Errorf("decode grafana datasource: %w", err)
	}
	return ds, true, nil
}

// CreateDatasource posts body (a datasource object whose uid is uid) to /api/datasources. secrets are masked in any
// error text.
func (c *Client) CreateDatasource(ctx context.Context, uid string, body any, secrets ...secret.Value) error {
	if err := c.spaceWrite(ctx, uid); err != nil {
		return err
	}
	_, err := c.doJSON(ctx, http.MethodPost, "api/datasources", body, secrets)
	return err
}

// UpdateDatasource puts body to /api/datasources/uid/:uid. A "version" in body makes Grafana refuse the update if
// the datasource changed since it was read.
func (c *Client) UpdateDatasource(ctx context.Context, uid string, body any, secrets ...secret.Value) error {
	if err := c.spaceWrite(ctx, uid); err != nil {
		return err
	}
	_, err := c.doJSON(ctx, http.MethodPut, "api/datasources/uid/"+url.PathEscape(uid), body, secrets)
	return err
}

// DeleteDatasource deletes the datasource with uid; a missing one is not an error.
func (c *Client) DeleteDatasource(ctx context.Context, uid string) error {
	if err := c.spaceWrite(ctx, uid); err != nil {
		return fmt.Errorf("delete grafana datasource %q: %w", uid, err)
	}
	_, err := c.do(ctx, http.MethodDelete, "api/datasources/uid/"+url.PathEscape(uid), nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete grafana datasource %q: %w", uid, err)
	}
	return nil
}

// HealthResult is Grafana's verdict on a datasource: it queries the datasource's server with the stored
// credentials.
type HealthResult struct {
	Status  string `json:"status"` // "OK" or "ERROR"
	Message string `json:"message"`
}

// Health asks Grafana to test the datasource with uid (GET /api/datasources/uid/:uid/health, the check behind
// "Save & test"). It returns an error unless the status is OK. When the health endpoint is missing or the plugin
// implements no health check, it falls back to running a query through /api/ds/query.
func (c *Client) Health(ctx context.Context, uid string) (HealthResult, error) {
	body, err := c.do(ctx, http.MethodGet, "api/datasources/uid/"+url.PathEscape(uid)+"/health", nil)
	var h HealthResult
	var ae *APIError
	switch {
	case err == nil:
		if jerr := json.Unmarshal(body, &h); jerr != nil {
			return h, fmt.Errorf("health of grafana datasource %q: decode: %w", uid, jerr)
		}
	case errors.As(err, &ae) && ae.StatusCode == http.StatusBadRequest:
		// A failed check is HTTP 400 with the same body.
		h = HealthResult{Status: "ERROR", Message: ae.Message}
	case errors.As(err, &ae) && (ae.StatusCode == http.StatusNotImplemented || ae.StatusCode == http.StatusNotFound && !strings.Contains(strings.ToLower(ae.Message), "data source not found")):
		return c.QueryHealth(ctx, uid)
	default:
		return h, fmt.Errorf("health of grafana datasource %q: %w", uid, err)
	}
	if h.Status != "OK" {
		return h, fmt.Errorf("health of grafana datasource %q: %s: %s", uid, h.Status, h.Message)
	}
	return h, nil
}

// WaitHealthy calls Health until it passes or within has elapsed (then it returns the last failure). Right after a
// write Grafana may still test the previous settings for about 5 s (see Client).
func (c *Client) WaitHealthy(ctx context.Context, uid string, within time.Duration) (HealthResult, error) {
	deadline := time.Now().Add(within)
	for {
		h, err := c.Health(ctx, uid)
		if err == nil || time.Now().After(deadline) || IsNotFound(err) {
			return h, err
		}
		select {
		case <-ctx.Done():
			return h, err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// QueryHealth runs SHOW MEASUREMENTS LIMIT 1 through Grafana's query API (/api/ds/query) with the datasource's own
// credentials: Health's fallback where the health endpoint is missing, usable on its own.
func (c *Client) QueryHealth(ctx context.Context, uid string) (HealthResult, error) {
	q := map[string]any{
		"from": "now-5m", "to": "now",
		"queries": []map[string]any{{
			"refId": "A", "datasource": map[string]string{"uid": uid},
			"rawQuery": true, "query": "SHOW MEASUREMENTS LIMIT 1", "resultFormat": "table",
		}},
	}
	body, err := c.doJSON(ctx, http.MethodPost, "api/ds/query", q, nil)
	if err != nil {
		return HealthResult{Status: "ERROR", Message: err.Error()}, fmt.Errorf("health of grafana datasource %q: query: %w", uid, err)
	}
	var r struct {
		Results map[string]struct {
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return HealthResult{}, fmt.Errorf("health of grafana datasource %q: decode query: %w", uid, err)
	}
	if e := r.Results["A"].Error; e != "" {
		return HealthResult{Status: "ERROR", Message: e}, fmt.Errorf("health of grafana datasource %q: query: %s", uid, e)
	}
	return HealthResult{Status: "OK", Message: "query through /api/ds/query succeeded"}, nil
}

func (c *Client) doJSON(ctx context.Context, method, p string, v any, secrets []secret.Value) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode grafana request: %w", err)
	}
	body, err := c.do(ctx, method, p, b)
	return body, maskErr(err, secrets)
}

// do sends one authenticated request and returns the body of a 2xx answer, or an *APIError. A session that
// Grafana no longer accepts (expired, revoked) is replaced by a new login, once.
func (c *Client) do(ctx context.Context, method, p string, body []byte) ([]byte, error) {
	cookies := c.sessionCookies(ctx)
	data, status, err := c.send(ctx, method, p, body, cookies)
	if status == http.StatusUnauthorized && cookies != nil {
		c.dropSession(cookies)
		data, _, err = c.send(ctx, method, p, body, c.sessionCookies(ctx))
	}
	return data, err
}

// sessionCookies logs in once (user and password only) and returns the session's cookies, or nil for basic auth.
func (c *Client) sessionCookies(ctx context.Context) []*http.Cookie {
	if !c.token.IsZero() {
		return nil
	}
	c.session.mu.Lock()
	defer c.session.mu.Unlock()
	if !c.session.tried {
		c.session.tried = true
		c.session.cookies = c.login(ctx)
	}
	return c.session.cookies
}

// dropSession forgets a session Grafana refused, so the next request logs in again (once).
func (c *Client) dropSession(refused []*http.Cookie) {
	c.session.mu.Lock()
	defer c.session.mu.Unlock()
	if len(c.session.cookies) > 0 && len(refused) > 0 && c.session.cookies[0] == refused[0] {
		c.session.cookies, c.session.tried = nil, false
	}
}

// login posts the credentials to /login and returns the cookies Grafana set, or nil when it did not log in: then
// basic auth answers for the credentials, with Grafana's own error if they are wrong.
func (c *Client) login(ctx context.Context) []*http.Cookie {
	b, err := json.Marshal(map[string]string{"user": c.user, "password": c.pass.Reveal()})
	if err != nil {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("login"), bytes.NewReader(b))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := httpx.Do(c.hc, req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) == 0 {
		return nil
	}
	var keep []*http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && ck.MaxAge >= 0 {
			keep = append(keep, &http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	return keep
}

// Close logs the client's session out, so no login of fleetctl's outlives the run in Grafana's session table.
func (c *Client) Close(ctx context.Context) {
	c.session.mu.Lock()
	cookies := c.session.cookies
	c.session.cookies, c.session.tried = nil, true
	c.session.mu.Unlock()
	if cookies == nil {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("logout"), nil)
	if err != nil {
		return
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	// /logout answers with a redirect to the login page: the first answer is all that matters.
	hc := *c.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
	}
}

// url is the API URL of p, a path relative to Grafana's root with an optional "?query" (already encoded).
func (c *Client) url(p string) string {
	u := *c.base
	p, u.RawQuery, _ = strings.Cut(p, "?")
	u.Path = strings.TrimRight(u.Path, "/") + "/" + p
	return u.String()
}

// send sends one request with the session's cookies (nil: the token or basic auth) and returns the body of a 2xx
// answer, or an *APIError, with the status.
func (c *Client) send(ctx context.Context, method, p string, body []byte, cookies []*http.Cookie) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(p), rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case !c.token.IsZero():
		req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	case cookies != nil:
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
	default:
		req.SetBasicAuth(c.user, c.pass.Reveal())
	}
	resp, err := httpx.Do(c.hc, req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("read grafana response: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(data))
		var e struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && (e.Message != "" || e.Error != "") {
			msg = e.Message
			if e.Error != "" && e.Error != e.Message {
				msg = strings.TrimSpace(msg + ": " + e.Error)
			}
		}
		if len(msg) > 512 {
			msg = msg[:512] + "…"
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return data, resp.StatusCode, &APIError{Server: "grafana", StatusCode: resp.StatusCode, Message: msg}
	}
	return data, resp.StatusCode, nil
}

func maskErr(err error, secrets []secret.Value) error { return httpx.Masked(err, secrets) }

// Format prints the client without its credentials: fmt cannot reach the secret.Value's own masking through an
// unexported field, so a plain %+v of the struct would show the token or password.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "grafana.Client{url: %s, user: %q}", c.base.Redacted(), c.user)
}
