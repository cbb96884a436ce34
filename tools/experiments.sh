#!/usr/bin/env bash
# tools/experiments.sh [--quick] [--force] [--out DIR] [--threads N] [--index-only]
#
# Run every experiment program (build/experiments/*) and rewrite the index
# DIR/README.md from their headline.md files (--index-only: just rewrite
# the index; with DIR results, also the experiments table of README.md).
# Default DIR: results (full runs) or results/quick (--quick).
# Extra options pass to every program (e.g. --jobs 2: two runs at once,
# one thread each; an interrupted set resumes). Exit status: non-zero if any
# experiment failed or came out incomplete.
set -u
cd "$(dirname "$0")/.."
build=${BPLAB_BUILD:-build}
quick=0 out="" pass=() index_only=0
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1; pass+=("$1") ;;
    --out) out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --index-only) index_only=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) pass+=("$1") ;;
    esac
    shift
done
[ -n "$out" ] || { [ $quick = 1 ] && out=results/quick || out=results; }
exps="activations gradient_flow batchnorm lr_range init dropout regularization clipping exploding early_stopping loss data_size optimizers recurrent clipping_rnn sequential cnn augmentation batchnorm_cnn isa"
start=$SECONDS fail=0
for e in $exps; do
    [ $index_only = 1 ] && break
    bin="$build/experiments/$e"
    [ -x "$bin" ] || { echo "experiments.sh: $bin not built (cmake --build $build)"; exit 2; }
    t0=$SECONDS
    if ! "$bin" "${pass[@]}" --out "$out/$e"; then
        echo "experiments.sh: $e failed"
        fail=1
    fi
    echo "experiments.sh: $e took $((SECONDS - t0)) s"
done

# the index
{
    echo "# Results"
    echo
    if [ $quick = 1 ]; then
        echo "Quick runs (\`tools/experiments.sh --quick\`): a smoke test, not evidence."
    else
        # the programs' own wall times, so that a rerun of one keeps the sum true
        wall=$(cat "$out"/*/provenance.json 2> /dev/null |
               sed -n 's/.*"wall_seconds": \([0-9.]*\).*/\1/p' | awk '{ s += $1 } END { printf "%.0f", s }')
        echo "Full runs of every experiment (\`tools/experiments.sh\`), $wall s of wall time on"
        echo "$("$build/bplab" info | sed -n 's/^cpu *//p'). Each folder holds metrics.csv (every epoch of every"
        echo "run), summary.md (tables and verdicts computed from the numbers), PNG plots and"
        echo "provenance.json. Benchmarks: [bench/](bench/README.md)."
    fi
    echo
    echo "| experiment | headline (mean ± sd over seeds) | details |"
    echo "|---|---|---|"
    for e in $exps; do
        h=$(cat "$out/$e/headline.md" 2>/dev/null || echo "missing")
        links="[summary]($e/summary.md)"
        for png in "$out/$e"/*.png; do
            [ -f "$png" ] || continue
            p=$(basename "$png")
            links="$links, [${p%.png}]($e/$p)"
        done
        echo "| $e | $h | $links |"
    done
} > "$out/README.md.tmp" && mv "$out/README.md.tmp" "$out/README.md"

# the committed results also feed the table in the top-level README,
# between its two markers (tools/check_results.py --readme checks it)
if [ $quick = 0 ] && [ "$out" = results ] &&
    grep -q '^<!-- experiments: generated from results/README.md -->$' README.md &&
    grep -q '^<!-- /experiments -->$' README.md; then
    {
        echo "| experiment | headline (mean ± sd over seeds) |"
        echo "|---|---|"
        for e in $exps; do
            echo "| [$e](results/$e/summary.md) | $(cat "$out/$e/headline.md" 2>/dev/null || echo missing) |"
        done
    } > README.md.rows
    awk -v rows=README.md.rows '
        /^<!-- experiments: generated from results\/README.md -->$/ {
            print; while ((getline l < rows) > 0) print l; skip = 1; next }
        /^<!-- \/experiments -->$/ { skip = 0 }
        !skip' README.md > README.md.tmp && mv README.md.tmp README.md
    rm -f README.md.rows
fi
echo "experiments.sh: all done in $((SECONDS - start)) s; index: $out/README.md"
exit $fail
