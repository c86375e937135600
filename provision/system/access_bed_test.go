package system_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/system"
)

// accessHost is the bed host of the agent access resources' integration test (a chroot host; the e2e test of the
// container profile only plans on it).
const accessHost = "c48-debian13"

// TestAgentAccessOnARealHost applies the group membership and the sudo rule over SSH with the host's own usermod,
// gpasswd, visudo and sudo, for a user and groups of the test's own: the user joins a group, a re-plan is empty, the
// rule lets it run its command as root with sudo -n; a membership it had before is never recorded nor removed; absent,
// it leaves only what fleetctl added, and the rule goes.
func TestAgentAccessOnARealHost(t *testing.T) {
	ctx, conn, bed, h := dialBedHost(t, accessHost)

	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	user, wanted, before := "flu"+id, "flg"+id, "flb"+id
	record, rule := "/etc/fleetctl-it-groups-"+id, "/etc/sudoers.d/fleetctl-it-"+id
	bed.Run(t, h, "sudo groupadd "+wanted+" && sudo groupadd "+before+" && sudo useradd -M -G "+before+" "+user)
	t.Cleanup(func() {
		bed.Run(t, h, "sudo userdel "+user+"; sudo groupdel "+wanted+"; sudo groupdel "+before+"; sudo rm -f "+record+" "+rule)
	})
	fam := system.Families()["apt"]
	need := func(n string) []system.Need { return []system.Need{{Name: n, By: []string{"it"}}} }
	planned := func(groups, cmds []system.Need, absent bool) (*system.Membership, *system.Sudoers, []plan.Change, []plan.Change) {
		t.Helper()
		m := system.NewMembership(conn, nil, system.Membership{User: user, Groups: groups, Record: record, Family: fam})
		s := system.NewSudoers(conn, nil, system.Sudoers{Path: rule, User: user, Commands: cmds})
		q := m.Query()
		sq := s.Query()
		q.Files, q.Commands = append(q.Files, sq.Files...), sq.Commands
		facts, err := system.Read(ctx, conn, q)
		if err != nil {
			t.Fatal(err)
		}
		m = system.NewMembership(conn, facts, system.Membership{User: user, Groups: groups, Record: record, Family: fam})
		s = system.NewSudoers(conn, facts, system.Sudoers{Path: rule, User: user, Commands: cmds})
		if absent {
			m.Absent()
			s.Absent()
		}
		for _, r := range []interface{ Read(context.Context) error }{m, s} {
			if err := r.Read(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return m, s, pending(m.Diff(nil)), pending(s.Diff(nil))
	}
	groupsOf := func() []string { return strings.Fields(bed.Run(t, h, "id -Gn "+user)) }

	// before is already the user's: wanted, it is neither joined nor recorded.
	m, s, mc, sc := planned(append(need(before), need(wanted)...), need("/usr/bin/id"), false)
	if len(mc) != 2 || len(sc) != 1 {
		t.Fatalf("first plan: %v / %v", mc, sc)
	}
	if err := m.Apply(ctx, mc); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if g := groupsOf(); !slices.Contains(g, wanted) || !slices.Contains(g, before) {
		t.Errorf("groups after apply: %v", g)
	}
	if got := bed.Run(t, h, "sudo cat "+record); strings.Contains(got, before) || !strings.Contains(got, wanted) {
		t.Errorf("record:\n%s", got)
	}
	if got := strings.TrimSpace(bed.Run(t, h, "sudo -u "+user+" sudo -n /usr/bin/id -u")); got != "0" {
		t.Errorf("the rule does not let %s run id as root: %q", user, got)
	}
	if _, _, mc, sc := planned(append(need(before), need(wanted)...), need("/usr/bin/id"), false); len(mc)+len(sc) != 0 {
		t.Errorf("re-plan: %v / %v", mc, sc)
	}

	// Absent: out of what fleetctl added only; the rule and the record go.
	m, s, mc, sc = planned(nil, nil, true)
	if err := m.Apply(ctx, mc); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if g := groupsOf(); slices.Contains(g, wanted) || !slices.Contains(g, before) {
		t.Errorf("groups after absent: %v", g)
	}
	if got := strings.TrimSpace(bed.Run(t, h, "sudo ls "+record+" "+rule+" 2>/dev/null | wc -l")); got != "0" {
		t.Errorf("%s files left", got)
	}
	if _, _, mc, sc := planned(nil, nil, true); len(mc)+len(sc) != 0 {
		t.Errorf("re-plan after absent: %v / %v", mc, sc)
	}
}
