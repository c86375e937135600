# The bed's package repositories: the real Telegraf built from its Go module, wrapped in a .deb and an .rpm that look like
# InfluxData's, signed apt and rpm repositories laid out like repos.influxdata.com, and a static HTTP server for them.
# Sourced after common.sh, never run. See README.md beside this folder for the contract (ports, the `repo` object).
#
# Cache (all under $TESTBED_CACHE, every entry written to a temp dir and moved into place):
#   telegraf/<version>-<go version>-<tags+flags hash>/telegraf   the stripped binary
#   repo-key/                                                    signing key (made once), repo.{gpg,asc}, wrong.{gpg,asc}
#   packages/<version>-<key id>-<binary+packaging hash>/         the .deb, the .rpm and tree/, the served tree
# Runtime: $TESTBED_DIR/repo/ (a copy of tree/ that the server serves), pids/repo-http, log/repo-http.log.

PACKAGES_RELEASE=1 # the "-1" of telegraf_<ver>-1 and telegraf-<ver>-1, like InfluxData's
PACKAGES_SCRIPT=${BASH_SOURCE[0]}

# --- keys of the cache ---

# packages_hash STRING...: a short, stable digest of its arguments.
packages_hash() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

packages_tags() { echo "custom,$TELEGRAF_PLUGINS"; }

# packages_go ARGS...: go run from / so no go.mod of the caller's directory (this checkout's included) can switch the
# toolchain or module mode under the build.
packages_go() (cd / && go "$@")

# The version string Telegraf prints comes from link-time variables (the Makefile sets them too); -s -w drops the
# symbol table and DWARF, as InfluxData's release builds do.
packages_ldflags() { echo "-s -w -X github.com/influxdata/telegraf/internal.Version=$TELEGRAF_VERSION"; }

packages_bin_dir() {
	echo "$TESTBED_CACHE/telegraf/$TELEGRAF_VERSION-$(packages_go env GOVERSION)-$(packages_hash "$(packages_tags)" "$(packages_ldflags)")"
}

packages_key_dir() { echo "$TESTBED_CACHE/repo-key"; }

# packages_out_dir: keyed by the Telegraf version and key fingerprint, plus a digest of the binary's key and of this
# script, so a new toolchain or an edited unit/spec rebuilds the packages (seconds) without rebuilding Telegraf.
packages_out_dir() {
	local fpr f
	f=$(packages_key_dir)/fingerprint
	[ -s "$f" ] || tb_die "no repository key in $(packages_key_dir): run packages_build first"
	fpr=$(cat "$f")
	echo "$TESTBED_CACHE/packages/$TELEGRAF_VERSION-${fpr: -16}-$(packages_hash "$(packages_bin_dir)" "$(sha256sum < "$PACKAGES_SCRIPT")")"
}

# packages_commit TMP DEST: move a finished temp dir (mktemp's mode 700 lifted) into place; if a concurrent build won
# the race, keep theirs.
packages_commit() {
	chmod 755 "$1"
	mv -T "$1" "$2" 2>/dev/null || rm -rf "$1"
	[ -d "$2" ]
}

# --- Telegraf ---

packages_build_telegraf() (
	local dest tmp
	dest=$(packages_bin_dir)
	[ -x "$dest/telegraf" ] && exit 0
	tb_log "building telegraf $TELEGRAF_VERSION (plugins: $TELEGRAF_PLUGINS)"
	mkdir -p "$(dirname "$dest")"
	tmp=$(mktemp -d "$dest.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# A full build fails (two plugin deps cannot be verified through the proxy); the custom tag set builds only what
	# the bed uses.
	CGO_ENABLED=0 GOFLAGS=-modcacherw GOBIN="$tmp" packages_go install -tags "$(packages_tags)" -ldflags="$(packages_ldflags)" \
		"github.com/influxdata/telegraf/cmd/telegraf@v$TELEGRAF_VERSION"
	"$tmp/telegraf" --version | grep -qF "$TELEGRAF_VERSION" || tb_die "built telegraf does not report $TELEGRAF_VERSION"
	packages_commit "$tmp" "$dest"
)

# The module's own source tree holds InfluxData's unit file and logrotate snippet: ship those, not a look-alike.
packages_telegraf_src() {
	GOFLAGS=-modcacherw packages_go mod download -json "github.com/influxdata/telegraf@v$TELEGRAF_VERSION" | jq -er .Dir
}

# --- signing keys ---

# packages_gnupg_tmp: a private GNUPGHOME under $TMPDIR. gpg-agent's socket lives in GNUPGHOME and must fit in 108
# bytes (a deep checkout's cache path may not), and every build gets its own agent to stop without hurting another's.
packages_gnupg_tmp() { mktemp -d "${TMPDIR:-/tmp}/tb-gnupg.XXXXXX"; }

# packages_gen_key DEST NAME: an ed25519 key without passphrase, saved as the GNUPGHOME DEST: a certify-only primary
# key and a signing subkey, like InfluxData's (clients must pin the primary fingerprint, signatures name the subkey).
packages_gen_key() (
	GNUPGHOME=$(packages_gnupg_tmp)
	export GNUPGHOME
	trap 'gpgconf --kill gpg-agent; rm -rf "$GNUPGHOME"' EXIT # the agent gpg starts must not outlive the build
	# Trust is irrelevant for signing; this keeps gpg from re-checking (and chatting about) its trustdb.
	echo 'trust-model always' > "$GNUPGHOME/gpg.conf"
	gpg -q --batch --pinentry-mode loopback --passphrase "" \
		--quick-gen-key "$2 <repo@fleetctl.invalid>" ed25519 cert never
	gpg -q --batch --pinentry-mode loopback --passphrase "" \
		--quick-add-key "$(packages_primary_fpr)" ed25519 sign never
	gpgconf --kill gpg-agent
	install -d -m 700 "$1"
	cp -a "$GNUPGHOME/." "$1/"
	find "$1" -type s -delete
)

# packages_primary_fpr: the primary key's fingerprint in $GNUPGHOME (the first fpr record follows the pub record).
packages_primary_fpr() { gpg --batch --with-colons --list-keys | awk -F: '$1 == "fpr" { print $10; exit }'; }

# Subshell bodies with an EXIT trap: a failing step (errexit) leaves no half-written temp dir behind.
packages_build_keys() (
	local dest tmp
	dest=$(packages_key_dir)
	[ -s "$dest/fingerprint" ] && [ -s "$dest/wrong.gpg" ] && exit 0
	tb_log "generating the repository signing key (once; kept in $dest)"
	mkdir -p "$(dirname "$dest")"
	tmp=$(mktemp -d "$dest.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	packages_gen_key "$tmp/gnupg" "fleetctl test bed repository"
	# An unrelated key for negative tests: a client pinned to it must refuse the repos.
	packages_gen_key "$tmp/wrong-gnupg" "fleetctl test bed WRONG key"
	GNUPGHOME=$tmp/gnupg packages_primary_fpr > "$tmp/fingerprint"
	GNUPGHOME=$tmp/gnupg gpg -q --batch --export > "$tmp/repo.gpg"
	GNUPGHOME=$tmp/gnupg gpg -q --batch --armor --export > "$tmp/repo.asc"
	GNUPGHOME=$tmp/wrong-gnupg gpg -q --batch --export > "$tmp/wrong.gpg"
	GNUPGHOME=$tmp/wrong-gnupg gpg -q --batch --armor --export > "$tmp/wrong.asc"
	grep -qxE '[0-9A-F]{40}' "$tmp/fingerprint" || tb_die "could not read the new key's fingerprint"
	packages_commit "$tmp" "$dest"
)

# --- package contents ---

# The shipped default config: InfluxData's is the full commented sample; this is its active part, short.
packages_default_conf() {
	cat <<-'EOF'
	# Telegraf configuration (default of the fleetctl test bed's package, after InfluxData's sample)
	[global_tags]

	[agent]
	  interval = "10s"
	  round_interval = true
	  metric_batch_size = 1000
	  metric_buffer_limit = 10000
	  collection_jitter = "0s"
	  flush_interval = "10s"
	  flush_jitter = "0s"
	  precision = "0s"
	  hostname = ""
	  omit_hostname = false

	[[outputs.influxdb]]
	  urls = ["http://127.0.0.1:8086"]
	  database = "telegraf"

	[[inputs.cpu]]
	  percpu = true
	  totalcpu = true
	  collect_cpu_time = false
	  report_active = false

	[[inputs.disk]]
	  ignore_fs = ["tmpfs", "devtmpfs", "devfs", "iso9660", "overlay", "aufs", "squashfs"]

	[[inputs.diskio]]

	[[inputs.kernel]]

	[[inputs.mem]]

	[[inputs.processes]]

	[[inputs.swap]]

	[[inputs.system]]
	EOF
}

# packages_stage DIR: the file tree both packages install, with owners left to the packaging tools.
packages_stage() {
	local root=$1 src
	src=$(packages_telegraf_src)
	install -D -m 755 "$(packages_bin_dir)/telegraf" "$root/usr/bin/telegraf"
	install -D -m 644 "$src/scripts/telegraf.service" "$root/usr/lib/systemd/system/telegraf.service"
	# InfluxData's SysV init script, where their packages keep it; the .deb's postinst installs it where systemd is absent.
	install -D -m 755 "$src/scripts/init.sh" "$root/usr/lib/telegraf/scripts/init.sh"
	install -D -m 644 "$src/etc/logrotate.d/telegraf" "$root/etc/logrotate.d/telegraf"
	install -d -m 755 "$root/etc/telegraf/telegraf.d" "$root/var/log/telegraf"
	packages_default_conf > "$root/etc/telegraf/telegraf.conf"
	chmod 644 "$root/etc/telegraf/telegraf.conf"
	# The config must load in the binary it ships with (its chatter is shown only on failure).
	local out
	out=$("$root/usr/bin/telegraf" config check --config "$root/etc/telegraf/telegraf.conf" 2>&1) ||
		tb_die "the default telegraf.conf does not load: $out"
}

# Maintainer scripts, POSIX sh (the Rocky/SUSE roots run them with Debian's dash). As InfluxData's since 1.25: a system
# user, log and state dirs, enabled (not started) under systemd; an upgrade restarts only a running service.
packages_script_setup() {
	cat <<-'EOF'
	mkdir -p /etc/telegraf/telegraf.d /var/log/telegraf
	chown -R telegraf:telegraf /var/log/telegraf
	chmod 755 /var/log/telegraf
	if [ ! -d /var/lib/telegraf ]; then
	    install -d -m 770 -o root -g telegraf /var/lib/telegraf
	fi
	[ -f /etc/default/telegraf ] || touch /etc/default/telegraf
	if [ -d /run/systemd/system ]; then
	    systemctl daemon-reload || true
	    systemctl enable telegraf.service || true
	    systemctl try-restart telegraf.service || true
	fi
	EOF
}

# The .deb's postinst where systemd does not run, as InfluxData's: their init script copied to /etc/init.d, enabled
# with update-rc.d (which on OpenRC calls rc-update: Debian's OpenRC runs LSB init scripts; InfluxData ships no
# OpenRC script) or chkconfig, and (re)started through invoke-rc.d (which the chroot hosts' policy-rc.d refuses).
packages_script_sysv() {
	cat <<-'EOF'
	if [ ! -d /run/systemd/system ]; then
	    if [ -L /etc/init.d/telegraf ]; then rm -f /etc/init.d/telegraf; fi
	    cp -f /usr/lib/telegraf/scripts/init.sh /etc/init.d/telegraf
	    chmod 755 /etc/init.d/telegraf
	    if command -v update-rc.d >/dev/null 2>&1; then
	        update-rc.d telegraf defaults >/dev/null
	    else
	        chkconfig --add telegraf
	    fi
	    invoke-rc.d telegraf restart || true
	fi
	EOF
}

packages_script_user() {
	cat <<-'EOF'
	getent group telegraf >/dev/null || groupadd -r telegraf
	getent passwd telegraf >/dev/null || useradd -r -M -g telegraf -d /etc/telegraf -s /bin/false telegraf
	EOF
}

# --- .deb ---

packages_build_deb() {
	local work=$1 out=$2 root=$1/deb
	packages_stage "$root"
	mkdir -p "$root/DEBIAN"
	cat > "$root/DEBIAN/control" <<-EOF
	Package: telegraf
	Version: $TELEGRAF_VERSION-$PACKAGES_RELEASE
	Architecture: amd64
	Maintainer: fleetctl test bed <repo@fleetctl.invalid>
	Section: misc
	Priority: optional
	Homepage: https://github.com/influxdata/telegraf
	Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
	Description: Plugin-driven server agent for reporting metrics into InfluxDB
	 The real Telegraf $TELEGRAF_VERSION, built from its Go module with the plugins
	 $TELEGRAF_PLUGINS, packaged like InfluxData's for the fleetctl test bed.
	EOF
	printf '%s\n' /etc/logrotate.d/telegraf /etc/telegraf/telegraf.conf > "$root/DEBIAN/conffiles"
	{
		printf '#!/bin/sh\nset -e\n[ "$1" = configure ] || exit 0\n'
		# Debian's way is adduser; fall back to shadow's tools on roots without it (the package declares no Depends).
		cat <<-'EOF'
		if ! getent passwd telegraf >/dev/null; then
		    if command -v adduser >/dev/null; then
		        adduser --system --group --quiet --no-create-home --home /etc/telegraf --shell /bin/false telegraf
		    else
		EOF
		packages_script_user | sed 's/^/        /'
		printf '    fi\nfi\n'
		packages_script_setup
		packages_script_sysv
	} > "$root/DEBIAN/postinst"
	cat > "$root/DEBIAN/prerm" <<-'EOF'
	#!/bin/sh
	set -e
	if [ -d /run/systemd/system ]; then
	    if [ "$1" = remove ]; then
	        systemctl stop telegraf.service || true
	        systemctl disable telegraf.service || true
	    fi
	elif [ -x /etc/init.d/telegraf ]; then
	    invoke-rc.d telegraf stop || true
	fi
	EOF
	cat > "$root/DEBIAN/postrm" <<-'EOF'
	#!/bin/sh
	set -e
	if [ "$1" = purge ]; then rm -f /etc/default/telegraf; fi
	if [ -d /run/systemd/system ]; then
	    systemctl daemon-reload || true
	elif [ "$1" = remove ] || [ "$1" = purge ]; then
	    if command -v update-rc.d >/dev/null 2>&1; then update-rc.d -f telegraf remove >/dev/null; fi
	    rm -f /etc/init.d/telegraf
	fi
	EOF
	chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
	# gzip, as InfluxData's packages (fpm's default): dpkg-deb's own default, xz, costs every host several times the
	# CPU to unpack, which would make the bed's installs slower than real ones.
	dpkg-deb --root-owner-group -Zgzip --build "$root" "$out" >/dev/null
}

# --- .rpm ---

packages_build_rpm() {
	local work=$1 out=$2 top=$1/rpmbuild fpr
	packages_stage "$work/rpm-root"
	mkdir -p "$top/SPECS"
	{
		cat <<-EOF
		Name: telegraf
		Version: $TELEGRAF_VERSION
		Release: $PACKAGES_RELEASE
		Summary: Plugin-driven server agent for reporting metrics into InfluxDB
		License: MIT
		URL: https://github.com/influxdata/telegraf
		Vendor: fleetctl test bed
		# The Rocky/SUSE roots are Debian userland whose rpm db knows only a fake release package: no automatic
		# requirements (they would name Debian's libraries); the one InfluxData declares is provided by that package.
		AutoReqProv: no
		Requires(pre): /usr/sbin/useradd
		%global debug_package %{nil}
		%global _build_id_links none
		%global __os_install_post %{nil}

		%description
		The real Telegraf $TELEGRAF_VERSION, built from its Go module with the plugins
		$TELEGRAF_PLUGINS, packaged like InfluxData's for the fleetctl test bed.

		%install
		cp -a %{stage}/. %{buildroot}/

		%pre
		EOF
		packages_script_user
		printf 'exit 0\n\n%%post\n'
		packages_script_setup
		cat <<-'EOF'
		exit 0

		%preun
		if [ "$1" = 0 ] && [ -d /run/systemd/system ]; then
		    systemctl stop telegraf.service || true
		    systemctl disable telegraf.service || true
		fi
		exit 0

		%postun
		if [ "$1" = 0 ]; then rm -f /etc/default/telegraf; fi
		if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
		exit 0

		%files
		%attr(0755,root,root) /usr/bin/telegraf
		%attr(0644,root,root) /usr/lib/systemd/system/telegraf.service
		%attr(0755,root,root) /usr/lib/telegraf/scripts/init.sh
		%dir /etc/telegraf
		%dir /etc/telegraf/telegraf.d
		%config(noreplace) /etc/telegraf/telegraf.conf
		%config(noreplace) /etc/logrotate.d/telegraf
		%dir %attr(0755,telegraf,telegraf) /var/log/telegraf
		EOF
	} > "$top/SPECS/telegraf.spec"
	rpmbuild -bb --quiet -D "_topdir $top" -D "stage $work/rpm-root" --target x86_64 "$top/SPECS/telegraf.spec" >/dev/null
	mv "$top/RPMS/x86_64/telegraf-$TELEGRAF_VERSION-$PACKAGES_RELEASE.x86_64.rpm" "$out"
}

# --- signed repositories ---

# packages_sign_tree OUT: build the signed apt and rpm repos of OUT/*.deb, OUT/*.rpm into OUT/tree.
packages_sign_tree() (
	local out=$1 keys fpr deb rpm apt yum
	keys=$(packages_key_dir)
	fpr=$(cat "$keys/fingerprint")
	GNUPGHOME=$(packages_gnupg_tmp)
	export GNUPGHOME
	trap 'gpgconf --kill gpg-agent; rm -rf "$GNUPGHOME"' EXIT
	cp -a "$keys/gnupg/." "$GNUPGHOME/"
	local sign=(gpg -q --batch --yes --pinentry-mode loopback --passphrase '' --digest-algo SHA512 -u "$fpr")
	deb=telegraf_$TELEGRAF_VERSION-${PACKAGES_RELEASE}_amd64.deb
	rpm=telegraf-$TELEGRAF_VERSION-$PACKAGES_RELEASE.x86_64.rpm

	# rpmsign picks the signing subkey of the named key, as gpg does. An empty GPG_TTY stops its "no tty" warning.
	GPG_TTY='' rpmsign --addsign -D '__gpg /usr/bin/gpg' -D "_gpg_name $fpr" "$out/$rpm" >/dev/null

	# apt: one suite for all releases, like https://repos.influxdata.com/debian stable main.
	apt=$out/tree/deb
	mkdir -p "$apt/pool/main/t/telegraf" "$apt/dists/stable/main/binary-amd64"
	cp "$out/$deb" "$apt/pool/main/t/telegraf/"
	(cd "$apt" && dpkg-scanpackages --multiversion pool /dev/null 2>/dev/null > dists/stable/main/binary-amd64/Packages)
	gzip -9kn "$apt/dists/stable/main/binary-amd64/Packages"
	# The Release file must not list itself: write it outside dists/stable, then move it in.
	apt-ftparchive -o APT::FTPArchive::Release::Origin=fleetctl-testbed -o APT::FTPArchive::Release::Label=telegraf \
		-o APT::FTPArchive::Release::Suite=stable -o APT::FTPArchive::Release::Codename=stable \
		-o APT::FTPArchive::Release::Architectures=amd64 -o APT::FTPArchive::Release::Components=main \
		release "$apt/dists/stable" > "$out/Release"
	mv "$out/Release" "$apt/dists/stable/Release"
	"${sign[@]}" --clearsign -o "$apt/dists/stable/InRelease" "$apt/dists/stable/Release"
	"${sign[@]}" --detach-sign --armor -o "$apt/dists/stable/Release.gpg" "$apt/dists/stable/Release"

	# rpm: URL/stable/$basearch/main like InfluxData's; dnf checks repomd.xml.asc, zypper also wants repomd.xml.key.
	yum=$out/tree/rpm/stable/x86_64/main
	mkdir -p "$yum"
	cp "$out/$rpm" "$yum/"
	createrepo_c -q "$yum"
	"${sign[@]}" --detach-sign --armor -o "$yum/repodata/repomd.xml.asc" "$yum/repodata/repomd.xml"
	cp "$keys/repo.asc" "$yum/repodata/repomd.xml.key"

	cp "$keys/repo.asc" "$keys/repo.gpg" "$keys/wrong.asc" "$keys/wrong.gpg" "$out/tree/"
	# Key files that carry the repository key and another one, which apt, rpm and gpg would all trust: the two
	# armored blocks one after the other, and one block holding both keys (the repository key first).
	cat "$keys/repo.asc" "$keys/wrong.asc" > "$out/tree/extra.asc"
	gpg -q --batch --import "$keys/wrong.gpg"
	gpg -q --batch --armor --export "$fpr" "$(gpg --batch --with-colons --show-keys "$keys/wrong.gpg" | awk -F: '$1 == "fpr" { print $10; exit }')" \
		> "$out/tree/extra-joined.asc"
)

packages_build_repos() (
	local dest tmp
	dest=$(packages_out_dir)
	if [ -s "$dest/tree/deb/dists/stable/InRelease" ] && [ -s "$dest/tree/rpm/stable/x86_64/main/repodata/repomd.xml.asc" ]; then
		touch "$dest" # marks it in use, see the pruning below
		exit 0
	fi
	tb_log "packaging telegraf $TELEGRAF_VERSION and signing the repos into $dest"
	mkdir -p "$(dirname "$dest")"
	tmp=$(mktemp -d "$dest.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	packages_build_deb "$tmp/work" "$tmp/telegraf_$TELEGRAF_VERSION-${PACKAGES_RELEASE}_amd64.deb"
	packages_build_rpm "$tmp/work" "$tmp/telegraf-$TELEGRAF_VERSION-$PACKAGES_RELEASE.x86_64.rpm"
	packages_sign_tree "$tmp"
	rm -rf "$tmp/work"
	packages_commit "$tmp" "$dest"
	# Other builds (another version, key or packaging) cost seconds to remake and ~30 MB each to keep: drop those
	# unused for a day (a checkout sharing this cache may still use a recent one). Running beds serve their own copy.
	find "$(dirname "$dest")" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp.*' ! -path "$dest" -mtime +0 \
		-exec rm -rf {} +
)

# packages_prune_tmp: temp dirs of builds killed before their EXIT trap ran. Only old ones: a fresh one may belong
# to a concurrent build from another checkout sharing the cache.
packages_prune_tmp() {
	local d
	for d in "$TESTBED_CACHE"/repo-key.tmp.* "$TESTBED_CACHE"/telegraf/*.tmp.* "$TESTBED_CACHE"/packages/*.tmp.*; do
		[ -d "$d" ] && [ -n "$(find "$d" -maxdepth 0 -mmin +120)" ] && rm -rf "$d"
	done
	return 0
}

# packages_build: Telegraf, keys, packages and signed repos, each reused from the cache when present.
packages_build() {
	packages_prune_tmp
	packages_build_telegraf
	packages_build_keys
	packages_build_repos
}

# --- serving ---

# A threading static server. The listen backlog is raised from http.server's 5: hundreds of hosts run apt/dnf at once,
# and a full backlog drops SYNs that are retried only after a second.
PACKAGES_HTTP_SERVER='
import functools, http.server, sys
root, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
Server((host, port), handler).serve_forever()
'

packages_start() {
	local src dir=$TESTBED_DIR/repo base="http://$TESTBED_GATEWAY:$REPO_PORT" frag
	mkdir -p "$TESTBED_DIR"
	src=$(packages_out_dir)/tree
	[ -d "$src" ] || tb_die "no built repos at $src: run packages_build first"
	# Serve a copy, not the cache: the cache is shared between beds and may be rebuilt or deleted while this one runs.
	rm -rf "$dir.tmp" "$dir.old"
	cp -a "$src" "$dir.tmp"
	[ ! -e "$dir" ] || mv "$dir" "$dir.old"
	mv "$dir.tmp" "$dir"
	rm -rf "$dir.old"

	tb_start repo-http "$TESTBED_DIR/log/repo-http.log" python3 -c "$PACKAGES_HTTP_SERVER" "$dir" "$TESTBED_GATEWAY" "$REPO_PORT"
	tb_wait_http "$base/repo.asc" 15 || tb_die "repo server did not answer on $base (see $TESTBED_DIR/log/repo-http.log)"

	frag=$(mktemp "$TESTBED_DIR/packages.json.XXXXXX")
	jq -n --arg base "$base" --arg dir "$dir" --arg fpr "$(cat "$(packages_key_dir)/fingerprint")" \
		--arg ver "$TELEGRAF_VERSION" '{repo: {
			base_url: $base,
			apt_url: ($base + "/deb"),
			rpm_url: ($base + "/rpm/stable/$basearch/main"),
			key_url: ($base + "/repo.asc"),
			key_file: ($dir + "/repo.asc"),
			key_fingerprint: $fpr,
			telegraf_version: $ver,
			wrong_key_url: ($base + "/wrong.asc"),
			wrong_key_file: ($dir + "/wrong.asc"),
			extra_key_url: ($base + "/extra.asc"),
			extra_key_file: ($dir + "/extra.asc"),
			extra_joined_key_url: ($base + "/extra-joined.asc"),
			extra_joined_key_file: ($dir + "/extra-joined.asc")
		}}' > "$frag"
	tb_fragment packages "$frag"
	rm -f "$frag"
}

packages_stop() {
	tb_stop repo-http
	# The fragment describes a server that no longer runs.
	rm -f "$TESTBED_DIR/desc/packages.json"
}
