# SPDX-License-Identifier: MIT
# Cross-building on Debian with its cross toolchains (crossbuild-essential-<arch>) and the
# multiarch -dev packages (libconfig-dev:<arch>...), included by toolchain-<arch>.cmake after
# it set LINKYD_CROSS_TRIPLET and LINKYD_CROSS_PROCESSOR. Libraries, headers and CMake packages
# come from the target's multiarch directories only, never the build machine's; ctest runs the
# test executables through qemu-user (qemu-user-static), which finds the target's dynamic
# loader and libraries where multiarch installed them (/lib/ld-linux-*.so, /usr/lib/<triplet>).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${LINKYD_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${LINKYD_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${LINKYD_CROSS_TRIPLET})
set(PKG_CONFIG_EXECUTABLE /usr/bin/${LINKYD_CROSS_TRIPLET}-pkg-config CACHE FILEPATH
	"pkg-config for the target's multiarch directories")
set(CMAKE_FIND_ROOT_PATH /usr/${LINKYD_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/${LINKYD_CROSS_QEMU}-static)
