#!/usr/bin/env bash
# tests/check_kernels_no_core.sh SOURCE_DIR - kernels/ depends on nothing in
# core/: no file under kernels/ may include a core/ header (status codes
# and the generator live in kernels/base/, below both). The build checks
# the same at link time: the kernel suites link bplab_kernels alone.
set -eu
src=$1
[[ -d "$src/kernels" ]] || { echo "no $src/kernels"; exit 2; }
files=$(find "$src/kernels" -type f \( -name '*.c' -o -name '*.h' -o -name '*.inc' \) | wc -l)
[[ $files -ge 20 ]] || { echo "only $files files under $src/kernels"; exit 2; }
if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]core/' "$src/kernels"; then
    echo "kernels/ includes core/ headers (above); move what it needs below both"
    exit 1
fi
echo "$files files under kernels/: no core/ include"
