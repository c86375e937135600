package catalog

import (
	"context"
	"testing"

	"github.com/fleetctl/fleetctl/provision/engine"
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
			for _, p := range append(system.RepoFilePaths(), credentialsDropIn) {
				facts.Files[p] = system.FileFact{}
			}
			rs := telegrafResources("web1", nil, facts, &system.OS{Family: f, Init: "systemd"}, want, TelegrafSettings{Package: "telegraf"}, secret.NewMasker(), nil)
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
