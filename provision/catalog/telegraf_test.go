package catalog

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/httpx/tlstest"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// TestAgentRestartsOnlyForWhatItReads: the agent reads its files' content once, at start. A change of only the
// mode, owner or group of one of them is fixed in place without a restart; new content, a new file or a removed
// one restarts it.
func TestAgentRestartsOnlyForWhatItReads(t *testing.T) {
	f := system.Families()["apt"]
	main, outputs := f.ConfigMain, f.ConfigDir+"/"+outputsFileName
	want := []system.FileSpec{
		{Path: main, Content: []byte("[agent]\n"), Mode: 0o644, Owner: "root", Group: "root"},
		{Path: outputs, Content: []byte("[[outputs.influxdb]]\n"), Mode: 0o640, Owner: "root", Group: "telegraf", SecretKeys: []string{"password"}},
	}
	same := func(s system.FileSpec) system.FileFact {
		return system.FileFact{Exists: true, Mode: s.Mode, Owner: s.Owner, Group: s.Group, MTime: 100, Content: s.Content}
	}
	for _, c := range []struct {
		name    string
		outputs system.FileFact
		extra   []string // other entries of the config directory
		restart bool
	}{
		{"nothing changed", same(want[1]), nil, false},
		{"mode only", system.FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "telegraf", MTime: 100, Content: want[1].Content}, nil, false},
		{"owner and group only", system.FileFact{Exists: true, Mode: 0o640, Owner: "telegraf", Group: "root", MTime: 100, Content: want[1].Content}, nil, false},
		{"content", system.FileFact{Exists: true, Mode: 0o640, Owner: "root", Group: "telegraf", MTime: 100, Content: []byte("old\n")}, nil, true},
		{"content and mode", system.FileFact{Exists: true, Mode: 0o600, Owner: "root", Group: "telegraf", MTime: 100, Content: []byte("old\n")}, nil, true},
		{"missing", system.FileFact{}, nil, true},
		{"a file of fleetctl's no longer wanted", same(want[1]), []string{ownedPrefix + "old.conf"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			facts := &system.Facts{
				Files: map[string]system.FileFact{main: same(want[0]), outputs: c.outputs},
				Dirs:  map[string][]string{f.ConfigDir: append([]string{outputsFileName}, c.extra...)},
				Packages: map[string]system.PackageFact{"dpkg:telegraf": {Installed: true, Version: "1.37.2-1"},
					"queried:telegraf": {}},
				Services: map[string]system.ServiceFact{"telegraf": {Exists: true, Enabled: "enabled", Active: "active", Started: 200}},
			}
			for _, p := range append(system.RepoFilePaths(), credentialsDropIn, agentGroupsRecord, agentSudoers) {
				facts.Files[p] = system.FileFact{}
			}
			facts.Users = map[string]system.UserFact{agentUser: {Exists: true, Groups: []string{agentUser}}}
			rs := telegrafResources("web1", nil, facts, &system.OS{Family: f, Init: "systemd"}, want, TelegrafSettings{Package: "telegraf"}, secret.NewMasker(), nil, agentAccess{})
			hp, _, err := engine.PlanHost(context.Background(), "web1", rs)
			if err != nil {
				t.Fatal(err)
			}
			restart := false
			for _, ch := range hp.Changes {
				restart = restart || ch.Action == plan.Restart
			}
			if restart != c.restart {
				t.Fatalf("restart %t, want %t; changes: %+v", restart, c.restart, hp.Changes)
			}
		})
	}
}

// TestAgentCA: an agent URL with a private CA puts the CA's certificate beside the agent's files (public, shown by
// subject and fingerprint) and tls_ca in its output; a new CA is rolled out like any change, with a restart, and a
// CA no longer wanted is deleted, also with a restart. Without a CA neither the file nor tls_ca exists.
func TestAgentCA(t *testing.T) {
	f := system.Families()["apt"]
	h := Host{Host: engine.Host{Name: "web1"}, Database: "web1", Inputs: []string{"cpu"}}
	caPath := f.ConfigDir + "/" + caFileName
	ca, next := tlstest.NewCA(t, "fleet CA"), tlstest.NewCA(t, "fleet CA 2027")

	plain, err := TelegrafFiles(f, h, AgentOutput{URL: "http://10.0.0.1:8086"}, secret.New("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 3 || strings.Contains(string(plain[1].Content), "tls_ca") {
		t.Fatalf("without a CA: %d files, outputs:\n%s", len(plain), plain[1].Content)
	}
	files, err := TelegrafFiles(f, h, AgentOutput{URL: "https://influx.example:8086", CA: ca.PEM}, secret.New("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 || files[3].Path != caPath || files[3].Mode != 0o644 || files[3].Owner != "root" || string(files[3].Content) != string(ca.PEM) {
		t.Fatalf("CA file: %+v", files[len(files)-1])
	}
	if !strings.Contains(string(files[1].Content), `tls_ca = "`+caPath+`"`) {
		t.Fatalf("outputs lack tls_ca:\n%s", files[1].Content)
	}

	facts := func(caFact system.FileFact, wanted []system.FileSpec) *system.Facts {
		fs := &system.Facts{Files: map[string]system.FileFact{}, Dirs: map[string][]string{},
			Packages: map[string]system.PackageFact{"dpkg:telegraf": {Installed: true, Version: "1.37.2-1"}, "queried:telegraf": {}},
			Services: map[string]system.ServiceFact{"telegraf": {Exists: true, Enabled: "enabled", Active: "active", Started: 200}}}
		for _, p := range append(system.RepoFilePaths(), credentialsDropIn, agentGroupsRecord, agentSudoers) {
			fs.Files[p] = system.FileFact{}
		}
		fs.Users = map[string]system.UserFact{agentUser: {Exists: true, Groups: []string{agentUser}}}
		for _, s := range wanted {
			fs.Files[s.Path] = system.FileFact{Exists: true, Mode: s.Mode, Owner: s.Owner, Group: s.Group, MTime: 100, Content: s.Content}
			if strings.HasPrefix(s.Path, f.ConfigDir+"/") {
				fs.Dirs[f.ConfigDir] = append(fs.Dirs[f.ConfigDir], strings.TrimPrefix(s.Path, f.ConfigDir+"/"))
			}
		}
		if caFact.Exists {
			fs.Dirs[f.ConfigDir] = append(fs.Dirs[f.ConfigDir], caFileName)
		}
		fs.Files[caPath] = caFact
		return fs
	}
	caFact := func(pem []byte) system.FileFact {
		return system.FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "root", MTime: 100, Content: pem}
	}
	for _, c := range []struct {
		name   string
		fact   system.FileFact
		wanted []system.FileSpec
		action plan.Action
		show   string
	}{
		{"new CA", system.FileFact{}, files, plan.Create, `certificate "CN=fleet CA", expires `},
		{"same CA", caFact(ca.PEM), files, plan.NoOp, ""},
		{"rotated CA", caFact(next.PEM), files, plan.Update, `certificate "CN=fleet CA 2027"`},
		{"CA no longer wanted", caFact(ca.PEM), plain, plan.Delete, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs := telegrafResources("web1", nil, facts(c.fact, c.wanted[:3]), &system.OS{Family: f, Init: "systemd"}, c.wanted, TelegrafSettings{Package: "telegraf"}, secret.NewMasker(), nil, agentAccess{})
			hp, _, err := engine.PlanHost(context.Background(), "web1", rs)
			if err != nil {
				t.Fatal(err)
			}
			var ca *plan.Change
			restart := false
			for i, ch := range hp.Changes {
				if ch.Name == caPath {
					ca = &hp.Changes[i]
				}
				restart = restart || ch.Action == plan.Restart
			}
			if ca == nil || ca.Action != c.action {
				t.Fatalf("CA change %+v, want %s; all: %+v", ca, c.action, hp.Changes)
			}
			if restart != (c.action != plan.NoOp) {
				t.Fatalf("restart %t after a CA %s", restart, c.action)
			}
			if shown := fmt.Sprint(ca.Fields); c.show != "" && !strings.Contains(shown, c.show) || strings.Contains(shown, "BEGIN CERTIFICATE") {
				t.Errorf("CA shown as %s, want %q", shown, c.show)
			}
		})
	}
}
