# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this file
# SPDX-License-Identifier: MIT
#
# What scripts/test.sh, scripts/demo.sh and scripts/fuzz.sh share: the Debian packages, their
# installation, and the build configurations. Sourced, never run; the callers set -eu.

# The repository root, wherever the caller was started from.
LINKYD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LINKYD_PROG=$(basename "$0")

# What CMakeLists.txt needs to configure and build: every library it looks for (libssl-dev for
# find_package(OpenSSL), which paho's TLS library pulls in) plus cmocka, because the tests are
# configured with the rest (BUILD_TESTING is on by default).
LINKYD_BUILD_PACKAGES=(build-essential cmake pkg-config libcjson-dev libcmocka-dev libconfig-dev
	libmicrohttpd-dev libpaho-mqtt-dev libserialport-dev libssl-dev libsystemd-dev)
# libFuzzer and the sanitizer runtimes: Debian 12's clang is clang 14 and ships them apart.
LINKYD_FUZZ_PACKAGES=(clang libclang-rt-14-dev)
# The cross builds (scripts/cross-test.sh ARCH): Debian's cross compiler, the libraries of
# LINKYD_BUILD_PACKAGES for the target from its multiarch archive, and qemu-user to run what
# was built. linkyd_install_packages adds the foreign architecture to dpkg.
linkyd_cross_packages()
{
	local arch=$1 pkg

	printf '%s\n' "crossbuild-essential-$arch" qemu-user-static
	for pkg in "${LINKYD_BUILD_PACKAGES[@]}"; do
		case $pkg in
		lib*) printf '%s\n' "$pkg:$arch" ;;
		esac
	done
}
# The Debian packages (scripts/package.sh): debhelper builds them, lintian checks them;
# debootstrap makes the fresh Debian 12 roots scripts/package-test.sh installs them into. The
# build dependencies come from debian/control (apt-get build-dep).
LINKYD_PACKAGE_PACKAGES=(debhelper dpkg-dev lintian debootstrap)
# The whole suite: the style test needs clang-format (without it CTest has no style test); the
# broker, the clients, socat (fake serial lines) and valgrind are for the daemon's tests; nodejs
# runs the Node-RED example's JavaScript; python3-jinja2 renders the Home Assistant templates;
# prometheus brings promtool, which lints /metrics; curl authenticates as Domoticz does; mandoc
# checks the manual pages.
LINKYD_TEST_PACKAGES=("${LINKYD_BUILD_PACKAGES[@]}" "${LINKYD_FUZZ_PACKAGES[@]}" clang-format
	mosquitto mosquitto-clients socat valgrind python3 python3-jinja2 openssl nodejs prometheus
	curl mandoc "${LINKYD_PACKAGE_PACKAGES[@]}")
for _arch in arm64 armhf; do
	mapfile -t -O "${#LINKYD_TEST_PACKAGES[@]}" LINKYD_TEST_PACKAGES < <(linkyd_cross_packages "$_arch")
done
unset _arch
# The demo: a broker, a subscriber, a pseudo-terminal pair, and python3 to pace the replay.
LINKYD_DEMO_PACKAGES=("${LINKYD_BUILD_PACKAGES[@]}" mosquitto mosquitto-clients socat python3)

LINKYD_JOBS=$(nproc 2>/dev/null || echo 2)

section()
{
	printf '\n==== %s ====\n' "$*"
}

die()
{
	printf '%s: error: %s\n' "$LINKYD_PROG" "$*" >&2
	exit 1
}

# Run a command as root: directly, or through sudo for a developer's account.
as_root()
{
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root or sudo to run: $*"
	fi
}

# Install the packages given that are missing. apt-get only runs when something is missing, so
# that a ready machine needs neither the network nor root.
linkyd_install_packages()
{
	local missing=() pkg native arch status

	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "dpkg-query not found: not Debian, not checking packages (needs: $*)"
		return 0
	fi
	native=$(dpkg --print-architecture)
	for pkg in "$@"; do
		# "name:arch", or a bare name for the machine's architecture (or "all"): dpkg-query
		# lists an installed instance of every architecture.
		arch=$native
		case $pkg in
		*:*) arch=${pkg#*:} ;;
		esac
		status=$(dpkg-query -W -f='${Architecture} ${Status}\n' "${pkg%%:*}" 2>/dev/null || true)
		if ! grep -Eqx "($arch|all) install ok installed" <<<"$status"; then
			missing+=("$pkg")
		fi
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		echo "All $# packages are installed."
		return 0
	fi
	echo "Installing missing packages: ${missing[*]}"
	# "name:arch" of a foreign architecture: dpkg must know the architecture before apt-get
	# update fetches its package lists.
	for pkg in "${missing[@]}"; do
		case $pkg in
		*:*) linkyd_add_architecture "${pkg#*:}" ;;
		esac
	done
	# env, because sudo drops the caller's environment; noninteractive, because CI has no stdin.
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" </dev/null || die "apt-get install failed: ${missing[*]}"
}

# Let dpkg install packages of ARCH (multiarch), unless it is the machine's own.
linkyd_add_architecture()
{
	if [ "$1" != "$(dpkg --print-architecture)" ] &&
		! dpkg --print-foreign-architectures | grep -qx "$1"; then
		as_root dpkg --add-architecture "$1"
	fi
}

# linkyd_configure DIR [CMAKE_ARGS...]: configure the build directory DIR (relative to the root).
linkyd_configure()
{
	local dir=$1

	shift
	cmake -S "$LINKYD_ROOT" -B "$LINKYD_ROOT/$dir" "$@"
}

# linkyd_build DIR [TARGET...]: build DIR, all of it without targets.
linkyd_build()
{
	local dir=$1 target args=()

	shift
	for target in "$@"; do
		args+=(--target "$target")
	done
	cmake --build "$LINKYD_ROOT/$dir" -j "$LINKYD_JOBS" "${args[@]}"
}

# The one release configuration, shared by test.sh (everything) and demo.sh (linkyd only), so
# that running one after the other rebuilds nothing. -Werror: Debian 12's gcc is the reference
# toolchain, and a warning there is a bug.
LINKYD_RELEASE_DIR=build/release
linkyd_configure_release()
{
	linkyd_configure "$LINKYD_RELEASE_DIR" -DCMAKE_BUILD_TYPE=Release -DLINKYD_WERROR=ON
}
