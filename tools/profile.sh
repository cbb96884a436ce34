#!/bin/bash
# tools/profile.sh [--out FILE] [--reps N] - where the time of a training
# step goes, written as Markdown (default results/bench/profile.md):
#   - `bplab train --profile` of the reference workload (Fashion-MNIST,
#     784-256-128-10, batch 128) at 1 thread on every kernel table this
#     CPU runs (scalar on 64 steps: it is ~40x slower), and the best table
#     at 2 threads;
#   - the same for the LSTM (128 units, T = 28 rows of 28 pixels);
#   - what profiling costs: N pairs (default 15) of three-epoch runs with
#     and without --profile, in ABBA order so a busy host's drift stays
#     out of the ratio; the median of the pairs' training-time ratios and
#     the ratio of the fastest epochs, beside the cost each profile
#     prints for itself.
# Summary tables are read from the profiles the same run printed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/bench/profile.md
reps=15
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "usage: tools/profile.sh [--out FILE] [--reps N]" >&2; exit 2 ;;
    esac
done
bp=${BPLAB_BUILD:-build}/bplab
[ -x "$bp" ] || { echo "tools/profile.sh: no $bp (build first)" >&2; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
start=$SECONDS

# the tables this binary has and this CPU runs, least capable first
isas=$("$bp" info | sed -n 's/^isas *//p' | tr ',' '\n' | grep -v '(' | tr -d ' ')
best=$(echo "$isas" | tail -1)
cpu=$("$bp" info | sed -n 's/^cpu *//p')

# profile NAME ARGS...: the profile of one run into $t/NAME
profile() {
    local name=$1; shift
    "$bp" train --quiet --profile "$@" > "$t/$name" 2>&1 ||
        { cat "$t/$name" >&2; exit 1; }
}
ref=(--epochs 1)
lstm=(--data fashion-mnist-rows --model lstm --hidden 128 --epochs 1 --limit-train 16384)
for isa in $isas; do
    if [ "$isa" = scalar ]; then
        profile "ref-$isa" "${ref[@]}" --limit-train 8192 --isa "$isa" --threads 1
    else
        profile "ref-$isa" "${ref[@]}" --isa "$isa" --threads 1
    fi
done
profile "ref-$best-2t" "${ref[@]}" --isa "$best" --threads 2
profile "lstm-$best" "${lstm[@]}" --isa "$best" --threads 1
profile "lstm-$best-2t" "${lstm[@]}" --isa "$best" --threads 2

# what profiling costs: pairs in ABBA order (so a drifting host biases
# neither side), the training time from the metrics; also the fastest
# epoch of each side, the estimate least disturbed by other load
: > "$t/ratios"; : > "$t/plain.e"; : > "$t/prof.e"
for r in $(seq "$reps"); do
    order="plain prof"
    [ $((r % 2)) = 0 ] && order="prof plain"
    for w in $order; do
        extra=()
        [ $w = prof ] && extra=(--profile)
        "$bp" train --epochs 3 --threads 1 --isa "$best" --quiet --metrics "$t/$w.csv" \
            "${extra[@]}" > /dev/null
        awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i; next }
                 { print $c }' "$t/$w.csv" > "$t/$w.last"
        cat "$t/$w.last" >> "$t/$w.e"
        awk '{ s += $1 } END { print s }' "$t/$w.last" > "$t/$w.s"
    done
    echo "$(cat "$t/prof.s") / $(cat "$t/plain.s")" | bc -l >> "$t/ratios"
done
ratio=$(median < "$t/ratios")
ratios=$(awk '{ printf "%s%.3f", (NR > 1 ? ", " : ""), $1 }' "$t/ratios")
best_plain=$(sort -g "$t/plain.e" | head -1)
best_prof=$(sort -g "$t/prof.e" | head -1)
min_ratio=$(echo "$best_prof / $best_plain" | bc -l)

# summary row of a profile: ms a step, the top kernels with share and bound
summary() {
    awk -v label="$2" '
        /^cost/ { for (i = 1; i <= NF; i++) if ($i == "calls") calls = $(i - 1)
                  for (i = 1; i <= NF; i++) if ($i == "of") cost = $(i - 1) }
        /^training steps:/ { inside = 1; steps = $3
                             for (i = 1; i <= NF; i++) if ($i == "each);") each = $(i - 2)
                             gsub(/[(]/, "", each); next }
        inside && /^  layer / { inside = 0 }
        inside && $2 ~ /^(scalar|avx2|avx512|neon)$/ && n < 3 {
            n++; share = $5; bound = ""
            for (i = 8; i <= NF; i++) if ($i ~ /%$/) bound = $i " " $(i + 1) ($(i + 2) == "peak" ? " peak" : "")
            top = top (n > 1 ? "; " : "") $1 " " share (bound != "" ? " at " bound : "") }
        inside && /^  \(batch gather\)/ { gather = $(NF) }
        END { printf "| %s | %s | %s | %s | %s | %s |\n", label, each, top, gather, calls, cost }
    ' "$t/$1"
}
block() {
    echo
    echo '```'
    sed -n '/^profile/,$p' "$t/$1"
    echo '```'
}

{
    echo "# Where the time of a training step goes"
    echo
    echo "Written by \`tools/profile.sh\` on $cpu ($(nproc) CPUs), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core kernels || echo ' (with local changes)'), $(date -u +%Y-%m-%d), in $((SECONDS - start)) s."
    echo "Every figure below comes from \`bplab train --profile\` in this run: the"
    echo "profiling kernel table times each kernel call (core/prof.h), the FMA peak and"
    echo "the copy bandwidth are measured by the same process at start. A GEMM's"
    echo "bound is the FMA peak times the threads; an element-wise kernel's is one"
    echo "thread's memcpy bandwidth (read + write) at the bytes one call moves, which a"
    echo "kernel that reads more than it writes, or works in place, can pass."
    echo
    echo "## Summary"
    echo
    echo "| run | ms a step | the three kernels with the most time (share of the step, of their bound) | batch gather | kernel calls a step | timing cost |"
    echo "|---|---|---|---|---|---|"
    for isa in $isas; do
        if [ "$isa" = scalar ]; then lbl="reference, scalar, 1 thread (64 steps)"; else lbl="reference, $isa, 1 thread"; fi
        summary "ref-$isa" "$lbl"
    done
    summary "ref-$best-2t" "reference, $best, 2 threads"
    summary "lstm-$best" "LSTM 128, T = 28, $best, 1 thread"
    summary "lstm-$best-2t" "LSTM 128, T = 28, $best, 2 threads"
    echo
    echo "## What profiling costs"
    echo
    echo "The reference workload, three epochs at 1 thread on $best, $reps pairs with and"
    echo "without \`--profile\` (in ABBA order): the profiled training time is"
    echo "**$(printf '%.3f' "$ratio")x** the plain one's (the median of the pairs: $ratios);"
    echo "the fastest profiled epoch took $(printf '%.4f' "$best_prof") s, the fastest plain one"
    echo "$(printf '%.4f' "$best_plain") s (**$(printf '%.3f' "$min_ratio")x**). The pairs scatter by a few"
    echo "percent on a shared host; the profiles above estimate the cost from a"
    echo "calibration instead (timing cost column): two clock reads and the"
    echo "bookkeeping, times the calls a step makes. The issue's ceiling is 1.03x."
    for isa in $isas; do
        echo
        echo "## Reference workload, $isa, 1 thread"
        block "ref-$isa"
    done
    echo
    echo "## Reference workload, $best, 2 threads"
    block "ref-$best-2t"
    echo
    echo "## LSTM (128 units, T = 28, batch 128), $best, 1 thread"
    block "lstm-$best"
    echo
    echo "## LSTM, $best, 2 threads"
    block "lstm-$best-2t"
} > "$t/report.md"
mv "$t/report.md" "$out"
echo "tools/profile.sh: wrote $out ($((SECONDS - start)) s)"
