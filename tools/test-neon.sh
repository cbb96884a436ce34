#!/bin/sh
# tools/test-neon.sh - cross-build bplab for AArch64 and test the NEON
# kernel table under qemu-aarch64 (user-mode emulation), on Debian 12 x86-64.
#
#   1. installs what is missing (quiet when everything is there): the cross
#      compiler, qemu-user, and zlib and Check for arm64 through Debian
#      multiarch (dpkg --add-architecture arm64);
#   2. configures build-aarch64/ with tools/toolchain-aarch64.cmake,
#      -DBPLAB_WERROR=ON (no benchmarks: they need an arm64 C++ toolchain
#      and Google Benchmark), and builds it;
#   3. under qemu: `bplab info` must show neon usable and active; `bplab
#      check` (full battery) must report every kernel of the neon table as
#      "pass" and exit 0; then the Check suites through ctest, when Check
#      for arm64 could be installed (without it the suites are not built
#      and `bplab check` is the test).
# Exits non-zero on any failure. Run as root, or with sudo available.
# Usage: sh tools/test-neon.sh [build-dir]   (default build-aarch64)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
t0=$(date +%s)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

fail() {
    echo "tools/test-neon.sh: FAIL: $*" >&2
    exit 1
}

installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q "install ok installed"
}

# ---- 1. packages
host_pkgs="cmake make pkg-config gcc-aarch64-linux-gnu qemu-user"
arm_pkgs="zlib1g-dev:arm64 check:arm64"
missing=""
for p in $host_pkgs $arm_pkgs; do
    installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "tools/test-neon.sh: installing$missing"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        $sudo dpkg --add-architecture arm64
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends $host_pkgs >/dev/null
    # zlib is required; Check only for the test suites
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends zlib1g-dev:arm64 >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends check:arm64 >/dev/null ||
        echo "tools/test-neon.sh: check:arm64 unavailable: building without the Check suites"
fi
tests=OFF
installed check:arm64 && tests=ON

# The same emulator line as tools/toolchain-aarch64.cmake (see there why
# LD_LIBRARY_PATH is set).
emu="qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib"

# ---- 2. cross build
log="$build/test-neon.log"
mkdir -p "$build"
if ! cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=tools/toolchain-aarch64.cmake \
        -DCMAKE_BUILD_TYPE=Release -DBPLAB_WERROR=ON -DBPLAB_BENCH=OFF \
        -DBPLAB_TESTS=$tests >"$log" 2>&1; then
    cat "$log"
    fail "configure failed"
fi
if ! cmake --build "$build" -j"$(nproc)" >>"$log" 2>&1; then
    grep -E "error|warning" "$log" | head -40
    fail "build failed (log: $log)"
fi
if grep -q "warning:" "$log"; then
    grep "warning:" "$log" | head -20
    fail "the build printed warnings"
fi
t1=$(date +%s)
echo "tools/test-neon.sh: built $build (tests $tests) in $((t1 - t0)) s"

# ---- 3. under qemu
# shellcheck disable=SC2086  # $emu is a command line
$emu "$build/bplab" info >"$build/info.txt" || { cat "$build/info.txt"; fail "bplab info exited non-zero"; }
cat "$build/info.txt"
grep -Eq '^active +neon ' "$build/info.txt" || fail "bplab info: neon is not the active table"
grep -E '^isas ' "$build/info.txt" | grep -Eq '(^|[ ,])neon(,|$)' ||
    fail "bplab info: neon is not usable"
# kernel rows of the info table: from the "kernel" header to the blank line
nkernels=$(awk '/^kernel /{on=1; next} on && NF==0 {exit} on {n++} END {print n+0}' "$build/info.txt")
[ "$nkernels" -gt 0 ] || fail "bplab info lists no kernels"

# shellcheck disable=SC2086
if ! $emu "$build/bplab" check >"$build/check.txt" 2>&1; then
    cat "$build/check.txt"
    fail "bplab check exited non-zero"
fi
cat "$build/check.txt"
npass=$(awk '$2 == "neon" && $NF == "pass"' "$build/check.txt" | wc -l)
[ "$npass" -eq "$nkernels" ] ||
    fail "bplab check: $npass of $nkernels neon kernels pass"
t2=$(date +%s)
echo "tools/test-neon.sh: bplab info + check under qemu: $((t2 - t1)) s"

# The Check suites (check_*: kernels vs scalar and vs double oracles,
# dispatch, checker, thread-count determinism, network gradients, training)
# are what depends on the target, plus the command-line case table
# (cli_cases: bad input, one clear error line each). The other script tests
# drive the command line, whose code is the same on every target and is
# tested natively; they time kills against epoch lengths or start binaries
# without the emulator, so they are not run under emulation here. Nor is
# check_kcheck, the checker's own test (mutants of the scalar table: the
# same C on every target, 205 s under qemu): the neon table itself went
# through the checker above.
if [ "$tests" = ON ]; then
    ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -R '^(check_|cli_cases$)' \
        -E '^check_kcheck$' ||
        fail "ctest under qemu failed"
    t3=$(date +%s)
    echo "tools/test-neon.sh: ctest under qemu: $((t3 - t2)) s"
fi
echo "tools/test-neon.sh: all $nkernels neon kernels pass; done in $(($(date +%s) - t0)) s"
