# The fleet: OS roots (built once, cached), the bed's client key, the SSH hosts and their known_hosts.
# Sourced after common.sh. Public: fleet_build, fleet_start, fleet_stop. See ../README.md for the contract.
#
# Roots are overlay layers, cached under $TESTBED_CACHE/fleet/, each named after what it is built from:
#   bootstrap/SUITE-KEY   debootstrap --variant=minbase of bullseye, bookworm, trixie
#   template/SUITE-KEY    packages, the deploy user, key-only sshd, masked units (a layer over bootstrap)
#   layer/rocky9-KEY      Debian's dnf + rpm, a fake rocky-release rpm, Rocky's os-release (over bookworm's template)
#   layer/suse15-KEY      Debian's zypper + rpm, a fake openSUSE-release rpm, Leap's os-release (idem)
#   layer/shim-KEY        a systemctl stand-in for chroot hosts (no init system there)
#   layer/openrc-KEY      Debian's sysvinit-core + openrc: sysvinit's init as PID 1, OpenRC as its rc (over bookworm's
#                         template; systemd-sysv removed as apt removes it, the systemd package stays as on a real host)
#   layer/sysv-KEY        Debian's sysvinit-core with sysv-rc and insserv (idem)
# KEY hashes the inputs of a layer (its lower's name, the package list, the text of the functions that build it), so an
# edit of this file rebuilds exactly what it changes. A layer is built under a temporary name and renamed when complete.
# Roots hold neither host keys nor the client key: both are made per host and per bed at start.
#
# Hosts (state in $TESTBED_DIR/fleet/NAME/, console or sshd output in $TESTBED_DIR/log/fleet/NAME.log):
#   sdI-TAG  systemd-nspawn with systemd as PID 1, own network namespace NAME, veth flsdI on the bridge,
#            address 10.210.0.(10+I) (generally 10.210.N/256.N%256 with N=10+I), fixed MAC per index.
#   cI-TAG   unshare --mount --pid --uts + chroot + sshd -D on 127.2.N/256.N%256:22 with N=10+I (c1 127.2.0.11,
#            c200 127.2.0.210, c300 127.2.1.54): loopback has room for 65k of them.
#   orI-debian12 systemd-nspawn booting sysvinit + OpenRC (layer/openrc) at 10.210.2.(10+I), otherwise as sdI
#   svI-debian12 systemd-nspawn booting sysvinit + sysv-rc (layer/sysv) at 10.210.3.(10+I), otherwise as sdI
# TAG rotates debian12, debian11, debian13, rocky9, suse15 from I=1. Every start makes fresh hosts (new upper dir, new
# host key); stop deletes them.
#
# Hosts of the reach tests (chroot hosts too, on the same roots; not in the description's hosts list):
#   bastion  a jump host in network namespace fl-bastion: 10.210.0.5 on the bridge, 10.211.0.1 towards the hosts behind
#   bhI-TAG  hosts behind it, in network namespace fl-behind at 10.211.0.(10+I): the bastion is their only way in (the
#            bed machine has an unreachable route to 10.211.0.0/24, so nothing leaves it for them); they reach the
#            bed's repository and InfluxDB at the usual 10.210.0.1 addresses through forwarders (a UNIX socket
#            between the two namespaces), never the other way
#   caI-TAG  hosts whose sshd presents a host certificate and trusts a user CA (both made per bed, in keys/), on
#            127.3.0.(10+I): deploy has no authorized key there, only a certificate logs in

FLEET_SUITES="bullseye bookworm trixie"
# What a host has beyond minbase: sshd and sudo to be reached at all, systemd as init, and the tools a provisioning run
# expects on a real server (TLS roots, curl and gpg to fetch and check a repo key, ip, ps).
FLEET_PACKAGES="openssh-server sudo adduser systemd systemd-sysv dbus ca-certificates curl gnupg iproute2 procps"
FLEET_TAGS=(debian12 debian11 debian13 rocky9 suse15)
# Init systems other than systemd, each a layer over bookworm's template and a host kind (orI / svI, debian12).
FLEET_INITS="openrc sysv"
FLEET_USER=deploy
# The reach tests' network: the bastion on the bridge, and the network behind it.
FLEET_BASTION_ADDR=${TESTBED_SUBNET_PREFIX}.5
FLEET_INNER_NET=10.211.0
FLEET_NS_BASTION=fl-bastion
FLEET_NS_BEHIND=fl-behind
# cgroup folder (under each hierarchy) that holds one folder per systemd host.
FLEET_CGROUP=fleetctl-testbed

# --- names, addresses, paths ---------------------------------------------------------------------------------------

_fleet_suite_of() {
	case $1 in
		debian11) echo bullseye ;;
		debian13) echo trixie ;;
		*) echo bookworm ;; # debian12, and the userland under rocky9 and suse15
	esac
}

_fleet_family_of() {
	case $1 in
		debian*) echo debian ;;
		rocky9) echo rocky ;;
		suse15) echo suse ;;
	esac
}

# _fleet_sd_addr I / _fleet_chroot_addr I: the address of host I (see the header for the formula).
_fleet_sd_addr() {
	local n=$((10 + $1))
	echo "${TESTBED_SUBNET_PREFIX%.*}.$((n / 256)).$((n % 256))"
}
_fleet_chroot_addr() {
	local n=$((10 + $1))
	echo "127.2.$((n / 256)).$((n % 256))"
}
# Port of the chroot hosts' sshd: 22 as the README says; another one when the machine's own sshd holds *:22.
_fleet_chroot_port() { echo "${TESTBED_CHROOT_SSH_PORT:-22}"; }

# _fleet_mac I SIDE: fixed MAC of host I's veth end (SIDE 0 inside, 1 on the bridge). A namespace re-created with a
# random MAC would leave the bed's ARP entry stale for minutes.
_fleet_mac() { printf '02:fb:00:%02x:%02x:%02x\n' "$2" $(($1 / 256)) $(($1 % 256)); }

_fleet_veth() { echo "fl${1%%-*}"; } # sd3-debian13 -> flsd3 (an interface name has at most 15 characters)

_fleet_cache_dir() { echo "$TESTBED_CACHE/fleet"; }

# _fleet_hash WORDS...: a short key of the inputs of a cached layer.
_fleet_hash() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

_fleet_bootstrap_dir() { echo "$(_fleet_cache_dir)/bootstrap/$1-$(_fleet_hash "$1" minbase merged-usr)"; }
_fleet_template_dir() {
	local lower
	lower=$(basename "$(_fleet_bootstrap_dir "$1")")
	echo "$(_fleet_cache_dir)/template/$1-$(_fleet_hash "$lower" "$FLEET_PACKAGES" "$(declare -f _fleet_tpl_base)")"
}
_fleet_rpm_layer_dir() {
	local lower
	lower=$(basename "$(_fleet_template_dir bookworm)")
	echo "$(_fleet_cache_dir)/layer/$1-$(_fleet_hash "$lower" "$1" "$(declare -f _fleet_tpl_rpm)")"
}
_fleet_init_layer_dir() {
	local lower
	lower=$(basename "$(_fleet_template_dir bookworm)")
	echo "$(_fleet_cache_dir)/layer/$1-$(_fleet_hash "$lower" "$1" "$(declare -f _fleet_tpl_init)")"
}
_fleet_shim_dir() { echo "$(_fleet_cache_dir)/layer/shim-$(_fleet_hash "$(declare -f _fleet_build_shim _fleet_shim_text)")"; }

# _fleet_lowers TAG KIND: the overlay lowerdir option of a host (top layer first).
_fleet_lowers() {
	local suite lowers
	suite=$(_fleet_suite_of "$1")
	lowers="$(_fleet_template_dir "$suite"):$(_fleet_bootstrap_dir "$suite")"
	case $1 in rocky9 | suse15) lowers="$(_fleet_rpm_layer_dir "$1"):$lowers" ;; esac
	case $2 in
		chroot) lowers="$(_fleet_shim_dir):$lowers" ;;
		openrc | sysv) lowers="$(_fleet_init_layer_dir "$2"):$lowers" ;;
	esac
	echo "$lowers"
}

# _fleet_os_release LOWERS FIELD: a field of the os-release a host built on LOWERS shows.
_fleet_os_release() {
	local d
	for d in ${1//:/ }; do
		if [ -f "$d/usr/lib/os-release" ]; then
			sed -n "s/^$2=//p" "$d/usr/lib/os-release" | tr -d '"'
			return
		fi
	done
}

# _fleet_cgroup_roots: the folders that hold one cgroup folder per systemd host (own folders, else some hosts come up
# degraded). Hybrid hierarchy (name=systemd + unified, as on these machines): one in each; pure cgroup v2: one.
_fleet_cgroup_roots() {
	local base=/sys/fs/cgroup h
	if [ -f "$base/cgroup.controllers" ]; then
		echo "$base/$FLEET_CGROUP"
		return
	fi
	for h in systemd unified; do
		[ -d "$base/$h" ] && echo "$base/$h/$FLEET_CGROUP"
	done
	return 0
}
_fleet_cgroup_dirs() { _fleet_cgroup_roots | sed "s|\$|/$1|"; }

# _fleet_running PID: true while PID runs (a zombie does not: what reaps it may not be us).
_fleet_running() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2> /dev/null; }

# _fleet_rm_tree DIR: delete DIR, first unmounting whatever an interrupted run left mounted below it.
_fleet_rm_tree() {
	local m
	[ -e "$1" ] || return 0
	findmnt -rn -o TARGET | awk -v p="$1/" 'index($0, p) == 1' | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf --one-file-system "$1"
}

# --- build: roots and layers ---------------------------------------------------------------------------------------

# fleet_build: debootstrap and template the three suites in parallel, then the rpm and init layers on bookworm and the
# shim.
# Idempotent; a warm run checks the cache and returns. Concurrent builds (two checkouts sharing a cache) take turns.
fleet_build() {
	local cache log lock s fail=0 pids=()
	cache=$(_fleet_cache_dir)
	log=$TESTBED_DIR/log/fleet-build
	mkdir -p "$cache" "$log"
	exec {lock}>"$cache/.lock"
	flock "$lock"
	_fleet_build_shim
	for s in $FLEET_SUITES; do
		if [ "$s" = bookworm ]; then
			# The layers over bookworm's template (rpm families, init systems) build side by side.
			(_fleet_build_suite bookworm && { _fleet_build_rpm_layers & r=$! i=0; _fleet_build_init_layers || i=1; wait "$r" && [ "$i" = 0 ]; }) \
				> "$log/$s.log" 2>&1 &
		else
			_fleet_build_suite "$s" > "$log/$s.log" 2>&1 &
		fi
		pids+=("$!:$s")
	done
	for s in "${pids[@]}"; do
		if ! wait "${s%%:*}"; then
			tb_log "fleet: building ${s#*:} failed; last lines of $log/${s#*:}.log:"
			tail -n 25 "$log/${s#*:}.log" >&2
			fail=1
		fi
	done
	exec {lock}>&-
	[ "$fail" = 0 ] || return 1
	tb_log "fleet: roots ready in $cache"
}

_fleet_build_suite() {
	local suite=$1 boot tpl
	boot=$(_fleet_bootstrap_dir "$suite")
	tpl=$(_fleet_template_dir "$suite")
	if [ ! -d "$boot" ]; then
		tb_log "fleet: debootstrap $suite"
		_fleet_rm_tree "$boot.tmp"
		debootstrap --variant=minbase --merged-usr "$suite" "$boot.tmp" "${TESTBED_MIRROR:-http://deb.debian.org/debian}"
		mv -T "$boot.tmp" "$boot"
	fi
	if [ ! -d "$tpl" ]; then
		tb_log "fleet: template $suite"
		# shellcheck disable=SC2086 # a list of packages
		_fleet_build_layer "$boot" "$tpl" _fleet_tpl_base $FLEET_PACKAGES
	fi
}

_fleet_build_rpm_layers() {
	local lower t pids=() fail=0
	lower="$(_fleet_template_dir bookworm):$(_fleet_bootstrap_dir bookworm)"
	for t in rocky9 suse15; do
		[ -d "$(_fleet_rpm_layer_dir "$t")" ] && continue
		tb_log "fleet: layer $t"
		_fleet_build_layer "$lower" "$(_fleet_rpm_layer_dir "$t")" _fleet_tpl_rpm "$t" \
			"${TESTBED_MIRROR:-http://deb.debian.org/debian}" &
		pids+=("$!")
	done
	for t in "${pids[@]}"; do wait "$t" || fail=1; done
	return "$fail"
}

_fleet_build_init_layers() {
	local lower t pids=() fail=0
	lower="$(_fleet_template_dir bookworm):$(_fleet_bootstrap_dir bookworm)"
	for t in $FLEET_INITS; do
		[ -d "$(_fleet_init_layer_dir "$t")" ] && continue
		tb_log "fleet: layer $t"
		_fleet_build_layer "$lower" "$(_fleet_init_layer_dir "$t")" _fleet_tpl_init "$t" \
			"${TESTBED_MIRROR:-http://deb.debian.org/debian}" &
		pids+=("$!")
	done
	for t in "${pids[@]+"${pids[@]}"}"; do wait "$t" || fail=1; done
	return "$fail"
}

_fleet_build_shim() {
	local dest tmp
	dest=$(_fleet_shim_dir)
	[ -d "$dest" ] && return 0
	tmp=$dest.tmp
	rm -rf "$tmp"
	install -d -m 755 "$tmp/usr/bin" "$tmp/usr/sbin" "$tmp/run/sshd"
	_fleet_shim_text > "$tmp/usr/bin/systemctl"
	# No init system on a chroot host: package scripts must not start daemons behind the shim's back.
	printf '#!/bin/sh\n# chroot host of the fleetctl test bed: services are started by the systemctl shim only\nexit 101\n' \
		> "$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/bin/systemctl" "$tmp/usr/sbin/policy-rc.d"
	mv -T "$tmp" "$dest"
}

# _fleet_build_layer LOWERS DEST FUNCTION ARGS...: run FUNCTION ARGS as a script chrooted into an overlay of LOWERS
# and keep what it changed (the overlay's upper dir) as DEST. A copy of the machine's resolv.conf is lent for the build
# (bound over the root's, so nothing the script writes reaches the machine's); every layer ends with no DNS at all.
_fleet_build_layer() {
	local lowers=$1 dest=$2 fn=$3 tmp script
	shift 3
	tmp=$dest.tmp
	_fleet_rm_tree "$tmp"
	mkdir -p "$tmp/upper" "$tmp/work" "$tmp/merged"
	cp -L /etc/resolv.conf "$tmp/resolv.conf"
	script=$(declare -f "$fn"; printf 'set -euo pipefail\n%s' "$fn"; printf ' %q' "$@")
	unshare --mount --propagation private bash -euo pipefail -c '
		lowers=$1 tmp=$2 script=$3 m=$2/merged
		mount -t overlay overlay -o "lowerdir=$lowers,upperdir=$tmp/upper,workdir=$tmp/work" "$m"
		mount -t proc proc "$m/proc"
		mount -t tmpfs -o mode=755 tmpfs "$m/run"
		mount -t tmpfs -o mode=1777 tmpfs "$m/tmp"
		mount --bind "$tmp/resolv.conf" "$m/etc/resolv.conf"
		printf "%s\n" "$script" > "$m/run/layer.sh"
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			${http_proxy:+http_proxy=$http_proxy} chroot "$m" /bin/bash /run/layer.sh
	' _ "$lowers" "$tmp" "$script"
	# No DNS on a host: names fail fast (sudo and apt look them up) and Debian's mirror stays out of reach.
	mkdir -p "$tmp/upper/etc"
	echo 'nameserver 127.0.0.1' > "$tmp/upper/etc/resolv.conf"
	mv -T "$tmp/upper" "$dest"
	rm -rf "$tmp"
}

# Runs chrooted in the template layer of a suite. ARGS: packages.
_fleet_tpl_base() {
	# Nothing starts while the root is built; removed at the end (a systemd host starts what its packages start).
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	apt-get update -q -o Acquire::Languages=none
	apt-get install -y -q --no-install-recommends "$@"
	apt-get clean
	# Hosts reach only the bed's repo: no Debian sources, no lists, so `apt-get update` there is fast and clean.
	rm -rf /etc/apt/sources.list /etc/apt/sources.list.d/* /var/lib/apt/lists/* /usr/sbin/policy-rc.d
	install -d -m 755 /var/lib/apt/lists/partial /etc/apt/keyrings

	# deploy: key-only login, password-less sudo. '*' rather than the locked '!': with UsePAM no, sshd refuses key
	# logins of locked accounts.
	id deploy > /dev/null 2>&1 || useradd -m -s /bin/bash deploy
	usermod -p '*' deploy
	echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy
	chmod 440 /etc/sudoers.d/deploy
	install -d -m 700 -o deploy -g deploy /home/deploy/.ssh
	install -m 600 -o deploy -g deploy /dev/null /home/deploy/.ssh/authorized_keys

	# sshd: one ed25519 host key, installed per host at start; no PAM (no logind sessions in a test host).
	rm -f /etc/ssh/ssh_host_*
	cat > /etc/ssh/sshd_config.d/fleet.conf <<-'EOF'
		# fleetctl test bed: key-only logins; the host key is made per host when the host starts.
		HostKey /etc/ssh/ssh_host_ed25519_key
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin no
		UsePAM no
		MaxStartups 200:30:400
		MaxSessions 64
	EOF
	grep -q '^Include /etc/ssh/sshd_config.d' /etc/ssh/sshd_config ||
		sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' /etc/ssh/sshd_config

	# systemd in a container: no devices to manage, no consoles to log in on, no logins to track, no timers that
	# grab the dpkg lock in the middle of a test.
	systemctl mask systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service \
		getty@.service console-getty.service systemd-logind.service apt-daily.timer apt-daily-upgrade.timer
	systemctl enable ssh.service
	systemctl set-default multi-user.target

	# Identity comes per host: empty machine-id (systemd makes one at boot), hostname and hosts written at start.
	: > /etc/machine-id
	rm -f /var/lib/dbus/machine-id
	: > /etc/hostname
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > /etc/hosts
}

# Runs chrooted in an rpm layer over bookworm's template. ARGS: rocky9|suse15, Debian mirror (for the build only).
# The package managers are real (Debian's dnf/zypper and rpm); the userland stays Debian's.
_fleet_tpl_rpm() {
	local tag=$1 mirror=$2 pm name version major top
	case $tag in
		rocky9) pm=dnf name=rocky-release version=9.3 major=9 ;;
		suse15) pm=zypper name=openSUSE-release version=15.5 major=15 ;;
	esac
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	echo "deb $mirror bookworm main" > /etc/apt/sources.list
	apt-get update -q -o Acquire::Languages=none
	apt-get install -y -q --no-install-recommends "$pm" rpm
	apt-get clean
	rm -rf /etc/apt/sources.list /var/lib/apt/lists/* /usr/sbin/policy-rc.d
	# An rpm host has no apt: a tool that looks for apt-get first must not take it for Debian.
	rm -f /usr/bin/apt /usr/bin/apt-get /usr/bin/apt-cache /usr/bin/apt-key /usr/bin/apt-mark /usr/bin/apt-config \
		/etc/debian_version

	# rpm: the system database (Debian's rpm defaults to ~/.rpmdb), and a wrapper that adds --force-debian to what
	# changes it (Debian's rpm refuses otherwise; zypper runs the rpm command, dnf uses the library).
	mkdir -p /etc/rpm
	echo '%_dbpath /var/lib/rpm' > /etc/rpm/macros
	mv /usr/bin/rpm /usr/bin/rpm.debian
	cat > /usr/bin/rpm <<-'EOF'
		#!/bin/bash
		# Test bed: Debian's rpm on a "Rocky"/"SUSE" host. Installs and erasures get --force-debian; argv[0] stays rpm.
		for a in "$@"; do
			case $a in
				--) break ;;
				-q* | --query | -V* | --verify) break ;;
				-[iUFe]* | --install | --upgrade | --freshen | --erase | --reinstall)
					exec -a rpm /usr/bin/rpm.debian --force-debian "$@" ;;
			esac
		done
		exec -a rpm /usr/bin/rpm.debian "$@"
	EOF
	chmod 755 /usr/bin/rpm
	rpm --initdb

	# The release package: fills the empty rpm database with what the Debian userland really has, so packages that
	# require a shell, useradd or systemd install.
	top=$(mktemp -d)
	mkdir -p "$top/SPECS"
	cat > "$top/SPECS/release.spec" <<-EOF
		Name: $name
		Version: $version
		Release: 1
		Summary: $name for the fleetctl test bed (Debian bookworm userland)
		License: MIT
		BuildArch: noarch
		AutoReqProv: no
		Provides: system-release = $version, system-release(releasever) = $major, distribution-release = $version
		Provides: /bin/sh, /usr/bin/sh, /bin/bash, /usr/bin/bash, bash, coreutils, grep, sed, gawk, findutils, tar, gzip
		Provides: shadow-utils, shadow, /usr/sbin/useradd, /usr/sbin/groupadd, /usr/sbin/usermod, /usr/sbin/userdel
		Provides: /usr/sbin/groupdel, /usr/bin/getent, glibc, util-linux, procps-ng, procps, ca-certificates, curl
		Provides: gnupg2, systemd, systemd-units, /usr/bin/systemctl, /bin/systemctl, /bin/kill, /usr/bin/kill
		%description
		Stand-in release package of the fleetctl test bed.
		%files
	EOF
	rpmbuild -bb --quiet -D "_topdir $top" "$top/SPECS/release.spec"
	rpm -i "$top"/RPMS/noarch/*.rpm
	rm -rf "$top"
	mkdir -p /etc/yum.repos.d /etc/zypp/repos.d

	rm -f /usr/lib/os-release /etc/os-release
	case $tag in
		rocky9)
			cat > /usr/lib/os-release <<-'EOF'
				NAME="Rocky Linux"
				VERSION="9.3 (Blue Onyx)"
				ID="rocky"
				ID_LIKE="rhel centos fedora"
				VERSION_ID="9.3"
				PLATFORM_ID="platform:el9"
				PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
				ANSI_COLOR="0;32"
				LOGO="fedora-logo-icon"
				CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
				HOME_URL="https://rockylinux.org/"
				BUG_REPORT_URL="https://bugs.rockylinux.org/"
				ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
				ROCKY_SUPPORT_PRODUCT_VERSION="9.3"
				REDHAT_SUPPORT_PRODUCT="Rocky Linux"
				REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
			EOF
			echo 'Rocky Linux release 9.3 (Blue Onyx)' > /etc/rocky-release
			ln -sf rocky-release /etc/redhat-release
			ln -sf rocky-release /etc/system-release
			mkdir -p /etc/dnf/vars
			echo 9 > /etc/dnf/vars/releasever
			;;
		suse15)
			cat > /usr/lib/os-release <<-'EOF'
				NAME="openSUSE Leap"
				VERSION="15.5"
				ID="opensuse-leap"
				ID_LIKE="suse opensuse"
				VERSION_ID="15.5"
				PRETTY_NAME="openSUSE Leap 15.5"
				ANSI_COLOR="0;32"
				CPE_NAME="cpe:/o:opensuse:leap:15.5"
				BUG_REPORT_URL="https://bugs.opensuse.org"
				HOME_URL="https://www.opensuse.org/"
				DOCUMENTATION_URL="https://en.opensuse.org/Portal:Leap"
				LOGO="distributor-logo-Leap"
			EOF
			# zypper takes $releasever and the distribution from the base product.
			mkdir -p /etc/products.d
			cat > /etc/products.d/Leap.prod <<-'EOF'
				<?xml version="1.0" encoding="UTF-8"?>
				<product schemeversion="0">
				  <vendor>openSUSE</vendor>
				  <name>Leap</name>
				  <version>15.5</version>
				  <release>1</release>
				  <arch>x86_64</arch>
				  <summary>openSUSE Leap 15.5</summary>
				  <shortsummary>openSUSE Leap</shortsummary>
				</product>
			EOF
			ln -sf Leap.prod /etc/products.d/baseproduct
			;;
	esac
	ln -s ../usr/lib/os-release /etc/os-release
}

# Runs chrooted in an init layer over bookworm's template. ARGS: openrc|sysv, Debian mirror (for the build only).
# As on a real Debian server switched away from systemd: apt installs sysvinit-core (and openrc), which removes
# systemd-sysv; the systemd package (and its systemctl) stays.
_fleet_tpl_init() {
	local init=$1 mirror=$2 pkgs=(sysvinit-core)
	[ "$init" = openrc ] && pkgs+=(openrc)
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	echo "deb $mirror bookworm main" > /etc/apt/sources.list
	apt-get update -q -o Acquire::Languages=none
	apt-get install -y -q --no-install-recommends "${pkgs[@]}"
	apt-get clean
	rm -rf /etc/apt/sources.list /var/lib/apt/lists/* /usr/sbin/policy-rc.d
	install -d -m 755 /var/lib/apt/lists/partial
	# No consoles in a container (as getty is masked on the systemd hosts): init would respawn gettys without end.
	sed -i -E 's/^([1-6]:[0-9]+:respawn:)/#\1/' /etc/inittab
}

# The systemctl of chroot hosts: there is no init system, so it starts and stops a unit's ExecStart itself.
# Emulated: start/stop/restart/reload, enable/disable (--now), mask/unmask, is-active/is-enabled/is-failed, status,
# show (-p, --value), cat, daemon-reload. Not: dependencies, Restart=, cgroups, journald, sockets, timers.
_fleet_shim_text() {
	cat <<-'SHIM'
		#!/bin/bash
		# systemctl shim of a fleetctl test bed chroot host (no systemd here): runs a unit's ExecStart as its User,
		# with its Environment/EnvironmentFile, and tracks it by PID in /run/systemctl-shim. Calls are logged in
		# /var/log/systemctl-shim.log, a unit's output goes to /var/log/UNIT.shim.log.
		set -u
		state=/run/systemctl-shim
		echo "$(date +%s.%N) uid=$(id -u) $*" 2> /dev/null >> /var/log/systemctl-shim.log # not logged for non-root
		unit_dirs=(/etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system /usr/lib/systemd/system /lib/systemd/system)

		norm() { case $1 in *.*) echo "$1" ;; *) echo "$1.service" ;; esac; }
		# unit_file UNIT: the unit's file (a masked unit is a link to /dev/null).
		unit_file() {
			local d
			for d in "${unit_dirs[@]}"; do
				if [ -L "$d/$1" ] || [ -f "$d/$1" ]; then echo "$d/$1"; return 0; fi
			done
			return 1
		}
		masked() { [ "$(readlink "/etc/systemd/system/$1")" = /dev/null ]; }
		# values UNIT KEY: every assignment of KEY in the unit and its drop-ins, in order; an empty one resets.
		values() {
			local f files=() line out=()
			files+=("$(unit_file "$1")")
			for f in /etc/systemd/system/"$1".d/*.conf /run/systemd/system/"$1".d/*.conf; do [ -f "$f" ] && files+=("$f"); done
			while IFS= read -r line; do
				if [ -z "$line" ]; then out=(); else out+=("$line"); fi
			done < <(sed -n "s/^[[:space:]]*$2=//p" "${files[@]}")
			[ ${#out[@]} = 0 ] || printf '%s\n' "${out[@]}"
		}
		last() { values "$1" "$2" | tail -n 1; }
		main_pid() {
			local p
			p=$(cat "$state/$1.pid" 2> /dev/null) || return 1
			[ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2> /dev/null && echo "$p"
		}

		start() {
			local u=$1 f cmd user group env envf wd
			f=$(unit_file "$u") || { echo "Failed to start $u: Unit $u not found." >&2; return 5; }
			masked "$u" && { echo "Failed to start $u: Unit $u is masked." >&2; return 1; }
			main_pid "$u" > /dev/null && return 0
			cmd=$(last "$u" ExecStart)
			cmd=${cmd#[-@+!]}
			user=$(last "$u" User)
			group=$(last "$u" Group)
			wd=$(last "$u" WorkingDirectory)
			mkdir -p "$state"
			rm -f "$state/$u.failed"
			(
				while IFS= read -r envf; do
					envf=${envf#-}
					if [ -f "$envf" ]; then set -a; . "$envf"; set +a; fi
				done < <(values "$u" EnvironmentFile)
				while IFS= read -r env; do eval "export $env"; done < <(values "$u" Environment)
				cd "${wd:-/}" || exit 1
				if [ -n "$user" ] && [ "$user" != root ]; then
					exec setsid setpriv --reuid="$user" --regid="${group:-$(id -gn "$user")}" --init-groups -- /bin/sh -c "exec $cmd"
				fi
				exec setsid /bin/sh -c "exec $cmd"
			) < /dev/null >> "/var/log/${u%.service}.shim.log" 2>&1 &
			echo "$!" > "$state/$u.pid"
			sleep 0.2
			if ! main_pid "$u" > /dev/null; then
				touch "$state/$u.failed"
				echo "Job for $u failed because the control process exited with error code." >&2
				return 1
			fi
		}
		stop() {
			local u=$1 p i
			p=$(main_pid "$u") || { rm -f "$state/$u.pid"; return 0; }
			kill "$p"
			for i in $(seq 50); do [ -d "/proc/$p" ] || break; sleep 0.1; done
			kill -9 "$p" 2> /dev/null
			rm -f "$state/$u.pid"
		}
		reload() {
			local u=$1 p cmd
			cmd=$(last "$u" ExecReload)
			if p=$(main_pid "$u") && [ -n "$cmd" ]; then MAINPID=$p /bin/sh -c "${cmd#[-@+!]}"; else stop "$u"; start "$u"; fi
		}
		wants_dir() { local t; t=$(last "$1" WantedBy); echo "/etc/systemd/system/${t%% *}.wants"; }
		enabled() { local f; f=$(unit_file "$1") && [ -e "$(wants_dir "$1")/$1" ]; }

		now=0 quiet=0 value=0 props="" args=()
		while [ $# -gt 0 ]; do
			case $1 in
				--now) now=1 ;;
				-q | --quiet) quiet=1 ;;
				--value) value=1 ;;
				-p | --property) props="$props,$2"; shift ;;
				--property=*) props="$props,${1#*=}" ;;
				--version) echo "systemd 252 (fleetctl test bed systemctl shim)"; exit 0 ;;
				-*) ;;
				*) args+=("$1") ;;
			esac
			shift
		done
		verb=${args[0]:-list-units}
		units=()
		for a in "${args[@]:1}"; do units+=("$(norm "$a")"); done
		say() { [ "$quiet" = 1 ] || echo "$@"; }
		rc=0
		case $verb in
			daemon-reload | daemon-reexec | reset-failed) ;;
			is-system-running) say running ;;
			start) for u in "${units[@]}"; do start "$u" || rc=$?; done ;;
			stop) for u in "${units[@]}"; do stop "$u"; done ;;
			restart) for u in "${units[@]}"; do stop "$u"; start "$u" || rc=$?; done ;;
			try-restart) for u in "${units[@]}"; do if main_pid "$u" > /dev/null; then stop "$u"; start "$u" || rc=$?; fi; done ;;
			reload | reload-or-restart | try-reload-or-restart) for u in "${units[@]}"; do reload "$u" || rc=$?; done ;;
			enable | disable)
				for u in "${units[@]}"; do
					unit_file "$u" > /dev/null || { echo "Failed to $verb unit: Unit file $u does not exist." >&2; rc=1; continue; }
					if [ "$verb" = enable ]; then
						mkdir -p "$(wants_dir "$u")"
						ln -sf "$(unit_file "$u")" "$(wants_dir "$u")/$u"
						[ "$now" = 1 ] && { start "$u" || rc=$?; }
					else
						rm -f "$(wants_dir "$u")/$u"
						[ "$now" = 1 ] && stop "$u"
					fi
				done ;;
			mask) for u in "${units[@]}"; do ln -sf /dev/null "/etc/systemd/system/$u"; done ;;
			unmask) for u in "${units[@]}"; do masked "$u" && rm -f "/etc/systemd/system/$u"; done ;;
			is-active)
				for u in "${units[@]}"; do
					if main_pid "$u" > /dev/null; then say active
					elif [ -e "$state/$u.failed" ]; then say failed; rc=3
					else say inactive; rc=3; fi
				done ;;
			is-failed) for u in "${units[@]}"; do if [ -e "$state/$u.failed" ]; then say failed; else say inactive; rc=1; fi; done ;;
			is-enabled)
				for u in "${units[@]}"; do
					if ! unit_file "$u" > /dev/null; then echo "Failed to get unit file state for $u: No such file or directory" >&2; rc=1
					elif masked "$u"; then say masked; rc=1
					elif enabled "$u"; then say enabled
					else say disabled; rc=1; fi
				done ;;
			status)
				for u in "${units[@]}"; do
					if ! f=$(unit_file "$u"); then echo "Unit $u could not be found." >&2; rc=4; continue; fi
					echo "* $u"
					echo "     Loaded: loaded ($f; $(enabled "$u" && echo enabled || echo disabled))"
					if p=$(main_pid "$u"); then echo "     Active: active (running)"; echo "   Main PID: $p"
					else echo "     Active: inactive (dead)"; rc=3; fi
				done ;;
			show)
				for u in "${units[@]}"; do
					p=$(main_pid "$u") || p=0
					if [ "$p" != 0 ]; then st=active sub=running; else st=inactive sub=dead; fi
					if unit_file "$u" > /dev/null; then load=loaded; else load=not-found; fi
					for kv in "Id=$u" "LoadState=$load" "ActiveState=$st" "SubState=$sub" "MainPID=$p" \
						"UnitFileState=$(enabled "$u" && echo enabled || echo disabled)"; do
						k=${kv%%=*}
						[ -z "$props" ] || [[ ",$props," == *",$k,"* ]] || continue
						if [ "$value" = 1 ]; then echo "${kv#*=}"; else echo "$kv"; fi
					done
				done ;;
			cat) for u in "${units[@]}"; do f=$(unit_file "$u") && { echo "# $f"; cat "$f"; } || rc=1; done ;;
			*) echo "systemctl shim: '$verb' is not emulated" >&2; rc=1 ;;
		esac
		exit "$rc"
	SHIM
}

# --- hosts -----------------------------------------------------------------------------------------------------------

# _fleet_check_port: a chroot host's sshd cannot bind ADDR:22 while the machine's own sshd listens on *:22.
_fleet_check_port() {
	local port
	port=$(_fleet_chroot_port)
	[ "${TESTBED_CHROOT_HOSTS:-48}" -gt 0 ] || return 0
	if ss -Hltn "sport = :$port" | awk '{print $4}' | grep -qE '^(0\.0\.0\.0|\*):'; then
		tb_die "fleet: something listens on *:$port (the machine's sshd?); chroot hosts need their own" \
			"127.2.x.y:$port: set TESTBED_CHROOT_SSH_PORT to a free port"
	fi
}

# _fleet_wanted: one line "KIND INDEX NAME TAG ADDRESS PORT" per host this bed should run.
_fleet_wanted() {
	local i t n=${#FLEET_TAGS[@]} port
	port=$(_fleet_chroot_port)
	for ((i = 1; i <= ${TESTBED_SYSTEMD_HOSTS:-17}; i++)); do
		t=${FLEET_TAGS[$(((i - 1) % n))]}
		echo "systemd $i sd$i-$t $t $(_fleet_sd_addr "$i") 22"
	done
	for ((i = 1; i <= ${TESTBED_CHROOT_HOSTS:-48}; i++)); do
		t=${FLEET_TAGS[$(((i - 1) % n))]}
		echo "chroot $i c$i-$t $t $(_fleet_chroot_addr "$i") $port"
	done
	# Other init systems: Debian 12 roots; INDEX 512+I / 768+I gives their address and MAC (see _fleet_sd_addr).
	for ((i = 1; i <= ${TESTBED_OPENRC_HOSTS:-1}; i++)); do
		echo "openrc $((512 + i)) or$i-debian12 debian12 $(_fleet_sd_addr $((512 + i))) 22"
	done
	for ((i = 1; i <= ${TESTBED_SYSV_HOSTS:-1}; i++)); do
		echo "sysv $((768 + i)) sv$i-debian12 debian12 $(_fleet_sd_addr $((768 + i))) 22"
	done
	if [ "${TESTBED_BASTION_HOSTS:-3}" -gt 0 ]; then
		echo "bastion 0 bastion debian12 $FLEET_BASTION_ADDR 22"
		for ((i = 1; i <= ${TESTBED_BASTION_HOSTS:-3}; i++)); do
			t=${FLEET_TAGS[$(((i - 1) % 3))]}
			echo "behind $i bh$i-$t $t $FLEET_INNER_NET.$((10 + i)) 22"
		done
	fi
	for ((i = 1; i <= ${TESTBED_CERT_HOSTS:-2}; i++)); do
		t=${FLEET_TAGS[$(((i - 1) % 3))]}
		echo "cert $i ca$i-$t $t 127.3.0.$((10 + i)) $port"
	done
}

_fleet_client_key() {
	local key=$TESTBED_DIR/keys/client
	[ -s "$key" ] && [ -s "$key.pub" ] && return 0
	install -d -m 700 "$TESTBED_DIR/keys"
	rm -f "$key" "$key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "fleetctl-testbed-client" -f "$key"
}

# _fleet_skeleton LOWERS DEST: the folders a host's identity goes into, with the owner and mode they have in LOWERS,
# plus deploy's (empty) authorized_keys. A folder in an overlay's upper dir hides the metadata of the lower one, so a
# host's upper dir starts as a copy of this, and its files are written there before the overlay is mounted.
_fleet_skeleton() {
	local lowers=$1 dest=$2 rel l
	rm -rf "$dest"
	for rel in . etc etc/ssh home home/deploy home/deploy/.ssh home/deploy/.ssh/authorized_keys; do
		for l in ${lowers//:/ }; do
			[ -e "$l/$rel" ] || continue
			if [ -d "$l/$rel" ]; then mkdir -p "$dest/$rel"; else : > "$dest/$rel"; fi
			chown --reference="$l/$rel" "$dest/$rel"
			chmod --reference="$l/$rel" "$dest/$rel"
			break
		done
	done
	if [ ! -f "$dest/home/deploy/.ssh/authorized_keys" ] || [ ! -d "$dest/etc/ssh" ]; then
		tb_die "fleet: the roots $lowers have no /etc/ssh or no deploy user"
	fi
}

# _fleet_prepare NAME TAG CLIENTPUB: a fresh host folder; its identity (host key, hostname, hosts, deploy's
# authorized_keys) written into the upper dir. The host key stays there: known_hosts is made from it.
_fleet_prepare() {
	local name=$1 dir=$TESTBED_DIR/fleet/$1
	local up=$dir/upper
	_fleet_clean "$name"
	mkdir -p "$dir/work" "$dir/root"
	cp -a "$TESTBED_DIR/fleet/.skel/$2" "$up"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$up/etc/ssh/ssh_host_ed25519_key"
	echo "$name" > "$up/etc/hostname"
	# sudo resolves its own host name: answer from /etc/hosts instead of a DNS timeout.
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" > "$up/etc/hosts"
	# Written into the skeleton's file, so it keeps deploy as owner and mode 600.
	echo "$3" > "$up/home/deploy/.ssh/authorized_keys"
	: > "$TESTBED_DIR/log/fleet/$name.log"
}

# _fleet_chroot_init NAME HOSTDIR ADDR PORT CHROOT [SSHD-ARG...]: PID 1 of a chroot host's new mount/pid/uts
# namespaces: mount what HOSTDIR/fstab lists (root, proc, sys, devpts), name the host, become its sshd with an empty
# environment. The mounts live and die with the namespace.
_fleet_chroot_init() {
	set -e
	mount -a --fstab "$2/fstab"
	echo "$1" > /proc/sys/kernel/hostname
	cd "$2/root"
	exec -c "$5" . /usr/sbin/sshd -D -e -o "ListenAddress=$3:$4" "${@:6}"
}

# _fleet_nspawn_init NAME ROOT [--sysvinit] CGROUPDIR...: runs in a private mount namespace; moves itself into the host's cgroup
# folders and becomes systemd-nspawn booting ROOT in network namespace NAME. nspawn's bookkeeping under
# /run/systemd/nspawn stays in this namespace.
_fleet_nspawn_init() {
	local name=$1 root=$2 d boot=(--boot)
	shift 2
	set -e
	# An init other than systemd: the container runs /sbin/init as PID 1, as the kernel would (nspawn's --boot
	# would pick systemd, whose package stays installed).
	[ "$1" = --sysvinit ] && { boot=(/sbin/init); shift; }
	for d in "$@"; do echo $$ > "$d/cgroup.procs"; done
	mkdir -p /run/systemd/nspawn
	mount -t tmpfs tmpfs /run/systemd/nspawn
	# CAP_IPC_LOCK as root has on a real server: without it nspawn's seccomp filter refuses mlock, and Telegraf's
	# secret store (memguard) dead-locks on start.
	exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin systemd-nspawn --quiet --directory="$root" --machine="$name" \
		--hostname="$name" --register=no --keep-unit --resolv-conf=off --timezone=off --link-journal=no \
		--capability=CAP_IPC_LOCK --network-namespace-path="/run/netns/$name" "${boot[@]}"
}

_fleet_netns_up() { # NAME INDEX ADDR
	local name=$1 i=$2 addr=$3 veth
	veth=$(_fleet_veth "$name")
	# A bed whose processes died without down (a killed session, a crash) leaves its namespace and veth behind;
	# this host is not running (fleet_start checked), so they are stale: clear them.
	if [ -e "/run/netns/$name" ]; then ip netns del "$name" 2>/dev/null || true; fi
	if ip link show "$veth" >/dev/null 2>&1; then ip link del "$veth" 2>/dev/null || true; fi
	ip netns add "$name"
	ip link add "$veth" address "$(_fleet_mac "$i" 1)" type veth peer name eth0 address "$(_fleet_mac "$i" 0)" netns "$name"
	ip link set "$veth" master "$TESTBED_BRIDGE" up
	ip -n "$name" link set lo up
	ip -n "$name" addr add "$addr/16" dev eth0
	ip -n "$name" link set eth0 up
	ip -n "$name" route add default via "$TESTBED_GATEWAY"
	ip neigh flush to "$addr" 2> /dev/null || true
}

_fleet_start_systemd() { # INDEX NAME TAG ADDR PORT LOWERS CLIENTPUB [--sysvinit]
	local i=$1 name=$2 dir=$TESTBED_DIR/fleet/$2 cg=()
	_fleet_prepare "$name" "$3" "$7"
	mount -t overlay overlay -o "lowerdir=$6,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
	_fleet_netns_up "$name" "$i" "$4"
	mapfile -t cg < <(_fleet_cgroup_dirs "$name")
	mkdir -p "${cg[@]}"
	tb_start "fleet-$name" "$TESTBED_DIR/log/fleet/$name.log" unshare --mount --propagation private \
		bash -c "$(declare -f _fleet_nspawn_init); _fleet_nspawn_init \"\$@\"" _ "$name" "$dir/root" ${8:+"$8"} "${cg[@]}"
}

# Hosts booted by sysvinit's /sbin/init, running OpenRC or sysv-rc as its rc: otherwise systemd hosts.
_fleet_start_openrc() { _fleet_start_systemd "$@" --sysvinit; } # INDEX NAME TAG ADDR PORT LOWERS CLIENTPUB
_fleet_start_sysv() { _fleet_start_systemd "$@" --sysvinit; }

_fleet_start_chroot() { # INDEX NAME TAG ADDR PORT LOWERS CLIENTPUB [NETNS [SSHD-ARG...]]
	local name=$2 dir=$TESTBED_DIR/fleet/$2 netns=${8:-}
	local root=$dir/root enter=()
	[ -n "$netns" ] && enter=(nsenter "--net=/run/netns/$netns")
	_fleet_prepare "$name" "$3" "$7"
	[ "$(type -t _fleet_prepare_extra)" = function ] && _fleet_prepare_extra "$name"
	# /run is the overlay's (fresh at every start); the shim layer gives it run/sshd, which sshd needs.
	cat > "$dir/fstab" <<-EOF
		overlay $root overlay lowerdir=$6,upperdir=$dir/upper,workdir=$dir/work 0 0
		proc $root/proc proc nosuid,nodev,noexec 0 0
		sysfs $root/sys sysfs ro,nosuid,nodev,noexec 0 0
		devpts $root/dev/pts devpts newinstance,ptmxmode=0666,mode=0620,gid=5 0 0
	EOF
	tb_start "fleet-$name" "$TESTBED_DIR/log/fleet/$name.log" "${enter[@]}" \
		unshare --mount --pid --uts --fork --kill-child --propagation private \
		bash -c "$(declare -f _fleet_chroot_init); _fleet_chroot_init \"\$@\"" _ \
		"$name" "$dir" "$4" "$5" "$(command -v chroot)" "${@:9}"
}

# The bastion: a chroot host in its own network namespace, listening on all its addresses (the bridge's and the
# network behind it). Its sshd log (the log file) shows every login.
_fleet_start_bastion() { # INDEX NAME TAG ADDR PORT LOWERS CLIENTPUB
	_fleet_start_chroot "$@" "$FLEET_NS_BASTION" -o ListenAddress=0.0.0.0:22
}

# A host behind the bastion: a chroot host in the namespace behind it.
_fleet_start_behind() { # INDEX NAME TAG ADDR PORT LOWERS CLIENTPUB
	_fleet_start_chroot "$@" "$FLEET_NS_BEHIND"
}

# A host with a host certificate that trusts the bed's user CA, and no authorized key: only a certificate logs in.
_fleet_start_cert() { # INDEX NAME TAG ADDR PORT LOWERS CLIENTPUB
	_fleet_prepare_extra() {
		local up=$TESTBED_DIR/fleet/$1/upper keys=$TESTBED_DIR/keys
		: > "$up/home/deploy/.ssh/authorized_keys"
		ssh-keygen -q -s "$keys/host_ca" -I "$1" -h -n "$(_fleet_addr_of "$1"),$1" -V -1h:+520w \
			"$up/etc/ssh/ssh_host_ed25519_key.pub"
		cp "$keys/user_ca.pub" "$up/etc/ssh/user_ca.pub"
	}
	_fleet_start_chroot "$1" "$2" "$3" "$4" "$5" "$6" "" "" \
		-o HostCertificate=/etc/ssh/ssh_host_ed25519_key-cert.pub -o TrustedUserCAKeys=/etc/ssh/user_ca.pub
	unset -f _fleet_prepare_extra
}

# _fleet_addr_of NAME: the address of a wanted host.
_fleet_addr_of() { _fleet_wanted | awk -v n="$1" '$3 == n {print $5}'; }

# _fleet_cert_keys: the bed's host CA, user CA and a user key with its certificate (principal deploy), made once per
# bed in keys/: certuser-cert.pub lies beside certuser, as ssh-keygen -s leaves it and as ssh looks for it.
_fleet_cert_keys() {
	local k=$TESTBED_DIR/keys
	[ -s "$k/certuser-cert.pub" ] && [ -s "$k/host_ca.pub" ] && return 0
	install -d -m 700 "$k"
	rm -f "$k"/host_ca* "$k"/user_ca* "$k"/certuser*
	ssh-keygen -q -t ed25519 -N '' -C "fleetctl-testbed-host-ca" -f "$k/host_ca"
	ssh-keygen -q -t ed25519 -N '' -C "fleetctl-testbed-user-ca" -f "$k/user_ca"
	ssh-keygen -q -t ed25519 -N '' -C "fleetctl-testbed-cert-user" -f "$k/certuser"
	ssh-keygen -q -s "$k/user_ca" -I fleetctl-testbed-cert-user -n "$FLEET_USER" -V -1h:+520w "$k/certuser.pub"
}

# _fleet_reach_net_up BEHIND-ADDR...: the bastion's namespace on the bridge, the namespace behind it with the given
# addresses, the unreachable route that keeps the bed machine out of it, and the forwarders that let the hosts behind
# reach the repository and InfluxDB. Idempotent.
_fleet_reach_net_up() {
	local a p sock
	if [ ! -e "/run/netns/$FLEET_NS_BASTION" ]; then
		ip link del flbast 2> /dev/null || true
		ip netns add "$FLEET_NS_BASTION"
		ip link add flbast address 02:fb:01:00:00:01 type veth peer name eth0 address 02:fb:01:00:00:02 netns "$FLEET_NS_BASTION"
		ip link set flbast master "$TESTBED_BRIDGE" up
		ip -n "$FLEET_NS_BASTION" link set lo up
		ip -n "$FLEET_NS_BASTION" addr add "$FLEET_BASTION_ADDR/16" dev eth0
		ip -n "$FLEET_NS_BASTION" link set eth0 up
		ip neigh flush to "$FLEET_BASTION_ADDR" 2> /dev/null || true
	fi
	if [ ! -e "/run/netns/$FLEET_NS_BEHIND" ]; then
		ip netns add "$FLEET_NS_BEHIND"
		ip -n "$FLEET_NS_BASTION" link add in0 type veth peer name eth0 netns "$FLEET_NS_BEHIND"
		ip -n "$FLEET_NS_BASTION" addr add "$FLEET_INNER_NET.1/24" dev in0
		ip -n "$FLEET_NS_BASTION" link set in0 up
		ip -n "$FLEET_NS_BEHIND" link set lo up
		# The bed's gateway address, local behind: the forwarders below answer on it.
		ip -n "$FLEET_NS_BEHIND" addr add "$TESTBED_GATEWAY/32" dev lo
		ip -n "$FLEET_NS_BEHIND" link set eth0 up
	fi
	for a in "$@"; do
		ip -n "$FLEET_NS_BEHIND" -o addr show dev eth0 | grep -q " $a/" || ip -n "$FLEET_NS_BEHIND" addr add "$a/24" dev eth0
	done
	ip route show "$FLEET_INNER_NET.0/24" | grep -q unreachable || ip route add unreachable "$FLEET_INNER_NET.0/24"
	mkdir -p "$TESTBED_DIR/run"
	for p in "$REPO_PORT" "$INFLUXDB_PORT"; do
		sock=$TESTBED_DIR/run/behind-$p.sock
		tb_start "fwd-behind-$p-out" "$TESTBED_DIR/log/fwd-behind-$p.log" \
			socat "UNIX-LISTEN:$sock,fork,unlink-early,mode=600" "TCP:$TESTBED_GATEWAY:$p"
		tb_start "fwd-behind-$p-in" "$TESTBED_DIR/log/fwd-behind-$p.log" nsenter "--net=/run/netns/$FLEET_NS_BEHIND" \
			socat "TCP-LISTEN:$p,bind=$TESTBED_GATEWAY,reuseaddr,fork" "UNIX-CONNECT:$sock"
	done
}

_fleet_reach_net_down() {
	local p
	for p in "$REPO_PORT" "$INFLUXDB_PORT"; do
		tb_stop "fwd-behind-$p-in"
		tb_stop "fwd-behind-$p-out"
		rm -f "$TESTBED_DIR/run/behind-$p.sock"
	done
	rmdir "$TESTBED_DIR/run" 2> /dev/null || true
	if [ -e "/run/netns/$FLEET_NS_BEHIND" ]; then ip netns del "$FLEET_NS_BEHIND"; fi
	if [ -e "/run/netns/$FLEET_NS_BASTION" ]; then ip netns del "$FLEET_NS_BASTION"; fi
	if [ -e /sys/class/net/flbast ]; then ip link del flbast 2> /dev/null || true; fi
	if ip route show "$FLEET_INNER_NET.0/24" | grep -q unreachable; then ip route del unreachable "$FLEET_INNER_NET.0/24"; fi
	return 0
}

# _fleet_clean NAME: remove what is left of host NAME (its process is gone): root mount, network namespace, veth,
# cgroup folders, host folder. Cheap for a host that left nothing.
_fleet_clean() {
	local name=$1 dir=$TESTBED_DIR/fleet/$1 d
	[ -e "$TESTBED_DIR/pids/fleet-$name" ] && rm -f "$TESTBED_DIR/pids/fleet-$name"
	case $name in
		sd* | or* | sv*)
			if mountpoint -q "$dir/root" 2> /dev/null; then umount "$dir/root" 2> /dev/null || umount -l "$dir/root"; fi
			if [ -e "/run/netns/$name" ]; then ip netns del "$name"; fi
			# Deleting the namespace deletes the pair, but not at once.
			if [ -e "/sys/class/net/$(_fleet_veth "$name")" ]; then ip link del "$(_fleet_veth "$name")" 2> /dev/null || true; fi
			for d in $(_fleet_cgroup_dirs "$name"); do _fleet_rm_cgroup "$d"; done
			;;
	esac
	_fleet_rm_tree "$dir"
}

# _fleet_rm_cgroup DIR: remove a host's cgroup folder and the ones its systemd made below it, killing what is left
# in them (only processes of that host can be there).
_fleet_rm_cgroup() {
	local d=$1 i p
	[ -d "$d" ] || return 0
	for i in $(seq 50); do
		find "$d" -depth -type d -exec rmdir {} + 2> /dev/null
		[ -d "$d" ] || return 0
		while read -r p; do kill -9 "$p" 2> /dev/null; done < <(find "$d" -name cgroup.procs -exec cat {} + 2> /dev/null)
		sleep 0.1
	done
	tb_log "fleet: could not remove cgroup $d"
}

# _fleet_stop_hosts NAME...: stop hosts by their recorded PIDs, all at once, then clean up after them.
# systemd hosts: TERM to nspawn is an orderly shutdown of the container. chroot hosts: nothing to shut down; KILL to
# unshare takes its child (--kill-child) and with it the whole pid namespace.
_fleet_stop_hosts() {
	local name pid pids=() deadline kids=()
	for name in "$@"; do
		tb_alive "fleet-$name" || continue
		pid=$(cat "$TESTBED_DIR/pids/fleet-$name")
		case $name in
			sd* | or* | sv*) kill -TERM "$pid" 2> /dev/null ;;
			*)
				read -ra kids < "/proc/$pid/task/$pid/children" || true
				kill -KILL "$pid" "${kids[@]}" 2> /dev/null
				pids+=("${kids[@]}")
				;;
		esac
		pids+=("$pid")
	done
	deadline=$((SECONDS + 20))
	for pid in "${pids[@]+"${pids[@]}"}"; do
		while _fleet_running "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
		_fleet_running "$pid" && kill -KILL "$pid" 2> /dev/null
		while _fleet_running "$pid"; do sleep 0.1; done
	done
	for name in "$@"; do _fleet_clean "$name"; done
}

# _fleet_recorded: names of hosts with a PID file or a folder (what a previous start left).
_fleet_recorded() {
	local f
	for f in "$TESTBED_DIR"/pids/fleet-* "$TESTBED_DIR"/fleet/*; do
		[ -e "$f" ] || continue
		f=$(basename "$f")
		echo "${f#fleet-}"
	done | sort -u
}

_fleet_ssh() { # ADDR PORT COMMAND [KIND]: a host behind the bastion is reached through it, a cert host with the certificate
	local key=$TESTBED_DIR/keys/client opts=(-F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes
		-o UserKnownHostsFile="$TESTBED_DIR/known_hosts" -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=3 -o LogLevel=ERROR)
	case ${4:-} in
		behind) opts+=(-o "ProxyCommand=ssh ${opts[*]} -i $key -W %h:%p $FLEET_USER@$FLEET_BASTION_ADDR") ;;
		cert) key=$TESTBED_DIR/keys/certuser ;;
	esac
	ssh "${opts[@]}" -i "$key" -p "$2" "$FLEET_USER@$1" "$3"
}

# _fleet_wait_ready NAME ADDR PORT KIND: log in as deploy (strict host key check), check sudo and, on a systemd host,
# wait for the end of its boot. Prints failed units of a degraded host.
_fleet_wait_ready() {
	local name=$1 addr=$2 port=$3 kind=$4 deadline=$((SECONDS + 120)) cmd='sudo -n true && echo sudo-ok' out
	[ "$kind" = systemd ] && cmd="$cmd && systemctl is-system-running --wait"
	while :; do
		out=$(_fleet_ssh "$addr" "$port" "$cmd" "$kind" 2>&1) && return 0
		case $out in
			*sudo-ok*degraded*)
				tb_log "fleet: $name is degraded: $(_fleet_ssh "$addr" "$port" 'systemctl --failed --no-legend --plain' 2>&1 | tr '\n' ' ')"
				return 0 ;;
		esac
		if ! tb_alive "fleet-$name" || [ "$SECONDS" -ge "$deadline" ]; then
			tb_log "fleet: $name ($addr:$port) is not ready: $out; log: $(tail -n 5 "$TESTBED_DIR/log/fleet/$name.log")"
			return 1
		fi
		sleep 0.2
	done
}

# _fleet_wait_listen ADDR:PORT...: wait until every address accepts TCP (loopback: a refusal is immediate).
_fleet_wait_listen() {
	local deadline=$((SECONDS + 60)) pending=("$@") next hp
	while [ ${#pending[@]} -gt 0 ]; do
		next=()
		for hp in "${pending[@]}"; do
			(exec 3<> "/dev/tcp/${hp%:*}/${hp##*:}") 2> /dev/null || next+=("$hp")
		done
		pending=("${next[@]+"${next[@]}"}")
		[ ${#pending[@]} = 0 ] && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			tb_log "fleet: ${#pending[@]} sshd not listening, e.g. ${pending[0]}"
			return 1
		fi
		sleep 0.1
	done
}

# fleet_start: start the hosts this bed wants (see the header), record their keys in known_hosts, wait until each
# answers, publish the fleet's part of the description. Hosts already running are left alone.
fleet_start() {
	local line kind i name tag addr port dir pid pub keytype key wanted=() gone=() waits=() listen=() rows=() fail=0 started=0 frag
	local behind certs cport=""
	local -A lowers os_id os_ver want=() sample=()
	[ -d "$(_fleet_bootstrap_dir bookworm)" ] || tb_die "fleet: no OS roots in $(_fleet_cache_dir); run fleet_build first"
	ip link show "$TESTBED_BRIDGE" > /dev/null 2>&1 || tb_die "fleet: no bridge $TESTBED_BRIDGE; run network_up first"
	_fleet_check_port
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ] ||
		tb_log "fleet: warning: ip_forward is on, hosts on $TESTBED_BRIDGE may route beyond the bed"
	mkdir -p "$TESTBED_DIR/fleet" "$TESTBED_DIR/log/fleet"
	_fleet_client_key
	pub=$(< "$TESTBED_DIR/keys/client.pub")
	mapfile -t wanted < <(_fleet_wanted)

	for tag in "${FLEET_TAGS[@]}"; do
		for kind in systemd chroot; do
			lowers[$kind-$tag]=$(_fleet_lowers "$tag" "$kind")
			for dir in ${lowers[$kind-$tag]//:/ }; do
				[ -d "$dir" ] || tb_die "fleet: layer $dir is missing; run fleet_build first"
			done
		done
		# The reach tests' hosts are chroot hosts on the same roots.
		lowers[bastion-$tag]=${lowers[chroot-$tag]} lowers[behind-$tag]=${lowers[chroot-$tag]} lowers[cert-$tag]=${lowers[chroot-$tag]}
		if [ "$tag" = debian12 ]; then
			for kind in $FLEET_INITS; do
				lowers[$kind-$tag]=$(_fleet_lowers "$tag" "$kind")
				for dir in ${lowers[$kind-$tag]//:/ }; do
					[ -d "$dir" ] || tb_die "fleet: layer $dir is missing; run fleet_build first"
				done
			done
		fi
		os_id[$tag]=$(_fleet_os_release "${lowers[systemd-$tag]}" ID)
		os_ver[$tag]=$(_fleet_os_release "${lowers[systemd-$tag]}" VERSION_ID)
		_fleet_skeleton "${lowers[systemd-$tag]}" "$TESTBED_DIR/fleet/.skel/$tag"
	done

	# Hosts of a previous start that this one does not want (fewer asked for) go away.
	for line in "${wanted[@]}"; do read -r kind i name tag addr port <<< "$line" && want[$name]=1; done
	while read -r name; do [ -n "${want[$name]:-}" ] || gone+=("$name"); done < <(_fleet_recorded)
	[ ${#gone[@]} = 0 ] || _fleet_stop_hosts "${gone[@]}"

	behind=() certs=0
	for line in "${wanted[@]}"; do
		read -r kind i name tag addr port <<< "$line"
		case $kind in behind) behind+=("$addr") ;; cert) certs=1 ;; esac
	done
	if printf '%s\n' "${wanted[@]}" | grep -q '^bastion '; then _fleet_reach_net_up "${behind[@]+"${behind[@]}"}"; else _fleet_reach_net_down; fi
	[ "$certs" = 0 ] || _fleet_cert_keys

	# Chroot hosts are independent of each other: started TESTBED_START_JOBS (8) at a time, which matters for the
	# benchmark's hundreds of hosts (each start is a dozen short processes: key, overlay, namespaces, sshd).
	local jobs=() jobs_max=${TESTBED_START_JOBS:-8} job
	for line in "${wanted[@]}"; do
		read -r kind i name tag addr port <<< "$line"
		tb_alive "fleet-$name" && continue
		if [ "$kind" = chroot ]; then
			"_fleet_start_$kind" "$i" "$name" "$tag" "$addr" "$port" "${lowers[$kind-$tag]}" "$pub" &
			jobs+=("$!")
			if [ ${#jobs[@]} -ge "$jobs_max" ]; then
				wait "${jobs[0]}" || fail=1
				jobs=("${jobs[@]:1}")
			fi
		else
			"_fleet_start_$kind" "$i" "$name" "$tag" "$addr" "$port" "${lowers[$kind-$tag]}" "$pub"
		fi
		started=$((started + 1))
	done
	for job in "${jobs[@]+"${jobs[@]}"}"; do wait "$job" || fail=1; done
	[ "$fail" = 0 ] || tb_die "fleet: hosts could not be started (logs in $TESTBED_DIR/log/fleet)"
	tb_log "fleet: $started hosts started, $((${#wanted[@]} - started)) already running"

	# known_hosts: rewritten whole from the hosts' own keys, so no line of an earlier bed survives.
	# The bastion is known under both its addresses; the certificate hosts by the host CA alone.
	for line in "${wanted[@]}"; do
		read -r kind i name tag addr port <<< "$line"
		[ "$kind" = cert ] && { cport=$port; continue; }
		[ "$port" = 22 ] || addr="[$addr]:$port"
		read -r keytype key _ < "$TESTBED_DIR/fleet/$name/upper/etc/ssh/ssh_host_ed25519_key.pub"
		echo "$addr $keytype $key"
		[ "$kind" = bastion ] && echo "$FLEET_INNER_NET.1 $keytype $key"
	done > "$TESTBED_DIR/known_hosts.tmp"
	if [ -n "$cport" ]; then
		read -r keytype key _ < "$TESTBED_DIR/keys/host_ca.pub"
		if [ "$cport" = 22 ]; then addr='127.3.0.*'; else addr="[127.3.0.*]:$cport"; fi
		echo "@cert-authority $addr $keytype $key" >> "$TESTBED_DIR/known_hosts.tmp"
	fi
	mv "$TESTBED_DIR/known_hosts.tmp" "$TESTBED_DIR/known_hosts"

	# Readiness: every systemd host and the first chroot host of each family log in over SSH (in parallel); the
	# other chroot hosts, which share those roots, need only to listen.
	for line in "${wanted[@]}"; do
		read -r kind i name tag addr port <<< "$line"
		if [ "$kind" != chroot ] || [ -z "${sample[$tag]:-}" ]; then
			[ "$kind" = chroot ] && sample[$tag]=1
			_fleet_wait_ready "$name" "$addr" "$port" "$kind" &
			waits+=("$!")
		else
			listen+=("$addr:$port")
		fi
	done
	_fleet_wait_listen "${listen[@]+"${listen[@]}"}" || fail=1
	for pid in "${waits[@]+"${waits[@]}"}"; do wait "$pid" || fail=1; done
	[ "$fail" = 0 ] || tb_die "fleet: hosts did not come up (logs in $TESTBED_DIR/log/fleet)"

	# The description. root is the merged root as the bed machine sees it: the overlay's mount point for a systemd
	# host; for a chroot host, whose overlay is mounted only inside its own mount namespace, the root of its PID 1
	# (sshd): /proc/PID/root.
	for line in "${wanted[@]}"; do
		read -r kind i name tag addr port <<< "$line"
		if [ "$kind" = systemd ] || [ "$kind" = openrc ] || [ "$kind" = sysv ]; then
			dir=$TESTBED_DIR/fleet/$name/root
		else
			pid=$(< "$TESTBED_DIR/pids/fleet-$name")
			pid=$(< "/proc/$pid/task/$pid/children")
			dir=/proc/${pid%% *}/root
		fi
		rows+=("$name"$'\t'"$addr"$'\t'"$port"$'\t'"$kind"$'\t'"$(_fleet_family_of "$tag")"$'\t'"${os_id[$tag]}"$'\t'"${os_ver[$tag]}"$'\t'"$dir")
	done
	frag=$TESTBED_DIR/fleet.json.tmp
	printf '%s\n' "${rows[@]+"${rows[@]}"}" | jq -R -s \
		--arg user "$FLEET_USER" --arg key "$TESTBED_DIR/keys/client" --arg kh "$TESTBED_DIR/known_hosts" \
		--arg keys "$TESTBED_DIR/keys" --arg log "$TESTBED_DIR/log/fleet/bastion.log" --arg inner "$FLEET_INNER_NET.1" '
		[split("\n")[] | select(length > 0) | split("\t") |
			{name: .[0], address: .[1], port: (.[2] | tonumber), kind: .[3], family: .[4],
			 os_id: .[5], version_id: .[6], root: .[7]}] as $all
		| ($all | map(select(.kind == "bastion")) | first) as $b
		| {ssh: {user: $user, client_key: $key, known_hosts: $kh},
		   hosts: [$all[] | select(.kind == "systemd" or .kind == "chroot" or .kind == "openrc" or .kind == "sysv")],
		   bastion: (if $b == null then null else
			{name: $b.name, address: $b.address, port: $b.port, inner_address: $inner, log: $log,
			 hosts: [$all[] | select(.kind == "behind") | .kind = "chroot" | .jump = "\($b.address):\($b.port)"]} end),
		   certs: (if ($all | map(select(.kind == "cert")) | length) == 0 then null else
			{host_ca: ($keys + "/host_ca.pub"), user_ca: ($keys + "/user_ca.pub"), user_key: ($keys + "/certuser"),
			 user_cert: ($keys + "/certuser-cert.pub"),
			 hosts: [$all[] | select(.kind == "cert") | .kind = "chroot" | .client_key = ($keys + "/certuser")]} end)}' > "$frag"
	tb_fragment fleet "$frag"
	rm -f "$frag"
	tb_log "fleet: ${#rows[@]} hosts up"
}

# fleet_stop: stop every host a start recorded, remove their mounts, namespaces, veths, cgroups and folders (the next
# start makes fresh hosts), forget their keys. The cache stays.
fleet_stop() {
	local names=() h d
	mapfile -t names < <(_fleet_recorded)
	[ ${#names[@]} = 0 ] || _fleet_stop_hosts "${names[@]}"
	# Leftovers of a start that was interrupted before it recorded anything.
	for h in $(ip netns list 2> /dev/null | awk '{print $1}' | grep -E '^(sd|or|sv)[0-9]+-(debian1[123]|rocky9|suse15)$'); do
		_fleet_clean "$h"
	done
	for h in $(ip -o link show type veth 2> /dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^fl(sd|or|sv)[0-9]+$'); do
		ip link del "$h" 2> /dev/null || true
	done
	for d in $(_fleet_cgroup_roots); do
		[ -d "$d" ] || continue
		for h in "$d"/*/; do [ -d "$h" ] && _fleet_rm_cgroup "${h%/}"; done
		rmdir "$d" 2> /dev/null || true
	done
	_fleet_reach_net_down
	rm -rf "$TESTBED_DIR/fleet/.skel"
	rm -f "$TESTBED_DIR/known_hosts" "$TESTBED_DIR/desc/fleet.json"
	rmdir "$TESTBED_DIR/fleet" 2> /dev/null || true
	[ ${#names[@]} = 0 ] || tb_log "fleet: ${#names[@]} hosts stopped"
	return 0
}
