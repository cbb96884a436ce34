#!/usr/bin/env bash
# tests/cli/sweep.sh BPLAB - a grid of runs as units (bplab sweep, the
# experiments' harness): the same grid trained in-process, by a --jobs pool
# and run by run (--run ID per line of --list, then --report) gives the
# same metrics.csv in every column but the timing ones; a half-trained
# folder reports INCOMPLETE, then resumes without retraining what it has;
# a folder of another grid is refused; the run records are valid JSON.
set -euo pipefail
bin=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

grid=(--seeds 0-2 --vary "--dropout 0,0.2" --vary "--layers 16|8,8")
train=(-- --data spirals --samples 300 --batch 32 --epochs 3)
sweep() { "$bin" sweep --out "$1" "${grid[@]}" "${@:2}" "${train[@]}"; }

# metrics.csv without the timing columns (seconds, samples_per_s)
untimed() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i != "seconds" && $i != "samples_per_s") keep[i] = 1 }
             { s = ""; for (i = 1; i <= NF; i++) if (i in keep) s = s $i ","; print s }' "$1"
}
same() { cmp -s <(untimed "$1/metrics.csv") <(untimed "$2/metrics.csv") ||
         fail "$1 and $2: metrics.csv differ (timing columns aside)"; }

sweep "$t/a" --threads 1 2> "$t/log" || { cat "$t/log"; fail "in-process sweep"; }
[ "$(grep -c . "$t/a/metrics.csv")" -eq 37 ] || fail "a: expected 36 rows and a header"
for f in summary.md provenance.json test_accuracy.png test_loss.png; do
    [ -s "$t/a/$f" ] || fail "a: no $f"
done
grep -q 'Paired with dropout=0 layers=16' "$t/a/summary.md" || fail "a: no paired table"
python3 -c 'import json, sys; [json.load(open(p)) for p in sys.argv[1:]]' "$t"/a/runs/*.json "$t/a/provenance.json" ||
    fail "a: a record is not valid JSON"

sweep "$t/b" --jobs 2 2> "$t/log" || { cat "$t/log"; fail "--jobs 2 sweep"; }
same "$t/a" "$t/b"

# by hand: every line of --list, then the report
[ "$(sweep "$t/c" --list | wc -l)" -eq 12 ] || fail "--list: expected 12 runs"
sweep "$t/c" --list | cut -f1 | while read -r id; do
    sweep "$t/c" --run "$id" 2> /dev/null || fail "--run $id"
done
sweep "$t/c" --report 2> /dev/null || fail "--report"
same "$t/a" "$t/c"
[ -z "$(sweep "$t/c" --list --pending)" ] || fail "c: runs pending after all ran"

# half done: INCOMPLETE, then resumed; the runs already there are not retrained
sweep "$t/d" --run 0 2> /dev/null && sweep "$t/d" --run 5 2> /dev/null || fail "--run by index"
first=$(sweep "$t/d" --list | sed -n 1p | cut -f1)
cp "$t/d/runs/$first.json" "$t/first.json"
rc=0; sweep "$t/d" --report 2> /dev/null || rc=$?
[ $rc -eq 1 ] || fail "a report with runs missing: exit $rc, expected 1"
grep -q 'INCOMPLETE.*10 of 12 runs' "$t/d/summary.md" || fail "d: not marked INCOMPLETE"
[ "$(sweep "$t/d" --list --pending | wc -l)" -eq 10 ] || fail "d: expected 10 pending"
sweep "$t/d" 2> "$t/log" || { cat "$t/log"; fail "resumed sweep"; }
grep -q '(10 to train)' "$t/log" || fail "the resumed sweep did not skip the finished runs"
cmp -s "$t/first.json" "$t/d/runs/$first.json" || fail "a finished run was retrained"
same "$t/a" "$t/d"

# a folder of another grid: refused, one line; --force starts afresh
rc=0
"$bin" sweep --out "$t/a" "${grid[@]}" -- --data spirals --samples 300 --batch 32 --epochs 4 \
    2> "$t/err" || rc=$?
[ $rc -eq 2 ] && [ "$(wc -l < "$t/err")" -eq 1 ] && grep -q 'records a run of other options' "$t/err" ||
    fail "another grid's folder: exit $rc: $(cat "$t/err")"
# an empty folder has nothing to report, and a report is never replaced by an empty one
rc=0; sweep "$t/e" --report 2> "$t/err" || rc=$?
[ $rc -eq 1 ] && grep -q 'nothing to report' "$t/err" || fail "empty report: exit $rc"
echo "sweep: in-process, --jobs 2, run by run and resumed: identical metrics"
