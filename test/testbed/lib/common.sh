# Shared by every test bed script: where things live, logging, and start/stop of recorded processes.
# Sourced, never run. Requires bash and root.

TESTBED_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# Runtime state of one bed (pids, data dirs, keys, host roots, the description). Private to this checkout by default.
TESTBED_DIR=$(realpath -m "${TESTBED_DIR:-$TESTBED_REPO/.testbed}")
# Built servers and OS roots, reused across beds and clones. Keys inside it name version and toolchain.
TESTBED_CACHE=$(realpath -m "${TESTBED_CACHE:-$TESTBED_REPO/.cache/testbed}")
export TESTBED_REPO TESTBED_DIR TESTBED_CACHE

# Addresses. Servers listen on loopback; the bridge gateway is where hosts in network namespaces reach the bed.
TESTBED_BRIDGE=${TESTBED_BRIDGE:-flbr0}
TESTBED_GATEWAY=10.210.0.1
TESTBED_SUBNET_PREFIX=10.210.0
INFLUXDB_PORT=18086
INFLUXDB_RPC_PORT=18088
# A second InfluxDB, with HTTPS (a certificate of the bed's own CA) and auth, as the reference rollout runs it.
INFLUXDB_TLS_PORT=18087
INFLUXDB_TLS_RPC_PORT=18089
KAPACITOR_PORT=19092
GRAFANA_PORT=13000
REPO_PORT=18080

# Pinned versions and the toolchains that build them (part of every cache key).
INFLUXDB_DEB_PACKAGE=influxdb
KAPACITOR_VERSION=${KAPACITOR_VERSION:-1.5.9}
KAPACITOR_TOOLCHAIN=go1.21.13
GRAFANA_MODULE_VERSION=v1.9.2-0.20230609164553-81d85ce8028d
GRAFANA_TOOLCHAIN=go1.20.14
WIRE_VERSION=v0.5.0
TELEGRAF_VERSION=1.37.2
# The seed's inputs and outputs.influxdb, plus a few more inputs that rollout tests add to a group, and outputs.file.
TELEGRAF_PLUGINS="inputs.cpu,inputs.mem,inputs.disk,inputs.diskio,inputs.net,inputs.kernel,inputs.processes,inputs.swap,inputs.system,inputs.procstat,inputs.internal,inputs.linux_sysctl_fs,inputs.nstat,inputs.interrupts,outputs.influxdb,outputs.file"

tb_log() { printf '[testbed %s +%ss] %s\n' "$(date +%T)" "$SECONDS" "$*" >&2; }
tb_die() { printf 'testbed: %s\n' "$*" >&2; exit 1; }

tb_require_root() { [ "$(id -u)" = 0 ] || tb_die "must run as root (it mounts, creates namespaces and starts servers)"; }

# tb_secret NAME: a random secret created once per bed and kept in $TESTBED_DIR/secrets/NAME.
tb_secret() {
	local f=$TESTBED_DIR/secrets/$1
	if [ ! -s "$f" ]; then
		install -d -m 700 "$TESTBED_DIR/secrets"
		(umask 077; head -c 18 /dev/urandom | base64 | tr '+/' 'xy' > "$f")
	fi
	cat "$f"
}

# tb_start NAME LOGFILE CMD...: start CMD in the background in its own session, record its PID in
# $TESTBED_DIR/pids/NAME. A no-op when the recorded process is still alive.
tb_start() {
	local name=$1 log=$2; shift 2
	if tb_alive "$name"; then return 0; fi
	mkdir -p "$TESTBED_DIR/pids" "$(dirname "$log")"
	setsid "$@" </dev/null >>"$log" 2>&1 &
	echo $! > "$TESTBED_DIR/pids/$name"
}

# tb_alive NAME: true when the process recorded under NAME runs.
tb_alive() {
	local f=$TESTBED_DIR/pids/$1 pid
	[ -s "$f" ] || return 1
	tb_running "$(cat "$f")"
}

# tb_running PID: true while PID exists and is not a zombie (PID 1 may reap late; a zombie has already stopped).
tb_running() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# tb_stop NAME: stop the process recorded under NAME (TERM, then KILL after 10 s) and forget it.
tb_stop() {
	local f=$TESTBED_DIR/pids/$1 pid i
	[ -s "$f" ] || return 0
	pid=$(cat "$f")
	if tb_running "$pid"; then
		kill "$pid" 2>/dev/null
		for i in $(seq 100); do tb_running "$pid" || break; sleep 0.05; done
		tb_running "$pid" && kill -9 "$pid" 2>/dev/null
		for i in $(seq 50); do tb_running "$pid" || break; sleep 0.05; done
	fi
	rm -f "$f"
}

# tb_wait_http URL SECONDS: wait until URL answers any HTTP status.
tb_wait_http() {
	local url=$1 limit=$2 i
	for i in $(seq $((limit * 10))); do
		curl -s -o /dev/null --max-time 1 "$url" && return 0
		sleep 0.1
	done
	return 1
}

# tb_wait_tcp HOST PORT SECONDS
tb_wait_tcp() {
	local i
	for i in $(seq $(($3 * 20))); do
		timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# tb_fragment NAME JSON-FILE: publish a part of the bed's description; up merges all parts into testbed.json.
tb_fragment() {
	mkdir -p "$TESTBED_DIR/desc"
	jq . "$2" > "$TESTBED_DIR/desc/$1.json.tmp" && mv "$TESTBED_DIR/desc/$1.json.tmp" "$TESTBED_DIR/desc/$1.json"
}
