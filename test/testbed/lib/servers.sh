# InfluxDB 1.x, Kapacitor and Grafana: build or reuse (cached by version and toolchain), configure, start, stop.
# Sourced by up/down after common.sh and network.sh; nothing here installs a system package or starts a system service.

SERVERS_STATE=$TESTBED_DIR/servers
# Module copies and binaries sit inside the checkout, whose .git would make `go build` try (and fail) to stamp VCS data.
SERVERS_GOFLAGS="-modcacherw -buildvcs=false"

# ---------------------------------------------------------------------------------------------------------- build ---

servers_build() {
	mkdir -p "$TESTBED_CACHE/bin" "$TESTBED_CACHE/build"
	servers_clean_scratch
	servers_build_influxdb
	servers_build_kapacitor
	servers_build_grafana
}

# servers_clean_scratch: remove scratch dirs of builds that were interrupted. Scratch names end in the PID of the
# building script ($$, not a subshell's), so a build running right now from another checkout sharing the cache is
# left alone.
servers_clean_scratch() {
	local d pid
	for d in "$TESTBED_CACHE"/build/*.tmp.* "$TESTBED_CACHE"/bin/*.tmp.* "$TESTBED_CACHE"/tools/*.tmp.*; do
		[ -e "$d" ] || continue
		pid=${d##*.}
		[ -d "/proc/$pid" ] && continue
		tb_log "removing scratch of an interrupted build: $d"
		chmod -R u+w "$d" 2>/dev/null || true
		rm -rf "$d"
	done
}

# servers_scratch NAME: a fresh scratch dir, named so that servers_clean_scratch can tell whether its builder lives.
servers_scratch() {
	local d=$TESTBED_CACHE/build/$1.tmp.$$
	rm -rf "$d"
	mkdir -p "$d"
	echo "$d"
}

# servers_publish TMP DEST: move a finished build into place in one step. Losing a race against another builder of
# the same key is fine: both results are equal, the first one stays.
servers_publish() {
	mv -T "$1" "$2" 2>/dev/null || { [ -d "$2" ] && rm -rf "$1"; } || tb_die "cannot move $1 to $2"
	[ -d "$2" ] || tb_die "cannot move $1 to $2"
}

# servers_go_module MODULE@VERSION: download a module and print its directory in the module cache. Run from / so no
# go.mod around (the checkout's own) takes part.
servers_go_module() {
	(cd / && GOFLAGS=$SERVERS_GOFLAGS go mod download -json "$1") | jq -er .Dir
}

# servers_go_module_hash MODULE@VERSION: the upstream commit of a downloaded module, for version stamps.
servers_go_module_hash() {
	(cd / && GOFLAGS=$SERVERS_GOFLAGS go mod download -json "$1") | jq -r '.Origin.Hash // "unknown"'
}

# servers_copy_module MODULE@VERSION DEST: a writable copy of a module (the cache is read-only and must stay pristine).
servers_copy_module() {
	local dir
	dir=$(servers_go_module "$1") || tb_die "go mod download $1 failed"
	cp -r "$dir" "$2"
	chmod -R u+w "$2"
}

# --- InfluxDB: Debian's package, unpacked, never installed.

# servers_influxdb_version: the version apt would download. When apt knows none (no package lists) a cached unpack
# is reused rather than paying for an update; only with neither does the index get refreshed.
servers_influxdb_version() {
	local v
	v=$(apt-cache policy "$INFLUXDB_DEB_PACKAGE" 2>/dev/null | awk '$1 == "Candidate:" {print $2}')
	if [ -z "$v" ] || [ "$v" = "(none)" ]; then
		v=$(servers_influxdb_cached_version)
		[ -n "$v" ] && { echo "$v"; return 0; }
		apt-get update -qq >&2 || tb_die "apt-get update failed"
		v=$(apt-cache policy "$INFLUXDB_DEB_PACKAGE" 2>/dev/null | awk '$1 == "Candidate:" {print $2}')
	fi
	[ -n "$v" ] && [ "$v" != "(none)" ] || tb_die "apt knows no version of $INFLUXDB_DEB_PACKAGE"
	echo "$v"
}

servers_influxdb_cached_version() {
	local d
	for d in "$TESTBED_CACHE"/bin/influxdb-*/.version; do
		[ -s "$d" ] && { cat "$d"; return 0; }
	done
	return 0
}

# Debian versions hold characters (~ : +) that are awkward in paths.
servers_influxdb_home() { echo "$TESTBED_CACHE/bin/influxdb-$(printf %s "$1" | tr -c 'A-Za-z0-9.+_-' _)"; }

servers_build_influxdb() {
	local ver dest tmp
	ver=$(servers_influxdb_version)
	dest=$(servers_influxdb_home "$ver")
	[ -x "$dest/usr/bin/influxd" ] && return 0
	tb_log "unpacking InfluxDB $ver from Debian's package"
	tmp=$(servers_scratch "influxdb-$ver")
	# apt-get download writes to the working directory; _apt must be able to write there.
	chmod 777 "$tmp"
	if ! (cd "$tmp" && apt-get download -q "$INFLUXDB_DEB_PACKAGE=$ver" "$INFLUXDB_DEB_PACKAGE-client=$ver"); then
		apt-get update -qq || tb_die "apt-get update failed"
		(cd "$tmp" && apt-get download -q "$INFLUXDB_DEB_PACKAGE=$ver" "$INFLUXDB_DEB_PACKAGE-client=$ver") ||
			tb_die "apt-get download $INFLUXDB_DEB_PACKAGE $ver failed"
	fi
	mkdir "$tmp/root"
	local deb
	for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$tmp/root"; done
	[ -x "$tmp/root/usr/bin/influxd" ] || tb_die "no usr/bin/influxd in $INFLUXDB_DEB_PACKAGE $ver"
	echo "$ver" > "$tmp/root/.version"
	servers_publish "$tmp/root" "$dest"
	rm -rf "$tmp"
}

# --- Kapacitor: the unmodified module, built with the toolchain it still runs under.

servers_kapacitor_home() { echo "$TESTBED_CACHE/bin/kapacitor-$KAPACITOR_VERSION-$KAPACITOR_TOOLCHAIN"; }

servers_build_kapacitor() {
	local dest tmp mod hash
	dest=$(servers_kapacitor_home)
	[ -x "$dest/kapacitord" ] && [ -x "$dest/kapacitor" ] && return 0
	# 1.6 and later need libflux (Rust) unless patched; the bed promises an unmodified Kapacitor.
	[ "$KAPACITOR_VERSION" = 1.5.9 ] ||
		tb_die "KAPACITOR_VERSION=$KAPACITOR_VERSION is not supported: only 1.5.9 builds unmodified without libflux"
	mod=github.com/influxdata/kapacitor@v$KAPACITOR_VERSION
	tb_log "building Kapacitor $KAPACITOR_VERSION with $KAPACITOR_TOOLCHAIN"
	tmp=$(servers_scratch "kapacitor-$KAPACITOR_VERSION-$KAPACITOR_TOOLCHAIN")
	servers_copy_module "$mod" "$tmp/src"
	hash=$(servers_go_module_hash "$mod")
	mkdir -p "$tmp/out"
	# The version stamp is what release builds set; without it the server reports an empty version.
	(cd "$tmp/src" && GOTOOLCHAIN=$KAPACITOR_TOOLCHAIN GOFLAGS=$SERVERS_GOFLAGS go build \
		-ldflags "-X main.version=$KAPACITOR_VERSION -X main.commit=$hash -X main.branch=v$KAPACITOR_VERSION" \
		-o "$tmp/out/" ./cmd/kapacitord ./cmd/kapacitor) || tb_die "building Kapacitor failed"
	servers_publish "$tmp/out" "$dest"
	rm -rf "$tmp"
}

# --- Grafana: the 10.0-pre module (the only one the proxy serves), API only; no frontend is built.

servers_grafana_home() {
	echo "$TESTBED_CACHE/bin/grafana-${GRAFANA_MODULE_VERSION#v}-$GRAFANA_TOOLCHAIN-wire${WIRE_VERSION#v}"
}

servers_wire() {
	local dest=$TESTBED_CACHE/tools/wire-${WIRE_VERSION#v}-$GRAFANA_TOOLCHAIN tmp
	if [ ! -x "$dest/wire" ]; then
		mkdir -p "$TESTBED_CACHE/tools"
		tmp=$dest.tmp.$$
		(cd / && GOTOOLCHAIN=$GRAFANA_TOOLCHAIN GOFLAGS=$SERVERS_GOFLAGS GOBIN=$tmp \
			go install "github.com/google/wire/cmd/wire@$WIRE_VERSION") >&2 || tb_die "go install wire failed"
		servers_publish "$tmp" "$dest"
	fi
	echo "$dest/wire"
}

servers_build_grafana() {
	local dest tmp mod wire version hash
	dest=$(servers_grafana_home)
	[ -x "$dest/bin/grafana" ] && [ -f "$dest/conf/defaults.ini" ] && return 0
	mod=github.com/grafana/grafana@$GRAFANA_MODULE_VERSION
	tb_log "building Grafana $GRAFANA_MODULE_VERSION with $GRAFANA_TOOLCHAIN"
	wire=$(servers_wire)
	tmp=$(servers_scratch "grafana-${GRAFANA_MODULE_VERSION#v}-$GRAFANA_TOOLCHAIN")
	servers_copy_module "$mod" "$tmp/src"
	version=$(jq -r .version "$tmp/src/package.json")
	hash=$(servers_go_module_hash "$mod")
	(cd "$tmp/src" && GOTOOLCHAIN=$GRAFANA_TOOLCHAIN GOFLAGS=$SERVERS_GOFLAGS "$wire" gen -tags oss ./pkg/server) ||
		tb_die "wire gen failed"
	mkdir -p "$tmp/out/bin"
	(cd "$tmp/src" && GOTOOLCHAIN=$GRAFANA_TOOLCHAIN GOFLAGS=$SERVERS_GOFLAGS go build -tags oss \
		-ldflags "-X main.version=$version -X main.commit=${hash:0:10}" \
		-o "$tmp/out/bin/grafana" ./pkg/cmd/grafana) || tb_die "building Grafana failed"
	servers_grafana_homepath "$tmp/src" "$tmp/out"
	servers_publish "$tmp/out" "$dest"
	rm -rf "$tmp"
}

# servers_grafana_homepath SRC OUT: what `--homepath` must hold at run time: conf/ (defaults.ini), public/ for the
# core plugins' plugin.json (app/plugins; without them no influxdb datasource type), views, e-mail templates (start
# fails without them), images, home dashboard and test data; plugins-bundled is scanned when present. The rest of
# public/app is TypeScript for the frontend, which this build has not.
servers_grafana_homepath() {
	local src=$1 out=$2
	cp -r "$src/conf" "$src/plugins-bundled" "$out/"
	mkdir -p "$out/public/app"
	cp -r "$src/public/app/plugins" "$out/public/app/"
	find "$src/public" -mindepth 1 -maxdepth 1 ! -name app -exec cp -r {} "$out/public/" \;
}

# ---------------------------------------------------------------------------------------------------------- start ---

servers_start() {
	mkdir -p "$SERVERS_STATE" "$TESTBED_DIR/log"
	servers_tls_certs
	# Grafana needs nothing of the others and is the slowest to come up: start it first, wait for it last.
	servers_start_grafana
	servers_start_influxdb
	network_forward influxdb "$INFLUXDB_PORT"
	servers_start_influxdb_tls
	network_forward influxdb-tls "$INFLUXDB_TLS_PORT"
	servers_start_kapacitor
	servers_wait_grafana
	servers_describe
}

# servers_wait_grafana: wait for Grafana to answer. Grafana 10.0 can exit on its very first start with "failed to
# create default organization: UNIQUE constraint failed: org.id", a race of its own startup on a new SQLite database
# (grafana/grafana#68644, fixed after the build the bed runs): then its new database is thrown away and it is started
# again, at most twice more. Any other exit, or a third such one, fails the bed as before.
servers_wait_grafana() {
	local log=$TESTBED_DIR/log/grafana.out.log try
	for try in 1 2 3; do
		# Bounded as servers_wait below is: it takes over once Grafana runs longer than this.
		for _ in $(seq 1800); do
			tb_alive grafana || break
			curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$GRAFANA_PORT/api/health" && return 0
			sleep 0.1
		done
		if tb_alive grafana || [ "$try" = 3 ] || ! tail -q -n 30 "$log" "$TESTBED_DIR/log/grafana/grafana.log" 2>/dev/null | grep -q 'UNIQUE constraint failed: org'; then
			break
		fi
		tb_log "grafana: its first start lost the race for the main organisation (grafana#68644); starting it again"
		tb_stop grafana
		rm -rf "$SERVERS_STATE/grafana/data"
		servers_start_grafana
	done
	servers_wait grafana "http://127.0.0.1:$GRAFANA_PORT/api/health" 180 "$log"
}

# servers_port_check NAME PORT: refuse to start when someone else's server holds the port; our wait would then talk
# to it and the bed would describe a server it does not own.
servers_port_check() {
	tb_alive "$1" && return 0
	if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null; then
		tb_die "port 127.0.0.1:$2 for $1 is taken by a process the bed did not start"
	fi
	return 0
}

# servers_wait NAME URL SECONDS LOG [CURL_ARGS...]: wait until URL answers with success, failing early when the
# process died.
servers_wait() {
	local name=$1 url=$2 secs=$3 log=$4 i
	shift 4
	for i in $(seq $((secs * 10))); do
		if ! tb_alive "$name"; then
			tail -n 20 "$log" >&2 || true
			tb_die "$name exited while starting (log: $log)"
		fi
		curl -fs -o /dev/null --max-time 2 "$@" "$url" && return 0
		sleep 0.1
	done
	tb_die "$name did not answer $url within ${secs}s (log: $log)"
}

# servers_write FILE: write stdin to FILE readable only by root; configs hold passwords.
servers_write() {
	(umask 077 && cat > "$1.tmp") && mv "$1.tmp" "$1"
}

# --- InfluxDB

servers_start_influxdb() {
	local home dir=$SERVERS_STATE/influxdb log=$TESTBED_DIR/log/influxdb.log
	home=$(servers_influxdb_home "$(servers_influxdb_version)")
	[ -x "$home/usr/bin/influxd" ] || tb_die "InfluxDB is not built; run servers_build"
	servers_port_check influxdb "$INFLUXDB_PORT"
	mkdir -p "$dir"
	servers_write "$dir/influxdb.conf" <<-EOF
		reporting-disabled = true
		bind-address = "127.0.0.1:$INFLUXDB_RPC_PORT"
		[meta]
		  dir = "$dir/meta"
		[data]
		  dir = "$dir/data"
		  wal-dir = "$dir/wal"
		  query-log-enabled = false
		[http]
		  enabled = true
		  bind-address = "127.0.0.1:$INFLUXDB_PORT"
		  auth-enabled = true
		  log-enabled = false
		[monitor]
		  store-enabled = false
	EOF
	tb_start influxdb "$log" "$home/usr/bin/influxd" run -config "$dir/influxdb.conf"
	servers_wait influxdb "http://127.0.0.1:$INFLUXDB_PORT/ping" 60 "$log"
	servers_influxdb_admin
}

# servers_influx_query QUERY: run QUERY as the admin, print InfluxDB's JSON answer; fails on an HTTP error status.
# Password and query (which may hold a password) travel in a curl config on stdin: not in argv, not in logs.
# SERVERS_INFLUX_URL and SERVERS_INFLUX_CURL (extra curl arguments) choose the instance; the plain one by default.
servers_influx_query() {
	local q=$1
	q=${q//\\/\\\\}
	q=${q//\"/\\\"}
	# shellcheck disable=SC2086 # SERVERS_INFLUX_CURL is a list of arguments without spaces
	curl -fsS --max-time 30 ${SERVERS_INFLUX_CURL:-} -K - "${SERVERS_INFLUX_URL:-http://127.0.0.1:$INFLUXDB_PORT}/query" <<-EOF
		user = "admin:$(tb_secret influxdb-admin)"
		data-urlencode = "q=$q"
	EOF
}

# servers_influx_errors JSON: the statement errors InfluxDB reports inside an HTTP 200 answer, "" when none.
servers_influx_errors() { jq -r '[.results[]?.error // empty, .error // empty] | join("; ")' <<<"$1"; }

# Before any user exists InfluxDB takes this statement without credentials (and ignores the ones given); afterwards
# it authenticates the admin, and re-creating a user with the same password and privileges is a no-op. So one
# statement covers a fresh data dir and a restart.
servers_influxdb_admin() {
	local body err
	body=$(servers_influx_query "CREATE USER admin WITH PASSWORD '$(tb_secret influxdb-admin)' WITH ALL PRIVILEGES") ||
		tb_die "InfluxDB refused the admin: its data in $SERVERS_STATE/influxdb has another password; remove it after down"
	err=$(servers_influx_errors "$body")
	[ -z "$err" ] || tb_die "creating the InfluxDB admin: $err"
}

# servers_drop_kapacitor_subscriptions: a stopped Kapacitor leaves its subscriptions in InfluxDB; a Kapacitor with a
# fresh data dir would add a second one beside them (double points). Kapacitor re-creates its own when it starts.
servers_drop_kapacitor_subscriptions() {
	local body q err
	body=$(servers_influx_query 'SHOW SUBSCRIPTIONS') || tb_die "SHOW SUBSCRIPTIONS failed"
	jq -r '.results[0].series[]? as $s | $s.values[] | select(.[1] | startswith("kapacitor-"))
		| "DROP SUBSCRIPTION \"\(.[1])\" ON \"\($s.name)\".\"\(.[0])\""' <<<"$body" |
		while IFS= read -r q; do
			err=$(servers_influx_errors "$(servers_influx_query "$q")")
			[ -z "$err" ] || tb_die "$q: $err"
		done
}

# --- InfluxDB over HTTPS

# servers_tls_certs: a CA made for this bed and InfluxDB's certificate from it, for 127.0.0.1 and the gateway (the
# addresses fleetctl and the hosts use; no DNS name, so https://localhost is a name the certificate lacks). Made
# fresh per bed (EC keys take milliseconds); the CA's key stays in the bed's state, readable by root only.
servers_tls_certs() {
	local d=$SERVERS_STATE/tls
	[ -s "$d/ca.pem" ] && [ -s "$d/influxdb.pem" ] && return 0
	install -d -m 755 "$d"
	(
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/ca-key.pem" \
			-out "$d/ca.pem" -days 30 -subj "/CN=fleetctl test bed CA" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/influxdb-key.pem" \
			-out "$d/influxdb.csr" -subj "/CN=fleetctl test bed InfluxDB" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1,IP:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' \
			"$TESTBED_GATEWAY" > "$d/influxdb.ext"
		openssl x509 -req -in "$d/influxdb.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 30 \
			-extfile "$d/influxdb.ext" -out "$d/influxdb.pem" 2>/dev/null
	) || tb_die "openssl could not make the bed's CA and InfluxDB certificate in $d"
	chmod 644 "$d/ca.pem" "$d/influxdb.pem"
	# Grafana verifies with the system's roots plus the bed's CA, as a Grafana host that trusts its company's CA.
	cat /etc/ssl/certs/ca-certificates.crt "$d/ca.pem" > "$d/grafana-roots.pem" 2>/dev/null || cp "$d/ca.pem" "$d/grafana-roots.pem"
}

servers_start_influxdb_tls() {
	local home dir=$SERVERS_STATE/influxdb-tls log=$TESTBED_DIR/log/influxdb-tls.log tls=$SERVERS_STATE/tls
	home=$(servers_influxdb_home "$(servers_influxdb_version)")
	servers_port_check influxdb-tls "$INFLUXDB_TLS_PORT"
	mkdir -p "$dir"
	servers_write "$dir/influxdb.conf" <<-EOF
		reporting-disabled = true
		bind-address = "127.0.0.1:$INFLUXDB_TLS_RPC_PORT"
		[meta]
		  dir = "$dir/meta"
		[data]
		  dir = "$dir/data"
		  wal-dir = "$dir/wal"
		  query-log-enabled = false
		[http]
		  enabled = true
		  bind-address = "127.0.0.1:$INFLUXDB_TLS_PORT"
		  auth-enabled = true
		  log-enabled = false
		  https-enabled = true
		  https-certificate = "$tls/influxdb.pem"
		  https-private-key = "$tls/influxdb-key.pem"
		[monitor]
		  store-enabled = false
	EOF
	tb_start influxdb-tls "$log" "$home/usr/bin/influxd" run -config "$dir/influxdb.conf"
	servers_wait influxdb-tls "https://127.0.0.1:$INFLUXDB_TLS_PORT/ping" 60 "$log" --cacert "$tls/ca.pem"
	SERVERS_INFLUX_URL=https://127.0.0.1:$INFLUXDB_TLS_PORT SERVERS_INFLUX_CURL="--cacert $tls/ca.pem" servers_influxdb_admin
}

# --- Kapacitor

servers_start_kapacitor() {
	local home dir=$SERVERS_STATE/kapacitor log=$TESTBED_DIR/log/kapacitor.out.log
	home=$(servers_kapacitor_home)
	[ -x "$home/kapacitord" ] || tb_die "Kapacitor is not built; run servers_build"
	tb_alive kapacitor && return 0
	servers_port_check kapacitor "$KAPACITOR_PORT"
	mkdir -p "$dir/data"
	# hostname and the http port make the subscription destination InfluxDB writes to.
	servers_write "$dir/kapacitor.conf" <<-EOF
		hostname = "127.0.0.1"
		data_dir = "$dir/data"
		[http]
		  bind-address = "127.0.0.1:$KAPACITOR_PORT"
		  log-enabled = false
		[replay]
		  dir = "$dir/data/replay"
		[storage]
		  boltdb = "$dir/data/kapacitor.db"
		[task]
		  dir = "$dir/data/tasks"
		[load]
		  enabled = false
		  dir = "$dir/data/load"
		[[influxdb]]
		  enabled = true
		  name = "default"
		  default = true
		  urls = ["http://127.0.0.1:$INFLUXDB_PORT"]
		  username = "admin"
		  password = "$(tb_secret influxdb-admin)"
		  subscription-protocol = "http"
		  subscriptions-sync-interval = "1s"
		  startup-timeout = "30s"
		[[influxdb]]
		  enabled = true
		  name = "tls"
		  default = false
		  urls = ["https://127.0.0.1:$INFLUXDB_TLS_PORT"]
		  username = "admin"
		  password = "$(tb_secret influxdb-admin)"
		  ssl-ca = "$SERVERS_STATE/tls/ca.pem"
		  subscription-protocol = "http"
		  subscriptions-sync-interval = "1s"
		  startup-timeout = "30s"
		[logging]
		  file = "$TESTBED_DIR/log/kapacitor.log"
		  level = "INFO"
		[reporting]
		  enabled = false
		[stats]
		  enabled = false
	EOF
	servers_drop_kapacitor_subscriptions
	SERVERS_INFLUX_URL=https://127.0.0.1:$INFLUXDB_TLS_PORT SERVERS_INFLUX_CURL="--cacert $SERVERS_STATE/tls/ca.pem" \
		servers_drop_kapacitor_subscriptions
	tb_start kapacitor "$log" "$home/kapacitord" -config "$dir/kapacitor.conf"
	servers_wait kapacitor "http://127.0.0.1:$KAPACITOR_PORT/kapacitor/v1/ping" 60 "$TESTBED_DIR/log/kapacitor.log"
}

# --- Grafana

servers_start_grafana() {
	local home dir=$SERVERS_STATE/grafana
	home=$(servers_grafana_home)
	[ -x "$home/bin/grafana" ] || tb_die "Grafana is not built; run servers_build"
	tb_alive grafana && return 0
	servers_port_check grafana "$GRAFANA_PORT"
	mkdir -p "$dir/data" "$dir/plugins" "$TESTBED_DIR/log/grafana" \
		"$dir"/provisioning/{datasources,dashboards,plugins,notifiers,alerting}
	# Brute-force protection is off: tests that probe wrong passwords would otherwise lock the admin out for minutes.
	# Its SQLite database in WAL mode, and retried when locked: the e2e tests write to it from several runs at once,
	# which SQLite's default journal answers with "database is locked" (HTTP 500).
	servers_write "$dir/grafana.ini" <<-EOF
		[paths]
		data = $dir/data
		logs = $TESTBED_DIR/log/grafana
		plugins = $dir/plugins
		provisioning = $dir/provisioning
		[server]
		http_addr = 127.0.0.1
		http_port = $GRAFANA_PORT
		[security]
		admin_user = admin
		admin_password = $(tb_secret grafana-admin)
		disable_brute_force_login_protection = true
		[analytics]
		reporting_enabled = false
		check_for_updates = false
		check_for_plugin_updates = false
		feedback_links_enabled = false
		[news]
		news_feed_enabled = false
		[snapshots]
		external_enabled = false
		[log]
		mode = file
		level = info
		[plugins]
		preinstall_disabled = true
		[database]
		wal = true
		query_retries = 10
		transaction_retries = 20
	EOF
	tb_start grafana "$TESTBED_DIR/log/grafana.out.log" env SSL_CERT_FILE="$SERVERS_STATE/tls/grafana-roots.pem" \
		"$home/bin/grafana" server --homepath "$home" --config "$dir/grafana.ini"
}

# --- description

# servers_describe: publish the servers' part of testbed.json, with the versions the running servers report.
servers_describe() {
	local iver kver gver tver f=$SERVERS_STATE/description.json
	iver=$(curl -fsSI --max-time 5 "http://127.0.0.1:$INFLUXDB_PORT/ping" | tr -d '\r' |
		awk 'tolower($1) == "x-influxdb-version:" {print $2}')
	kver=$(curl -fsSI --max-time 5 "http://127.0.0.1:$KAPACITOR_PORT/kapacitor/v1/ping" | tr -d '\r' |
		awk 'tolower($1) == "x-kapacitor-version:" {print $2}')
	gver=$(curl -fsS --max-time 5 "http://127.0.0.1:$GRAFANA_PORT/api/health" | jq -r '.version // ""')
	tver=$(curl -fsSI --max-time 5 --cacert "$SERVERS_STATE/tls/ca.pem" "https://127.0.0.1:$INFLUXDB_TLS_PORT/ping" | tr -d '\r' |
		awk 'tolower($1) == "x-influxdb-version:" {print $2}')
	jq -n \
		--arg turl "https://127.0.0.1:$INFLUXDB_TLS_PORT" --arg thost "https://$TESTBED_GATEWAY:$INFLUXDB_TLS_PORT" \
		--arg tca "$SERVERS_STATE/tls/ca.pem" --arg tver "$tver" \
		--arg iurl "http://127.0.0.1:$INFLUXDB_PORT" --arg ihost "http://$TESTBED_GATEWAY:$INFLUXDB_PORT" \
		--arg ipw "$(tb_secret influxdb-admin)" --arg iver "$iver" \
		--arg kurl "http://127.0.0.1:$KAPACITOR_PORT" --arg kver "$kver" \
		--arg gurl "http://127.0.0.1:$GRAFANA_PORT" --arg gpw "$(tb_secret grafana-admin)" --arg gver "$gver" \
		'{influxdb: {url: $iurl, host_url: $ihost, admin_user: "admin", admin_password: $ipw, version: $iver},
		  influxdb_tls: {url: $turl, host_url: $thost, ca_file: $tca, admin_user: "admin", admin_password: $ipw, version: $tver},
		  kapacitor: {url: $kurl, version: $kver},
		  grafana: {url: $gurl, admin_user: "admin", admin_password: $gpw, version: $gver}}' |
		servers_write "$f"
	(umask 077 && tb_fragment servers "$f")
}

# ----------------------------------------------------------------------------------------------------------- stop ---

# servers_stop: stop what servers_start started, dependents first, and drop their data so the next up starts from
# empty servers (as the hosts do); keeps the cache.
servers_stop() {
	rm -f "$TESTBED_DIR/desc/servers.json"
	tb_stop grafana
	tb_stop kapacitor
	tb_stop fwd-influxdb
	tb_stop influxdb
	tb_stop fwd-influxdb-tls
	tb_stop influxdb-tls
	rm -rf "$SERVERS_STATE"
}
