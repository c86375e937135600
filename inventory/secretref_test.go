package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretInventory builds an inventory in dir whose admin password and master secret come from the given sources.
func secretInventory(t *testing.T, dir, admin, master string, getenv func(string) string) *Inventory {
	t.Helper()
	src := strings.Replace(base, `admin_password = { env = "INFLUX_ADMIN_PASSWORD" }`, "admin_password = "+admin, 1)
	src = strings.Replace(src, `master = { file = "secrets/master" }`, "master = "+master, 1)
	src += "\n[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.5\"\n"
	inv, err := Parse("inventory.toml", []byte(src), dir, getenv)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestSecretResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("secrets/master", "m4ster\n")
	write("secrets/crlf", "pw\r\n")
	write("secrets/two-newlines", "pw\n\n")
	write("secrets/empty", "\n")
	write("home/master", "from-home")
	getenv := env("INFLUX_ADMIN_PASSWORD", "s3cret\n", "EMPTY", "", "HOME", filepath.Join(dir, "home"))

	tests := []struct {
		name, admin, master string
		wantAdmin           string // the value, or the error
		wantMaster          string
	}{
		{"env and relative file", `{ env = "INFLUX_ADMIN_PASSWORD" }`, `{ file = "secrets/master" }`, "s3cret", "m4ster"},
		{"crlf and home", `{ file = "secrets/crlf" }`, `{ file = "~/master" }`, "pw", "from-home"},
		{"absolute path", `{ file = "` + filepath.Join(dir, "secrets/master") + `" }`, `{ file = "secrets/two-newlines" }`, "m4ster", "pw\n"},
		{"missing env", `{ env = "NOPE" }`, `{ env = "EMPTY" }`,
			`inventory.toml:4: influxdb.admin_password: environment variable NOPE is not set or empty (set NOPE or change influxdb.admin_password in inventory.toml:4)`,
			`inventory.toml:14: secrets.master: environment variable EMPTY is not set or empty (set EMPTY or change secrets.master in inventory.toml:14)`},
		{"missing and empty file", `{ file = "secrets/nope" }`, `{ file = "secrets/empty" }`,
			`inventory.toml:4: influxdb.admin_password: secret file ` + dir + `/secrets/nope does not exist (create ` + dir + `/secrets/nope or change influxdb.admin_password in inventory.toml:4)`,
			`inventory.toml:14: secrets.master: secret file ` + dir + `/secrets/empty is empty (write the secret into ` + dir + `/secrets/empty or change secrets.master in inventory.toml:14)`},
		{"unreadable", `{ file = "secrets" }`, `{ file = "secrets/master" }`,
			`inventory.toml:4: influxdb.admin_password: cannot read secret file: read ` + dir + `/secrets: is a directory (make ` + dir + `/secrets readable or change influxdb.admin_password in inventory.toml:4)`,
			"m4ster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := secretInventory(t, dir, tt.admin, tt.master, getenv)
			for _, c := range []struct {
				ref  SecretRef
				want string
			}{{inv.InfluxDB.AdminPassword, tt.wantAdmin}, {inv.Secrets.Master, tt.wantMaster}} {
				v, err := c.ref.Resolve()
				got := v.Reveal()
				if err != nil {
					got = err.Error()
				}
				if got != c.want {
					t.Errorf("%s: got %q\nwant %q", c.ref, got, c.want)
				}
			}
		})
	}
}

func TestSecretsNotReadAtLoad(t *testing.T) {
	// Neither the variable nor the file exists: loading still succeeds, CheckSecrets reports both.
	inv := secretInventory(t, t.TempDir(), `{ env = "NOPE" }`, `{ file = "secrets/master" }`, env())
	err := inv.CheckSecrets()
	if err == nil {
		t.Fatal("CheckSecrets succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "influxdb.admin_password") || !strings.Contains(lines[1], "grafana.token") ||
		!strings.Contains(lines[2], "secrets.master") {
		t.Errorf("CheckSecrets = %v", err)
	}
	ok := secretInventory(t, t.TempDir(), `{ env = "A" }`, `{ env = "B" }`, env("A", "a", "B", "b", "GRAFANA_TOKEN", "t"))
	if err := ok.CheckSecrets(); err != nil {
		t.Errorf("CheckSecrets = %v", err)
	}
}

func TestSecretValueIsMasked(t *testing.T) {
	inv := secretInventory(t, t.TempDir(), `{ env = "A" }`, `{ env = "B" }`, env("A", "topsecret", "B", "b"))
	v, err := inv.InfluxDB.AdminPassword.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join([]string{v.String(), inv.InfluxDB.AdminPassword.String()}, " "); strings.Contains(s, "topsecret") {
		t.Errorf("secret printed: %s", s)
	}
}

func TestZeroSecretRef(t *testing.T) {
	var r SecretRef
	if r.IsSet() || r.String() != "unset" || r.Path() != "" {
		t.Errorf("zero ref: %v", r)
	}
	if _, err := r.Resolve(); err == nil {
		t.Error("zero ref resolved")
	}
}
