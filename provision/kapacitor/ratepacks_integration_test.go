package kapacitor_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/resourcetest"
)

// topicLevels returns the level of every event of a topic, by event id.
func (e *bedEnv) topicLevels(ctx context.Context, topic string) (map[string]string, error) {
	var evs struct {
		Events []struct {
			ID    string `json:"id"`
			State struct {
				Level string `json:"level"`
			} `json:"state"`
		} `json:"events"`
	}
	if err := e.c.DoForTest(ctx, http.MethodGet, "/alerts/topics/"+url.PathEscape(topic)+"/events", nil, nil, &evs); err != nil {
		if kapacitor.IsNotFound(err) {
			return map[string]string{}, nil
		}
		return nil, err
	}
	levels := map[string]string{}
	for _, ev := range evs.Events {
		levels[ev.ID] = ev.State.Level
	}
	return levels, nil
}

// TestIntegrationRatePacksFire: the packs built on counters (diskio's utilisation and await, net's errors and
// drops) alert on the rate between points, with their real scripts (seconds for minutes) fed points one second
// apart straight into Kapacitor; each goes CRITICAL on a high rate, back to OK on a low one, publishing to the
// host's topic. A device or interface the filter leaves out never alerts.
func TestIntegrationRatePacksFire(t *testing.T) {
	e := requireBed(t)
	for _, tc := range []struct {
		pack, alert string
		vars        map[string]any
		event       string
		// line for the i-th second: high or low rate
		line func(host string, i int, high bool) string
	}{
		{pack: "diskio", alert: "diskio_util", event: "Disk I/O - %s sda",
			vars: map[string]any{"diskio_util_crit_minutes": 1, "diskio_util_warn_minutes": 30, "diskio_util_reset_minutes": 1},
			line: func(h string, i int, high bool) string {
				// io_time grows by 990 ms a second (99% busy) or by 10 (1%); loop0 is not a watched device.
				step := 10
				if high {
					step = 990
				}
				return fmt.Sprintf("diskio,host=%s,name=sda io_time=%di,reads=%di,writes=0i,read_time=%di,write_time=0i\ndiskio,host=%s,name=loop0 io_time=%di,reads=0i,writes=0i,read_time=0i,write_time=0i",
					h, i*step, i, i, h, i*1000)
			}},
		{pack: "diskio", alert: "diskio_await", event: "Disk await - %s sda",
			vars: map[string]any{"diskio_await_crit_minutes": 1, "diskio_await_warn_minutes": 30, "diskio_await_reset_minutes": 1},
			line: func(h string, i int, high bool) string {
				// 10 I/Os a second taking 500 ms each, or 1 ms each.
				per := 1
				if high {
					per = 500
				}
				return fmt.Sprintf("diskio,host=%s,name=sda io_time=%di,reads=%di,writes=0i,read_time=%di,write_time=0i", h, i, i*10, i*10*per)
			}},
		{pack: "net", alert: "net", event: "Network - %s eth0",
			vars: map[string]any{"net_crit_minutes": 1, "net_warn_minutes": 30, "net_reset_minutes": 1},
			line: func(h string, i int, high bool) string {
				// 50 drops a second, or none; the interface=all protocol series has no err_in.
				n := 0
				if high {
					n = 50
				}
				return fmt.Sprintf("net,host=%s,interface=eth0 err_in=0i,err_out=0i,drop_in=%di,drop_out=0i,bytes_recv=1i\nnet,host=%s,interface=all icmp_inerrors=5i", h, i*n, h)
			}},
	} {
		t.Run(tc.alert, func(t *testing.T) {
			ctx := context.Background()
			host := uniqueHost(t, "kr-rate")
			db := "kr_" + strings.ReplaceAll(host, "-", "_")
			e.cleanupTasks(t, host)
			scripts, err := fastPack(t, tc.pack).Render([]string{tc.pack}, alertpacks.Target{Host: host, Database: db}, tc.vars,
				alertpacks.Handlers{Topic: kapacitor.HostTopic(host)})
			if err != nil {
				t.Fatal(err)
			}
			var task *kapacitor.Task
			for _, tk := range tasksOf(t, e.c, scripts, db) {
				if tk.ID() == kapacitor.TaskID(host, tc.alert) {
					task = tk
				}
			}
			resourcetest.Converge(t, ctx, task)
			eventID := fmt.Sprintf(tc.event, host)
			ts, i := time.Now().Add(-10*time.Minute), 0
			base := map[bool]int{}
			waitLevel := func(high bool, want string) {
				t.Helper()
				eventually(t, 60*time.Second, 100*time.Millisecond, eventID+" goes "+want, func() (bool, string) {
					var b strings.Builder
					for k := 0; k < 3; k++ {
						i++
						ts = ts.Add(time.Second)
						for _, l := range strings.Split(tc.line(host, i+base[high], high), "\n") {
							fmt.Fprintf(&b, "%s %d\n", l, ts.UnixNano())
						}
					}
					e.kapacitorWrite(t, db, b.String())
					levels, err := e.topicLevels(ctx, kapacitor.HostTopic(host))
					if err != nil {
						return false, err.Error()
					}
					for id, l := range levels {
						if id != eventID && l != "OK" {
							t.Fatalf("%q is %s: only %q may alert (%v)", id, l, eventID, levels)
						}
					}
					return levels[eventID] == want, fmt.Sprint(levels)
				})
			}
			waitLevel(true, "CRITICAL")
			// The low phase continues diskio's io_time from where the high phase left it (99 times the step); the
			// other counters start lower, as after a reboot, which nonNegative skips.
			base[false] = i*99 - i
			waitLevel(false, "OK")
		})
	}
}
