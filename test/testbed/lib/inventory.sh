# The sandbox inventory: a ready-to-use fleetctl inventory for the bed, written from its description. Secrets stay
# in $TESTBED_DIR/secrets and are referenced by file, as a real inventory would.

# inventory_write DESCRIPTION OUTPUT
inventory_write() {
	local desc=$1 out=$2 tmp
	tb_secret fleet-master >/dev/null
	tmp=$(mktemp "$out.XXXXXX")
	jq -r --arg dir "$TESTBED_DIR" '
		def q: tojson;
		def tag: if .family == "debian" then "debian" + .version_id else .family + (.version_id | split(".")[0]) end;
		"# fleetctl inventory for the local test bed, written by test/testbed/up. Secrets are files beside it.",
		"",
		"[influxdb]",
		"url = \(.influxdb.url | q)",
		"agent_url = \(.influxdb.host_url | q)   # how hosts in the bed reach InfluxDB",
		"admin_user = \(.influxdb.admin_user | q)",
		"admin_password = { file = \"secrets/influxdb-admin\" }",
		"",
		"[grafana]",
		"url = \(.grafana.url | q)",
		"user = \(.grafana.admin_user | q)",
		"password = { file = \"secrets/grafana-admin\" }",
		"",
		"[kapacitor]",
		"url = \(.kapacitor.url | q)",
		"",
		"[secrets]",
		"master = { file = \"secrets/fleet-master\" }",
		"",
		"[telegraf]",
		"apt_url = \(.repo.apt_url | q)",
		"rpm_url = \(.repo.rpm_url | q)",
		"key_url = \(.repo.key_url | q)",
		"key_fingerprint = \(.repo.key_fingerprint | q)",
		"",
		"[ssh]",
		"user = \(.ssh.user | q)",
		"identity_files = [\(.ssh.client_key | q)]",
		"use_agent = false",
		"known_hosts = \(.ssh.known_hosts | q)",
		"",
		"[alerts]",
		"log = \(($dir + "/servers/kapacitor/alerts.log") | q)",
		"",
		"[defaults]",
		"alert_packs = [\"cpu\", \"memory\", \"disk\", \"swap\", \"load\", \"deadman\"]",
		"",
		((.hosts + (.bastion.hosts // [])) | map(.family, tag, .kind) | unique | .[] | "[groups.\(.)]"),
		"",
		(.hosts[] | "[[hosts]]\nname = \(.name | q)\naddress = \(.address | q)\nport = \(.port)\ngroups = [\(.family | q), \(tag | q), \(.kind | q)]\n"),
		(.bastion as $b | (.bastion.hosts // [])[] | "[[hosts]]   # reachable only through the bastion\nname = \(.name | q)\naddress = \(.address | q)\nport = \(.port)\nproxy_jump = \("deploy@" + $b.address | q)\ngroups = [\(.family | q), \(tag | q), \(.kind | q)]\n")
	' "$desc" > "$tmp"
	mv "$tmp" "$out"
}
