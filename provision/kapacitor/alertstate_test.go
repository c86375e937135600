package kapacitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A topic's events as Kapacitor's API reference documents them (client/API.md, "List topic events"): the
// duration is text.
const documentedEvents = `{
    "link": {"rel":"self","href":"/kapacitor/v1/alerts/topics/system/events"},
    "topic": "system",
    "events": [
        {
            "link":{"rel":"self","href":"/kapacitor/v1/alerts/topics/system/events/cpu"},
            "id": "cpu",
            "state": {"level": "WARNING", "message": "cpu is WARNING", "time": "2016-12-01T00:00:00Z", "duration": "5m"}
        },
        {
            "link":{"rel":"self","href":"/kapacitor/v1/alerts/topics/system/events/mem"},
            "id": "mem",
            "state": {"level": "CRITICAL", "message": "mem is CRITICAL", "time": "2016-12-01T00:10:00Z", "duration": "1m30s"}
        }
    ]
}`

func TestTopicEventsDecodesTheDocumentedState(t *testing.T) {
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Path + "?" + r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(documentedEvents))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := c.TopicEvents(context.Background(), "system", "WARNING")
	if err != nil {
		t.Fatal(err)
	}
	if query != "/kapacitor/v1/alerts/topics/system/events?min-level=WARNING" {
		t.Errorf("request %s", query)
	}
	if len(evs) != 2 || evs[0].ID != "cpu" || evs[0].State.Level != "WARNING" || time.Duration(evs[0].State.Duration) != 5*time.Minute ||
		evs[1].State.Message != "mem is CRITICAL" || time.Duration(evs[1].State.Duration) != 90*time.Second ||
		!evs[1].State.Time.Equal(time.Date(2016, 12, 1, 0, 10, 0, 0, time.UTC)) {
		t.Errorf("events %+v", evs)
	}
}

func TestTopicsAsksForThePatternAtEveryLevel(t *testing.T) {
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query().Encode()
		_, _ = w.Write([]byte(`{"topics":[{"id":"fleetctl-web1","level":"OK"},{"id":"fleetctl-gone","level":"CRITICAL"}]}`))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	tops, err := c.Topics(context.Background(), TopicPrefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	if query != "min-level=OK&pattern=fleetctl-%2A" || len(tops) != 2 || tops[1].ID != "fleetctl-gone" {
		t.Errorf("query %s, topics %+v", query, tops)
	}
}
