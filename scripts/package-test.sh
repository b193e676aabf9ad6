#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/package-test.sh [DEB]: install the package into a fresh Debian 12 root, as a user's
# machine would get it, and check what a user and dpkg see (default DEB: this machine's
# architecture's, from scripts/package.sh). As root, from any directory.
#
#   install   apt-get install ./DEB resolves the dependencies from Debian's archive; the unit
#             is enabled; the man pages are there
#   run       linkyd --version; --check-config on the shipped /etc/linkyd.conf; the installed
#             daemon without a meter or a broker keeps running, having loaded paho (libpaho-
#             mqtt1.3) and libsystemd (libsystemd0) itself, and stops cleanly on SIGTERM
#   unit      systemd-analyze verify of the installed linkyd.service
#   upgrade   reinstalled over itself: an edited /etc/linkyd.conf is kept, and so is the admin's
#             "systemctl disable"
#   purge     apt-get purge --autoremove leaves no file behind that was not there before, the
#             state the service would have written included
#
# The root is a debootstrap'ed minbase bookworm, with systemd as on any installed Debian 12,
# cached under $LINKYD_FRESH (default /var/tmp/linkyd-fresh: the same base as the fresh_machine
# tool's); every run works on a new copy. The first run takes about 2 minutes more, for
# debootstrap.
set -euo pipefail

if [ "${1:-}" = --inside ]; then
	inside=1
	shift
else
	inside=0
fi

# ---- inside the fresh root ------------------------------------------------------------------

checks=0
failures=0

check()
{
	local what=$1

	shift
	checks=$((checks + 1))
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what" >&2
		failures=$((failures + 1))
	fi
}

# Every path on the root's own file system but what apt, dpkg and logs change anyway.
snapshot()
{
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
		-o -path /root -o -path /var/cache -o -path /var/log -o -path /var/lib/apt \
		-o -path /var/lib/dpkg \) -prune -o -print | sort
}

daemon_waits()
{
	local log=/tmp/linkyd.log pid rc

	# NOTIFY_SOCKET makes it load libsystemd, as under systemd; nothing listens there. The
	# root shares the machine's /dev and network: a device that cannot exist rather than a
	# Raspberry Pi's real /dev/serial0, a port no broker listens on rather than whatever may
	# answer on localhost:1883.
	NOTIFY_SOCKET=/run/linkyd-test.sock linkyd -i /dev/linkyd-test/serial0 \
		--mqtt mqtt://127.0.0.1:9 >"$log" 2>&1 &
	pid=$!
	sleep 3
	kill -0 "$pid" || { cat "$log"; return 1; }
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	cat "$log"
	[ "$rc" -eq 0 ] && grep -q "cannot open /dev/linkyd-test/serial0, retrying" "$log" &&
		grep -q "cannot connect to [a-z]*://127.0.0.1:9" "$log" &&
		! grep -q "cannot load" "$log"
}

inside()
{
	local deb=$1 version before after

	export DEBIAN_FRONTEND=noninteractive
	version=$(dpkg-deb -f "$deb" Version)
	apt-get update -q >/dev/null
	# Debian 12 as installed has systemd; minbase does not.
	apt-get install -y -q --no-install-recommends systemd >/dev/null
	before=$(snapshot)

	echo "== install"
	apt-get install -y -q --no-install-recommends "$deb"
	check "installed" dpkg-query -W linkyd
	check "the unit is enabled" test "$(systemctl is-enabled linkyd.service)" = enabled
	check "man pages" test -f /usr/share/man/man8/linkyd.8.gz -a \
		-f /usr/share/man/man5/linkyd.conf.5.gz
	check "/etc/linkyd.conf is a conffile" grep -qx /etc/linkyd.conf \
		/var/lib/dpkg/info/linkyd.conffiles

	echo "== run"
	check "linkyd --version" test "$(linkyd --version)" = "linkyd $version"
	check "linkyd --check-config" linkyd --check-config
	check "the daemon waits for its meter and broker, paho and libsystemd loaded" daemon_waits

	echo "== unit"
	check "systemd-analyze verify" systemd-analyze verify /lib/systemd/system/linkyd.service

	echo "== upgrade over itself"
	sed -i 's/^\t#level = "notice";/\tlevel = "info";/' /etc/linkyd.conf
	check "edited" grep -q '^	level = "info";' /etc/linkyd.conf
	systemctl disable linkyd.service
	apt-get install -y -q --reinstall "$deb"
	check "the edited conffile is kept" grep -q '^	level = "info";' /etc/linkyd.conf
	check "and read" sh -c 'linkyd --check-config | grep -q "level = \"info\";"'
	check "the unit stays disabled" test "$(systemctl is-enabled linkyd.service)" = disabled
	systemctl enable linkyd.service

	echo "== purge"
	# What systemd keeps for the service's dynamic user, as if it had run.
	mkdir -p /var/lib/private/linkyd
	echo state >/var/lib/private/linkyd/meter.state
	ln -s private/linkyd /var/lib/linkyd
	apt-get purge -y -q --autoremove linkyd
	after=$(snapshot)
	check "nothing left behind ($(wc -l <<<"$before") paths before, $(wc -l <<<"$after") after)" \
		diff <(echo "$before") <(echo "$after")

	echo "package-test: $((checks - failures)) passed, $failures failed"
	[ "$failures" -eq 0 ]
}

if [ "$inside" -eq 1 ]; then
	inside "$@"
	exit
fi

# ---- outside: the fresh root ----------------------------------------------------------------

deb=${1:+$(realpath "$1")}
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

# The first line of debian/changelog: "linkyd (VERSION) ..." (dpkg-dev may not be installed).
version=$(sed -n '1s/^linkyd (\([^)]*\)).*/\1/p' debian/changelog)
deb=${deb:-$LINKYD_ROOT/build/deb/linkyd_${version}_$(dpkg --print-architecture).deb}
[ -f "$deb" ] || die "$deb: no such package (scripts/package.sh builds it)"
[ "$(id -u)" -eq 0 ] || die "needs root (chroot)"
fresh=${LINKYD_FRESH:-/var/tmp/linkyd-fresh}

linkyd_install_packages debootstrap

section "fresh Debian 12 root"
mkdir -p "$fresh"
(
	# One debootstrap at a time; into a temporary directory, so that a run cut short leaves
	# no half-made base behind.
	flock 9
	if [ ! -f "$fresh/base/etc/debian_version" ]; then
		echo "debootstrap --variant=minbase bookworm (once, cached in $fresh/base)"
		rm -rf "$fresh/base.tmp"
		nice -n 10 debootstrap --variant=minbase bookworm "$fresh/base.tmp" \
			http://deb.debian.org/debian >"$fresh/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$fresh/debootstrap.log" >&2; exit 1; }
		mv "$fresh/base.tmp" "$fresh/base"
	fi
) 9>"$fresh/lock"

run=$fresh/run.$$
cleanup()
{
	umount -R "$run/dev" 2>/dev/null || true
	umount "$run/sys" "$run/proc" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT
cp -a "$fresh/base" "$run"
# As the installer writes them: the release, its updates and its security archive; the
# machine's resolver; a hosts file with localhost (debootstrap writes none).
cat >"$run/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$run/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$run/etc/hosts"
cp "$deb" "$run/root/"
cp "$0" "$run/root/package-test.sh"
mount -t proc proc "$run/proc"
mount -t sysfs sys "$run/sys"
mount --rbind /dev "$run/dev"
# So that unmounting the copy never reaches the machine's own /dev/pts and /dev/shm.
mount --make-rslave "$run/dev"

section "package test: $(basename "$deb")"
chroot "$run" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash /root/package-test.sh --inside "/root/$(basename "$deb")"
