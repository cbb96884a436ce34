#!/bin/bash
# tools/pool_ab.sh [REPS] EXPERIMENT... - wall time of whole experiment
# grids trained one run at a time on all CPUs (--jobs 1 --threads CPUS)
# against a pool of one-thread runs (--jobs CPUS --threads 1), alternated
# REPS times (default 2) so that a busy host's drift stays out of the
# ratio. Prints a Markdown table of the medians and checks that both ways
# wrote the same metrics.csv but for the timing columns.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=2
case "${1:-}" in [0-9]*) reps=$1; shift ;; esac
[ $# -gt 0 ] || { echo "usage: tools/pool_ab.sh [REPS] EXPERIMENT..." >&2; exit 2; }
build=${BPLAB_BUILD:-build}
cpus=$(nproc)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
untimed() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i != "seconds" && $i != "samples_per_s") keep[i] = 1 }
             { s = ""; for (i = 1; i <= NF; i++) if (i in keep) s = s $i ","; print s }' "$1"
}
echo "| experiment | runs | --jobs 1 --threads $cpus (s) | --jobs $cpus --threads 1 (s) | speed-up |"
echo "|---|---|---|---|---|"
for e in "$@"; do
    : > "$t/a"; : > "$t/b"
    for r in $(seq "$reps"); do
        for w in a b; do
            if [ $w = a ]; then opts=(--jobs 1 --threads "$cpus"); else opts=(--jobs "$cpus" --threads 1); fi
            rm -rf "$t/$w-out"
            s=$(date +%s.%N)
            "$build/experiments/$e" "${opts[@]}" --out "$t/$w-out" > /dev/null 2>&1
            echo "$(date +%s.%N) - $s" | bc >> "$t/$w"
        done
        cmp -s <(untimed "$t/a-out/metrics.csv") <(untimed "$t/b-out/metrics.csv") ||
            { echo "pool_ab.sh: $e: the two ways wrote different metrics" >&2; exit 1; }
    done
    runs=$(cut -d, -f1,2 "$t/a-out/metrics.csv" | sed 1d | sort -u | wc -l)
    ma=$(median < "$t/a"); mb=$(median < "$t/b")
    printf "| %s | %s | %.1f | %.1f | %.2fx |\n" "$e" "$runs" "$ma" "$mb" \
        "$(echo "$ma / $mb" | bc -l)"
done
