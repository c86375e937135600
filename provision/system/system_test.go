package system

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/user"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

func TestParseFacts(t *testing.T) {
	content := "a = 1\n"
	out := strings.Join([]string{
		"", marker + "os-release", `ID=debian`, `VERSION_ID="12"`, `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"`,
		"", marker + "init", "systemd",
		"", marker + "file /etc/a.conf", "640 root telegraf 1700000000", base64.StdEncoding.EncodeToString([]byte(content)),
		"", marker + "file /etc/missing",
		"", marker + "file /etc/empty", "644 root root 1",
		"", marker + "dir /etc/telegraf/telegraf.d", "z.conf", "a.conf",
		"", marker + "pkg telegraf", "dpkg installed 1.37.2-1", "rpm ",
		"", marker + "pkg other", "dpkg ",
		"", marker + "svc telegraf", "ActiveState=active", "LoadState=loaded", "MainPID=4242", "UnitFileState=enabled",
		"P 4242 (tele graf) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 12 0 12345600 800000 3000 18446744073709551615", "B 1699876544", "K 100",
		"", marker + "svc gone", "LoadState=not-found", "ActiveState=inactive", "UnitFileState=", "MainPID=0",
		"", marker + "svc masked", "LoadState=masked", "ActiveState=inactive", "UnitFileState=masked", "MainPID=0",
		"", marker + "svc rc", "E disabled", "A active",
		"", marker + "svc rcgone",
		"", marker + "end", "",
	}, "\n")
	f, err := ParseFacts([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if f.OSRelease["ID"] != "debian" || f.OSRelease["VERSION_ID"] != "12" || f.Init != "systemd" {
		t.Errorf("os: %v %s", f.OSRelease, f.Init)
	}
	if a := f.Files["/etc/a.conf"]; !a.Exists || a.Mode != 0o640 || a.Group != "telegraf" || string(a.Content) != content {
		t.Errorf("file: %+v", a)
	}
	if f.Files["/etc/missing"].Exists || !f.Files["/etc/empty"].Exists || len(f.Files["/etc/empty"].Content) != 0 {
		t.Errorf("missing/empty files: %+v %+v", f.Files["/etc/missing"], f.Files["/etc/empty"])
	}
	if got := strings.Join(f.Dirs["/etc/telegraf/telegraf.d"], ","); got != "a.conf,z.conf" {
		t.Errorf("dir: %s", got)
	}
	if p := f.Packages["dpkg:telegraf"]; !p.Installed || p.Version != "1.37.2-1" || f.Packages["rpm:telegraf"].Installed || f.Packages["dpkg:other"].Installed {
		t.Errorf("packages: %+v", f.Packages)
	}
	if a := f.Files["/etc/a.conf"]; a.MTime != 1700000000 {
		t.Errorf("mtime: %d", a.MTime)
	}
	if s := f.Services["telegraf"]; !s.Exists || s.Enabled != "enabled" || s.Active != "active" || s.Started != 1699876544+123456 {
		t.Errorf("systemd service: %+v", s)
	}
	if f.Services["gone"].Exists || f.Services["rcgone"].Exists {
		t.Errorf("missing services reported as existing: %+v", f.Services)
	}
	if s := f.Services["masked"]; !s.Exists || s.Enabled != "masked" || s.Active != "inactive" || s.Started != 0 {
		t.Errorf("masked service: %+v", s)
	}
	if s := f.Services["rc"]; !s.Exists || s.Enabled != "disabled" || s.Active != "active" {
		t.Errorf("openrc service: %+v", s)
	}
	if _, err := ParseFacts([]byte(marker + "os-release\nID=x\n")); err == nil {
		t.Error("output cut short was accepted")
	}
}

func TestQueryScriptQuotesPaths(t *testing.T) {
	s := Query{Files: []string{"/etc/it's here"}}.Script()
	if !strings.Contains(s, `'/etc/it'\''s here'`) {
		t.Fatalf("path not shell-quoted:\n%s", s)
	}
}

func TestFileSetDiff(t *testing.T) {
	m := secret.NewMasker()
	m.Add(secret.New("s3cret-pass"))
	want := FileSpec{Path: "/etc/telegraf/telegraf.d/fleetctl-outputs.conf", Content: []byte("password = \"s3cret-pass\"\nx = 1\n"),
		Mode: 0o640, Owner: "root", Group: "telegraf", SecretKeys: []string{"password"}}
	same := FileFact{Exists: true, Mode: 0o640, Owner: "root", Group: "telegraf", Content: want.Content}
	cases := []struct {
		name   string
		got    FileFact
		action plan.Action
		fields string // changed field names
		diff   bool   // a text diff is shown
	}{
		{"missing", FileFact{}, plan.Create, "mode,owner,group", true},
		{"same", same, plan.NoOp, "", false},
		{"mode drift", FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "telegraf", Content: want.Content}, plan.Update, "mode", false},
		{"group drift", FileFact{Exists: true, Mode: 0o640, Owner: "root", Group: "root", Content: want.Content}, plan.Update, "group", false},
		{"edited", FileFact{Exists: true, Mode: 0o640, Owner: "root", Group: "telegraf", Content: []byte("password = \"s3cret-pass\"\nx = 2\n")}, plan.Update, "", true},
		{"only the secret differs, the old one unknown to fleetctl", FileFact{Exists: true, Mode: 0o640, Owner: "root", Group: "telegraf", Content: []byte("password = \"other-pass\"\nx = 1\n")}, plan.Update, "content", false},
		{"trailing newline", FileFact{Exists: true, Mode: 0o640, Owner: "root", Group: "telegraf", Content: []byte("password = \"s3cret-pass\"\nx = 1")}, plan.Update, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := NewFileSet(nil, &Facts{Files: map[string]FileFact{want.Path: c.got}}, FileSet{Files: []FileSpec{want}, Masker: m})
			chs := fs.Diff(nil)
			if len(chs) != 1 {
				t.Fatalf("want 1 change, got %+v", chs)
			}
			ch := chs[0]
			var names []string
			for _, f := range ch.Fields {
				if ch.Action == plan.Create || f.Changed() {
					names = append(names, f.Name)
				}
			}
			if ch.Action != c.action || strings.Join(names, ",") != c.fields || (ch.AfterText != nil) != c.diff {
				t.Fatalf("got %s fields %v diff %t", ch.Action, names, ch.AfterText != nil)
			}
			if s := fmt.Sprintf("%+v %s %s", ch, deref(ch.BeforeText), deref(ch.AfterText)); strings.Contains(s, "s3cret-pass") || strings.Contains(s, "other-pass") {
				t.Fatalf("secret in change: %s", s)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestFileSetWatchedDirectory(t *testing.T) {
	dir := "/etc/telegraf/telegraf.d"
	managed := FileSpec{Path: dir + "/fleetctl-inputs.conf", Content: []byte("x"), Mode: 0o644, Owner: "root", Group: "root"}
	facts := &Facts{Files: map[string]FileFact{managed.Path: {Exists: true, Mode: 0o644, Owner: "root", Group: "root", Content: []byte("x")}},
		Dirs: map[string][]string{dir: {"fleetctl-inputs.conf", "fleetctl-old.conf", "local.conf", "fleetctl-inputs.conf.fleetctl-new"}}}
	fs := NewFileSet(nil, facts, FileSet{Files: []FileSpec{managed}, Watch: dir, OwnedPrefix: "fleetctl-", Masker: secret.NewMasker()})
	var got []string
	for _, ch := range fs.Diff(nil) {
		got = append(got, string(ch.Action)+" "+ch.Name)
	}
	want := "no-op " + dir + "/fleetctl-inputs.conf|delete " + dir + "/fleetctl-old.conf|report " + dir + "/local.conf"
	if strings.Join(got, "|") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}

func TestPackageDiff(t *testing.T) {
	v := Families()["apt"]
	for _, c := range []struct {
		fact    PackageFact
		version string
		action  plan.Action
	}{
		{PackageFact{}, "", plan.Create},
		{PackageFact{Installed: true, Version: "1.37.2-1"}, "", plan.NoOp},
		{PackageFact{Installed: true, Version: "1.37.2-1"}, "1.37.2", plan.NoOp},
		{PackageFact{Installed: true, Version: "1.36.0-1"}, "1.37.2", plan.Update},
	} {
		p := NewPackage(nil, &Facts{Packages: map[string]PackageFact{"dpkg:telegraf": c.fact, "queried:telegraf": {}}}, Package{Pkg: "telegraf", Version: c.version, Family: v})
		if got := p.Diff(nil)[0].Action; got != c.action {
			t.Errorf("%+v pin %q: got %s want %s", c.fact, c.version, got, c.action)
		}
	}
}

func TestServiceDiff(t *testing.T) {
	watch := []string{"h/file:/etc/telegraf/*"}
	fileChanged := []plan.Change{{Address: "h/file:/etc/telegraf/telegraf.conf", Kind: "file", Name: "/etc/telegraf/telegraf.conf", Action: plan.Update, AfterText: new(string)}}
	for _, c := range []struct {
		name  string
		fact  ServiceFact
		prior []plan.Change
		want  string
	}{
		{"running, nothing changed", ServiceFact{Exists: true, Enabled: "enabled", Active: "active"}, nil, "no-op"},
		{"stopped", ServiceFact{Exists: true, Enabled: "enabled", Active: "inactive"}, nil, "update[active]"},
		{"disabled", ServiceFact{Exists: true, Enabled: "disabled", Active: "active"}, nil, "update[enabled]"},
		{"config changed", ServiceFact{Exists: true, Enabled: "enabled", Active: "active"}, fileChanged, "no-op restart"},
		{"stopped and config changed: one restart starts it", ServiceFact{Exists: true, Enabled: "enabled", Active: "failed"}, fileChanged, "no-op restart"},
		{"not installed yet", ServiceFact{}, fileChanged, "update[enabled] restart"},
		{"a reported file does not restart", ServiceFact{Exists: true, Enabled: "enabled", Active: "active"},
			[]plan.Change{{Address: "h/file:/etc/telegraf/stray", Kind: "file", Action: plan.Report}}, "no-op"},
		{"config newer than the agent: an earlier run's restart was lost", ServiceFact{Exists: true, Enabled: "enabled", Active: "active", Started: 100}, nil, "no-op restart"},
		{"agent started after its config", ServiceFact{Exists: true, Enabled: "enabled", Active: "active", Started: 300}, nil, "no-op"},
		// The start time may read up to two seconds early (whole seconds, from a rounded boot time): a file written
		// just before the restart that followed it is not newer.
		{"config written in the second before the agent's computed start", ServiceFact{Exists: true, Enabled: "enabled", Active: "active", Started: 199}, nil, "no-op"},
		{"config two seconds newer than the agent", ServiceFact{Exists: true, Enabled: "enabled", Active: "active", Started: 198}, nil, "no-op restart"},
	} {
		facts := &Facts{Services: map[string]ServiceFact{"telegraf": c.fact}, Files: map[string]FileFact{"/etc/t.conf": {Exists: true, MTime: 200}}}
		s := NewService(nil, facts, Service{Unit: "telegraf", Watch: watch, Config: []string{"/etc/t.conf"}})
		var got []string
		for _, ch := range s.Diff(c.prior) {
			g := string(ch.Action)
			if len(ch.Fields) > 0 {
				var f []string
				for _, x := range ch.Fields {
					f = append(f, x.Name)
				}
				g += "[" + strings.Join(f, ",") + "]"
			}
			got = append(got, g)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: got %q want %q", c.name, strings.Join(got, " "), c.want)
		}
	}
}

// TestRemoteCommandsQuoteEveryValue runs the host-state script and a file set's apply, with names that would run
// commands if any reached the shell unquoted, in every position: nothing runs, and the names come back intact.
func TestRemoteCommandsQuoteEveryValue(t *testing.T) {
	dir := t.TempDir()
	evil := []string{
		"a;touch " + dir + "/p1;#",
		"b$(touch " + dir + "/p2)",
		"c`touch " + dir + "/p3`",
		"d' ; touch " + dir + "/p4 ; '",
		`e" ; touch ` + dir + `/p5 ; "`,
	}
	var paths []string
	for _, e := range evil {
		paths = append(paths, dir+"/"+e)
	}
	q := Query{Files: paths, Dirs: paths, Packages: evil, Services: evil}
	out, err := (&shellRunner{t: t}).Sudo(context.Background(), q.Script(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFacts(out)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evil {
		if _, ok := f.Files[paths[i]]; !ok {
			t.Errorf("file %q not read back: %v", paths[i], f.Files)
		}
		if _, ok := f.Services[e]; !ok {
			t.Errorf("service %q not read back", e)
		}
	}

	target := paths[0]
	fs := NewFileSet(&shellRunner{t: t}, &Facts{Files: map[string]FileFact{target: {}}}, FileSet{Label: "it", Masker: secret.NewMasker(),
		Files: []FileSpec{{Path: target, Content: []byte("x\n"), Mode: 0o600, Owner: currentUser(t), Group: currentGroup(t)}}})
	if err := fs.Apply(context.Background(), fs.Diff(nil)); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "x\n" {
		t.Fatalf("%s: %q %v", target, b, err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := os.Stat(fmt.Sprintf("%s/p%d", dir, i)); err == nil {
			t.Errorf("a name ran as a command (p%d exists)", i)
		}
	}
}

func currentUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

func currentGroup(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return g.Name
}
