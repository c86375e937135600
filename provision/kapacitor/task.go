package kapacitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/provision/plan"
)

// Resource kinds of this package.
const (
	KindTask  = "kapacitor.task"
	KindPrune = "kapacitor.prune"
)

// TaskID is the id of a server's task for an alert: <server>-<alert>, as the rollout named them.
func TaskID(server, alert string) string { return server + "-" + alert }

// markerPrefix starts the first line of every script fleetctl stores.
const markerPrefix = "// fleetctl: task of server "

func marker(server string) string {
	return markerPrefix + strconv.Quote(server) + "; fleetctl apply overwrites changes made in Kapacitor"
}

// markedServer returns the server named by a script's marker line.
func markedServer(script string) (string, bool) {
	line, _, _ := strings.Cut(strings.TrimLeft(script, " \t\r\n"), "\n")
	rest, ok := strings.CutPrefix(line, markerPrefix)
	if !ok {
		return "", false
	}
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return "", false
	}
	s, err := strconv.Unquote(q)
	return s, err == nil
}

// normScript is what is compared: line endings and trailing whitespace do not make a task differ, or an editor
// or a round trip through another tool would cause a change on every run.
func normScript(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
}

func normDBRPs(ds []DBRP) []DBRP {
	out := append([]DBRP(nil), ds...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].DB != out[j].DB {
			return out[i].DB < out[j].DB
		}
		return out[i].RP < out[j].RP
	})
	return out
}

func dbrpsString(ds []DBRP) string {
	parts := make([]string, len(ds))
	for i, d := range normDBRPs(ds) {
		parts[i] = d.String()
	}
	return strings.Join(parts, ", ")
}

// Task is one server's stream task for one alert: desired to exist with the rendered script and the server's
// dbrps, enabled, and executing that script.
type Task struct {
	c      *Client
	server string
	alert  string
	id     string
	dbrps  []DBRP
	script string // as stored: the marker line, then the rendered script, normalised

	read    bool
	actual  *TaskState // nil when the task does not exist
	d       decision
	listing *Listing // when set, Read takes the task from the server's listing where that is enough
	absent  bool
}

// Absent plans the task deleted.
func (t *Task) Absent() { t.absent = true }

// Listing is one server's tasks as one listing returned them, read once and shared by the server's Tasks and its
// Prune: reading a server's tasks is then one request, not one per task. (A GET of a task also costs Kapacitor an
// evaluation of its TICK script, to draw the pipeline's graph; the listing asks for no graph.)
type Listing struct {
	c      *Client
	server string

	mu     sync.Mutex
	loaded bool
	tasks  []TaskState
}

// NewListing returns the (not yet read) listing of server's tasks: every task whose id starts with "<server>-".
func NewListing(c *Client, server string) *Listing { return &Listing{c: c, server: server} }

// Tasks reads the listing on first use and returns it.
func (l *Listing) Tasks(ctx context.Context) ([]TaskState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.loaded {
		tasks, err := l.c.List(ctx, l.server+"-")
		if err != nil {
			return nil, err
		}
		l.tasks, l.loaded = tasks, true
	}
	return l.tasks, nil
}

// ReadFrom makes Read take the task from l (l must list the task's server). A task the listing shows with the
// server's marker line and no vars is read from it; any other (one made by hand, or with vars, which may come from
// a template) is fetched whole, since only a GET tells whether it was made from a template.
func (t *Task) ReadFrom(l *Listing) *Task {
	t.listing = l
	return t
}

// NewTask returns the task <server>-<alert> reading dbrps and running script. The script is parsed here, with
// Kapacitor's own parser, so a broken script is refused before any request.
func NewTask(c *Client, server, alert string, dbrps []DBRP, script string) (*Task, error) {
	id := TaskID(server, alert)
	if err := CheckTaskID(id); err != nil {
		return nil, err
	}
	if len(dbrps) == 0 {
		return nil, fmt.Errorf("kapacitor task %q: no dbrps: a stream task must read a database", id)
	}
	for _, d := range dbrps {
		if d.DB == "" || d.RP == "" {
			return nil, fmt.Errorf("kapacitor task %q: dbrp %s: database and retention policy are both required", id, d)
		}
	}
	// Parsed without the marker line, so the parser's line numbers are those of the caller's script.
	if _, err := alertpacks.Parse(script); err != nil {
		return nil, fmt.Errorf("kapacitor task %q: invalid TICK script, not sent: %w", id, err)
	}
	stored := normScript(marker(server) + "\n" + script)
	return &Task{c: c, server: server, alert: alert, id: id, dbrps: normDBRPs(dbrps), script: stored}, nil
}

// TasksFor returns the tasks of rendered scripts, all reading dbrp.
func TasksFor(c *Client, scripts []alertpacks.Script, dbrp DBRP) ([]*Task, error) {
	out := make([]*Task, 0, len(scripts))
	for _, s := range scripts {
		t, err := NewTask(c, s.Host, s.Alert, []DBRP{dbrp}, s.Text)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (t *Task) Kind() string { return KindTask }
func (t *Task) Name() string { return t.id }

// ID is the task id, <server>-<alert>.
func (t *Task) ID() string { return t.id }

// Script is the script as fleetctl stores it (with its marker line).
func (t *Task) Script() string { return t.script }

// Read fetches the task with its raw script. A task whose marker names another server is an error: two servers'
// ids collide (web + db-cpu and web-db + cpu) and neither may take the other's task.
func (t *Task) Read(ctx context.Context) error {
	st, listed, err := t.fromListing(ctx)
	if err != nil {
		return err
	}
	if !listed {
		st, err = t.c.Task(ctx, t.id)
		switch {
		case IsNotFound(err):
			st = nil
		case err != nil:
			return err
		}
	}
	if st != nil {
		if owner, ok := markedServer(st.Script); ok && owner != t.server {
			return fmt.Errorf("read kapacitor task %q: it belongs to server %q, not %q: their task ids collide", t.id, owner, t.server)
		}
	}
	t.actual, t.read = st, true
	return nil
}

// fromListing returns the task as the listing shows it, and whether that is all there is to read: a task missing
// from the listing does not exist; a listed one needs a GET unless it carries the server's marker and no vars.
func (t *Task) fromListing(ctx context.Context) (*TaskState, bool, error) {
	if t.listing == nil {
		return nil, false, nil
	}
	tasks, err := t.listing.Tasks(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("read kapacitor task %q: %w", t.id, err)
	}
	for _, st := range tasks {
		if st.ID != t.id {
			continue
		}
		if owner, ok := markedServer(st.Script); ok && owner == t.server && len(st.Vars) == 0 {
			return &st, true, nil
		}
		return nil, false, nil
	}
	return nil, true, nil
}

// decision is what Diff planned, for Apply.
type decision struct {
	create   bool // POST, enabled
	recreate bool // DELETE, then POST: vars or a template cannot be removed with a PATCH
	update   bool // PATCH type, dbrps, script and status
	reload   bool // disable, then enable, so the running task picks up what was stored
}

// Reasons of side effects, shared by the unit tests.
const (
	reasonScriptReload = "the task is enabled: Kapacitor keeps running the old script until the task is disabled and enabled again"
	reasonDBRPReload   = "the task is enabled: Kapacitor keeps reading the old databases until the task is disabled and enabled again"
)

func (t *Task) Diff(prior []plan.Change) []plan.Change {
	if t.absent {
		ch := plan.Change{Kind: KindTask, Name: t.id, Action: plan.NoOp, ReadDigest: readDigest(t.actual)}
		if t.actual != nil {
			before := normScript(t.actual.Script)
			ch.Action, ch.BeforeText = plan.Delete, &before
			ch.Fields = []plan.Field{{Name: "status", Before: t.actual.Status}}
		}
		return []plan.Change{ch}
	}
	chs, d := diffTask(t.script, t.dbrps, t.actual)
	t.d = d
	dig := readDigest(t.actual)
	for i := range chs {
		chs[i].Kind, chs[i].Name, chs[i].ReadDigest = KindTask, t.id, dig
	}
	return chs
}

// diffTask compares the desired script and dbrps with the actual task (nil: missing).
func diffTask(script string, dbrps []DBRP, actual *TaskState) ([]plan.Change, decision) {
	want := dbrpsString(dbrps)
	if actual == nil {
		after := script
		return []plan.Change{{
			Action: plan.Create,
			Fields: []plan.Field{
				{Name: "type", After: TypeStream},
				{Name: "dbrps", After: want},
				{Name: "status", After: StatusEnabled},
			},
			AfterText: &after,
		}}, decision{create: true}
	}

	var fields []plan.Field
	add := func(name, before, after string) bool {
		if before == after {
			return false
		}
		fields = append(fields, plan.Field{Name: name, Before: before, After: after})
		return true
	}
	typeChanged := add("type", actual.Type, TypeStream)
	dbrpsChanged := add("dbrps", dbrpsString(actual.DBRPs), want)
	statusChanged := add("status", actual.Status, StatusEnabled)
	before := normScript(actual.Script)
	scriptChanged := before != script

	var reasons []string
	recreate := false
	if len(actual.Vars) > 0 {
		names := make([]string, 0, len(actual.Vars))
		for n := range actual.Vars {
			names = append(names, n)
		}
		sort.Strings(names)
		add("vars", strings.Join(names, ", "), "")
		reasons = append(reasons, "the task has vars, which override the script's own values and which Kapacitor cannot remove with a PATCH: the task is deleted and created again")
		recreate = true
	}
	if actual.TemplateID != "" {
		add("template-id", actual.TemplateID, "")
		reasons = append(reasons, "the task was created from a template, whose script replaces the task's own: the task is deleted and created again")
		recreate = true
	}
	if _, ok := markedServer(actual.Script); !ok && (scriptChanged || len(fields) > 0) {
		reasons = append(reasons, "the task was not created by fleetctl (no marker line); fleetctl takes it over")
	}

	var chs []plan.Change
	d := decision{}
	if recreate || scriptChanged || len(fields) > 0 {
		ch := plan.Change{Action: plan.Update, Fields: fields, Reason: strings.Join(reasons, "; ")}
		if scriptChanged {
			b, a := before, script
			ch.BeforeText, ch.AfterText = &b, &a
		}
		chs = append(chs, ch)
		d.update, d.recreate = !recreate, recreate
	}
	if recreate {
		// Re-creating starts the task from scratch with the new script: nothing more to reload.
		return chs, d
	}
	if actual.Status == StatusEnabled && !statusChanged {
		switch {
		case scriptChanged || typeChanged:
			chs = append(chs, plan.Change{Action: plan.Reload, Reason: reasonScriptReload})
			d.reload = true
		case dbrpsChanged:
			chs = append(chs, plan.Change{Action: plan.Reload, Reason: reasonDBRPReload})
			d.reload = true
		case !actual.Executing:
			msg := "the task is enabled but not executing"
			if actual.Error != "" {
				msg += " (error: " + actual.Error + ")"
			}
			chs = append(chs, plan.Change{Action: plan.Reload, Reason: msg + ": disable and enable to start it"})
			d.reload = true
		}
	}
	if len(chs) == 0 {
		chs = append(chs, plan.Change{Action: plan.NoOp})
	}
	return chs, d
}

// readDigest fingerprints the actual task from its non-secret state.
func readDigest(st *TaskState) string {
	h := sha256.New()
	if st == nil {
		h.Write([]byte("absent"))
	} else {
		vars := make([]string, 0, len(st.Vars))
		for n, v := range st.Vars {
			vars = append(vars, n+"="+string(v))
		}
		sort.Strings(vars)
		for _, p := range []string{st.ID, st.Type, dbrpsString(st.DBRPs), st.Status, strconv.FormatBool(st.Executing),
			st.TemplateID, strings.Join(vars, ","), normScript(st.Script)} {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Apply carries out what Diff decided.
func (t *Task) Apply(ctx context.Context, changes []plan.Change) error {
	if !t.read {
		return fmt.Errorf("apply kapacitor task %q: not read", t.id)
	}
	if len(changes) == 0 {
		return nil
	}
	d := t.d
	switch {
	case t.absent:
		return t.c.DeleteTask(ctx, t.id)
	case d.create:
		return t.create(ctx)
	case d.recreate:
		if err := t.c.DeleteTask(ctx, t.id); err != nil {
			return err
		}
		return t.create(ctx)
	case d.update && d.reload:
		// One PATCH stores the new script and stops the task, the next starts it: now running the new script. If
		// Kapacitor refuses the script, the first PATCH changes nothing and the old task keeps running.
		if _, err := t.c.UpdateTask(ctx, t.id, t.patch(StatusDisabled)); err != nil {
			return err
		}
		return t.enable(ctx)
	case d.update:
		st, err := t.c.UpdateTask(ctx, t.id, t.patch(StatusEnabled))
		if err != nil {
			return err
		}
		return t.checkRunning(st)
	case d.reload:
		if _, err := t.c.UpdateTask(ctx, t.id, TaskPatch{Status: StatusDisabled}); err != nil {
			return fmt.Errorf("reload kapacitor task %q: %w", t.id, err)
		}
		return t.enable(ctx)
	}
	return nil
}

func (t *Task) patch(status string) TaskPatch {
	return TaskPatch{Type: TypeStream, DBRPs: t.dbrps, Script: t.script, Status: status}
}

func (t *Task) create(ctx context.Context) error {
	// Created enabled in one request: Kapacitor validates the script, stores the task and starts it. (Created
	// disabled and enabled afterwards would store the same way and fail the same way if the start failed.)
	st, err := t.c.CreateTask(ctx, NewTaskRequest{ID: t.id, Type: TypeStream, DBRPs: t.dbrps, Script: t.script, Status: StatusEnabled})
	if err != nil {
		return err
	}
	return t.checkRunning(st)
}

func (t *Task) enable(ctx context.Context) error {
	st, err := t.c.UpdateTask(ctx, t.id, TaskPatch{Status: StatusEnabled})
	if err != nil {
		return err
	}
	return t.checkRunning(st)
}

// checkRunning turns "stored as enabled but not started" into an error, instead of a task that silently does
// nothing.
func (t *Task) checkRunning(st *TaskState) error {
	if st.Status == StatusEnabled && st.Executing {
		return nil
	}
	msg := fmt.Sprintf("kapacitor task %q is %s but not executing", t.id, st.Status)
	if st.Error != "" {
		msg += ": " + st.Error
	}
	return errors.New(msg)
}
