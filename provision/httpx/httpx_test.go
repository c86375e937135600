package httpx

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// server answers /to-* with a redirect to the given target and everything else with the path it was asked for.
func server(t *testing.T, target func(r *http.Request) string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := target(r); to != "" {
			http.Redirect(w, r, to, http.StatusTemporaryRedirect)
			return
		}
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestPinFollowsOnlySameOriginReads(t *testing.T) {
	other := server(t, func(*http.Request) string { return "" })
	var self string
	s := server(t, func(r *http.Request) string {
		switch r.URL.Path {
		case "/moved":
			return self + "/here"
		case "/away":
			return other.URL + "/there"
		case "/tls":
			return strings.Replace(self, "http://", "https://", 1) + "/here"
		}
		return ""
	})
	self = s.URL
	hc := Pin(nil)
	if hc.Timeout != DefaultTimeout {
		t.Errorf("Pin(nil).Timeout = %v", hc.Timeout)
	}
	get := func(method, p string) (string, error) {
		req, _ := http.NewRequest(method, s.URL+p, strings.NewReader("body"))
		resp, err := Do(hc, req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), nil
	}
	if got, err := get(http.MethodGet, "/moved"); err != nil || got != "GET /here" {
		t.Errorf("same-origin GET redirect: %q, %v; want it followed", got, err)
	}
	for _, c := range []struct{ method, path, reason string }{
		{http.MethodGet, "/away", "another origin"},
		{http.MethodGet, "/tls", "another origin"},
		{http.MethodPost, "/away", "another origin"},
		{http.MethodPost, "/moved", "a redirected POST"},
		{http.MethodPut, "/moved", "a redirected PUT"},
	} {
		_, err := get(c.method, c.path)
		var re *RedirectError
		if !errors.As(err, &re) || !errors.Is(err, ErrRedirect) {
			t.Errorf("%s %s: want a *RedirectError, got %v", c.method, c.path, err)
			continue
		}
		if re.From != s.URL+c.path || !strings.Contains(err.Error(), re.To) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s %s: %v", c.method, c.path, err)
		}
	}
}

func TestPinKeepsTheCallersClient(t *testing.T) {
	var self string
	s := server(t, func(r *http.Request) string {
		if r.URL.Path == "/loop" {
			return self + "/loop"
		}
		return ""
	})
	self = s.URL
	own := &http.Client{Timeout: 7 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hc := Pin(own)
	if hc == own || hc.Timeout != 7*time.Second || own.CheckRedirect == nil {
		t.Fatal("Pin must copy the caller's client and leave it alone")
	}
	resp, err := Do(hc, must(http.NewRequest(http.MethodGet, s.URL+"/loop", nil)))
	if err != nil || resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("the caller's CheckRedirect was not applied: %v %v", resp, err)
	}
	resp.Body.Close()
	_, err = Do(Pin(nil), must(http.NewRequest(http.MethodGet, s.URL+"/loop", nil)))
	if !errors.Is(err, ErrRedirect) || !strings.Contains(err.Error(), "10 redirects") {
		t.Errorf("a redirect loop: %v", err)
	}
}

func must(r *http.Request, err error) *http.Request {
	if err != nil {
		panic(err)
	}
	return r
}

func TestRedirectErrorShowsNoQueryOrCredentials(t *testing.T) {
	u, _ := url.Parse("http://user:pw@h:1/p?db=x&q=secret#f")
	if got := show(u); got != "http://h:1/p" {
		t.Errorf("show = %q", got)
	}
}

func TestOrigin(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"http://Example.org/a", "http://example.org:80/b", true},
		{"https://h/", "https://h:443/x", true},
		{"http://h/", "https://h/", false},
		{"http://h:8086/", "http://h:8087/", false},
		{"http://h/", "http://h.evil/", false},
		{"http://[::1]:80/", "http://[::1]/", true},
	} {
		a, _ := url.Parse(c.a)
		b, _ := url.Parse(c.b)
		if got := Origin(a) == Origin(b); got != c.same {
			t.Errorf("%s vs %s: same origin %t, want %t (%s, %s)", c.a, c.b, got, c.same, Origin(a), Origin(b))
		}
	}
}

func TestCleartext(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://10.0.0.5:8086":           true,
		"http://influx.corp:8086":        true,
		"http://127.0.0.1:8086":          false,
		"http://127.2.0.11:8086":         false,
		"http://localhost:3000":          false,
		"http://LOCALHOST:3000":          false,
		"http://[::1]:3000":              false,
		"http://[::ffff:127.0.0.1]:3000": false,
		"https://10.0.0.5:8086":          false,
		"HTTP://10.0.0.5":                true,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := Cleartext(u); got != want {
			t.Errorf("Cleartext(%s) = %t, want %t", raw, got, want)
		}
	}
}
