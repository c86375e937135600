// Package httpxtest stages the redirect attack on a server client: the configured server answers every request
// with a redirect to a trap, which records whatever reaches it. Clients' tests use it to show that no credential
// follows a redirect to another origin.
package httpxtest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fleetctl/fleetctl/provision/httpx"
)

// OtherHost is the name the trap answers to when it plays another host: Client dials it to the trap.
const OtherHost = "elsewhere.test"

// Captured is one request as the trap received it.
type Captured struct {
	Method, Path, Authorization, Cookie, Body string
}

// Trap is a server that should never be reached; it records every request that does reach it.
type Trap struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Captured
}

// NewTrap starts a trap, closed when the test ends.
func NewTrap(t *testing.T) *Trap {
	t.Helper()
	tr := &Trap{}
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tr.mu.Lock()
		tr.reqs = append(tr.reqs, Captured{Method: r.Method, Path: r.URL.RequestURI(), Authorization: r.Header.Get("Authorization"),
			Cookie: r.Header.Get("Cookie"), Body: string(body)})
		tr.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "grafana_session=trap")
		_, _ = io.WriteString(w, `{}`)
	}))
	t.Cleanup(tr.Close)
	return tr
}

// Requests returns what reached the trap so far.
func (tr *Trap) Requests() []Captured {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]Captured(nil), tr.reqs...)
}

// Port is the trap's port on 127.0.0.1.
func (tr *Trap) Port() string {
	_, port, _ := net.SplitHostPort(tr.Listener.Addr().String())
	return port
}

// Targets are the two places the attack redirects to: another host (OtherHost, which Client dials to the trap),
// and another port of the configured host.
func (tr *Trap) Targets() map[string]string {
	return map[string]string{
		"another host":                  "http://" + OtherHost + ":" + tr.Port(),
		"another port of the same host": "http://127.0.0.1:" + tr.Port(),
	}
}

// NewRedirector starts the configured server: it answers every request with code (307 or 308 keep the method and
// body) and a Location of target plus the request's path and query. It is closed when the test ends.
func NewRedirector(t *testing.T, code int, target string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, strings.TrimRight(target, "/")+r.URL.RequestURI(), code)
	}))
	t.Cleanup(s.Close)
	return s
}

// Client is an HTTP client that dials OtherHost to the trap and everything else as usual, so that "another host"
// needs no name service.
func Client(tr *Trap) *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, err := net.SplitHostPort(addr); err == nil && host == OtherHost {
			addr = tr.Listener.Addr().String()
		}
		return d.DialContext(ctx, network, addr)
	}}}
}

// Codes are the redirects that keep method and body.
var Codes = []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect}

// Name names one case of the attack.
func Name(code int, target string) string { return strconv.Itoa(code) + " to " + target }

// Attack is one case of the redirect attack: the configured server, which redirects every request to Target, and
// the client to configure (it reaches the trap as another host).
type Attack struct {
	URL    string // the configured server's URL
	Target string // where it redirects to
	Client *http.Client
}

// Refused reports whether err is the refusal of a redirect that names both URLs of path ("/query").
func (a Attack) Refused(err error, path string) bool {
	return errors.Is(err, httpx.ErrRedirect) && strings.Contains(err.Error(), a.URL+path) && strings.Contains(err.Error(), a.Target+path)
}

// Each runs attack once for every redirect code and target, each in a subtest of its own, which then fails if any
// request reached the other origin.
func Each(t *testing.T, attack func(t *testing.T, a Attack)) {
	for _, code := range Codes {
		trap := NewTrap(t)
		for where, target := range trap.Targets() {
			t.Run(Name(code, where), func(t *testing.T) {
				srv := NewRedirector(t, code, target)
				attack(t, Attack{URL: srv.URL, Target: target, Client: Client(trap)})
				if got := trap.Requests(); len(got) > 0 {
					t.Errorf("the other origin received %d requests, the first: %+v", len(got), got[0])
				}
			})
		}
	}
}
