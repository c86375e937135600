package engine

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"golang.org/x/crypto/ssh"
)

// sshd is an SSH server in the test process that answers every command with the output of a host with no facts
// (the read's end marker) and counts the connections open at once.
type sshd struct {
	addr string
	keys string // a known_hosts file that trusts it

	mu         sync.Mutex
	open, peak int
	closed     *sync.Cond
}

func startSSHD(t testing.TB) (*sshd, remote.Config) {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	_, userPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	userKey, err := ssh.NewSignerFromKey(userPriv)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &sshd{addr: l.Addr().String(), keys: filepath.Join(t.TempDir(), "known_hosts")}
	s.closed = sync.NewCond(&s.mu)
	port := l.Addr().(*net.TCPAddr).Port
	line := fmt.Sprintf("[127.0.0.1]:%d %s", port, ssh.MarshalAuthorizedKey(hostKey.PublicKey()))
	if err := os.WriteFile(s.keys, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) != string(userKey.PublicKey().Marshal()) {
			return nil, fmt.Errorf("unknown key")
		}
		return nil, nil
	}}
	cfg.AddHostKey(hostKey)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c, cfg)
		}
	}()
	return s, remote.Config{User: "deploy", Auth: []ssh.AuthMethod{ssh.PublicKeys(userKey)}, HostKeys: &remote.HostKeys{Path: s.keys}}
}

func (s *sshd) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.open++
	s.peak = max(s.peak, s.open)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.open--
		s.closed.Broadcast()
		s.mu.Unlock()
	}()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for r := range creqs {
				if r.Type != "exec" {
					r.Reply(false, nil)
					continue
				}
				r.Reply(true, nil)
				fmt.Fprint(ch, "::fleetctl:: end\n")
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
				return
			}
		}()
	}
	sc.Wait()
}

// waitOpen waits until no more than n connections are open, or fails the test after a while.
func (s *sshd) waitOpen(t *testing.T, n int) {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() { s.mu.Lock(); s.closed.Broadcast(); s.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(10 * time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.open > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open, want at most %d", s.open, n)
		}
		s.closed.Wait()
	}
}

// noFacts builds hosts with nothing to read and no resources.
type noFacts struct{}

func (noFacts) Query(Host) system.Query { return system.Query{} }
func (noFacts) Resources(context.Context, Host, *remote.Conn, *system.Facts) ([]Declared, error) {
	return nil, nil
}

func plannedHosts(s *sshd, n int) []Host {
	host, port, _ := net.SplitHostPort(s.addr)
	var p int
	fmt.Sscan(port, &p)
	var hs []Host
	for i := 1; i <= n; i++ {
		hs = append(hs, Host{Name: fmt.Sprintf("h%02d", i), Address: host, Port: p})
	}
	return hs
}

func TestPlanOnlyHoldsNoConnectionPerHost(t *testing.T) {
	s, cfg := startSSHD(t)
	const hosts, forks = 12, 3
	e := &Engine{SSH: cfg, Builder: noFacts{}, Forks: forks, Masker: secret.NewMasker(), PlanOnly: true}
	run := e.Plan(context.Background(), plannedHosts(s, hosts), Rollout{})
	defer run.Close()
	if f := run.Plan.Failed(); len(f) > 0 {
		t.Fatalf("failed hosts: %+v", run.Plan.Hosts)
	}
	if len(run.Plan.Hosts) != hosts {
		t.Fatalf("%d hosts planned, want %d", len(run.Plan.Hosts), hosts)
	}
	s.waitOpen(t, 0) // every connection ended once its host was planned, before the run is closed
	s.mu.Lock()
	peak := s.peak
	s.mu.Unlock()
	if peak > forks {
		t.Fatalf("%d connections open at once for --forks %d: a plan-only run keeps a connection per host", peak, forks)
	}
	// Such a run is never applied by mistake: every host fails, none is reported applied.
	out := run.Apply(context.Background(), Rollout{})
	for _, h := range out.Hosts {
		if !strings.Contains(h.Error, "planned only") {
			t.Fatalf("apply of a plan-only run: %+v", h)
		}
	}
}

func TestPlanForApplyKeepsEachHostsConnection(t *testing.T) {
	s, cfg := startSSHD(t)
	const hosts = 5
	e := &Engine{SSH: cfg, Builder: noFacts{}, Forks: 2, Masker: secret.NewMasker()}
	run := e.Plan(context.Background(), plannedHosts(s, hosts), Rollout{})
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	if open != hosts {
		t.Fatalf("%d connections open after planning %d hosts for an apply, want one per host", open, hosts)
	}
	run.Close()
	s.waitOpen(t, 0)
}

// BenchmarkPlanHosts plans 100 hosts (one in-process SSH server) with 10 in flight: the engine's own cost per
// planned host, and the connections a plan-only run holds at once.
func BenchmarkPlanHosts(b *testing.B) {
	for _, planOnly := range []bool{false, true} {
		b.Run(fmt.Sprintf("PlanOnly=%v", planOnly), func(b *testing.B) {
			s, cfg := startSSHD(b)
			hs := plannedHosts(s, 100)
			b.ReportAllocs()
			for b.Loop() {
				e := &Engine{SSH: cfg, Builder: noFacts{}, Forks: 10, Masker: secret.NewMasker(), PlanOnly: planOnly}
				run := e.Plan(context.Background(), hs, Rollout{})
				if len(run.Plan.Failed()) > 0 {
					b.Fatalf("failed: %+v", run.Plan.Hosts[0])
				}
				run.Close()
			}
			s.mu.Lock()
			b.ReportMetric(float64(s.peak), "peak-conns")
			s.mu.Unlock()
		})
	}
}
