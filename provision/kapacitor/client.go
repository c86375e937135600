package kapacitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// Config says how to reach a Kapacitor server.
type Config struct {
	// URL is the server's base URL, for example http://127.0.0.1:9092; /kapacitor/v1 is added.
	URL string
	// Username and Password are sent as basic auth when Username is set (Kapacitor's auth is optional).
	Username string
	Password secret.Value
	// HTTPClient is used for every request (through httpx.Client: pinned, with TLS); nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// TLS is how the server's certificate is checked (and a client certificate given) on https.
	TLS httpx.TLS
	// PageSize is how many tasks List asks for per request; 0 means Kapacitor's default of 100.
	PageSize int
}

// Client talks to Kapacitor's HTTP API.
type Client struct {
	base     *url.URL
	user     string
	pass     secret.Value
	hc       *http.Client
	pageSize int
}

// NewClient checks cfg and returns a client. It sends nothing.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kapacitor url %q: want http(s)://host:port", cfg.URL)
	}
	// Credentials go to the configured origin only: no redirect elsewhere (nor of a request with a body).
	hc, err := httpx.Client("kapacitor", cfg.HTTPClient, cfg.TLS)
	if err != nil {
		return nil, err
	}
	ps := cfg.PageSize
	if ps <= 0 {
		ps = 100
	}
	return &Client{base: u, user: cfg.Username, pass: cfg.Password, hc: hc, pageSize: ps}, nil
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// DBRP is a database and retention policy a stream task reads.
type DBRP struct {
	DB string `json:"db"`
	RP string `json:"rp"`
}

func (d DBRP) String() string { return strconv.Quote(d.DB) + "." + strconv.Quote(d.RP) }

// TaskState is a task as Kapacitor reports it.
type TaskState struct {
	ID         string                     `json:"id"`
	TemplateID string                     `json:"template-id"`
	Type       string                     `json:"type"`
	DBRPs      []DBRP                     `json:"dbrps"`
	Script     string                     `json:"script"`
	Vars       map[string]json.RawMessage `json:"vars"`
	Status     string                     `json:"status"`
	Executing  bool                       `json:"executing"`
	Error      string                     `json:"error"`
	// Dot is the graph of the running pipeline when executing (of the stored script otherwise): what shows
	// whether a task runs its stored script.
	Dot string `json:"dot"`
}

// Task statuses and types as the API spells them.
const (
	StatusEnabled  = "enabled"
	StatusDisabled = "disabled"
	TypeStream     = "stream"
)

// NewTaskRequest is the body of POST /tasks.
type NewTaskRequest struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	DBRPs  []DBRP `json:"dbrps"`
	Script string `json:"script"`
	Status string `json:"status"`
}

// TaskPatch is the body of PATCH /tasks/:id; empty fields are left as they are.
type TaskPatch struct {
	Type   string `json:"type,omitempty"`
	DBRPs  []DBRP `json:"dbrps,omitempty"`
	Script string `json:"script,omitempty"`
	Status string `json:"status,omitempty"`
}

// APIError is an HTTP error status from Kapacitor, with the message of its {"error": ...} body.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "(no message)"
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode), msg)
}

// IsNotFound reports whether err is Kapacitor saying 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// CheckTaskID says why id cannot be a Kapacitor task id. The rule is Kapacitor's own (services/task_store:
// ^[-._\p{L}0-9]+$), checked before any request.
func CheckTaskID(id string) error {
	ok := id != ""
	for _, r := range id {
		if !(unicode.IsLetter(r) || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			ok = false
			break
		}
	}
	if !ok {
		return fmt.Errorf("invalid kapacitor task id %q: only letters, digits, '-', '.' and '_'", id)
	}
	return nil
}

// Ping checks the server answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.do(ctx, http.MethodGet, "/ping", nil, nil, nil); err != nil {
		return fmt.Errorf("ping kapacitor: %w", err)
	}
	return nil
}

// Task reads one task with its script exactly as stored (script-format=raw). A missing task is an error for
// which IsNotFound is true.
func (c *Client) Task(ctx context.Context, id string) (*TaskState, error) {
	if err := CheckTaskID(id); err != nil {
		return nil, err
	}
	var st TaskState
	q := url.Values{"script-format": {"raw"}}
	if err := c.do(ctx, http.MethodGet, "/tasks/"+url.PathEscape(id), q, nil, &st); err != nil {
		return nil, fmt.Errorf("read kapacitor task %q: %w", id, err)
	}
	return &st, nil
}

// CreateTask defines a task and returns it as Kapacitor reports it.
func (c *Client) CreateTask(ctx context.Context, req NewTaskRequest) (*TaskState, error) {
	if err := CheckTaskID(req.ID); err != nil {
		return nil, err
	}
	var st TaskState
	if err := c.do(ctx, http.MethodPost, "/tasks", nil, req, &st); err != nil {
		return nil, fmt.Errorf("create kapacitor task %q: %w", req.ID, err)
	}
	return &st, nil
}

// UpdateTask patches a task and returns it as Kapacitor reports it.
func (c *Client) UpdateTask(ctx context.Context, id string, p TaskPatch) (*TaskState, error) {
	if err := CheckTaskID(id); err != nil {
		return nil, err
	}
	var st TaskState
	if err := c.do(ctx, http.MethodPatch, "/tasks/"+url.PathEscape(id), nil, p, &st); err != nil {
		return nil, fmt.Errorf("update kapacitor task %q: %w", id, err)
	}
	return &st, nil
}

// DeleteTask deletes a task; deleting a missing task succeeds (Kapacitor answers 204 either way).
func (c *Client) DeleteTask(ctx context.Context, id string) error {
	if err := CheckTaskID(id); err != nil {
		return err
	}
	if err := c.do(ctx, http.MethodDelete, "/tasks/"+url.PathEscape(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete kapacitor task %q: %w", id, err)
	}
	return nil
}

// List returns every task whose id starts with prefix (all tasks for ""), with raw scripts, sorted by id. It
// pages through Kapacitor's listing with offset and limit.
func (c *Client) List(ctx context.Context, prefix string) ([]TaskState, error) {
	var out []TaskState
	pattern := globEscape(prefix) + "*"
	for offset := 0; ; {
		q := url.Values{
			"pattern":       {pattern},
			"script-format": {"raw"},
			// Without fields Kapacitor renders each task's dot graph and stats, for nothing. (The listing knows
			// no "template-id" field: asking for it is a 400.)
			"fields": {"type", "dbrps", "script", "status", "executing", "error", "vars"},
			"offset": {strconv.Itoa(offset)},
			"limit":  {strconv.Itoa(c.pageSize)},
		}
		var page struct {
			Tasks []TaskState `json:"tasks"`
		}
		if err := c.do(ctx, http.MethodGet, "/tasks", q, nil, &page); err != nil {
			return nil, fmt.Errorf("list kapacitor tasks %q: %w", pattern, err)
		}
		for _, t := range page.Tasks {
			// The glob already filtered; this guards against a server that ignores pattern.
			if strings.HasPrefix(t.ID, prefix) {
				out = append(out, t)
			}
		}
		if len(page.Tasks) < c.pageSize {
			return out, nil
		}
		offset += len(page.Tasks)
	}
}

// globEscape escapes path.Match's metacharacters, which Kapacitor applies to the pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// maxBody bounds what is read of a response: a task with its dot graph is a few kilobytes, a listing page a few
// hundred.
const maxBody = 32 << 20

func (c *Client) do(ctx context.Context, method, p string, q url.Values, body, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/kapacitor/v1" + p
	u.RawPath = ""
	if q != nil {
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass.Reveal())
	}
	resp, err := httpx.Do(c.hc, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, u.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &APIError{Method: method, Path: u.Path, StatusCode: resp.StatusCode}
		var eb struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			ae.Message = eb.Error
		} else {
			ae.Message = strings.TrimSpace(string(data))
			if len(ae.Message) > 500 {
				ae.Message = ae.Message[:500] + "…"
			}
		}
		return ae
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, u.Path, err)
	}
	return nil
}
