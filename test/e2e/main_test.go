package e2e

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// parallelTests is how many of the package's parallel tests run at once unless -parallel says otherwise. They
// spend their time waiting on agents' intervals, Kapacitor, reporting windows and package installs on the hosts,
// not on this machine's CPU, so more of them than go test's default (GOMAXPROCS) run at once. Measured on the
// 2-core bed machine: the package took 592 s one test at a time, about 230 s with 8 at once, where the longest
// test (TestWaitReportingStopsASilentCanary, whose reporting windows add up to over two minutes) bounds it.
const parallelTests = 8

// TestMain raises -parallel to parallelTests unless it was given.
//
// Tests run at once (t.Parallel) unless they touch what the whole bed shares; those stay serial, and go test runs
// them first, then the parallel ones together:
//   - TestOrphansAndPrune: apply --prune deletes every object of fleetctl's that belongs to no host of its
//     inventory, which is every other test's.
//   - TestSSHAgent, TestMissingCredentialsTouchNothing: they set the process's environment (t.Setenv).
//
// Grafana's writes take turns across tests (grafanaInTurns): the bed's Grafana keeps its data in SQLite, which
// answers two writes at once with 500 "database is locked". A run of fleetctl writes to Grafana one at a time;
// the tests are many runs at once.
//
// Shared in a way that is safe at once: the fleet's folder and overview dashboard and a group's folder (fleetctl
// finds them made by another run as it would have made them), Kapacitor's service settings (only
// TestAlertRouting sets them), orphans without --prune (only reported). Tests that name the same bed host take
// turns on it (hostTurns).
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(parallelTests))
	}
	os.Exit(m.Run())
}

// hostTurns lets one test at a time use a bed host: a test takes the hosts of each env it makes and keeps them
// until it ends, so two tests that name the same host run one after the other even when both are parallel.
type hostTurns struct {
	mu    sync.Mutex
	freed *sync.Cond
	owner map[string]string // host → the top-level test holding it
}

// turns is the package's one record of who holds which host: the tests that share the bed share it.
var turns = newHostTurns()

func newHostTurns() *hostTurns {
	h := &hostTurns{owner: map[string]string{}}
	h.freed = sync.NewCond(&h.mu)
	return h
}

// take waits until every one of hosts is free or already t's (its top-level test's), then holds them all until
// t ends. Taking all of an env's hosts at once, never one by one, keeps two tests from each holding what the
// other waits for.
func (h *hostTurns) take(t *testing.T, hosts []string) {
	t.Helper()
	test, _, _ := strings.Cut(t.Name(), "/")
	h.mu.Lock()
	defer h.mu.Unlock()
	var mine []string
	for {
		busy := ""
		for _, name := range hosts {
			if o, held := h.owner[name]; held && o != test {
				busy = name + " (held by " + o + ")"
				break
			}
		}
		if busy == "" {
			break
		}
		t.Logf("waiting for %s", busy)
		h.freed.Wait()
	}
	for _, name := range hosts {
		if _, held := h.owner[name]; !held {
			h.owner[name] = test
			mine = append(mine, name)
		}
	}
	if len(mine) == 0 {
		return
	}
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, name := range mine {
			delete(h.owner, name)
		}
		h.freed.Broadcast()
	})
}

// grafanaWrites is held for each write to the bed's Grafana, by every test of the package.
var grafanaWrites sync.Mutex

// grafanaInTurns returns the URL of a proxy to Grafana at target, for one test's fleetctl runs and its own calls:
// reads pass at once, writes (any method but GET and HEAD) one at a time across the package's tests.
func grafanaInTurns(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("the bed's Grafana URL %q: %v", target, err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			grafanaWrites.Lock()
			defer grafanaWrites.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
