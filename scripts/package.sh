#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/package.sh [ARCH]: build the Debian package linkyd_<version>_<ARCH>.deb under
# build/deb/, for this machine's architecture by default, or cross-built for another one (arm64
# and armhf: the Raspberry Pi's) with Debian's cross toolchain and multiarch -dev packages. On
# a fresh Debian 12 machine, as root or with sudo, from any directory.
#
# The source tree is copied to build/deb/ARCH/linkyd-VERSION/ and built there with
# dpkg-buildpackage (debian/rules: debhelper and CMake), so that the checkout gets no debhelper
# files; the source package (.dsc, .tar.xz), .changes and .buildinfo stay in build/deb/ARCH/.
# lintian then checks them all and fails on any error or warning.
#
# A native build runs the unit tests, unless DEB_BUILD_OPTIONS has nocheck; a cross build never
# does (scripts/cross-test.sh runs them under qemu-user).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$LINKYD_ROOT"

native=$(dpkg --print-architecture)
arch=${1:-$native}
[ $# -le 1 ] || die "usage: $0 [ARCH]"

linkyd_install_packages "${LINKYD_PACKAGE_PACKAGES[@]}"
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
project=$(sed -n 's/^project(linkyd VERSION \([^ )]*\).*/\1/p' CMakeLists.txt)
[ "$version" = "$project" ] ||
	die "debian/changelog says $version, CMakeLists.txt $project: add a changelog entry (dch -v)"

options=${DEB_BUILD_OPTIONS:-}
profiles=
if [ "$arch" != "$native" ]; then
	profiles=cross,nocheck
	options="$options nocheck"
elif [[ " $options " == *" nocheck "* ]]; then
	profiles=nocheck
fi
# -j2 at most: the machines this builds on are small and shared.
options="$options parallel=$(((LINKYD_JOBS < 2) ? LINKYD_JOBS : 2))"

section "build dependencies ($arch)"
if [ "$arch" != "$native" ]; then
	linkyd_install_packages "crossbuild-essential-$arch"
fi
# debian/control says what the build needs; apt resolves it for ARCH (multiarch).
if ! dpkg-checkbuilddeps -a "$arch" -P "$profiles" debian/control 2>/dev/null; then
	linkyd_add_architecture "$arch"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q --no-install-recommends \
		-a "$arch" --build-profiles="$profiles" "$LINKYD_ROOT" </dev/null || die "apt-get build-dep failed"
fi

section "dpkg-buildpackage ($arch)"
out=$LINKYD_ROOT/build/deb
work=$out/$arch
src=$work/linkyd-$version
rm -rf "$work"
mkdir -p "$src"
# What git tracks, or would (new files not yet committed), as in a release tarball; everything
# but build/ outside a checkout.
if git -C "$LINKYD_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$LINKYD_ROOT" ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$src" --
else
	tar -C "$LINKYD_ROOT" --exclude=./build -cf - . | tar -C "$src" -xf -
fi
(
	cd "$src"
	DEB_BUILD_OPTIONS=${options# } nice -n 10 dpkg-buildpackage -us -uc \
		--build=source,any -a "$arch" -P"$profiles"
)
deb=linkyd_${version}_$arch.deb
ln -f "$work/$deb" "$out/$deb"

section "lintian ($arch)"
lintian --fail-on error,warning --info --display-info "$work"/linkyd_"${version}"_"$arch".changes

section "result"
dpkg-deb --info "$out/$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$out/$deb"
echo "package.sh: built $out/$deb"
