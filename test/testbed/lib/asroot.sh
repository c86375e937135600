# Sourced first, with no arguments, by every entry point that needs root (test/check, test/sandbox, the bed's up and
# down, the benchmark): as root it does nothing; otherwise it runs the same script again as root through sudo, so
# the same command works for root on a machine without sudo and for a sudo user. sudo resets the environment: the
# variables that steer the bed, the benchmark and fleetctl, and PATH (for the Go toolchain), are carried over.
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "$0: needs root (it mounts, creates namespaces and starts servers), and sudo is not installed: run it as root" >&2
		exit 1
	fi
	asroot_env=("PATH=$PATH")
	while IFS= read -r asroot_kv; do asroot_env+=("$asroot_kv"); done < <(env | grep -E '^((TESTBED|BENCH|FLEETCTL)_[A-Z0-9_]*|KAPACITOR_VERSION|CI|GOFLAGS|GOPROXY)=' || true)
	exec sudo -- env "${asroot_env[@]}" "$0" "$@"
fi
