package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/plan"
)

// KindOrphans is the kind of the resource that finds orphans; its changes carry the kinds of what they delete.
const KindOrphans = "orphans"

// Reasons an orphan is reported.
const (
	reasonOrphan     = "carries fleetctl's mark and belongs to no host of the inventory"
	reasonOrphanData = "the database of a host no longer in the inventory: kept; apply --prune --delete-data drops it"
)

// Orphans finds what fleetctl made on the servers for hosts the inventory no longer has, and with prune deletes
// it. Only objects carrying fleetctl's marks count: Kapacitor tasks whose marker line names a server; the handlers
// of a Kapacitor topic named for a server (kapacitor.HostTopic); Grafana datasources with a "fleetctl-" uid and
// fleetctl's password fingerprint in their jsonData; dashboards tagged "fleetctl" with a "fleetctl-" uid; InfluxDB
// users named DB_telegraf holding WRITE on DB or DB_grafana holding READ on DB. A database is one of fleetctl's
// when such a user of it is found; it is dropped only with deleteData.
// Anything else, however it is named, is never touched.
//
// The inventory is taken to be the whole fleet on these servers: a second inventory sharing them would see the
// first one's hosts as orphans.
type Orphans struct {
	s          Servers
	hosts      map[string]bool // every host of the inventory, selected or not
	uids       map[string]bool // their datasource and dashboard uids, and the fleet's shared ones
	databases  map[string]bool
	deleteData bool

	found []plan.Change
}

// NewOrphans returns the finder for an inventory whose hosts are named, each with its database.
func NewOrphans(s Servers, hostDatabases map[string]string, deleteData bool) *Orphans {
	o := &Orphans{s: s, hosts: map[string]bool{}, uids: map[string]bool{OverviewUID: true}, databases: map[string]bool{}, deleteData: deleteData}
	for h, db := range hostDatabases {
		o.hosts[h] = true
		o.uids[DatasourceUID(h)], o.uids[DashboardUID(h)] = true, true
		o.databases[db] = true
	}
	return o
}

func (o *Orphans) Kind() string { return KindOrphans }
func (o *Orphans) Name() string { return "servers" }

func (o *Orphans) Read(ctx context.Context) error {
	var found []plan.Change
	add := func(kind, name string, action plan.Action, reason string, fields ...plan.Field) {
		found = append(found, plan.Change{Kind: kind, Name: name, Action: action, Reason: reason, Fields: fields, ReadDigest: "orphan"})
	}
	tasks, err := o.s.Kapacitor.List(ctx, "")
	if err != nil {
		return fmt.Errorf("find orphans: %w", err)
	}
	for _, t := range tasks {
		if owner, ok := kapacitor.MarkedServer(t.Script); ok && !o.hosts[owner] {
			add(kapacitor.KindTask, t.ID, plan.Delete, reasonOrphan+" (task of "+owner+")", plan.Field{Name: "status", Before: t.Status})
		}
	}
	// A host's topic holds the handlers of its routes; the topic itself (its alert state only) is left to Kapacitor.
	topics, err := o.s.Kapacitor.Topics(ctx, kapacitor.TopicPrefix+"*")
	if err != nil {
		return fmt.Errorf("find orphans: %w", err)
	}
	for _, tp := range topics {
		owner, ok := strings.CutPrefix(tp.ID, kapacitor.TopicPrefix)
		if !ok || owner == "" || o.hosts[owner] {
			continue
		}
		handlers, err := o.s.Kapacitor.Handlers(ctx, tp.ID)
		if err != nil {
			return fmt.Errorf("find orphans: %w", err)
		}
		for _, h := range handlers {
			add(kapacitor.KindHandler, tp.ID+"/"+h.ID, plan.Delete, reasonOrphan+" (alert handler of "+owner+")", plan.Field{Name: "kind", Before: h.Kind})
		}
	}
	dss, err := o.s.Grafana.Datasources(ctx)
	if err != nil {
		return fmt.Errorf("find orphans: %w", err)
	}
	for _, d := range dss {
		if strings.HasPrefix(d.UID, "fleetctl-") && d.JSONString(grafana.FingerprintKey) != "" && !o.uids[d.UID] {
			add(grafana.KindDatasource, d.UID, plan.Delete, reasonOrphan, plan.Field{Name: "name", Before: d.Name})
		}
	}
	dbs, err := o.s.Grafana.DashboardsTagged(ctx, grafana.DashboardTag)
	if err != nil {
		return fmt.Errorf("find orphans: %w", err)
	}
	for _, d := range dbs {
		if strings.HasPrefix(d.UID, "fleetctl-") && !o.uids[d.UID] {
			add(grafana.KindDashboard, d.UID, plan.Delete, reasonOrphan, plan.Field{Name: "title", Before: d.Title})
		}
	}
	users, err := o.s.Influx.Users(ctx)
	if err != nil {
		return fmt.Errorf("find orphans: %w", err)
	}
	orphanDBs := map[string]bool{}
	for _, u := range users {
		db, want := "", influx.Privilege("")
		switch {
		case strings.HasSuffix(u.Name, "_"+RoleWrite):
			db, want = strings.TrimSuffix(u.Name, "_"+RoleWrite), influx.Write
		case strings.HasSuffix(u.Name, "_"+RoleRead):
			db, want = strings.TrimSuffix(u.Name, "_"+RoleRead), influx.Read
		default:
			continue
		}
		if u.Admin || db == "" || o.databases[db] {
			continue
		}
		grants, err := o.s.Influx.Grants(ctx, u.Name)
		if err != nil {
			return fmt.Errorf("find orphans: %w", err)
		}
		if grants[db] != want {
			continue // named like fleetctl's, without fleetctl's grant: not fleetctl's
		}
		add(influx.KindUser, u.Name, plan.Delete, reasonOrphan, plan.Field{Name: "privilege", Before: string(want) + " on " + db})
		orphanDBs[db] = true
	}
	names := make([]string, 0, len(orphanDBs))
	for db := range orphanDBs {
		names = append(names, db)
	}
	sort.Strings(names)
	for _, db := range names {
		exists, err := o.s.Influx.DatabaseExists(ctx, db)
		if err != nil {
			return fmt.Errorf("find orphans: %w", err)
		}
		switch {
		case !exists:
		case o.deleteData:
			add(influx.KindDatabase, db, plan.Delete, reasonOrphan+": drops every point it holds")
		default:
			add(influx.KindDatabase, db, plan.Report, reasonOrphanData)
		}
	}
	o.found = found
	return nil
}

func (o *Orphans) Diff(prior []plan.Change) []plan.Change {
	if len(o.found) == 0 {
		return []plan.Change{{Action: plan.NoOp}}
	}
	return append([]plan.Change(nil), o.found...)
}

// Apply deletes the orphans of the Delete changes, each through its server's own delete (a missing one is no
// error: another run may have pruned it).
func (o *Orphans) Apply(ctx context.Context, changes []plan.Change) error {
	for _, ch := range changes {
		if ch.Action != plan.Delete {
			continue
		}
		var err error
		switch ch.Kind {
		case kapacitor.KindTask:
			err = o.s.Kapacitor.DeleteTask(ctx, ch.Name)
		case kapacitor.KindHandler:
			topic, id, ok := strings.Cut(ch.Name, "/")
			if !ok {
				err = fmt.Errorf("not TOPIC/ID (a fleetctl bug: please report it)")
			} else {
				err = o.s.Kapacitor.DeleteHandler(ctx, topic, id)
			}
		case grafana.KindDatasource:
			err = o.s.Grafana.DeleteDatasource(ctx, ch.Name)
		case grafana.KindDashboard:
			err = o.s.Grafana.DeleteDashboard(ctx, ch.Name)
		case influx.KindUser:
			err = o.s.Influx.DropUser(ctx, ch.Name)
		case influx.KindDatabase:
			if !o.deleteData {
				err = fmt.Errorf("prune: database %q is dropped only with --delete-data (a fleetctl bug: please report it)", ch.Name)
			} else {
				err = o.s.Influx.DropDatabase(ctx, ch.Name)
			}
		default:
			err = fmt.Errorf("prune: %s %q: unknown kind (a fleetctl bug: please report it)", ch.Kind, ch.Name)
		}
		if err != nil {
			return fmt.Errorf("prune %s %q: %w", ch.Kind, ch.Name, err)
		}
	}
	return nil
}
