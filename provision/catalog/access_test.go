package catalog

import (
	"bytes"
	"context"
	"flag"
	"github.com/fleetctl/fleetctl/provision/views/viewstest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"github.com/fleetctl/fleetctl/provision/views"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	viewstest.Golden(t, name, got, *update)
}

// TestAgentAccessPlans: the container and smart inputs' needs on one host, planned from its facts. The agent joins
// docker and gets its sudo rule for smartctl (plan text and JSON pinned in testdata/access.*), and restarts for the
// group; once applied nothing changes; smart dropped, the rule goes without a restart; docker dropped, the agent
// leaves the group and restarts; destroy removes both.
func TestAgentAccessPlans(t *testing.T) {
	f := system.Families()["apt"]
	h := Host{Inputs: []string{"cpu", "docker", "smart"}}
	h.Name = "box1"
	facts := &system.Facts{Files: map[string]system.FileFact{agentGroupsRecord: {}, agentSudoers: {}}, Dirs: map[string][]string{},
		Packages: map[string]system.PackageFact{"dpkg:telegraf": {Installed: true, Version: "1.37.2-1"}, "queried:telegraf": {}},
		Services: map[string]system.ServiceFact{"telegraf": {Exists: true, Enabled: "enabled", Active: "active", Started: 200}},
		Users:    map[string]system.UserFact{agentUser: {Exists: true, Groups: []string{"telegraf"}}},
		Groups:   map[string]bool{"docker": true}, Commands: map[string]string{"visudo": "/usr/sbin/visudo"}}
	for _, p := range append(system.RepoFilePaths(), credentialsDropIn) {
		facts.Files[p] = system.FileFact{}
	}
	q := system.Query{}
	accessOf(h).query(&q)
	if !slices.Contains(q.Files, agentSudoers) || !slices.Contains(q.Groups, "docker") || !slices.Contains(q.Commands, "visudo") || !slices.Contains(q.Users, agentUser) {
		t.Fatalf("the host's query lacks what the resources read: %+v", q)
	}
	planned := func(h Host, destroy bool) []plan.Change {
		t.Helper()
		side := newTelegrafSide(h.Name, nil, facts, &system.OS{Family: f, Init: "systemd"}, nil, TelegrafSettings{Package: "telegraf"}, secret.NewMasker(), nil, accessOf(h))
		rs := side.declared()
		if destroy {
			rs = side.absent(false)
		}
		hp, _, err := engine.PlanHost(context.Background(), h.Name, rs)
		if err != nil {
			t.Fatal(err)
		}
		var out []plan.Change
		for _, ch := range hp.Changes {
			if ch.Kind == system.KindGroup || ch.Name == agentGroupsRecord || ch.Name == agentSudoers || ch.Action == plan.Restart {
				out = append(out, ch)
			}
		}
		return out
	}
	brief := func(chs []plan.Change) string {
		var s []string
		for _, ch := range chs {
			if ch.Action == plan.NoOp {
				continue
			}
			s = append(s, string(ch.Action)+" "+ch.Address)
		}
		return strings.Join(s, "\n")
	}
	chs := planned(h, false)
	p := &plan.Plan{Created: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), Hosts: []plan.HostPlan{{Host: h.Name, Changes: chs}}}
	var text, js bytes.Buffer
	if err := views.Text(&text, p, views.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := views.JSON(&js, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "access.txt", text.Bytes())
	golden(t, "access.json", js.Bytes())
	if got, want := brief(chs), "create box1/group:docker\ncreate box1/file:"+agentGroupsRecord+"\ncreate box1/file:"+agentSudoers+
		"\nrestart box1/service:telegraf#restart"; got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}

	// Applied: the facts as the apply leaves them.
	m := system.Membership{User: agentUser}
	facts.Users[agentUser] = system.UserFact{Exists: true, Groups: []string{"telegraf", "docker"}}
	facts.Files[agentGroupsRecord] = system.FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "root", MTime: 150, Content: m.RecordContent([]string{"docker"})}
	sudo := system.Sudoers{User: agentUser, Commands: accessOf(h).Commands}
	facts.Files[agentSudoers] = system.FileFact{Exists: true, Mode: 0o440, Owner: "root", Group: "root", MTime: 150, Content: sudo.Content()}
	for _, ch := range planned(h, false) {
		if ch.Action.Changes() {
			t.Errorf("re-plan after the apply: %s %s", ch.Action, ch.Address)
		}
	}
	noSmart := h
	noSmart.Inputs = []string{"cpu", "docker"}
	if got := brief(planned(noSmart, false)); got != "delete box1/file:"+agentSudoers {
		t.Errorf("smart dropped:\n%s", got)
	}
	noDocker := h
	noDocker.Inputs = []string{"cpu", "smart"}
	if got := brief(planned(noDocker, false)); got != "delete box1/group:docker\ndelete box1/file:"+agentGroupsRecord+"\nrestart box1/service:telegraf#restart" {
		t.Errorf("docker dropped:\n%s", got)
	}
	if got := brief(planned(h, true)); got != "delete box1/group:docker\ndelete box1/file:"+agentGroupsRecord+"\ndelete box1/file:"+agentSudoers {
		t.Errorf("destroy:\n%s", got)
	}
}
