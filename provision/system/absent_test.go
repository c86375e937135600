package system

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// Planned absent (destroy): a file set deletes its files that exist and the owned entries of its directory, with no
// check; a package is removed when installed; a service is stopped and disabled, not gated on the servers.
func TestAbsentHostSide(t *testing.T) {
	dir := "/etc/telegraf/telegraf.d"
	facts := &Facts{
		Files: map[string]FileFact{
			"/etc/telegraf/telegraf.conf":  {Exists: true, Mode: 0o644, Owner: "root", Group: "root", Content: []byte("x")},
			dir + "/fleetctl-outputs.conf": {},
		},
		Dirs:     map[string][]string{dir: {"fleetctl-old.conf", "mine.conf"}},
		Packages: map[string]PackageFact{"dpkg:telegraf": {Installed: true, Version: "1.37.2-1"}, "queried:telegraf": {}},
		Services: map[string]ServiceFact{"telegraf": {Exists: true, Enabled: "enabled", Active: "active", Started: 1}},
	}
	fs := NewFileSet(nil, facts, FileSet{Label: "telegraf config", Watch: dir, OwnedPrefix: "fleetctl-", Check: "telegraf config check", Masker: secret.NewMasker(),
		Files: []FileSpec{{Path: "/etc/telegraf/telegraf.conf", Content: []byte("y")}, {Path: dir + "/fleetctl-outputs.conf", Content: []byte("z")}}})
	fs.Absent()
	var got []string
	for _, c := range fs.Diff(nil) {
		got = append(got, string(c.Action)+" "+c.Name)
	}
	if want := "delete /etc/telegraf/telegraf.conf,no-op " + dir + "/fleetctl-outputs.conf,delete " + dir + "/fleetctl-old.conf,report " + dir + "/mine.conf"; strings.Join(got, ",") != want {
		t.Errorf("file set:\n got %s\nwant %s", strings.Join(got, ","), want)
	}
	frag, err := fs.Fragment(fs.Diff(nil)[:1])
	if err != nil || strings.Contains(frag.Script, "telegraf config check") || !strings.Contains(frag.Script, "rm -f '/etc/telegraf/telegraf.conf'") {
		t.Errorf("file set fragment (%v):\n%s", err, frag.Script)
	}

	p := NewPackage(nil, facts, Package{Pkg: "telegraf", Family: Families()["apt"]})
	p.Absent()
	if chs := p.Diff(nil); chs[0].Action != plan.Delete {
		t.Errorf("package: %+v", chs)
	}
	if frag, _ := p.Fragment(nil); !strings.Contains(frag.Script, "telegraf") || strings.Contains(frag.Script, "install") {
		t.Errorf("package fragment:\n%s", frag.Script)
	}

	for _, init := range []string{"systemd", "openrc", "sysv"} {
		s := NewService(nil, facts, Service{Unit: "telegraf", Init: init})
		s.Absent()
		chs := s.Diff(nil)
		if len(chs) != 1 || chs[0].Action != plan.Update || len(chs[0].Fields) != 2 {
			t.Errorf("%s service: %+v", init, chs)
		}
		frag, _ := s.Fragment(chs)
		if frag.Gated || !strings.Contains(frag.Script, "stop") && !strings.Contains(frag.Script, "--now") {
			t.Errorf("%s service fragment (gated %v):\n%s", init, frag.Gated, frag.Script)
		}
	}
	stopped := NewService(nil, &Facts{Services: map[string]ServiceFact{"telegraf": {Exists: true, Enabled: "disabled", Active: "inactive"}}}, Service{Unit: "telegraf"})
	stopped.Absent()
	if chs := stopped.Diff(nil); chs[0].Action != plan.NoOp {
		t.Errorf("stopped service: %+v", chs)
	}
}

// The absent file set's fragment, run by a real shell: fleetctl's files go, the one it does not own stays.
func TestAbsentFileSetRemovesTheFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"main.conf": "a", "fleetctl-outputs.conf": "b", "fleetctl-old.conf": "c", "mine.conf": "d"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exists := FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "root"}
	facts := &Facts{
		Files: map[string]FileFact{dir + "/main.conf": exists, dir + "/fleetctl-outputs.conf": exists},
		Dirs:  map[string][]string{dir: {"fleetctl-old.conf", "mine.conf"}},
	}
	r := &shellRunner{t: t}
	fs := NewFileSet(r, facts, FileSet{Label: "telegraf config", Watch: dir, OwnedPrefix: "fleetctl-", Check: "false", Masker: secret.NewMasker(),
		Files: []FileSpec{{Path: dir + "/main.conf"}, {Path: dir + "/fleetctl-outputs.conf"}}})
	fs.Absent()
	var pending []plan.Change
	for _, c := range fs.Diff(nil) {
		if c.Action.Changes() {
			pending = append(pending, c)
		}
	}
	if err := fs.Apply(t.Context(), pending); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "mine.conf" {
		t.Errorf("left in the directory: %v, want mine.conf alone", names)
	}
}
