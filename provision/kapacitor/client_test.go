package kapacitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fleetctl/fleetctl/provision/secret"
)

// fakeKapacitor serves the task endpoints the way Kapacitor 1.5.9 does, closely enough for paging and errors.
type fakeKapacitor struct {
	mu       sync.Mutex
	tasks    map[string]TaskState
	requests []string
	auth     string
}

func (f *fakeKapacitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	if u, p, ok := r.BasicAuth(); ok {
		f.auth = u + ":" + p
	}
	fail := func(code int, msg string) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	id, hasID := strings.CutPrefix(r.URL.Path, "/kapacitor/v1/tasks/")
	switch {
	case r.URL.Path == "/kapacitor/v1/tasks" && r.Method == http.MethodGet:
		q := r.URL.Query()
		for _, field := range q["fields"] {
			// Kapacitor's listing knows exactly these fields and answers 400 for any other.
			switch field {
			case "link", "id", "type", "dbrps", "script", "dot", "status", "executing", "error", "stats", "created", "modified", "last-enabled", "vars":
			default:
				fail(http.StatusBadRequest, fmt.Sprintf("unsupported field %q", field))
				return
			}
		}
		off, _ := strconv.Atoi(q.Get("offset"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		var ids []string
		for id := range f.tasks {
			if ok, _ := path.Match(q.Get("pattern"), id); ok {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		page := []TaskState{}
		for i := off; i < len(ids) && i < off+limit; i++ {
			page = append(page, f.tasks[ids[i]])
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"tasks": page})
	case hasID && r.Method == http.MethodGet:
		t, ok := f.tasks[id]
		if !ok {
			fail(http.StatusNotFound, "no task exists")
			return
		}
		_ = json.NewEncoder(w).Encode(t)
	case hasID && r.Method == http.MethodDelete:
		delete(f.tasks, id)
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/kapacitor/v1/tasks" && r.Method == http.MethodPost:
		var req NewTaskRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		if _, dup := f.tasks[req.ID]; dup {
			fail(http.StatusBadRequest, fmt.Sprintf("task %s already exists", req.ID))
			return
		}
		st := TaskState{ID: req.ID, Type: req.Type, DBRPs: req.DBRPs, Script: req.Script, Status: req.Status, Executing: req.Status == StatusEnabled}
		f.tasks[req.ID] = st
		_ = json.NewEncoder(w).Encode(st)
	default:
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("not json at all"))
	}
}

func newFake(t *testing.T, n int) (*fakeKapacitor, *Client) {
	t.Helper()
	f := &fakeKapacitor{tasks: map[string]TaskState{}}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("web1-a%02d", i)
		f.tasks[id] = TaskState{ID: id, Script: stored("web1", testScript), Status: StatusEnabled}
	}
	f.tasks["web2-cpu"] = TaskState{ID: "web2-cpu"}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{URL: srv.URL + "/", PageSize: 3, Username: "kap", Password: secret.New("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func TestClientListPages(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 2, 3, 7, 9} {
		f, c := newFake(t, n)
		got, err := c.List(ctx, "web1-")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Errorf("%d tasks: List returned %d", n, len(got))
		}
		if want := n/3 + 1; len(f.requests) != want {
			t.Errorf("%d tasks, page size 3: %d requests, want %d: %v", n, len(f.requests), want, f.requests)
		}
		if n > 0 && !strings.Contains(f.requests[0], "pattern=web1-%2A") || !strings.Contains(f.requests[0], "script-format=raw") {
			t.Errorf("request %s lacks the pattern or raw scripts", f.requests[0])
		}
		if f.auth != "kap:s3cret" {
			t.Errorf("basic auth = %q", f.auth)
		}
	}
	if got := globEscape(`a*b?c[d]\`); got != `a\*b\?c\[d\]\\` {
		t.Errorf("globEscape = %q", got)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	_, c := newFake(t, 1)
	_, err := c.Task(ctx, "web1-nope")
	if !IsNotFound(err) || !strings.Contains(err.Error(), `read kapacitor task "web1-nope": GET /kapacitor/v1/tasks/web1-nope: 404 Not Found: no task exists`) {
		t.Errorf("missing task: %v", err)
	}
	_, err = c.CreateTask(ctx, NewTaskRequest{ID: "web1-a00", Script: "x"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Message != "task web1-a00 already exists" || !strings.Contains(err.Error(), `create kapacitor task "web1-a00"`) {
		t.Errorf("4xx body not surfaced: %v", err)
	}
	_, err = c.UpdateTask(ctx, "web1-a00", TaskPatch{Status: StatusEnabled})
	if !errors.As(err, &ae) || ae.StatusCode != 418 || ae.Message != "not json at all" {
		t.Errorf("non-JSON error body: %v", err)
	}
	if err := c.DeleteTask(ctx, "web1-missing"); err != nil {
		t.Errorf("deleting a missing task: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Task(cctx, "web1-a00"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if _, err := NewClient(Config{URL: "localhost:9092"}); err == nil {
		t.Error("a URL without scheme must be refused")
	}
}

func TestPruneApply(t *testing.T) {
	ctx := context.Background()
	f, c := newFake(t, 4)
	f.tasks["web1-hand"] = TaskState{ID: "web1-hand", Script: testScript}
	p, err := NewPrune(c, "web1", []string{"web1-a00", "web1-a01"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Read(ctx); err != nil {
		t.Fatal(err)
	}
	chs := p.Diff(nil)
	if err := p.Apply(ctx, chs); err != nil {
		t.Fatal(err)
	}
	var left []string
	for id := range f.tasks {
		left = append(left, id)
	}
	sort.Strings(left)
	if want := "web1-a00 web1-a01 web1-hand web2-cpu"; strings.Join(left, " ") != want {
		t.Errorf("left after prune: %v, want %s", left, want)
	}
}

// TestListingServesAServersTasks: a server's tasks and its prune read one listing (one request), and only a task the
// listing cannot vouch for (vars, which a template may have set) is fetched whole.
func TestListingServesAServersTasks(t *testing.T) {
	ctx := context.Background()
	f, c := newFake(t, 2)
	// web1-a01 has vars: only a GET says whether a template made it.
	a01 := f.tasks["web1-a01"]
	a01.Vars = map[string]json.RawMessage{"crit": json.RawMessage(`{"type":"int","value":90}`)}
	f.tasks["web1-a01"] = a01
	l := NewListing(c, "web1")
	var tasks []*Task
	for _, alert := range []string{"a00", "a01", "a02"} {
		tk, err := NewTask(c, "web1", alert, []DBRP{{DB: "web1", RP: "autogen"}}, testScript)
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, tk.ReadFrom(l))
	}
	p, err := NewPrune(c, "web1", KeepIDs(tasks))
	if err != nil {
		t.Fatal(err)
	}
	p.ReadFrom(l)
	for _, tk := range tasks {
		if err := tk.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Read(ctx); err != nil {
		t.Fatal(err)
	}
	var gets, lists int
	for _, r := range f.requests {
		switch {
		case strings.HasPrefix(r, "GET /kapacitor/v1/tasks?"):
			lists++
		case strings.HasPrefix(r, "GET /kapacitor/v1/tasks/web1-a01?"):
			gets++
		default:
			t.Errorf("unexpected request %s", r)
		}
	}
	if lists != 1 || gets != 1 {
		t.Errorf("%d listings and %d GETs, want 1 and 1 (for the task with vars): %v", lists, gets, f.requests)
	}
	if tasks[0].actual == nil || tasks[0].actual.Status != StatusEnabled || tasks[1].actual == nil || len(tasks[1].actual.Vars) == 0 {
		t.Errorf("listed tasks: %+v %+v", tasks[0].actual, tasks[1].actual)
	}
	if tasks[2].actual != nil {
		t.Errorf("a task missing from the listing was read as %+v", tasks[2].actual)
	}
}
