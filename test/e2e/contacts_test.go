package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// contacts counts what a run reaches: every server fleetctl talks to (InfluxDB, Grafana, Kapacitor, the
// repository key's server) and every host of the inventory, each through a relay that counts and forwards. A test
// proves that a refused run contacted nothing, rather than inferring it from the state it happened not to change.
type contacts struct {
	mu     sync.Mutex
	counts map[string]*atomic.Int64 // "influxdb", "grafana", "kapacitor", "telegraf.key_url", "host NAME"
}

func (c *contacts) counter(name string) *atomic.Int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts[name] == nil {
		c.counts[name] = &atomic.Int64{}
	}
	return c.counts[name]
}

// Count is the requests (servers) or connections (hosts) name received so far.
func (c *contacts) Count(name string) int64 { return c.counter(name).Load() }

// Total is every request and connection so far.
func (c *contacts) Total() int64 {
	var n int64
	for _, name := range c.Names() {
		n += c.Count(name)
	}
	return n
}

// Names lists what is watched.
func (c *contacts) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for n := range c.counts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (c *contacts) String() string {
	var parts []string
	for _, n := range c.Names() {
		parts = append(parts, fmt.Sprintf("%s %d", n, c.Count(n)))
	}
	return strings.Join(parts, ", ")
}

// watchContacts rewrites the env's inventory so that every server and host is reached through a counting relay,
// with a known_hosts file naming each host's real key at its relay's address. Call it once the inventory has all
// its hosts.
func (e *env) watchContacts() *contacts {
	e.t.Helper()
	c := &contacts{counts: map[string]*atomic.Int64{}}
	b, err := os.ReadFile(e.inv)
	if err != nil {
		e.t.Fatal(err)
	}
	inv := string(b)
	replace := func(old, new string) {
		if !strings.Contains(inv, old) {
			e.t.Fatalf("inventory lacks %q", old)
		}
		inv = strings.Replace(inv, old, new, 1)
	}
	proxy := func(name, target string) string {
		u, err := url.Parse(target)
		if err != nil {
			e.t.Fatal(err)
		}
		rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
		n := c.counter(name)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			rp.ServeHTTP(w, r)
		}))
		e.t.Cleanup(srv.Close)
		return srv.URL + strings.TrimRight(u.Path, "/")
	}
	bed := e.bed
	replace("[influxdb]\nurl = "+strconv.Quote(bed.InfluxDB.URL), "[influxdb]\nurl = "+strconv.Quote(proxy("influxdb", bed.InfluxDB.URL))+
		"\ngrafana_url = "+strconv.Quote(bed.InfluxDB.URL)) // Grafana itself still queries the real one
	replace("[grafana]\nurl = "+strconv.Quote(bed.Grafana.URL), "[grafana]\nurl = "+strconv.Quote(proxy("grafana", bed.Grafana.URL)))
	replace("[kapacitor]\nurl = "+strconv.Quote(bed.Kapacitor.URL), "[kapacitor]\nurl = "+strconv.Quote(proxy("kapacitor", bed.Kapacitor.URL)))
	replace("key_url = "+strconv.Quote(bed.Repo.KeyURL), "key_url = "+strconv.Quote(proxy("telegraf.key_url", bed.Repo.KeyURL)))

	// Hosts: each address (and port) becomes a relay on the loopback; known_hosts gets the real key at its address.
	known, err := os.ReadFile(bed.SSH.KnownHosts)
	if err != nil {
		e.t.Fatal(err)
	}
	var kh strings.Builder
	hostRE := regexp.MustCompile(`name = ("(?:[^"\\\n]|\\.)*")\naddress = "([^"\n]*)"(\nport = (\d+))?`)
	inv = hostRE.ReplaceAllStringFunc(inv, func(m string) string {
		g := hostRE.FindStringSubmatch(m)
		name, _ := strconv.Unquote(g[1])
		addr, port := g[2], g[4]
		if port == "" {
			port = "22"
		}
		relay := e.relay(c.counter("host "+name), net.JoinHostPort(addr, port))
		lookup := addr
		if port != "22" {
			lookup = "[" + addr + "]:" + port
		}
		for _, l := range strings.Split(string(known), "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == lookup {
				fmt.Fprintf(&kh, "[127.0.0.1]:%d %s %s\n", relay, f[1], f[2])
			}
		}
		return fmt.Sprintf("name = %s\naddress = \"127.0.0.1\"\nport = %d", g[1], relay)
	})
	khPath := filepath.Join(e.dir, "known_hosts.relayed")
	if err := os.WriteFile(khPath, []byte(kh.String()), 0o600); err != nil {
		e.t.Fatal(err)
	}
	replace("known_hosts = "+strconv.Quote(bed.SSH.KnownHosts), "known_hosts = "+strconv.Quote(khPath))
	// Ports are per host now: the inventory's own port lines were replaced with the relays'.
	if err := os.WriteFile(e.inv, []byte(inv), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// relay listens on the loopback, counts each connection and forwards it to target; it returns the port.
func (e *env) relay(n *atomic.Int64, target string) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go func() {
				defer in.Close()
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				// Each direction ends on its own, as over a direct connection: the end of the request stream closes
				// only the write side towards the target, whose answer still comes back in full.
				go func() {
					_, _ = io.Copy(out, in)
					if tc, ok := out.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
				}()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// noContact fails the test if the run behind c reached any server or host.
func noContact(t *testing.T, c *contacts, what string) {
	t.Helper()
	if c.Total() != 0 {
		t.Errorf("%s contacted: %s", what, c)
	}
}
