package kapacitor

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TopicState is an alert topic as Kapacitor lists it: its id and the highest level of its events.
type TopicState struct {
	ID    string `json:"id"`
	Level string `json:"level"`
}

// EventState is one alert event of a topic: the alert's id (its .id() template, rendered) and its current state.
type EventState struct {
	ID    string `json:"id"`
	State struct {
		Level    string    `json:"level"`
		Message  string    `json:"message"`
		Time     time.Time `json:"time"`
		Duration Duration  `json:"duration"`
	} `json:"state"`
}

// Duration is a duration as Kapacitor's API writes it: Go's text form ("5m", "1m30s"), not a number.
type Duration time.Duration

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("kapacitor duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}

// FiringTopics lists the alert topics whose highest event level is at least minLevel (OK, INFO, WARNING,
// CRITICAL): one request for the whole server.
func (c *Client) FiringTopics(ctx context.Context, minLevel string) ([]TopicState, error) {
	var out struct {
		Topics []TopicState `json:"topics"`
	}
	if err := c.do(ctx, http.MethodGet, "/alerts/topics", url.Values{"min-level": {minLevel}}, nil, &out); err != nil {
		return nil, fmt.Errorf("list kapacitor alert topics: %w", err)
	}
	return out.Topics, nil
}

// TopicEvents lists a topic's events at minLevel or above.
func (c *Client) TopicEvents(ctx context.Context, topic, minLevel string) ([]EventState, error) {
	var out struct {
		Events []EventState `json:"events"`
	}
	if err := c.do(ctx, http.MethodGet, "/alerts/topics/"+url.PathEscape(topic)+"/events", url.Values{"min-level": {minLevel}}, nil, &out); err != nil {
		return nil, fmt.Errorf("list the events of kapacitor topic %q: %w", topic, err)
	}
	return out.Events, nil
}

// TaskStates lists every task of the server with its status, whether it executes and its error only (no script,
// no graph): what status needs, in as few pages as the server allows.
func (c *Client) TaskStates(ctx context.Context) ([]TaskState, error) {
	var out []TaskState
	for offset := 0; ; {
		q := url.Values{
			"fields": {"status", "executing", "error"},
			"offset": {strconv.Itoa(offset)},
			"limit":  {strconv.Itoa(c.pageSize)},
		}
		var page struct {
			Tasks []TaskState `json:"tasks"`
		}
		if err := c.do(ctx, http.MethodGet, "/tasks", q, nil, &page); err != nil {
			return nil, fmt.Errorf("list kapacitor tasks: %w", err)
		}
		out = append(out, page.Tasks...)
		if len(page.Tasks) < c.pageSize {
			return out, nil
		}
		offset += len(page.Tasks)
	}
}
