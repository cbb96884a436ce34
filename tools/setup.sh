#!/bin/sh
# tools/setup.sh [test|bench|engines] - install what bplab needs on Debian
# 12, and only what is missing (quiet when everything is there). Run as
# root, or with sudo available. "test" adds what the test suite, the
# sanitizer build, fuzzing and valgrind need (and numpy, for the check of
# bplab export); "bench" adds the benchmark peers (OpenBLAS, oneDNN,
# PyTorch); "engines" adds the sweep engines, Slurm (with munge, for
# tools/slurm-local.sh) and GNU parallel (tests/sweep/engines.sh).
set -e
pkgs="build-essential cmake git pkg-config check zlib1g-dev libbenchmark-dev
      dataset-fashion-mnist gnuplot-nox python3"
case "${1:-}" in
test)  # the test suite, sanitizers, fuzzing, valgrind
    pkgs="$pkgs binutils clang libclang-rt-14-dev libomp-dev valgrind
          python3-numpy" ;;
bench) # the peers of tools/bench.sh (oneDNN's CMake package needs OpenCL's
       # headers, which libdnnl-dev does not pull in)
    pkgs="$pkgs libopenblas-dev libdnnl-dev ocl-icd-opencl-dev python3-torch" ;;
engines) # tools/sweep-slurm.sh, tools/slurm-local.sh, tools/sweep-parallel.sh
    pkgs="$pkgs slurm-wlm munge parallel" ;;
"") ;;
*) echo "usage: sh tools/setup.sh [test|bench|engines]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
        grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "tools/setup.sh: installing$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends $missing >/dev/null
