#!/bin/bash
# tools/make_golden.sh BPLAB [OUT] - make the bit-for-bit fixtures of
# tests/fixtures/golden/ with the binary BPLAB.
#
# For every run of runs.txt it writes, with --isa scalar (which any CPU
# runs): NAME.ckpt and NAME.csv (the trained model and its metrics), and
# appends to expected.txt, for every ISA this CPU runs, the SHA-256 of
#   train.ckpt  the run trained from scratch on that ISA
#   train.csv   its metrics, the wall-time columns (seconds,
#               samples_per_s) cut by name
#   resume.ckpt NAME.ckpt resumed for one more epoch on that ISA
#   eval.txt    `bplab eval NAME.ckpt` on that ISA (the report)
#   pred.csv    its --predictions (every sample's probabilities, 9 digits)
# tests/cli/golden.sh recomputes them with the binary under test. Run it
# only to make new fixtures on purpose, with the build whose bits are the
# reference (say which in runs.txt).
set -euo pipefail
bp=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$here/tests/fixtures/golden}
runs=$here/tests/fixtures/golden/runs.txt
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
nowall() { # CSV without the wall-time columns
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) keep[i] = $i != "seconds" && $i != "samples_per_s" }
             { s = ""; for (i = 1; i <= NF; i++) if (keep[i]) s = s (s == "" ? "" : ",") $i; print s }' "$1"
}
hash() { sha256sum | cut -c1-64; }
# `bplab info`'s isas line: "scalar, avx2, avx512, neon (not built ...)"
isas=$("$bp" info | sed -n 's/^isas *//p' | tr ',' '\n' | grep -v '(' | tr -d ' ')
[ -n "$isas" ] || { echo "cannot read the usable ISAs from 'bplab info'" >&2; exit 1; }
: > "$t/expected.txt"
grep -v '^#' "$runs" | while IFS='|' read -r name args; do
    name=$(echo $name)
    [ -n "$name" ] || continue
    epochs=$(echo "$args" | sed -n 's/.*--epochs \([0-9]*\).*/\1/p')
    # shellcheck disable=SC2086
    "$bp" train $args --isa scalar --threads 1 --quiet --save "$out/$name.ckpt" \
        --metrics "$t/$name.csv" > /dev/null
    nowall "$t/$name.csv" > "$out/$name.csv"
    for isa in $isas; do
        # shellcheck disable=SC2086
        "$bp" train $args --isa $isa --threads 1 --quiet --save "$t/a.ckpt" \
            --metrics "$t/a.csv" > /dev/null
        "$bp" train --resume "$out/$name.ckpt" --epochs $((epochs + 1)) --isa $isa \
            --threads 1 --quiet --save "$t/r.ckpt" > /dev/null
        "$bp" eval "$out/$name.ckpt" --isa $isa --threads 1 \
            --predictions "$t/p.csv" | sed "s|$out/||" > "$t/e.txt"
        {
            echo "$name $isa train.ckpt $(hash < "$t/a.ckpt")"
            echo "$name $isa train.csv $(nowall "$t/a.csv" | hash)"
            echo "$name $isa resume.ckpt $(hash < "$t/r.ckpt")"
            echo "$name $isa eval.txt $(hash < "$t/e.txt")"
            echo "$name $isa pred.csv $(hash < "$t/p.csv")"
        } >> "$t/expected.txt"
    done
done
{
    echo "# SHA-256 of what each run gives on each ISA (tools/make_golden.sh)"
    echo "# run isa artifact sha256"
    cat "$t/expected.txt"
} > "$out/expected.txt"
echo "fixtures in $out: $(ls "$out" | tr '\n' ' ')"
