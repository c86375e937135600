package provision

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/plan/planfile"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// savingSession is a session with just what saving a plan needs: its inventory file and a masker.
func savingSession(t *testing.T) *Session {
	t.Helper()
	inv := filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(inv, []byte("# an inventory\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Session{Inventory: &inventory.Inventory{File: inv}, masker: secret.NewMasker()}
}

// TestSavePlanRecordsItsOptionsAndLeavesOutFailedHosts: the saved file names --limit and --only, covers the hosts
// that were planned, and lists those that were not, each with its error.
func TestSavePlanRecordsItsOptionsAndLeavesOutFailedHosts(t *testing.T) {
	s := savingSession(t)
	p := &plan.Plan{Only: []string{"*/file:*inputs.conf"}, Hosts: []plan.HostPlan{
		{Host: "db1", Error: "connect: no route to host"},
		{Host: "web1", Changes: []plan.Change{{Address: "web1/file:/etc/x/inputs.conf", Action: plan.Update}}},
	}}
	path := filepath.Join(t.TempDir(), "reviewed.plan")
	left, err := s.SavePlan(path, p, []string{"web*", "db1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Host != "db1" {
		t.Fatalf("left out = %+v, want db1", left)
	}
	sp, err := planfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sp.Options, planfile.Options{Limit: []string{"web*", "db1"}, Only: []string{"*/file:*inputs.conf"}}) {
		t.Errorf("options = %+v", sp.Options)
	}
	if got := sp.Hosts(); !reflect.DeepEqual(got, []string{"web1"}) {
		t.Errorf("saved hosts = %v, want web1 only", got)
	}
	if len(sp.LeftOut) != 1 || sp.LeftOut[0].Error != "connect: no route to host" {
		t.Errorf("left_out = %+v", sp.LeftOut)
	}

	if _, err := s.SavePlan(path, &plan.Plan{Hosts: []plan.HostPlan{{Host: "db1", Error: "refused"}}}, nil); err == nil ||
		!strings.Contains(err.Error(), "nothing saved") {
		t.Errorf("a plan of no host was saved: %v", err)
	}
}

// TestSavePlanFollowsNoPlantedLink: a link planted where fleetctl once wrote its temporary file (F.tmp), or at F
// itself, is replaced, never written through; the plan file is private to its owner.
func TestSavePlanFollowsNoPlantedLink(t *testing.T) {
	s := savingSession(t)
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "reviewed.plan")
	p := &plan.Plan{Hosts: []plan.HostPlan{{Host: "web1", Changes: []plan.Change{{Address: "web1/package:telegraf", Action: plan.NoOp}}}}}
	for _, planted := range []string{path + ".tmp", path} {
		os.Remove(planted)
		if err := os.Symlink(victim, planted); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SavePlan(path, p, nil); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
			t.Fatalf("link at %s: the file it points to was overwritten:\n%s", filepath.Base(planted), b)
		}
		st, err := os.Lstat(path)
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
			t.Fatalf("link at %s: the plan file is %v (%v), want a regular file of mode 0600", filepath.Base(planted), st.Mode(), err)
		}
		var doc map[string]any
		if b, _ := os.ReadFile(path); json.Unmarshal(b, &doc) != nil {
			t.Fatalf("the plan file is not JSON:\n%s", b)
		}
	}
	os.Remove(path + ".tmp")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("a temporary file was left behind: %s", e.Name())
		}
	}
}

func TestKeepNarrowsTheSessionToTheSavedHosts(t *testing.T) {
	s := savingSession(t)
	s.Hosts = []catalog.Host{{Host: engine.Host{Name: "a"}}, {Host: engine.Host{Name: "b"}}, {Host: engine.Host{Name: "c"}}}
	if err := s.Keep([]string{"c", "a"}); err != nil {
		t.Fatal(err)
	}
	if len(s.Hosts) != 2 || s.Hosts[0].Name != "a" || s.Hosts[1].Name != "c" {
		t.Fatalf("hosts = %+v", s.Hosts)
	}
	if err := s.Keep([]string{"a", "gone"}); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("a saved host missing from the selection: %v", err)
	}
}
