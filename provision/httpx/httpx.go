package httpx

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds a whole request of a client built from nil.
const DefaultTimeout = 30 * time.Second

// RedirectError is a redirect a pinned client refused to follow: nothing was sent to To.
type RedirectError struct {
	Method string
	From   string // the URL the request was first sent to (the configured origin), without its query
	To     string // where the server redirected it, without its query
	Reason string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused to follow the redirect of %s %s to %s: %s", e.Method, e.From, e.To, e.Reason)
}

// ErrRedirect is what every RedirectError matches with errors.Is.
var ErrRedirect = errors.New("redirect refused")

// Is lets errors.Is(err, ErrRedirect) find a RedirectError inside the *url.Error that http.Client returns.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirect }

// Pin returns a copy of hc (nil: a client with DefaultTimeout) that follows a redirect only when the request is a
// GET or HEAD and the new URL has the origin of the first request. Other redirects fail the request with a
// *RedirectError before anything is sent to the new URL: a credential (an Authorization header, a session cookie,
// a password in a body) never reaches another origin, even another port of the same host, which Go's own client
// forwards headers to. hc's own CheckRedirect, if any, still applies to the redirects Pin lets through. The copy
// shares hc's Transport and so its connection pool.
func Pin(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = DefaultTimeout
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0]
		refuse := func(reason string) error {
			return &RedirectError{Method: first.Method, From: show(first.URL), To: show(req.URL), Reason: reason}
		}
		if Origin(req.URL) != Origin(first.URL) {
			return refuse("it leads to another origin, and fleetctl sends credentials only to the configured one; if the server has moved, configure its new URL")
		}
		if m := first.Method; m != http.MethodGet && m != http.MethodHead {
			return refuse("a redirected " + m + " would be re-sent or turned into a GET; configure the URL the server redirects to")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return refuse("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// Do sends req with hc and returns what hc.Do returns, except that a refused redirect comes back as the bare
// *RedirectError (which names both URLs) rather than inside a *url.Error that repeats one of them.
func Do(hc *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := hc.Do(req)
	var re *RedirectError
	if err != nil && errors.As(err, &re) {
		return nil, re
	}
	return resp, err
}

// show is u for messages: without credentials, query or fragment.
func show(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}

// Origin is u's scheme, host and port, lower-cased and with the scheme's default port made explicit, so that
// http://Example.org and http://example.org:80 compare equal.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Cleartext reports whether credentials sent to u would cross a network unencrypted: u is plain http and its host
// is neither "localhost" nor a loopback address. Host names are not resolved.
func Cleartext(u *url.URL) bool {
	if !strings.EqualFold(u.Scheme, "http") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return false
	}
	return true
}
