#!/usr/bin/env bash
# tests/check_experiments.sh BUILD SOURCE - the experiment harness end to
# end on two small experiments (quick, one seed): every output file is
# produced and well formed (tools/check_results.py), a second run finds
# the runs finished and trains nothing, a folder of results without run
# records is replaced on --force only, which clears stale plots. The full smoke of
# every experiment runs in .ci/run (tools/experiments.sh --quick).
set -eu
build=$1 src=$2
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
"$build/experiments/loss" --quick --seeds 1 --epochs 1 --out "$t/loss"
"$build/experiments/isa" --quick --seeds 1 --out "$t/isa"
python3 "$src/tools/check_results.py" "$t" loss isa
# a second run finds every run finished: it trains nothing and reports again
"$build/experiments/loss" --quick --seeds 1 --epochs 1 --out "$t/loss" 2> "$t/err" ||
    { cat "$t/err"; exit 1; }
grep -q "(0 to train)" "$t/err" || { echo "FAIL: a finished experiment was retrained"; cat "$t/err"; exit 1; }
# results without run records (from before runs were kept) are replaced on
# --force only
rm -r "$t/loss/runs"
if "$build/experiments/loss" --quick --seeds 1 --epochs 1 --out "$t/loss" 2> "$t/err"; then
    echo "FAIL: an existing results folder was overwritten without --force"; exit 1
fi
grep -q "already holds results (use --force" "$t/err" || { cat "$t/err"; exit 1; }
# --force also clears the folder's plots: a stale one (a plot an older
# version of the program drew) does not survive, other files do
touch "$t/loss/stale.png" "$t/loss/stale.png.dat" "$t/loss/stale.png.gp" "$t/loss/notes.txt"
"$build/experiments/loss" --quick --seeds 1 --epochs 1 --out "$t/loss" --force
grep -q '"status": "complete"' "$t/loss/provenance.json"
if ls "$t/loss"/stale.png* > /dev/null 2>&1; then echo "FAIL: --force kept a stale plot"; exit 1; fi
[ -f "$t/loss/notes.txt" ] || { echo "FAIL: --force removed a file that is not a plot"; exit 1; }
[ -f "$t/loss/test_accuracy.png" ] || { echo "FAIL: no plot after --force"; exit 1; }
if "$build/experiments/loss" --seeds 99 2> "$t/err"; then echo "FAIL: --seeds 99 accepted"; exit 1; fi
grep -q -- "--seeds 99: must be between 1 and 32" "$t/err" || { cat "$t/err"; exit 1; }
# provenance names, per variant and seed, the `bplab train` command that
# reruns that run: the first variant's first command gives the same test
# loss and accuracy as its row in metrics.csv (an MLP on the default data,
# and an RNN on the adding problem, whose --model and --data differ from
# the defaults)
"$build/experiments/recurrent" --quick --seeds 1 --epochs 1 --out "$t/recurrent" 2> /dev/null
rerun() { # EXPERIMENT
    local cmd name line
    cmd=$(python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["variants"][0]
print(v["name"]); print(v["commands"][0])' "$t/$1/provenance.json")
    name=$(echo "$cmd" | head -n 1)
    line=$(echo "$cmd" | tail -n 1)
    case "$line" in "bplab train "*) ;; *) echo "FAIL: provenance command '$line'"; exit 1 ;; esac
    eval "\"$build/bplab\" ${line#bplab } --metrics \"$t/rerun.csv\" --quiet" > /dev/null ||
        { echo "FAIL: $1's provenance command failed: $line"; exit 1; }
    python3 - "$t/$1/metrics.csv" "$t/rerun.csv" "$name" "$line" <<'PY'
import csv, sys
exp = [r for r in csv.DictReader(open(sys.argv[1]))
       if r["variant"] == sys.argv[3] and r["seed"] == "0"][-1]
run = list(csv.DictReader(open(sys.argv[2])))[-1]
for k in ("test_loss", "test_acc"):
    a, b = float(exp[k]), float(run[k])
    if abs(a - b) > 5e-6 * max(1.0, abs(a)):
        sys.exit("FAIL: %s gives %s %s, metrics.csv %s" % (sys.argv[4], k, b, a))
print("provenance command reruns %s seed 0: test loss %s, accuracy %s"
      % (sys.argv[3], run["test_loss"], run["test_acc"]))
PY
}
rerun loss || exit 1
rerun recurrent || exit 1
echo "experiment harness: outputs complete and well formed"
