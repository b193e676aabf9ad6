# SPDX-License-Identifier: MIT
# 32-bit Raspberry Pi OS / Debian armhf (ARMv7, hard float): cmake
# -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake. Raspberry Pi OS's own armhf targets ARMv6
# (Pi Zero, Pi 1): Debian's armhf cross compiler emits ARMv7 code, which those cannot run.
set(LINKYD_CROSS_TRIPLET arm-linux-gnueabihf)
set(LINKYD_CROSS_PROCESSOR arm)
set(LINKYD_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
