# Ansible's targets need Python, and its apt module python3-apt; the bed's Debian roots have neither (fleetctl
# needs only sh). bench_py_prepare builds, once per Debian suite, a tarball of Debian's python3 and python3-apt
# packages (the dependency closure against that suite's root, byte-compiled as Debian's postinst would), cached in
# $BENCH_CACHE; bench_py_install unpacks it into bed hosts' roots. Neither is timed.

# _bench_py_suite VERSION_ID: the Debian suite of a bed root.
_bench_py_suite() {
	case $1 in 11) echo bullseye ;; 12) echo bookworm ;; 13) echo trixie ;; *) bench_die "no Debian suite for version $1" ;; esac
}

# _bench_py_download SUITE ROOT OUT: Debian's .debs of python3 and python3-apt that ROOT (a host root of SUITE) lacks.
_bench_py_download() {
	local suite=$1 root=$2 out=$3 a=$BENCH_CACHE/apt-$1
	mkdir -p "$a/lists/partial" "$a/archives/partial" "$a/etc/preferences.d" "$a/etc/apt.conf.d" "$out"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${BENCH_MIRROR:-http://deb.debian.org/debian} $suite main" \
		> "$a/sources.list"
	: > "$a/etc/apt.conf.d/empty"
	local opts=(-o Dir::Etc::sourcelist="$a/sources.list" -o Dir::Etc::sourceparts=- -o Dir::Etc::preferencesparts="$a/etc/preferences.d"
		-o Dir::Etc::parts="$a/etc/apt.conf.d" -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o Dir::Cache::archives="$a/archives"
		-o Dir::State::status="$a/status" -o APT::Architecture=amd64 -o APT::Architectures::=amd64
		-o Debug::NoLocking=1 -o APT::Install-Recommends=0)
	mkdir -p "$a/cache"
	# apt resolves the status path with realpath, which fails under /proc/PID/root: read a copy.
	cp "$root/var/lib/dpkg/status" "$a/status"
	apt-get "${opts[@]}" -qq update
	DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" -y -qq --download-only install python3 python3-apt > /dev/null
	cp "$a"/archives/*.deb "$out/"
}

# bench_py_prepare ROOT VERSION_ID: the cached tarball for ROOT's suite, built on first use (prints its path).
# ROOT is a host root of that suite; it gets the files (and the .pyc the tarball is made with).
bench_py_prepare() {
	local root=$1 suite tar stage list
	suite=$(_bench_py_suite "$2")
	tar=$BENCH_CACHE/python-$suite.tar
	if [ ! -s "$tar" ]; then
		stage=$BENCH_CACHE/python-$suite.stage
		rm -rf "$stage" "$stage.debs" && mkdir -p "$stage"
		_bench_py_download "$suite" "$root" "$stage.debs" >&2
		for d in "$stage.debs"/*.deb; do dpkg-deb -x "$d" "$stage"; done
		(cd "$stage" && find . ! -type d | sed 's|^\./||') > "$stage.list"
		tar -C "$stage" -cf - . | tar -C "$root" -xf -
		# Byte-compile with the target's own interpreter, as the packages' postinst (py3compile) does.
		chroot "$root" /bin/sh -c 'exec python3 -m compileall -q /usr/lib/python3 /usr/lib/python3.*' >&2
		(cd "$root" && find usr/lib/python3* -name '*.pyc' -newer "$stage.list") >> "$stage.list"
		tar -C "$root" -cf "$tar.tmp" -T "$stage.list" && mv "$tar.tmp" "$tar"
		rm -rf "$stage" "$stage.debs" "$stage.list"
	fi
	echo "$tar"
}

# bench_py_install ROOT VERSION_ID: unpack the suite's tarball into ROOT (idempotent).
bench_py_install() {
	local tar
	tar=$(bench_py_prepare "$1" "$2")
	[ -x "$1/usr/bin/python3" ] && [ -d "$1/usr/lib/python3/dist-packages/apt" ] && return 0
	tar -C "$1" -xf "$tar"
}
