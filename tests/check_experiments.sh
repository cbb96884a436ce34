#!/usr/bin/env bash
# tests/check_experiments.sh BUILD SOURCE - the experiment harness end to
# end on two small experiments (quick, one seed): every output file is
# produced and well formed (tools/check_results.py), a second run refuses
# to overwrite without --force, and --force replaces. The full smoke of
# every experiment runs in .ci/run (tools/experiments.sh --quick).
set -eu
build=$1 src=$2
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
"$build/experiments/loss" --quick --seeds 1 --epochs 1 --out "$t/loss"
"$build/experiments/isa" --quick --seeds 1 --out "$t/isa"
python3 "$src/tools/check_results.py" "$t" loss isa
if "$build/experiments/loss" --quick --seeds 1 --epochs 1 --out "$t/loss" 2> "$t/err"; then
    echo "FAIL: an existing results folder was overwritten without --force"; exit 1
fi
grep -q "already holds results (use --force" "$t/err" || { cat "$t/err"; exit 1; }
"$build/experiments/loss" --quick --seeds 1 --epochs 1 --out "$t/loss" --force
grep -q '"status": "complete"' "$t/loss/provenance.json"
if "$build/experiments/loss" --seeds 99 2> "$t/err"; then echo "FAIL: --seeds 99 accepted"; exit 1; fi
grep -q -- "--seeds 99: must be between 1 and 16" "$t/err" || { cat "$t/err"; exit 1; }
echo "experiment harness: outputs complete and well formed"
