# tools/toolchain-aarch64.cmake - cross-build bplab for AArch64 (Linux,
# Debian multiarch) with aarch64-linux-gnu-gcc, and run what CMake runs
# (ctest, try_run) under qemu-aarch64.
#
#   cmake -S . -B build-aarch64 \
#         -DCMAKE_TOOLCHAIN_FILE=tools/toolchain-aarch64.cmake
#
# Needs gcc-aarch64-linux-gnu and qemu-user; the libraries bplab links
# (zlib, and Check for the tests) come from Debian's arm64 multiarch
# packages (zlib1g-dev:arm64, check:arm64), which install into
# /usr/lib/aarch64-linux-gnu. tools/test-neon.sh installs all of them.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# The cross glibc (libc6-arm64-cross) lives in /usr/aarch64-linux-gnu, and
# -L makes qemu take the dynamic loader from there. The multiarch packages
# pull in a second arm64 glibc (libc6:arm64, in /lib/aarch64-linux-gnu, a
# newer Debian revision), which that loader would otherwise find first in
# its default path: loader and libc from different builds corrupt the
# loader's private state (pthread_create then spins forever in its stack
# cache). LD_LIBRARY_PATH keeps the loader's own libc first; libz, libcheck
# and libsubunit still come from /usr/lib/aarch64-linux-gnu.
set(CMAKE_CROSSCOMPILING_EMULATOR
    "qemu-aarch64;-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib")

# Libraries and headers: the target's only (programs: the host's).
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (Check): the arm64 .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
