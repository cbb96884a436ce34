#!/bin/bash
# tools/train_ab.sh A B [REPS] - training throughput of two bplab builds on
# the reference workload, compared in one run.
#
# Runs `bplab train --epochs 3` (Fashion-MNIST, 784-256-128-10, batch 128)
# with A and B alternately, REPS times each (default 5), at 1 and 2
# threads, and prints a Markdown table: the median over runs of the mean
# samples/s of epochs 2 and 3 (epoch 1 warms caches and page-faults the
# arenas), and B / A. Alternating keeps a busy host's drift out of the
# ratio. Both builds must produce the same test accuracy (the same bits).
set -euo pipefail
a=$(realpath "$1"); b=$(realpath "$2"); reps=${3:-5}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
rate() { # samples/s: mean of epochs 2..3 from a metrics CSV on stdin
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "samples_per_s") c = i; next }
             $1 >= 2 { s += $c; n++ } END { printf "%.0f\n", s / n }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "| threads | A samples/s | B samples/s | B / A |"
echo "|---|---|---|---|"
for th in 1 2; do
    : > "$t/a"; : > "$t/b"
    for r in $(seq "$reps"); do
        for w in a b; do
            bin=$a; [ $w = b ] && bin=$b
            "$bin" train --epochs 3 --threads "$th" --quiet --metrics - 2> /dev/null |
                tee "$t/$w.csv" | rate >> "$t/$w"
            tail -1 "$t/$w.csv" | cut -d, -f9,10 > "$t/$w.acc"
        done
        cmp -s "$t/a.acc" "$t/b.acc" || { echo "A and B trained different bits" >&2; exit 1; }
    done
    ma=$(median < "$t/a"); mb=$(median < "$t/b")
    echo "| $th | $ma | $mb | $(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.3f", b / a }') |"
done
