package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a getenv over the given pairs, with HOME set so ~ expands the same on every machine.
func env(kv ...string) func(string) string {
	m := map[string]string{"HOME": "/home/ops"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func mustLoad(t *testing.T, path string) *Inventory {
	t.Helper()
	inv, err := Load(path, env())
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return inv
}

// base is a valid preamble for in-memory inventories; tests append groups and hosts.
const base = `[influxdb]
url = "http://127.0.0.1:8086"
admin_user = "admin"
admin_password = { env = "INFLUX_ADMIN_PASSWORD" }

[grafana]
url = "http://127.0.0.1:3000"
token = { env = "GRAFANA_TOKEN" }

[kapacitor]
url = "http://127.0.0.1:9092"

[secrets]
master = { file = "secrets/master" }

[ssh]
user = "deploy"
`

func parse(t *testing.T, src string) *Inventory {
	t.Helper()
	inv, err := Parse("inventory.toml", []byte(src), "/etc/fleet", env())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return inv
}

func TestExample(t *testing.T) {
	inv := mustLoad(t, "testdata/example.toml")
	dir, _ := filepath.Abs("testdata")

	got := inv.InfluxDB
	got.AdminPassword = SecretRef{} // compared below; it holds a func, which DeepEqual cannot compare
	if want := (InfluxDB{
		URL: "http://127.0.0.1:8086", AgentURL: "https://metrics.example.com:8086", GrafanaURL: "http://influxdb.internal:8086",
		AdminUser:       "admin",
		RetentionPolicy: &RetentionPolicy{Name: "fleet", Duration: 30 * 24 * time.Hour, Replication: 1, Default: true},
	}); !reflect.DeepEqual(got, want) {
		t.Errorf("influxdb = %+v\nwant %+v", got, want)
	}
	if got := inv.InfluxDB.AdminPassword.String(); got != "env INFLUX_ADMIN_PASSWORD" {
		t.Errorf("admin_password = %s", got)
	}
	if got := inv.InfluxDB.RP(); got != "fleet" {
		t.Errorf("RP() = %q", got)
	}
	if inv.Telegraf.KeyFingerprint != "24C975CBA61A024EE1B631787C3D57159FC2F927" {
		t.Errorf("fingerprint not normalised: %q", inv.Telegraf.KeyFingerprint)
	}
	ssh := inv.SSH
	if ssh.User != "deploy" || ssh.Port != 22 || !ssh.UseAgent || ssh.AcceptNewHostKeys ||
		ssh.ConnectTimeout != 10*time.Second || ssh.CommandTimeout != 5*time.Minute ||
		ssh.KnownHosts != "/home/ops/.ssh/known_hosts" ||
		!reflect.DeepEqual(ssh.IdentityFiles, []string{filepath.Join(dir, "keys/id_ed25519")}) ||
		ssh.SudoPassword.String() != "env SUDO_PASSWORD" {
		t.Errorf("ssh = %+v", ssh)
	}
	if got, want := inv.Alerts, (Alerts{Log: "/var/log/kapacitor/alerts.log", Email: []string{"ops@example.com"}, Webhook: "https://hooks.example.com/kapacitor"}); !reflect.DeepEqual(got, want) {
		t.Errorf("alerts = %+v", got)
	}
	if got, want := inv.Groups(), []string{"db", "eu", "tiny", "web"}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups = %v", got)
	}

	hosts := inv.Hosts()
	var names []string
	for _, h := range hosts {
		names = append(names, h.Name)
	}
	if want := []string{"web1", "web2", "db-1", "backup.lon"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("hosts = %v, want file order %v", names, want)
	}
	file := "testdata/example.toml"
	nginxURLs := map[string]map[string]any{"nginx": {"urls": []any{"http://127.0.0.1:8080/nginx_status"}}}
	region := map[string]string{"region": "eu-west"}
	defaultAgent := Agent{Interval: 10 * time.Second, FlushInterval: 10 * time.Second, MetricBatchSize: 1000, MetricBufferLimit: 10000}
	want := []Host{
		{Name: "web1", Address: "10.0.0.5", Port: 22, User: "deploy", Groups: []string{"web", "eu"}, Profile: "base",
			InputsAdd:  []string{"nginx"},
			AlertPacks: []string{"cpu", "memory", "disk", "swap", "load", "deadman"},
			Vars:       map[string]any{"cpu_crit": int64(90), "cpu_crit_minutes": int64(15), "disk_crit": int64(90), "deadman_interval": "10m"},
			Database:   "web1", Index: 0, Line: 92,
			InputVars: nginxURLs, GlobalTags: region, Agent: defaultAgent, file: file, PortSet: true, UserSet: true},
		{Name: "web2", Address: "web2.example.com", Port: 22, User: "deploy", Groups: []string{"tiny", "web", "eu"}, Profile: "base",
			InputsAdd: []string{"nginx"}, InputsDrop: []string{"swap"},
			// tiny replaced the list, then web added nginx.
			AlertPacks: []string{"cpu", "memory", "disk", "deadman"},
			Vars:       map[string]any{"cpu_crit": int64(95), "cpu_crit_minutes": int64(15), "disk_crit": int64(90), "deadman_interval": "10m"},
			Database:   "web2", Index: 1, Line: 97,
			InputVars: nginxURLs, GlobalTags: region, Agent: defaultAgent, file: file, PortSet: true, UserSet: true},
		{Name: "db-1", Address: "2001:db8::10", Port: 2222, User: "admin", Groups: []string{"db"}, Profile: "base",
			InputsAdd:  []string{"postgresql"},
			AlertPacks: []string{"cpu", "memory", "disk", "swap", "deadman"},
			Vars:       map[string]any{"cpu_crit": int64(80), "cpu_crit_minutes": int64(15), "disk_crit": int64(80)},
			Database:   "db_primary", Index: 2, Line: 104,
			InputVars: map[string]map[string]any{}, GlobalTags: region,
			Agent: Agent{Interval: 30 * time.Second, FlushInterval: time.Minute, MetricBatchSize: 1000, MetricBufferLimit: 10000}, file: file, PortSet: true, UserSet: true},
		{Name: "backup.lon", Address: "backup.lon.example.com", Port: 22, User: "deploy", Profile: "minimal",
			InputsAdd:  []string{"smart"},
			AlertPacks: []string{"cpu", "memory", "disk", "swap", "load", "deadman"},
			Vars:       map[string]any{"cpu_crit": int64(80), "cpu_crit_minutes": int64(15), "disk_crit": int64(90)},
			Database:   "backup_lon", Index: 3, Line: 113,
			InputVars: map[string]map[string]any{}, GlobalTags: region, Agent: defaultAgent, file: file, PortSet: true, UserSet: true},
	}
	for i := range want {
		if !equalHost(hosts[i], want[i]) {
			t.Errorf("host %d:\n got %+v\nwant %+v", i, hosts[i], want[i])
		}
	}
	if got := hosts[3].Where(); got != "testdata/example.toml:113" {
		t.Errorf("Where() = %q", got)
	}
}

// equalHost compares hosts treating nil and empty slices alike: callers range over them, never compare to nil.
func equalHost(a, b Host) bool {
	norm := func(h Host) Host {
		for _, s := range []*[]string{&h.Groups, &h.InputsAdd, &h.InputsDrop, &h.AlertPacks} {
			if len(*s) == 0 {
				*s = nil
			}
		}
		return h
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestDefaults(t *testing.T) {
	inv := mustLoad(t, "testdata/valid/minimal.toml")
	if inv.InfluxDB.AgentURL != inv.InfluxDB.URL || inv.InfluxDB.GrafanaURL != inv.InfluxDB.URL {
		t.Errorf("agent_url and grafana_url must default to url: %+v", inv.InfluxDB)
	}
	if inv.InfluxDB.RetentionPolicy != nil || inv.InfluxDB.RP() != "autogen" {
		t.Errorf("no retention_policy must mean autogen: %+v", inv.InfluxDB.RetentionPolicy)
	}
	if inv.Grafana.URL != "http://127.0.0.1:3000" {
		t.Errorf("trailing slash kept: %q", inv.Grafana.URL)
	}
	if inv.Grafana.Token.IsSet() || inv.Grafana.User != "admin" || inv.Grafana.Password.String() != "file secrets/grafana" {
		t.Errorf("grafana = %+v", inv.Grafana)
	}
	if got, want := inv.Telegraf, (Telegraf{
		AptURL: "https://repos.influxdata.com/debian", RPMURL: "https://repos.influxdata.com/stable/$basearch/main",
		KeyURL: "https://repos.influxdata.com/influxdata-archive.key", KeyFingerprint: "24C975CBA61A024EE1B631787C3D57159FC2F927",
		Package: "telegraf",
	}); got != want {
		t.Errorf("telegraf = %+v", got)
	}
	want := SSH{Port: 22, UseAgent: true, KnownHosts: "/home/ops/.ssh/known_hosts", ConfigFile: "/home/ops/.ssh/config", ConnectTimeout: 10 * time.Second, CommandTimeout: 5 * time.Minute}
	got := inv.SSH
	if got.SudoPassword.IsSet() {
		t.Errorf("sudo_password = %v, want unset", got.SudoPassword)
	}
	got.SudoPassword = SecretRef{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ssh = %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(inv.Alerts, Alerts{}) {
		t.Errorf("alerts = %+v", inv.Alerts)
	}
	h := inv.Hosts()[0]
	if h.Profile != "base" || len(h.AlertPacks) != 0 || len(h.Vars) != 0 || h.Vars == nil || h.Database != "web1" || h.Port != 22 || h.User != "root" {
		t.Errorf("host = %+v", h)
	}
}

func TestInlineHosts(t *testing.T) {
	inv := mustLoad(t, "testdata/valid/inline_hosts.toml")
	hosts := inv.Hosts()
	if len(hosts) != 2 || hosts[0].Line != 3 || hosts[1].Line != 4 || hosts[1].Port != 2222 ||
		!reflect.DeepEqual(hosts[0].InputsAdd, []string{"nginx"}) {
		t.Errorf("hosts = %+v", hosts)
	}
}

// TestErrors loads one fixture per class of error and checks the complete report: every problem, in file order,
// each with file:line, key, message and fix.
func TestErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"syntax", []string{
			`testdata/errors/syntax.toml:3:14: syntax error: expected value but found "admin" instead (after key "influxdb.admin_user")`,
		}},
		{"unknown_keys", []string{
			`testdata/errors/unknown_keys.toml:18: ssh.conect_timeout: unknown key (did you mean "connect_timeout"?)`,
			`testdata/errors/unknown_keys.toml:20: influx: unknown key (did you mean "influxdb"?)`,
			`testdata/errors/unknown_keys.toml:31: hosts[2].address: required (add address = "10.0.0.5", an IP address or DNS name)`,
			`testdata/errors/unknown_keys.toml:33: hosts[2].adress: unknown key (did you mean "address"?)`,
			`testdata/errors/unknown_keys.toml:35: hosts[2].hostname: unknown key (did you mean "name"?)`,
			`testdata/errors/unknown_keys.toml:37: host: unknown key (did you mean "hosts"?)`,
		}},
		{"misplaced_key", []string{
			`testdata/errors/misplaced_key.toml:20: ssh.hosts: unknown key (keys belong to the last [section] above them: move hosts above the first section header)`,
			`testdata/errors/misplaced_key.toml: hosts: at least one host is required (add a [[hosts]] section per host, with name and address)`,
		}},
		{"duplicates", []string{
			`testdata/errors/duplicates.toml:28: hosts[2].name: duplicate host name "web1", also at testdata/errors/duplicates.toml:19 (rename one of them)`,
			`testdata/errors/duplicates.toml:32: hosts[3].name: invalid host name "DB1": uppercase letters are not allowed: DNS and some file systems ignore case, so Web1 and web1 could collide (use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "db1")`,
			`testdata/errors/duplicates.toml:32: hosts[3].name: duplicate host name "DB1", also at testdata/errors/duplicates.toml:23 as "db1"; names are compared ignoring case (rename one of them)`,
			`testdata/errors/duplicates.toml:39: hosts[5].database: database "web_2" is also used by host "web-2" at testdata/errors/duplicates.toml:35 (set a distinct database for one of them)`,
			`testdata/errors/duplicates.toml:45: hosts[6].address: web2.example.com port 22 is also host "web_2" at testdata/errors/duplicates.toml:39 (each host owns its Telegraf configuration, so list a machine once)`,
		}},
		{"names", []string{
			`testdata/errors/names.toml:19: groups."web group": invalid group name "web group": whitespace is not allowed in Kapacitor task ids, Grafana uids and file names (use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "web-group")`,
			`testdata/errors/names.toml:22: hosts[0].name: invalid host name "web'1": a single quote would end the TICK string literal the name is substituted into (use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "web-1")`,
			`testdata/errors/names.toml:26: hosts[1].name: invalid host name "web 1": whitespace is not allowed in Kapacitor task ids, Grafana uids and file names (use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "web-1")`,
			`testdata/errors/names.toml:30: hosts[2].name: invalid host name "Web1": uppercase letters are not allowed: DNS and some file systems ignore case, so Web1 and web1 could collide (use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "web1")`,
			`testdata/errors/names.toml:34: hosts[3].name: invalid host name "web\"1": a double quote would end the quoted InfluxQL identifier the name becomes (use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "web-1")`,
			`testdata/errors/names.toml:38: hosts[4].name: invalid host name "web\\1": a backslash starts an escape in TICK strings and InfluxQL identifiers (use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "web-1")`,
			`testdata/errors/names.toml:42: hosts[5].name: invalid host name "-web1": it must start and end with a letter or a digit (use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "web1")`,
			`testdata/errors/names.toml:46: hosts[6].name: must not be empty (write name = "web1")`,
			`testdata/errors/names.toml:50: hosts[7].name: "web" is also a group name, so selecting it would be ambiguous (rename the host or the group)`,
		}},
		{"telegraf_settings", []string{
			`testdata/errors/telegraf_settings.toml:20: defaults.global_tags.host: reserved tag key (the host tag is the host's name (agent.hostname); use another key, such as "server")`,
			`testdata/errors/telegraf_settings.toml:20: defaults.global_tags."bad key": "bad key" is not a valid tag key (use letters, digits, "_" and "-", starting with a letter or "_", such as "customer")`,
			`testdata/errors/telegraf_settings.toml:20: defaults.global_tags.customer: empty tag value (write a value, or remove the tag (Telegraf drops empty tags))`,
			`testdata/errors/telegraf_settings.toml:20: defaults.global_tags.region: must be a string, not an integer (write it as region = "…")`,
			`testdata/errors/telegraf_settings.toml:21: defaults.agent.interval: must be positive (write a positive duration such as "10s")`,
			`testdata/errors/telegraf_settings.toml:21: defaults.agent.flush_jitter: 2d is longer than a day (write at most "24h")`,
			`testdata/errors/telegraf_settings.toml:21: defaults.agent.metric_batch_size: 0 is out of range (write a number from 1 to 1000000)`,
			`testdata/errors/telegraf_settings.toml:21: defaults.agent.collection_jitter: invalid duration "5 s": unknown unit " s" (write a number followed by a unit: ns, us, ms, s, m, h, d or w, such as "10s", "5m" or "30d")`,
			`testdata/errors/telegraf_settings.toml:21: defaults.agent.round: unknown key (known keys here: interval, flush_interval, collection_jitter, flush_jitter, metric_batch_size, metric_buffer_limit)`,
			`testdata/errors/telegraf_settings.toml:24: groups.web.input_vars.site_check.when: a date-time is not a value an input variable takes (use a string, number, boolean, an array of those, or a secret source { env = "NAME" })`,
			`testdata/errors/telegraf_settings.toml:24: groups.web.input_vars.site_check.key: a secret comes from exactly one source, not both env and file (keep one of env and file)`,
			`testdata/errors/telegraf_settings.toml:25: groups.web.input_vars.Site: "Site" is not a valid input name (use the input's name: lowercase letters, digits, "_" and "-")`,
			`testdata/errors/telegraf_settings.toml:28: hosts[0]: agent.metric_buffer_limit 10000 is below agent.metric_batch_size 50000: the agent could never send a full batch (raise agent.metric_buffer_limit (a few times the batch size) or lower agent.metric_batch_size, in [defaults], a group or the host)`,
		}},
		{"dashboards", []string{
			`testdata/errors/dashboards.toml:9: grafana.dashboard_folders: unknown value "per-group" (write "group" (a folder per group) or "fleet" (one folder))`,
		}},
		{"addresses", []string{
			`testdata/errors/addresses.toml:18: ssh.port: port 0 is out of range (use a port between 1 and 65535)`,
			`testdata/errors/addresses.toml:22: hosts[0].address: "10.0.0.256": not a valid IPv4 address`,
			`testdata/errors/addresses.toml:26: hosts[1].address: "[2001:db8::1]": brackets are not part of an IPv6 address (write address = "2001:db8::1", and the port in port)`,
			`testdata/errors/addresses.toml:30: hosts[2].address: "web1.example.com:2222": the address must not include a port (write address = "web1.example.com" and port = 2222)`,
			`testdata/errors/addresses.toml:34: hosts[3].address: "under_score.example.com": not a valid host name: '_' is not allowed (letters, digits, "-" and "." are)`,
			`testdata/errors/addresses.toml:38: hosts[4].address: "-bad.example.com": not a valid host name: labels must not start or end with "-"`,
			`testdata/errors/addresses.toml:42: hosts[5].address: "deploy@web6": the address must not include a user (put the user in the host's user key)`,
			`testdata/errors/addresses.toml:46: hosts[6].address: "2001:db8::zz": not a valid IPv6 address`,
			`testdata/errors/addresses.toml:51: hosts[7].port: port 65536 is out of range (use a port between 1 and 65535)`,
		}},
		{"urls", []string{
			`testdata/errors/urls.toml:2: influxdb.url: missing scheme (write "http://127.0.0.1:8086")`,
			`testdata/errors/urls.toml:3: influxdb.agent_url: scheme "ftp" is not supported (use http:// or https://)`,
			`testdata/errors/urls.toml:4: influxdb.grafana_url: missing host (write it as "http://host:port")`,
			`testdata/errors/urls.toml:9: grafana.url: credentials must not be part of the URL (they would show in every log) (use the section's user and password keys)`,
			`testdata/errors/urls.toml:13: kapacitor.url: port 99999 is out of range 1-65535`,
			`testdata/errors/urls.toml:19: telegraf.apt_url: a query or fragment is not allowed here (remove what follows ? or #)`,
			`testdata/errors/urls.toml:20: telegraf.rpm_url: must not be empty (write a URL such as "http://127.0.0.1:8086")`,
			`testdata/errors/urls.toml:23: alerts.webhook: would break the TICK string literal it is written into (percent-encode quotes and backslashes)`,
		}},
		{"unknown_group", []string{
			`testdata/errors/unknown_group.toml:25: hosts[0].groups[0]: unknown group "webb" (did you mean "web"?)`,
			`testdata/errors/unknown_group.toml:25: hosts[0].groups[2]: group "db" listed twice (list it once)`,
			`testdata/errors/unknown_group.toml:25: hosts[0].groups[3]: unknown group "staging" (define it with a [groups.staging] section)`,
		}},
		{"repo_urls", []string{
			`testdata/errors/repo_urls.toml:20: telegraf.apt_url: a space (character 34) is not allowed in a URL: where the URL is written, in a repository file or a command, it would end the URL and start another (percent-encode it as %20)`,
			`testdata/errors/repo_urls.toml:21: telegraf.rpm_url: control character U+000A (character 31) is not allowed in a URL (remove it, or percent-encode it)`,
			`testdata/errors/repo_urls.toml:22: telegraf.key_url: whitespace character U+00A0 (character 31) is not allowed in a URL (remove it, or percent-encode it)`,
		}},
		{"fingerprint", []string{
			`testdata/errors/fingerprint.toml:20: telegraf.key_fingerprint: not a key fingerprint: want 40 hex digits, got 36 characters (copy the primary key's fingerprint as printed by gpg --show-keys FILE)`,
		}},
		{"fingerprint_missing", []string{
			`testdata/errors/fingerprint_missing.toml:19: telegraf.key_fingerprint: required when key_url is set (add the primary fingerprint of the key at key_url)`,
			`testdata/errors/fingerprint_missing.toml:21: telegraf.version: "1.37; rm -rf /" is not a valid package version (use a version such as "1.37.2" or "1.37.2-1")`,
			`testdata/errors/fingerprint_missing.toml:22: telegraf.package: "Telegraf" is not a valid package name (use a package name such as "telegraf")`,
		}},
		{"secrets", []string{
			`testdata/errors/secrets.toml:4: influxdb.admin_password: secrets cannot be written in the inventory: they come from an environment variable or a file (write admin_password = { env = "INFLUX_ADMIN_PASSWORD" } or { file = "path/to/file" })`,
			`testdata/errors/secrets.toml:8: grafana.token: a secret comes from exactly one source, not both env and file (keep one of env and file)`,
			`testdata/errors/secrets.toml:14: secrets.master: a secret source needs env or file (write master = { env = "FLEETCTL_MASTER_SECRET" } or { file = "path/to/file" })`,
			`testdata/errors/secrets.toml:18: ssh.sudo_password.env: "SUDO PASSWORD" is not a valid environment variable name (use letters, digits and _, such as "SUDO_PASSWORD")`,
		}},
		{"secret_keys", []string{
			`testdata/errors/secret_keys.toml:8: grafana.token.env: must be a string, not an integer (write it as env = "…")`,
			`testdata/errors/secret_keys.toml:14: secrets.master.enviroment: unknown key (known keys here: env, file)`,
		}},
		{"missing", []string{
			`testdata/errors/missing.toml:2: influxdb.url: required (add url = "http://127.0.0.1:8086")`,
			`testdata/errors/missing.toml:2: influxdb.admin_user: required (add admin_user = "admin")`,
			`testdata/errors/missing.toml:2: influxdb.admin_password: required (add admin_password = { env = "INFLUX_ADMIN_PASSWORD" } or { file = "path/to/file" })`,
			`testdata/errors/missing.toml:4: grafana.token: required: Grafana needs credentials (add token = { env = "GRAFANA_TOKEN" } (a service-account token), or user and password)`,
			`testdata/errors/missing.toml: kapacitor: required section is missing (add a [kapacitor] section with url = "http://127.0.0.1:9092")`,
			`testdata/errors/missing.toml: secrets: required section is missing (add a [secrets] section with master = { file = "secrets/master" })`,
			`testdata/errors/missing.toml: hosts: at least one host is required (add a [[hosts]] section per host, with name and address)`,
		}},
		{"missing_host_keys", []string{
			`testdata/errors/missing_host_keys.toml:17: hosts[0].name: required (add name = "web1")`,
			`testdata/errors/missing_host_keys.toml:17: hosts[0].address: required (add address = "10.0.0.5", an IP address or DNS name)`,
			`testdata/errors/missing_host_keys.toml:17: hosts[0].user: no SSH user (set user here, or ssh.user for all hosts (or User in an ssh_config file))`,
		}},
		{"hosts_table", []string{
			`testdata/errors/hosts_table.toml:19: hosts: must be an array of tables, not a single table (write [[hosts]] (double brackets) before each host)`,
		}},
		{"structure", []string{
			`testdata/errors/structure.toml:1: defaults: must be a table, not an array (write it as a section, [defaults], with its keys below)`,
			`testdata/errors/structure.toml:2: groups: must be a table, not a string (write it as a section, [groups], with its keys below)`,
			`testdata/errors/structure.toml:4: hosts[0].user: must not be empty (write user = "deploy", or remove the key)`,
			`testdata/errors/structure.toml:5: hosts[1]: must be a table, not a string (write { name = "web1", address = "10.0.0.5" })`,
			`testdata/errors/structure.toml:6: hosts[2].user: "bad user" is not a valid user name (use letters, digits, ".", "_" and "-")`,
		}},
		{"types", []string{
			`testdata/errors/types.toml:18: ssh.port: must be an integer, not a string (write it as port = 22, without quotes)`,
			`testdata/errors/types.toml:19: ssh.use_agent: must be a boolean, not a string (write it as use_agent = true or use_agent = false, without quotes)`,
			`testdata/errors/types.toml:20: ssh.identity_files: must be an array of strings, not a string (write it as identity_files = ["…", "…"])`,
			`testdata/errors/types.toml:25: hosts[0].port: must be an integer, not a float (write it as port = 22, without quotes)`,
			`testdata/errors/types.toml:26: hosts[0].groups: must be an array of strings, not a string (write it as groups = ["…", "…"])`,
			`testdata/errors/types.toml:27: hosts[0].alert_packs[1]: must be a string, not an integer (quote it)`,
		}},
		{"database", []string{
			`testdata/errors/database.toml:23: hosts[1].database: database "web_1" is also used by host "web-1" at testdata/errors/database.toml:19 (set a distinct database for one of them)`,
			`testdata/errors/database.toml:30: hosts[2].database: "web 2" is not a valid database name (use letters, digits, "_", "." and "-", starting with a letter, digit or "_")`,
		}},
		{"lists", []string{
			`testdata/errors/lists.toml:20: defaults.alert_packs[2]: "cpu" listed twice (list it once)`,
			`testdata/errors/lists.toml:21: defaults.inputs_add[1]: "Nginx" is not a valid input name (use lowercase letters, digits, "_" and "-")`,
			`testdata/errors/lists.toml:22: defaults.profile: "Base" is not a valid profile name (use lowercase letters, digits, "_" and "-", such as "base")`,
			`testdata/errors/lists.toml:26: groups.web.alert_packs_drop: "nginx" is in both alert_packs_add and alert_packs_drop (keep it in one of the two lists)`,
			`testdata/errors/lists.toml:28: groups.web.inputs_drop: "nginx" is in both inputs_add and inputs_drop (keep it in one of the two lists)`,
		}},
		{"vars", []string{
			`testdata/errors/vars.toml:20: defaults.vars.cpu-warn: "cpu-warn" is not a valid var name: vars are TICK script variables (use letters, digits and "_", starting with a letter or "_", such as "cpu_crit")`,
			`testdata/errors/vars.toml:20: defaults.vars.since: a date-time has no TICK equivalent (write durations as strings, such as "15m") (use a string, number, boolean, or an array of those)`,
			`testdata/errors/vars.toml:20: defaults.vars.nested: a table has no TICK equivalent (use a string, number, boolean, or an array of those)`,
			`testdata/errors/vars.toml:20: defaults.vars.mixed: array elements must be strings, numbers or booleans, not a table (use a string, number, boolean, or an array of those)`,
		}},
		{"grafana_auth", []string{
			`testdata/errors/grafana_auth.toml:8: grafana.token: token and basic auth are both set (keep either token, or user and password)`,
		}},
		{"grafana_noauth", []string{
			`testdata/errors/grafana_noauth.toml:6: grafana.user: required with password (add user = "admin")`,
		}},
		{"ssh", []string{
			`testdata/errors/ssh.toml:18: ssh.use_agent: no way to authenticate: no identity_files and use_agent is false (set identity_files = ["~/.ssh/id_ed25519"] or use_agent = true)`,
			`testdata/errors/ssh.toml:19: ssh.known_hosts: ~user paths are not supported (write the full path)`,
			`testdata/errors/ssh.toml:20: ssh.connect_timeout: must be positive (use a positive duration such as "30s")`,
			`testdata/errors/ssh.toml:21: ssh.command_timeout: invalid duration "5 minutes": unknown unit " minutes" (write a number followed by a unit: ns, us, ms, s, m, h, d or w, such as "10s", "5m" or "30d")`,
		}},
		{"alerts", []string{
			`testdata/errors/alerts.toml:20: alerts.log: must be an absolute path (write an absolute path on the Kapacitor server, such as "/var/log/kapacitor/alerts.log")`,
			`testdata/errors/alerts.toml:21: alerts.email[0]: "Ops <ops@example.com>" is not an email address (write a bare address such as "ops@example.com")`,
			`testdata/errors/alerts.toml:21: alerts.email[2]: "not an address" is not an email address (write a bare address such as "ops@example.com")`,
		}},
		{"retention", []string{
			`testdata/errors/retention.toml:5: influxdb.retention_policy.name: "fleet policy" is not a valid retention policy name (use letters, digits, "_", "." and "-")`,
			`testdata/errors/retention.toml:5: influxdb.retention_policy.duration: 30m is shorter than InfluxDB's minimum of 1h (write at least "1h", or "INF" to keep data forever)`,
			`testdata/errors/retention.toml:5: influxdb.retention_policy.replication: must be at least 1 (use 1 for a single InfluxDB server)`,
			`testdata/errors/retention.toml:5: influxdb.retention_policy.shard: unknown key (known keys here: name, duration, replication, default)`,
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			inv, err := Load("testdata/errors/"+tt.file+".toml", env())
			if err == nil {
				t.Fatalf("loaded %+v, want errors", inv)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			got := strings.Split(err.Error(), "\n")
			if len(errs) != len(got) {
				t.Errorf("%d errors but %d lines", len(errs), len(got))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	// Every fixture is covered, so a new one cannot be forgotten.
	files, _ := filepath.Glob("testdata/errors/*.toml")
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".toml"); !seen[name] {
			t.Errorf("fixture %s has no test case", f)
		}
	}
}

func TestErrorFields(t *testing.T) {
	_, err := Load("testdata/errors/unknown_keys.toml", env())
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(*Error) failed on %v", err)
	}
	want := &Error{File: "testdata/errors/unknown_keys.toml", Line: 18, Col: 1, Key: "ssh.conect_timeout", Msg: "unknown key", Fix: `did you mean "connect_timeout"?`}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("first error = %+v, want %+v", e, want)
	}
	if e.Where() != "testdata/errors/unknown_keys.toml:18" {
		t.Errorf("Where() = %q", e.Where())
	}
}

// Secrets and credentials must not appear in messages, even when written where they do not belong.
func TestErrorsDoNotEchoSecrets(t *testing.T) {
	for _, f := range []string{"testdata/errors/secrets.toml", "testdata/errors/urls.toml"} {
		_, err := Load(f, env())
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.toml", env())
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "testdata/nope.toml") {
		t.Errorf("err = %v", err)
	}
}

func TestHostsAreCopies(t *testing.T) {
	inv := mustLoad(t, "testdata/example.toml")
	h := inv.Hosts()[0]
	h.AlertPacks[0] = "changed"
	h.Vars["cpu_crit"] = 1
	h.Groups[0] = "changed"
	again, _ := inv.Host("web1")
	if again.AlertPacks[0] != "cpu" || again.Vars["cpu_crit"] != int64(90) || again.Groups[0] != "web" {
		t.Errorf("inventory changed through a returned host: %+v", again)
	}
	if _, ok := inv.Host("nope"); ok {
		t.Error("Host(nope) found")
	}
}

func TestRefs(t *testing.T) {
	inv := parse(t, base+`
[defaults]
alert_packs = ["cpu"]
profile = "base"

[groups.web]
inputs_drop = ["swap"]
vars = { cpu_crit = 90 }

[[hosts]]
name = "web1"
address = "10.0.0.5"
alert_packs_drop = ["cpu"]
`)
	var got []string
	for _, r := range inv.Refs() {
		got = append(got, r.Kind+" "+r.Name+" "+r.Key+" "+where(r.File, r.Line))
	}
	want := []string{
		"alert_pack cpu defaults.alert_packs[0] inventory.toml:20",
		"profile base defaults.profile inventory.toml:21",
		"input swap groups.web.inputs_drop[0] inventory.toml:24",
		"var cpu_crit groups.web.vars.cpu_crit inventory.toml:25",
		"alert_pack cpu hosts[0].alert_packs_drop[0] inventory.toml:30",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("refs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	e := inv.Refs()[2].Err(`unknown input "swap"`, `did you mean "swap2"?`)
	if e.Error() != `inventory.toml:24: groups.web.inputs_drop[0]: unknown input "swap" (did you mean "swap2"?)` {
		t.Errorf("Ref.Err = %v", e)
	}
	he := inv.Hosts()[0].Err("unreachable", "")
	if he.Error() != "inventory.toml:27: hosts[0]: unreachable" {
		t.Errorf("Host.Err = %v", he)
	}
}
