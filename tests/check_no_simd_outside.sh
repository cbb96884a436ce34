#!/usr/bin/env bash
# tests/check_no_simd_outside.sh BUILD_DIR - no object outside the x86 ISA
# kernel folders may contain an AVX or AVX-512 instruction (a ymm or zmm
# register), so the binary runs on any x86-64 until dispatch says yes.
# Also checks the converse where ISA objects exist: the AVX2 objects use ymm
# and the AVX-512 objects use zmm, so the test cannot pass by scanning
# nothing. The one exception is bench/peak_<isa>.c: the FMA-peak loop and
# the libmvec baseline of the benchmarks, built with their ISA's flags and
# called only after dispatch reports the ISA usable.
set -eu
build=$1
[[ "$(uname -m)" == x86_64 ]] || { echo "not x86-64: nothing to check"; exit 0; }
mapfile -t objs < <(find "$build" -name '*.o' -path '*CMakeFiles*' | sort)
checked=0 bad=0
for o in "${objs[@]}"; do
    case "$o" in
    */bplab_avx2.dir/*)
        objdump -d "$o" | grep -q '%ymm' || { echo "no ymm in AVX2 object $o"; bad=1; } ;;
    */bplab_avx512.dir/*)
        objdump -d "$o" | grep -q '%zmm' || { echo "no zmm in AVX-512 object $o"; bad=1; } ;;
    */bench_kernels.dir/peak_avx2.c.o | */bench_kernels.dir/peak_avx512.c.o) ;;
    *)
        checked=$((checked + 1))
        if objdump -d "$o" | grep -Eq '%[yz]mm'; then
            echo "AVX instruction outside kernels/x86: $o"
            objdump -d "$o" | grep -E '%[yz]mm' | head -3
            bad=1
        fi ;;
    esac
done
echo "$checked baseline objects checked"
[[ $checked -ge 10 && $bad -eq 0 ]]
