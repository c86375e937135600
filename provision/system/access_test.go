package system

import (
	"context"
	"github.com/fleetctl/fleetctl/test/testbed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
)

const testRecord = "/etc/telegraf/fleetctl-groups"

func docker() Need {
	return Need{Name: "docker", By: []string{"docker (templates/inputs/docker.toml)"}}
}

// record is the record's fact listing groups, as fleetctl writes it.
func record(groups ...string) FileFact {
	m := Membership{User: "telegraf"}
	return FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "root", Content: m.RecordContent(groups)}
}

// TestMembershipDiff: the agent joins each wanted group it is not in; it leaves only the groups fleetctl added it to
// (its record), never one it was in before; the record follows what fleetctl added; absent leaves them all.
func TestMembershipDiff(t *testing.T) {
	for _, c := range []struct {
		name   string
		want   []Need
		in     []string // the user's groups on the host
		record FileFact
		absent bool
		diff   string
	}{
		{"joins a wanted group", []Need{docker()}, []string{"telegraf"}, FileFact{}, false,
			"create group:docker, create file:fleetctl-groups"},
		{"already in, by fleetctl", []Need{docker()}, []string{"telegraf", "docker"}, record("docker"), false, "no-op file:fleetctl-groups"},
		{"already in, by the admin: left alone, not recorded", []Need{docker()}, []string{"telegraf", "docker"}, FileFact{}, false, ""},
		{"taken out behind fleetctl's back: joins again", []Need{docker()}, []string{"telegraf"}, record("docker"), false,
			"create group:docker, no-op file:fleetctl-groups"},
		{"no longer wanted: leaves what fleetctl added", nil, []string{"telegraf", "docker", "adm"}, record("docker"), false,
			"delete group:docker, delete file:fleetctl-groups"},
		{"no longer wanted, already out: the record goes", nil, []string{"telegraf"}, record("docker"), false, "delete file:fleetctl-groups"},
		{"one of two no longer wanted", []Need{{Name: "adm", By: []string{"logs"}}}, []string{"telegraf", "docker", "adm"}, record("adm", "docker"), false,
			"delete group:docker, update file:fleetctl-groups"},
		{"destroy", []Need{docker()}, []string{"telegraf", "docker"}, record("docker"), true, "delete group:docker, delete file:fleetctl-groups"},
		{"destroy of a host fleetctl gave no group", nil, []string{"telegraf", "docker"}, FileFact{}, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			facts := &Facts{Files: map[string]FileFact{testRecord: c.record}, Users: map[string]UserFact{"telegraf": {Exists: true, Groups: c.in}},
				Groups: map[string]bool{"docker": true, "adm": true}}
			m := NewMembership(nil, facts, Membership{User: "telegraf", Groups: c.want, Record: testRecord, Family: Families()["apt"]})
			if c.absent {
				m.Absent()
			}
			if err := m.Read(context.Background()); err != nil {
				t.Fatal(err)
			}
			chs := m.Diff(nil)
			if got := actions(chs); got != c.diff {
				t.Errorf("diff: %s\nwant: %s", got, c.diff)
			}
			// Applied, the host would be as wanted: the same diff on the resulting facts is empty.
			after := *facts
			in := append([]string(nil), c.in...)
			after.Files = map[string]FileFact{testRecord: c.record}
			for _, ch := range chs {
				switch {
				case ch.Kind == KindGroup && ch.Action == plan.Create:
					in = append(in, ch.Name)
				case ch.Kind == KindGroup && ch.Action == plan.Delete:
					in = without(in, ch.Name)
				case ch.Kind == KindFile && ch.Action == plan.Delete:
					after.Files[testRecord] = FileFact{}
				case ch.Kind == KindFile && ch.Action.Changes():
					after.Files[testRecord] = FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "root", Content: []byte(*ch.AfterText)}
				}
			}
			after.Users = map[string]UserFact{"telegraf": {Exists: true, Groups: in}}
			m.facts = &after
			for _, ch := range m.Diff(nil) {
				if ch.Action.Changes() {
					t.Errorf("not idempotent: after the apply, %s %s:%s", ch.Action, ch.Kind, ch.Name)
				}
			}
		})
	}
}

func without(l []string, s string) []string {
	var out []string
	for _, e := range l {
		if e != s {
			out = append(out, e)
		}
	}
	return out
}

// TestMembershipRefusesAMissingGroup: fleetctl never creates a group; the error names it, the input and the fix.
func TestMembershipRefusesAMissingGroup(t *testing.T) {
	facts := &Facts{Files: map[string]FileFact{testRecord: {}}, Users: map[string]UserFact{"telegraf": {Exists: true, Groups: []string{"telegraf"}}},
		Groups: map[string]bool{"docker": false}}
	m := NewMembership(nil, facts, Membership{User: "telegraf", Groups: []Need{docker()}, Record: testRecord, Family: Families()["apt"]})
	err := m.Read(context.Background())
	for _, w := range []string{`group "docker" does not exist on the host`, "input docker (templates/inputs/docker.toml) needs the telegraf user in it",
		"install what makes the group", "or drop the input", "never creates it"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
}

// TestMembershipCommands: each family joins and leaves with its own tools.
func TestMembershipCommands(t *testing.T) {
	chs := []plan.Change{{Kind: KindGroup, Name: "docker", Action: plan.Create}, {Kind: KindGroup, Name: "adm", Action: plan.Delete}}
	for fam, want := range map[string][]string{
		"apt":    {"usermod -a -G 'docker' 'telegraf'", "gpasswd -d 'telegraf' 'adm'"},
		"dnf":    {"usermod -a -G 'docker' 'telegraf'", "gpasswd -d 'telegraf' 'adm'"},
		"zypper": {"usermod -a -G 'docker' 'telegraf'", "gpasswd -d 'telegraf' 'adm'"},
		"apk":    {"addgroup 'telegraf' 'docker'", "delgroup 'telegraf' 'adm'"},
	} {
		m := NewMembership(nil, &Facts{}, Membership{User: "telegraf", Record: testRecord, Family: Families()[fam]})
		frag, err := m.Fragment(chs)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(frag.Script, w) {
				t.Errorf("%s: script lacks %q:\n%s", fam, w, frag.Script)
			}
		}
	}
}

func smartctl() Need {
	return Need{Name: "/usr/sbin/smartctl", By: []string{"smart (templates/inputs/smart.toml)"}}
}

// TestSudoersDiff: the drop-in is created when a command is wanted, rewritten when its content, mode or owner
// differ, deleted when none is wanted (and on destroy), and left alone when it is right.
func TestSudoersDiff(t *testing.T) {
	const p = "/etc/sudoers.d/fleetctl-telegraf"
	good := NewSudoers(nil, nil, Sudoers{Path: p, User: "telegraf", Commands: []Need{smartctl()}}).Content()
	if want := "telegraf ALL=(root) NOPASSWD: /usr/sbin/smartctl\n"; !strings.HasSuffix(string(good), want) || !strings.Contains(string(good), "(for smart)") {
		t.Fatalf("content:\n%s", good)
	}
	for _, c := range []struct {
		name   string
		want   []Need
		got    FileFact
		absent bool
		diff   string
	}{
		{"created", []Need{smartctl()}, FileFact{}, false, "create file:fleetctl-telegraf"},
		{"right", []Need{smartctl()}, FileFact{Exists: true, Mode: 0o440, Owner: "root", Group: "root", Content: good}, false, "no-op file:fleetctl-telegraf"},
		{"mode drifted", []Need{smartctl()}, FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "root", Content: good}, false, "update file:fleetctl-telegraf"},
		{"another command", []Need{{Name: "/usr/sbin/nvme", By: []string{"nvme"}}}, FileFact{Exists: true, Mode: 0o440, Owner: "root", Group: "root", Content: good}, false,
			"update file:fleetctl-telegraf"},
		{"no longer wanted", nil, FileFact{Exists: true, Mode: 0o440, Owner: "root", Group: "root", Content: good}, false, "delete file:fleetctl-telegraf"},
		{"never wanted", nil, FileFact{}, false, ""},
		{"destroy", []Need{smartctl()}, FileFact{Exists: true, Mode: 0o440, Owner: "root", Group: "root", Content: good}, true, "delete file:fleetctl-telegraf"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := NewSudoers(nil, &Facts{Files: map[string]FileFact{p: c.got}, Commands: map[string]string{"visudo": "/usr/sbin/visudo"}},
				Sudoers{Path: p, User: "telegraf", Commands: c.want})
			if c.absent {
				s.Absent()
			}
			if err := s.Read(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := actions(s.Diff(nil)); got != c.diff {
				t.Errorf("diff: %s\nwant: %s", got, c.diff)
			}
		})
	}
	// sudo missing is an error for a host that needs the rule only.
	noSudo := &Facts{Files: map[string]FileFact{p: {}}, Commands: map[string]string{"visudo": ""}}
	err := NewSudoers(nil, noSudo, Sudoers{Path: p, User: "telegraf", Commands: []Need{smartctl()}}).Read(context.Background())
	for _, w := range []string{"sudo is not installed on the host", "input smart (templates/inputs/smart.toml) runs /usr/sbin/smartctl", "install sudo there, or drop the input"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if err := NewSudoers(nil, noSudo, Sudoers{Path: p, User: "telegraf"}).Read(context.Background()); err != nil {
		t.Errorf("a host needing no rule: %v", err)
	}
}

// TestSudoersRoundTrip reads, applies and reads again a drop-in through the real shell and this machine's visudo:
// written 0440 root:root, then unchanged; a rule visudo refuses is never put in place; no longer wanted, it goes.
func TestSudoersRoundTrip(t *testing.T) {
	testbed.Require(t) // the bed's machine: root, with sudo's visudo
	if _, err := exec.LookPath("visudo"); err != nil || os.Getuid() != 0 {
		t.Fatalf("needs root and visudo, as the bed's machine has (visudo: %v, uid %d)", err, os.Getuid())
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "sudoers.d", "fleetctl-telegraf")
	r := &recordingRunner{shellRunner: shellRunner{t: t}}
	step := func(spec Sudoers) (*Sudoers, []plan.Change) {
		t.Helper()
		s := NewSudoers(r, nil, spec)
		out, err := r.Sudo(context.Background(), s.Query().Script(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.facts, err = ParseFacts(out); err != nil {
			t.Fatal(err)
		}
		if err := s.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s, s.Diff(nil)
	}
	spec := Sudoers{Path: p, User: "telegraf", Commands: []Need{smartctl()}}
	s, chs := step(spec)
	if err := s.Apply(context.Background(), chs); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o440 {
		t.Fatalf("drop-in: %v %v", st, err)
	}
	if _, chs := step(spec); actions(chs) != "no-op file:fleetctl-telegraf" {
		t.Errorf("re-read: %s", actions(chs))
	}
	bad := spec
	bad.User = "tele graf"
	s, chs = step(bad)
	err = s.Apply(context.Background(), chs)
	if err == nil || !strings.Contains(err.Error(), "visudo refused it, nothing was installed") {
		t.Errorf("a rule visudo refuses: %v", err)
	}
	if got, _ := os.ReadFile(p); !strings.Contains(string(got), "telegraf ALL=(root) NOPASSWD: /usr/sbin/smartctl") {
		t.Errorf("the refused rule replaced the good one:\n%s", got)
	}
	s, chs = step(Sudoers{Path: p, User: "telegraf"})
	if err := s.Apply(context.Background(), chs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("drop-in still there: %v", err)
	}
}
