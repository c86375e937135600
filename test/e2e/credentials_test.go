package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestWrongServerCredentialsFailOnce: a wrong InfluxDB or Grafana credential is reported once, located at the
// inventory key to fix, and no host is contacted (the hosts are listeners that count connections). Before, every
// host failed with the same error, on stdout and on stderr.
func TestWrongServerCredentialsFailOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, "", "")
	// The hosts are listeners (each host its own port: the inventory refuses two hosts on one address and port).
	var contacted atomic.Int32
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				contacted.Add(1)
				c.Close()
			}
		}()
		e.addHost(fmt.Sprintf("name = \"probe-%d\"\naddress = \"127.0.0.1\"\nport = %d", i, ln.Addr().(*net.TCPAddr).Port))
	}
	if err := os.WriteFile(filepath.Join(e.dir, "wrong-password"), []byte("not-the-password-e2e\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A real InfluxDB user that is not an admin.
	const plainUser, plainPass = "e2e_not_admin", "not-admin-pass-e2e"
	e.influxExec(`CREATE USER "` + plainUser + `" WITH PASSWORD '` + plainPass + `'`)
	t.Cleanup(func() { e.influxExec(`DROP USER "` + plainUser + `"`) })
	if err := os.WriteFile(filepath.Join(e.dir, "plain-password"), []byte(plainPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		edits [][2]string
		key   string // the key the error names, at the line where the inventory has it
		line  string // how that line starts
		want  string
	}{
		{"wrong influxdb password",
			[][2]string{{`admin_password = { file = "secrets/influxdb-admin" }`, `admin_password = { file = "wrong-password" }`}},
			"influxdb.admin_password", "admin_password =", `InfluxDB at ` + e.bed.InfluxDB.URL + ` refused user "` + e.bed.InfluxDB.AdminUser + `" with this password`},
		{"influxdb user that is not an admin",
			[][2]string{
				{`admin_user = "` + e.bed.InfluxDB.AdminUser + `"`, `admin_user = "` + plainUser + `"`},
				{`admin_password = { file = "secrets/influxdb-admin" }`, `admin_password = { file = "plain-password" }`},
			},
			"influxdb.admin_user", "admin_user =", `InfluxDB at ` + e.bed.InfluxDB.URL + ` accepted user "` + plainUser + `" but it is not an admin`},
		{"wrong grafana password",
			[][2]string{{`password = { file = "secrets/grafana-admin" }`, `password = { file = "wrong-password" }`}},
			"grafana.password", "password =", `Grafana at ` + e.bed.Grafana.URL + ` refused user "` + e.bed.Grafana.AdminUser + `" with this password`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, ed := range c.edits {
				e.edit(ed[0], ed[1])
			}
			defer func() {
				for _, ed := range c.edits {
					e.edit(ed[1], ed[0])
				}
			}()
			inv, err := os.ReadFile(e.inv)
			if err != nil {
				t.Fatal(err)
			}
			line := 0
			for i, l := range strings.Split(string(inv), "\n") {
				if strings.HasPrefix(l, c.line) {
					line = i + 1
					break
				}
			}
			want := fmt.Sprintf("fleetctl: %s:%d: %s: %s", e.inv, line, c.key, c.want)
			for _, args := range [][]string{{"plan"}, {"apply", "--auto-approve"}} {
				stdout, stderr, code := e.run(args...)
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if code != 1 || stdout != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], want) || !strings.Contains(lines[0], "no host was contacted") {
					t.Errorf("%s: want exit 1, no output and one error starting %q; got exit %d\nstdout:\n%s\nstderr:\n%s", args[0], want, code, stdout, stderr)
				}
				if strings.Contains(stdout+stderr, "not-the-password-e2e") || strings.Contains(stdout+stderr, plainPass) {
					t.Errorf("%s printed the configured password", args[0])
				}
			}
		})
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("%d connections reached the hosts", n)
	}
}
