#!/usr/bin/env bash
# tests/check_bench_peers.sh SOURCE_DIR - a benchmark peer that is present
# but broken costs the build only that peer: bplab configures with a
# oneDNN package config that fails (as Debian's libdnnl-dev does without
# ocl-icd-opencl-dev) and says in one line why the peer is skipped.
set -u
src=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir "$t/dnnl"
cat > "$t/dnnl/dnnl-config.cmake" <<'CFG'
find_package(OpenCLThatIsNotThere REQUIRED)
CFG
if ! cmake -S "$src" -B "$t/build" -DBPLAB_TESTS=OFF -DBPLAB_BENCH=ON \
        -Ddnnl_DIR="$t/dnnl" > "$t/log" 2>&1; then
    echo "FAIL: configure failed on a broken oneDNN package:"
    tail -20 "$t/log"
    exit 1
fi
grep -q "bench: oneDNN at $t/dnnl is unusable (.*OpenCLThatIsNotThere.*): no oneDNN peer" "$t/log" || {
    echo "FAIL: no line saying why oneDNN is skipped:"
    grep "bench:" "$t/log"
    exit 1
}
grep "bench: oneDNN" "$t/log"
