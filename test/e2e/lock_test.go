package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/cmd/fleetctl/cli"
)

// gate is a proxy in front of the bed's InfluxDB that, once armed, holds the first write (a CREATE, GRANT, ALTER or
// DROP) until released: the run making it is then mid-apply, holding its hosts' run locks, for as long as the test
// wants, with no sleep anywhere.
type gate struct {
	srv     *httptest.Server
	mu      sync.Mutex
	armed   bool
	held    chan struct{} // closed when a write is being held
	release chan struct{}
}

func newGate(t *testing.T, target string) *gate {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		q := r.URL.Query().Get("q")
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("q") != "" {
			q = form.Get("q")
		}
		word := strings.ToUpper(strings.Fields(q + " x")[0])
		if word == "CREATE" || word == "GRANT" || word == "ALTER" || word == "DROP" {
			g.mu.Lock()
			armed := g.armed
			if armed {
				g.armed = false
				close(g.held)
			}
			rel := g.release
			g.mu.Unlock()
			if armed {
				select {
				case <-rel:
				case <-r.Context().Done():
					return
				}
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { g.open(); g.srv.Close() })
	return g
}

// arm makes the gate hold the next write.
func (g *gate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.held, g.release = true, make(chan struct{}), make(chan struct{})
}

// open lets the held write (if any) through.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.release != nil {
		select {
		case <-g.release:
		default:
			close(g.release)
		}
	}
}

// lineSignal is a writer that keeps everything and closes seen when a line containing want is written.
type lineSignal struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (l *lineSignal) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if strings.Contains(l.buf.String(), l.want) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(p), nil
}

func (l *lineSignal) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// runAsync runs fleetctl in process with stderr going to errOut; the result arrives on the returned channel.
func (e *env) runAsync(errOut io.Writer, args ...string) chan [2]string {
	done := make(chan [2]string, 1)
	e.inFlight.Add(1)
	go func() {
		var stdout bytes.Buffer
		io := cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: errOut, Getenv: os.Getenv, Now: time.Now}
		code := cli.Run(context.Background(), append([]string{"fleetctl", args[0], "-i", e.inv}, args[1:]...), io)
		e.inFlight.Add(-1)
		done <- [2]string{stdout.String(), strconv.Itoa(code)}
	}()
	return done
}

// TestOneRunAtATime: while one apply is applying to a host (held mid-apply by its server side), a second apply
// fails at once with --lock-timeout 0, naming who holds the host; a third one waits for it and then finds nothing
// left to do, because it read the host only once it had the lock. A run killed with -9 while it holds the lock
// releases it: the next apply gets it.
func TestOneRunAtATime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostLock}, "", "")
	g := newGate(t, e.bed.InfluxDB.URL)
	direct := e.inv
	gated := filepath.Join(e.dir, "gated.toml")
	src, _ := os.ReadFile(e.inv)
	// Only fleetctl's own InfluxDB calls go through the gate: Grafana's datasource keeps the real URL.
	os.WriteFile(gated, bytes.Replace(src, []byte("url = "+strconvQuote(e.bed.InfluxDB.URL)),
		[]byte("url = "+strconvQuote(g.srv.URL)+"\ngrafana_url = "+strconvQuote(e.bed.InfluxDB.URL)), 1), 0o600)

	// The first apply holds the host.
	g.arm()
	e.inv = gated
	firstErr := &lineSignal{want: "\x00", seen: make(chan struct{})}
	first := e.runAsync(firstErr, "apply", "--auto-approve")
	select {
	case <-g.held:
	case r := <-first:
		t.Fatalf("the first apply ended before its first write: exit %s\n%s\n%s", r[1], r[0], firstErr.String())
	}

	// A second apply fails at once, naming the holder.
	e.inv = direct
	out, _, code := e.run("apply", "--auto-approve", "--lock-timeout", "0")
	host, _ := os.Hostname()
	if code != 1 || !strings.Contains(out, "another fleetctl run is applying to the host") ||
		!strings.Contains(out, " on "+host+" (pid "+strconv.Itoa(os.Getpid())+") since ") || !strings.Contains(out, "--lock-timeout") {
		t.Fatalf("second apply: exit %d\n%s", code, out)
	}

	// A third waits for it, then finds nothing left to do.
	waiting := &lineSignal{want: "waiting up to", seen: make(chan struct{})}
	third := e.runAsync(waiting, "apply", "--auto-approve", "--lock-timeout", "3m")
	select {
	case <-waiting.seen:
	case r := <-third:
		t.Fatalf("the third apply did not wait: exit %s\n%s\n%s", r[1], r[0], waiting.String())
	}
	g.open()
	if r := <-first; r[1] != "0" {
		t.Fatalf("first apply: exit %s\n%s\n%s", r[1], r[0], firstErr.String())
	}
	r := <-third
	e.outputs = append(e.outputs, r[0], waiting.String(), firstErr.String())
	if r[1] != "0" || !strings.Contains(r[0], "No changes") {
		t.Fatalf("third apply: exit %s\n%s\n%s", r[1], r[0], waiting.String())
	}

	// kill -9 of a run that holds the host: the lock goes with it.
	bin := filepath.Join(t.TempDir(), "fleetctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/fleetctl").CombinedOutput(); err != nil {
		t.Fatalf("build: %v %s", err, out)
	}
	e.inv = gated
	e.edit("name = "+strconvQuote(hostLock), "name = "+strconvQuote(hostLock)+"\ndatabase = \"lock_again\"")
	g.arm()
	cmd := exec.Command(bin, "apply", "-i", gated, "--auto-approve")
	var killedOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &killedOut, &killedOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.held:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the run to kill never wrote:\n%s", killedOut.String())
	}
	cmd.Process.Signal(os.Kill)
	cmd.Wait()
	g.open()
	e.inv = direct
	e.edit("name = "+strconvQuote(hostLock), "name = "+strconvQuote(hostLock)+"\ndatabase = \"lock_again\"")
	if out := e.must("apply", "--auto-approve", "--lock-timeout", "1m"); !strings.Contains(out, "lock_again") {
		t.Fatalf("after kill -9:\n%s", out)
	}
	e.outputs = append(e.outputs, killedOut.String())
}

func strconvQuote(s string) string { return strconv.Quote(s) }
