package grafana

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/plan"
)

// Kinds of this file's resources.
const (
	KindDashboard = "grafana.dashboard"
	KindFolder    = "grafana.folder"
)

// DashboardTag marks every dashboard fleetctl writes: with a uid of fleetctl's it tells fleetctl's own dashboards
// from the users' (orphans are found by it).
const DashboardTag = "fleetctl"

// DashboardSpec is the desired state of one dashboard.
type DashboardSpec struct {
	UID       string
	FolderUID string // "" is the General folder
	// Model is the dashboard as fleetctl owns it (dashboards.Set renders it), without id, uid and version. Only
	// what it holds is compared: keys Grafana adds are left alone.
	Model map[string]any
	// Shared marks a dashboard of the whole fleet (the overview): a destroy of one host keeps it.
	Shared bool
}

// Dashboard is one Grafana dashboard, read and written by uid. Diff compares the title, the folder and every value
// the model sets (objects key by key, lists element by element), so what Grafana adds (ids, plugin versions,
// defaults) never shows as a change and what a user changed in a value fleetctl owns does. Writes carry the
// version read: Grafana refuses one if the dashboard changed in between.
type Dashboard struct {
	c    *Client
	spec DashboardSpec

	read   bool
	actual *RemoteDashboard // nil: missing
	absent bool
}

// NewDashboard checks spec and returns the resource.
func NewDashboard(c *Client, spec DashboardSpec) (*Dashboard, error) {
	if !ValidUID(spec.UID) {
		return nil, fmt.Errorf("grafana dashboard %q: uid must be 1 to 40 of [A-Za-z0-9_-]", spec.UID)
	}
	if spec.FolderUID != "" && !ValidUID(spec.FolderUID) {
		return nil, fmt.Errorf("grafana dashboard %q: folder uid %q must be 1 to 40 of [A-Za-z0-9_-]", spec.UID, spec.FolderUID)
	}
	if t, _ := spec.Model["title"].(string); t == "" {
		return nil, fmt.Errorf("grafana dashboard %q: the model has no title", spec.UID)
	}
	// A round trip through JSON makes the model's values what Grafana's answer decodes to (float64, []any...).
	b, err := json.Marshal(spec.Model)
	if err != nil {
		return nil, fmt.Errorf("grafana dashboard %q: %w", spec.UID, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("grafana dashboard %q: %w", spec.UID, err)
	}
	spec.Model = m
	return &Dashboard{c: c, spec: spec}, nil
}

func (d *Dashboard) Kind() string { return KindDashboard }

// Name is the uid.
func (d *Dashboard) Name() string { return d.spec.UID }

// Absent plans the dashboard deleted; a shared one is kept (a NoOp).
func (d *Dashboard) Absent() { d.absent = true }

func (d *Dashboard) Read(ctx context.Context) error {
	a, found, err := d.c.GetDashboard(ctx, d.spec.UID)
	if err != nil {
		return fmt.Errorf("read grafana dashboard %q: %w", d.spec.UID, err)
	}
	d.actual, d.read = nil, true
	if found {
		d.actual = a
	}
	return nil
}

func (d *Dashboard) title() string { t, _ := d.spec.Model["title"].(string); return t }

// maxFields bounds the differences a plan lists for one dashboard.
const maxFields = 12

func (d *Dashboard) Diff(prior []plan.Change) []plan.Change {
	ch := plan.Change{Kind: KindDashboard, Name: d.spec.UID, Action: plan.NoOp, ReadDigest: d.readDigest()}
	a := d.actual
	if d.absent {
		if a != nil && !d.spec.Shared {
			ch.Action = plan.Delete
			ch.Fields = []plan.Field{{Name: "title", Before: a.Title()}, {Name: "folder", Before: a.FolderUID}}
		}
		return []plan.Change{ch}
	}
	if a == nil {
		ch.Action = plan.Create
		ch.Fields = []plan.Field{{Name: "uid", After: d.spec.UID}, {Name: "title", After: d.title()},
			{Name: "folder", After: d.spec.FolderUID}, {Name: "panels", After: panelTitles(d.spec.Model)}}
		return []plan.Change{ch}
	}
	if a.FolderUID != d.spec.FolderUID {
		ch.Fields = append(ch.Fields, plan.Field{Name: "folder", Before: a.FolderUID, After: d.spec.FolderUID})
	}
	var diffs []plan.Field
	ownedDiff("dashboard", d.spec.Model, a.Dashboard, &diffs)
	if len(diffs) > maxFields {
		n := len(diffs) - maxFields
		diffs = append(diffs[:maxFields], plan.Field{Name: "…", After: fmt.Sprintf("%d more differences", n)})
	}
	ch.Fields = append(ch.Fields, diffs...)
	if len(ch.Fields) > 0 {
		ch.Action = plan.Update
		ch.Reason = "changed in Grafana: fleetctl owns this dashboard and puts it back"
	}
	return []plan.Change{ch}
}

// panelTitles lists a model's panel titles, for a plan.
func panelTitles(m map[string]any) string {
	ps, _ := m["panels"].([]any)
	var out []string
	for _, p := range ps {
		if pm, ok := p.(map[string]any); ok {
			if t, ok := pm["title"].(string); ok {
				out = append(out, t)
			}
		}
	}
	return strings.Join(out, ", ")
}

// ownedDiff appends, for every value want sets that have lacks or holds otherwise, a field named by its path.
// Objects compare key by key (keys only in have are Grafana's or a user's, not fleetctl's); lists compare in
// length and element by element.
func ownedDiff(path string, want, have any, out *[]plan.Field) {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			*out = append(*out, plan.Field{Name: path, Before: short(have), After: short(want)})
			return
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			hv, ok := h[k]
			if !ok {
				*out = append(*out, plan.Field{Name: path + "." + k, Before: "(missing)", After: short(w[k])})
				continue
			}
			ownedDiff(path+"."+k, w[k], hv, out)
		}
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			*out = append(*out, plan.Field{Name: path, Before: short(have), After: short(want)})
			return
		}
		for i := range w {
			ownedDiff(path+"["+strconv.Itoa(i)+"]", w[i], h[i], out)
		}
	default:
		if !reflect.DeepEqual(want, have) {
			*out = append(*out, plan.Field{Name: path, Before: short(have), After: short(want)})
		}
	}
}

// short is a value as a plan shows it: its JSON, cut at 80 characters.
func short(v any) string {
	if v == nil {
		return "(missing)"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 80 {
		s = s[:79] + "…"
	}
	return s
}

// readDigest fingerprints the dashboard as read: its version (Grafana counts every save) and folder.
func (d *Dashboard) readDigest() string {
	s := "missing"
	if a := d.actual; a != nil {
		s = fmt.Sprintf("version %d folder %s", a.Version, a.FolderUID)
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func (d *Dashboard) Apply(ctx context.Context, changes []plan.Change) error {
	if !d.read {
		return fmt.Errorf("apply grafana dashboard %q: not read", d.spec.UID)
	}
	for _, ch := range changes {
		switch ch.Action {
		case plan.Create:
			err := d.c.SaveDashboard(ctx, d.body(nil), d.spec.FolderUID)
			// Runs that start at once (two inventories on one Grafana, the first onboarding of their fleets) all
			// plan the shared overview's creation: the first creates it, the others find it made as they would have
			// made it. Made otherwise, it stays refused (plan again).
			if err != nil && httpx.HasStatus(err, http.StatusPreconditionFailed) && d.madeAsSpecified(ctx) {
				err = nil
			}
			if err != nil {
				return fmt.Errorf("create grafana dashboard %q: %w", d.spec.UID, err)
			}
		case plan.Update:
			if err := d.c.SaveDashboard(ctx, d.body(d.actual), d.spec.FolderUID); err != nil {
				return fmt.Errorf("update grafana dashboard %q: %w", d.spec.UID, err)
			}
		case plan.Delete:
			if err := d.c.DeleteDashboard(ctx, d.spec.UID); err != nil {
				return err
			}
		default:
			return fmt.Errorf("apply grafana dashboard %q: action %s not supported", d.spec.UID, ch.Action)
		}
	}
	return nil
}

// madeAsSpecified reads the dashboard again and reports whether it now exists exactly as the spec would make it.
func (d *Dashboard) madeAsSpecified(ctx context.Context) bool {
	if err := d.Read(ctx); err != nil || d.actual == nil {
		return false
	}
	return d.Diff(nil)[0].Action == plan.NoOp
}

// body is the model with the uid, and for an update the id and version read: the version makes Grafana refuse the
// write (412 version-mismatch) if someone saved the dashboard since it was read.
func (d *Dashboard) body(actual *RemoteDashboard) map[string]any {
	b := map[string]any{}
	for k, v := range d.spec.Model {
		b[k] = v
	}
	b["uid"] = d.spec.UID
	b["id"] = nil
	if actual != nil {
		if id, ok := actual.Dashboard["id"]; ok {
			b["id"] = id
		}
		b["version"] = actual.Version
	}
	return b
}

// RemoteDashboard is a dashboard as GET /api/dashboards/uid/:uid returns it.
type RemoteDashboard struct {
	Dashboard map[string]any
	FolderUID string
	Version   int
}

// Title is the dashboard's title.
func (r *RemoteDashboard) Title() string { t, _ := r.Dashboard["title"].(string); return t }

// GetDashboard reads the dashboard with uid; found is false on HTTP 404.
func (c *Client) GetDashboard(ctx context.Context, uid string) (*RemoteDashboard, bool, error) {
	body, err := c.do(ctx, http.MethodGet, "api/dashboards/uid/"+url.PathEscape(uid), nil)
	if IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var r struct {
		Dashboard map[string]any `json:"dashboard"`
		Meta      struct {
			FolderUID string `json:"folderUid"`
			Version   int    `json:"version"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, false, fmt.Errorf("decode grafana dashboard: %w", err)
	}
	out := &RemoteDashboard{Dashboard: r.Dashboard, FolderUID: r.Meta.FolderUID, Version: r.Meta.Version}
	if v, ok := r.Dashboard["version"].(float64); ok {
		out.Version = int(v)
	}
	return out, true, nil
}

// SaveDashboard posts a dashboard (with its uid, and for an update its id and version) into a folder ("" the
// General one) without overwrite: Grafana refuses a write over a newer version.
func (c *Client) SaveDashboard(ctx context.Context, dashboard map[string]any, folderUID string) error {
	uid, _ := dashboard["uid"].(string)
	if err := c.spaceWrite(ctx, "dashboard/"+uid); err != nil {
		return err
	}
	req := map[string]any{"dashboard": dashboard, "overwrite": false, "message": "fleetctl apply"}
	if folderUID != "" {
		req["folderUid"] = folderUID
	}
	_, err := c.doJSON(ctx, http.MethodPost, "api/dashboards/db", req, nil)
	return err
}

// DeleteDashboard deletes the dashboard with uid; a missing one is not an error.
func (c *Client) DeleteDashboard(ctx context.Context, uid string) error {
	_, err := c.do(ctx, http.MethodDelete, "api/dashboards/uid/"+url.PathEscape(uid), nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete grafana dashboard %q: %w", uid, err)
	}
	return nil
}

// FoundDashboard is one hit of a dashboard search.
type FoundDashboard struct {
	UID   string   `json:"uid"`
	Title string   `json:"title"`
	Tags  []string `json:"tags"`
}

// DashboardsTagged lists the dashboards carrying tag (GET /api/search), every page.
func (c *Client) DashboardsTagged(ctx context.Context, tag string) ([]FoundDashboard, error) {
	var out []FoundDashboard
	const limit = 1000
	for page := 1; ; page++ {
		q := url.Values{"type": {"dash-db"}, "tag": {tag}, "limit": {strconv.Itoa(limit)}, "page": {strconv.Itoa(page)}}
		body, err := c.do(ctx, http.MethodGet, "api/search?"+q.Encode(), nil)
		if err != nil {
			return nil, fmt.Errorf("search grafana dashboards tagged %q: %w", tag, err)
		}
		var hits []FoundDashboard
		if err := json.Unmarshal(body, &hits); err != nil {
			return nil, fmt.Errorf("search grafana dashboards: decode: %w", err)
		}
		out = append(out, hits...)
		if len(hits) < limit {
			return out, nil
		}
	}
}

// FolderSpec is a dashboard folder fleetctl keeps: one per group, or one for the fleet.
type FolderSpec struct {
	UID   string
	Title string
}

// Folder is one Grafana folder, created when missing and retitled when its title drifted. It holds other hosts'
// dashboards too, so a destroy never deletes it.
type Folder struct {
	c    *Client
	spec FolderSpec

	actual *remoteFolder
	absent bool
}

type remoteFolder struct {
	UID     string `json:"uid"`
	Title   string `json:"title"`
	Version int    `json:"version"`
}

// NewFolder checks spec and returns the resource.
func NewFolder(c *Client, spec FolderSpec) (*Folder, error) {
	if !ValidUID(spec.UID) || spec.Title == "" {
		return nil, fmt.Errorf("grafana folder %q: uid must be 1 to 40 of [A-Za-z0-9_-], with a title", spec.UID)
	}
	return &Folder{c: c, spec: spec}, nil
}

func (f *Folder) Kind() string { return KindFolder }
func (f *Folder) Name() string { return f.spec.UID }

// Absent keeps the folder (a NoOp): other hosts' dashboards may be in it.
func (f *Folder) Absent() { f.absent = true }

func (f *Folder) Read(ctx context.Context) error {
	body, err := f.c.do(ctx, http.MethodGet, "api/folders/"+url.PathEscape(f.spec.UID), nil)
	f.actual = nil
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read grafana folder %q: %w", f.spec.UID, err)
	}
	var r remoteFolder
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("read grafana folder %q: decode: %w", f.spec.UID, err)
	}
	f.actual = &r
	return nil
}

func (f *Folder) Diff(prior []plan.Change) []plan.Change {
	dig := "missing"
	if f.actual != nil {
		dig = fmt.Sprintf("%d %s", f.actual.Version, f.actual.Title)
	}
	ch := plan.Change{Kind: KindFolder, Name: f.spec.UID, Action: plan.NoOp, ReadDigest: dig}
	switch {
	case f.absent:
	case f.actual == nil:
		ch.Action = plan.Create
		ch.Fields = []plan.Field{{Name: "uid", After: f.spec.UID}, {Name: "title", After: f.spec.Title}}
	case f.actual.Title != f.spec.Title:
		ch.Action = plan.Update
		ch.Fields = []plan.Field{{Name: "title", Before: f.actual.Title, After: f.spec.Title}}
	}
	return []plan.Change{ch}
}

func (f *Folder) Apply(ctx context.Context, changes []plan.Change) error {
	for _, ch := range changes {
		switch ch.Action {
		case plan.Create:
			_, err := f.c.doJSON(ctx, http.MethodPost, "api/folders", map[string]any{"uid": f.spec.UID, "title": f.spec.Title}, nil)
			// Hosts of one group apply at once: the first creates their folder, the others find it made.
			if err != nil && (IsConflict(err) || httpx.HasStatus(err, http.StatusPreconditionFailed)) {
				if rerr := f.Read(ctx); rerr == nil && f.actual != nil {
					err = nil
				} else {
					err = fmt.Errorf("a folder titled %q exists with another uid: rename or delete it: %w", f.spec.Title, err)
				}
			}
			if err != nil {
				return fmt.Errorf("create grafana folder %q: %w", f.spec.UID, err)
			}
		case plan.Update:
			_, err := f.c.doJSON(ctx, http.MethodPut, "api/folders/"+url.PathEscape(f.spec.UID),
				map[string]any{"title": f.spec.Title, "version": f.actual.Version, "overwrite": false}, nil)
			if err != nil {
				return fmt.Errorf("update grafana folder %q: %w", f.spec.UID, err)
			}
		default:
			return fmt.Errorf("apply grafana folder %q: action %s not supported", f.spec.UID, ch.Action)
		}
	}
	return nil
}

// DeleteFolder deletes a folder and every dashboard in it (tests and cleanup; no resource deletes a folder). A
// missing one is not an error.
func (c *Client) DeleteFolder(ctx context.Context, uid string) error {
	_, err := c.do(ctx, http.MethodDelete, "api/folders/"+url.PathEscape(uid), nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete grafana folder %q: %w", uid, err)
	}
	return nil
}
