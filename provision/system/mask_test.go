package system

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// TestFileDiffMasksSecretsByParsing: a host's secret-bearing file whose password is spelled in any valid TOML way
// fleetctl does not write itself (a quoted key, a dotted key, an inline table, a multi-line string, a commented-out
// line) never shows its value in the plan, nor in what a saved plan stores of it.
func TestFileDiffMasksSecretsByParsing(t *testing.T) {
	m := secret.NewMasker()
	m.Add(secret.New("fleetctl-knows-this"))
	want := FileSpec{Path: "/etc/telegraf/telegraf.d/fleetctl-outputs.conf", Mode: 0o640, Owner: "root", Group: "telegraf",
		Content: []byte("[[outputs.influxdb]]\n  username = \"web1_telegraf\"\n  password = \"fleetctl-knows-this\"\n"), SecretKeys: []string{"password"}}
	for name, onHost := range map[string]string{
		"quoted key":        "[[outputs.influxdb]]\n  username = \"web1_telegraf\"\n  \"password\" = \"old-HOST-secret\"\n",
		"literal key":       "[[outputs.influxdb]]\n  username = \"web1_telegraf\"\n  'password' = 'old-HOST-secret'\n",
		"dotted key":        "outputs.influxdb = [{ username = \"web1_telegraf\", password = \"old-HOST-secret\" }]\n",
		"multi-line string": "[[outputs.influxdb]]\n  username = \"web1_telegraf\"\n  password = \"\"\"\nold-HOST-secret\"\"\"\n",
		"token":             "[[outputs.influxdb_v2]]\n  token = \"old-HOST-secret\"\n",
		"commented out":     "[[outputs.influxdb]]\n  username = \"web1_telegraf\"\n  # password = \"old-HOST-secret\"\n  password = \"fleetctl-knows-this\"\n",
		"not valid TOML":    "[[outputs.influxdb]]\n  password = old-HOST-secret\n",
	} {
		t.Run(name, func(t *testing.T) {
			got := FileFact{Exists: true, Mode: 0o640, Owner: "root", Group: "telegraf", Content: []byte(onHost)}
			fs := NewFileSet(nil, &Facts{Files: map[string]FileFact{want.Path: got}}, FileSet{Files: []FileSpec{want}, Masker: m})
			chs := fs.Diff(nil)
			if len(chs) != 1 || chs[0].Action != plan.Update {
				t.Fatalf("want one update, got %+v", chs)
			}
			out, err := json.Marshal(chs[0])
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "HOST-secret") || strings.Contains(string(out), "fleetctl-knows-this") {
				t.Errorf("a secret is in the plan:\n%s", out)
			}
			if chs[0].BeforeText == nil && len(chs[0].Fields) == 0 {
				t.Errorf("the change says nothing about the content: %s", out)
			}
		})
	}
}
