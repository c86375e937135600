package kapacitor_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// Helpers of the integration tests: the bed's Kapacitor and InfluxDB, unique names, polling.

type bedEnv struct {
	bed    *testbed.Bed
	c      *kapacitor.Client
	influx influxAdmin
}

func requireBed(t *testing.T) *bedEnv {
	t.Helper()
	bed := testbed.Require(t)
	c, err := kapacitor.NewClient(kapacitor.Config{URL: bed.Kapacitor.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("test bed Kapacitor at %s: %v", bed.Kapacitor.URL, err)
	}
	return &bedEnv{bed: bed, c: c, influx: influxAdmin{url: bed.InfluxDB.URL, user: bed.InfluxDB.AdminUser, pass: bed.InfluxDB.AdminPassword}}
}

// uniqueHost returns a server name no other test (or run) uses.
func uniqueHost(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// cleanupTasks deletes every task of server when the test ends.
func (e *bedEnv) cleanupTasks(t *testing.T, server string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tasks, err := e.c.List(ctx, server+"-")
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		for _, tk := range tasks {
			if err := e.c.DeleteTask(ctx, tk.ID); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
}

// eventually calls f every interval until it returns true or timeout passes; it returns f's last message.
func eventually(t *testing.T, timeout, interval time.Duration, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, msg := f()
		if ok {
			return
		}
		last = msg
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (last: %s)", what, timeout, last)
		}
		time.Sleep(interval)
	}
}

// influxAdmin runs InfluxQL and writes as the bed's admin over plain net/http.
type influxAdmin struct {
	url, user, pass string
}

func (i influxAdmin) query(ctx context.Context, q string) ([]influxSeries, error) {
	form := url.Values{"q": {q}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, i.url+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(i.user, i.pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("influx %q: %s: %s", q, resp.Status, data)
	}
	var r struct {
		Results []struct {
			Series []influxSeries `json:"series"`
			Error  string         `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if r.Error != "" {
		return nil, fmt.Errorf("influx %q: %s", q, r.Error)
	}
	var out []influxSeries
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("influx %q: %s", q, res.Error)
		}
		out = append(out, res.Series...)
	}
	return out, nil
}

type influxSeries struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Values  [][]any  `json:"values"`
}

func (i influxAdmin) write(ctx context.Context, db, lines string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, i.url+"/write?"+url.Values{"db": {db}}.Encode(), strings.NewReader(lines))
	if err != nil {
		return err
	}
	req.SetBasicAuth(i.user, i.pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		data, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("influx write to %s: %s: %s", db, resp.Status, data)
	}
	return nil
}

// createDatabase creates db, drops it when the test ends, and waits until Kapacitor has subscribed to it:
// Kapacitor only sees writes to databases it subscribed to, which it does every subscriptions-sync-interval.
func (e *bedEnv) createDatabase(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.influx.query(ctx, fmt.Sprintf(`CREATE DATABASE "%s"`, db)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := e.influx.query(context.Background(), fmt.Sprintf(`DROP DATABASE "%s"`, db)); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	eventually(t, 60*time.Second, 200*time.Millisecond, "Kapacitor subscribes to "+db, func() (bool, string) {
		series, err := e.influx.query(ctx, "SHOW SUBSCRIPTIONS")
		if err != nil {
			return false, err.Error()
		}
		for _, s := range series {
			if s.Name == db && len(s.Values) > 0 {
				return true, ""
			}
		}
		return false, "no subscription yet"
	})
}

// alertLevels returns the level of every alert event of a task (anonymous topics: main:<task>:<node>), by
// event id.
func (e *bedEnv) alertLevels(ctx context.Context, task string) (map[string]string, error) {
	var topics struct {
		Topics []struct {
			ID string `json:"id"`
		} `json:"topics"`
	}
	q := url.Values{"pattern": {"main:" + kapacitor.GlobEscape(task) + ":*"}}
	if err := e.c.DoForTest(ctx, http.MethodGet, "/alerts/topics", q, nil, &topics); err != nil {
		return nil, err
	}
	levels := map[string]string{}
	for _, tp := range topics.Topics {
		var evs struct {
			Events []struct {
				ID    string `json:"id"`
				State struct {
					Level   string `json:"level"`
					Message string `json:"message"`
				} `json:"state"`
			} `json:"events"`
		}
		if err := e.c.DoForTest(ctx, http.MethodGet, "/alerts/topics/"+url.PathEscape(tp.ID)+"/events", nil, nil, &evs); err != nil {
			return nil, err
		}
		for _, ev := range evs.Events {
			levels[ev.ID] = ev.State.Level
		}
	}
	return levels, nil
}

// countingTransport counts the requests that reach the network.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}
