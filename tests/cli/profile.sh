#!/usr/bin/env bash
# tests/cli/profile.sh BPLAB TRACE_CHECK - bplab train/eval --profile and
# --trace:
#   - --profile and --trace leave the weights bit-identical (every
#     predicted probability of the saved models is the same), at 1 and
#     2 threads;
#   - a run traced whole (fewer steps than --trace-steps): the trace is
#     valid (tests/trace_check.c), holds one event per kernel call the
#     profile's tables count, every step, epoch and evaluation span, and
#     each step's calls on thread 0 inside their step;
#   - a longer run keeps only --trace-steps steps;
#   - the time in kernels plus the batch gather is within 10% of the
#     measured step time at 1 thread (the rest is the trainer's own code
#     between calls: under 1% on the reference network);
#   - bplab eval --profile --trace profiles the evaluation alone;
#   - the hardware-counter line is always there, and the counter path
#     runs (on the kernel's software events when BPLAB_PROF_EVENTS says
#     so, since virtual machines often hide the PMU).
set -u
bp=$1
tc=$2
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --- the same bits -------------------------------------------------------
for th in 1 2; do
    common=(--limit-train 2048 --epochs 2 --batchnorm --dropout 0.1 --threads "$th" --quiet)
    "$bp" train "${common[@]}" --save "$t/plain$th.ckpt" > /dev/null || fail "plain run, $th threads"
    "$bp" train "${common[@]}" --save "$t/prof$th.ckpt" --profile --trace "$t/x$th.json" \
        > "$t/prof$th.out" || fail "profiled run, $th threads"
    grep -q "^training steps: 32 steps" "$t/prof$th.out" ||
        fail "$th threads: the profile does not count 32 steps: $(cat "$t/prof$th.out")"
    for m in plain prof; do
        "$bp" eval "$t/$m$th.ckpt" --predictions "$t/$m$th.csv" > /dev/null || fail "eval $m$th"
    done
    cmp -s "$t/plain$th.csv" "$t/prof$th.csv" ||
        fail "$th threads: --profile --trace changed the predictions"
done

# --- a run traced whole ---------------------------------------------------
# 512 samples in batches of 128: 4 steps an epoch, 2 epochs, each followed
# by a test evaluation, and the final one: all within --trace-steps 50
"$bp" train --limit-train 512 --epochs 2 --threads 1 --profile --trace "$t/all.json" \
    --trace-steps 50 > "$t/all.out" || fail "a whole traced run"
"$tc" "$t/all.json" > "$t/all.check" || fail "$(cat "$t/all.check")"
read -r _ events _ steps _ epochs _ evals _ calls _ dropped < "$t/all.check"
[ "$steps" = 8 ] && [ "$epochs" = 2 ] && [ "$evals" = 3 ] ||
    fail "spans: $steps steps, $epochs epochs, $evals evaluations (want 8, 2, 3)"
[ "$dropped" = 0 ] && [ "$events" = "$calls" ] ||
    fail "the trace has $events events for $calls calls ($dropped dropped)"
# the calls column of every kernel table (training steps, evaluations)
table_calls=$(awk '$2 ~ /^(scalar|avx2|avx512|neon)$/ && $3 ~ /^[0-9]+$/ { s += $3 }
                   END { print s + 0 }' "$t/all.out")
[ "$table_calls" = "$events" ] ||
    fail "the profile's tables count $table_calls calls, the trace holds $events"
# the same per kernel: trace lines "kernel NAME N" against the tables' rows
awk 'FNR == NR { if ($1 == "kernel") want[$2] += $3; next }
     $2 ~ /^(scalar|avx2|avx512|neon)$/ && $3 ~ /^[0-9]+$/ { got[$1] += $3 }
     END { for (k in want) if (want[k] != got[k]) { print k ": trace " want[k] ", tables " got[k]; bad = 1 }
           for (k in got) if (!(k in want)) { print k ": not in the trace"; bad = 1 }
           exit bad }' "$t/all.check" "$t/all.out" > "$t/per.diff" ||
    fail "per-kernel counts differ: $(cat "$t/per.diff")"

# --- a window of a longer run ---------------------------------------------
"$bp" train --limit-train 2048 --epochs 1 --threads 1 --trace "$t/win.json" --trace-steps 3 \
    --quiet > /dev/null || fail "a traced window"
"$tc" "$t/win.json" > "$t/win.check" || fail "$(cat "$t/win.check")"
read -r _ events _ steps _ epochs _ evals _ calls _ dropped < "$t/win.check"
[ "$steps" = 3 ] && [ "$evals" = 0 ] && [ "$epochs" = 1 ] ||
    fail "--trace-steps 3 kept $steps steps, $evals evaluations, $epochs epochs"
[ "$events" -gt 0 ] && [ "$events" -lt "$calls" ] ||
    fail "the window holds $events events of $calls calls"

# --- kernels plus gather against the measured step time --------------------
"$bp" train --limit-train 8192 --epochs 1 --threads 1 --profile > "$t/ref.out" ||
    fail "the reference network profiled"
awk '/^training steps:/ { for (i = 1; i <= NF; i++) if ($i == "kernels") k = $(i + 3) }
     /^  \(batch gather\)/ { g = $(NF) }
     END { gsub(/[()%;]/, "", k); gsub(/%/, "", g)
           if (k == "" || g == "") { print "no kernels or gather share"; exit 1 }
           s = k + g
           if (s < 90 || s > 100.5) { print "kernels " k "% + gather " g "% = " s "%"; exit 1 }
           print s }' "$t/ref.out" > "$t/share" ||
    fail "$(cat "$t/share"): $(grep -A3 '^training steps' "$t/ref.out")"

# --- eval ---------------------------------------------------------------
"$bp" eval "$t/prof1.ckpt" --threads 1 --profile --trace "$t/ev.json" > "$t/ev.out" ||
    fail "eval --profile --trace"
grep -q "^evaluation passes: 1 pass" "$t/ev.out" || fail "eval's profile: $(cat "$t/ev.out")"
grep -q "^training steps" "$t/ev.out" && fail "eval's profile has training steps"
"$tc" "$t/ev.json" > "$t/ev.check" || fail "$(cat "$t/ev.check")"
read -r _ events _ steps _ epochs _ evals _ calls _ dropped < "$t/ev.check"
[ "$steps" = 0 ] && [ "$evals" = 1 ] && [ "$events" = "$calls" ] ||
    fail "eval's trace: $(head -1 "$t/ev.check")"

# --- hardware counters ------------------------------------------------------
grep -q "^hardware counters: " "$t/ref.out" || fail "no hardware-counter line"
BPLAB_PROF_EVENTS=software "$bp" train --limit-train 512 --epochs 1 --threads 1 --profile \
    --counters --quiet > "$t/sw.out" || fail "--counters on software events"
if grep -q "^hardware counters: read on thread 0" "$t/sw.out"; then
    grep -q "^  hardware counts per call (thread 0):" "$t/sw.out" &&
        grep -q "task-clock ns" "$t/sw.out" || fail "no counter table: $(cat "$t/sw.out")"
else
    grep -q "^hardware counters: unavailable here" "$t/sw.out" || fail "$(cat "$t/sw.out")"
    echo "note: perf_event_open refuses even software events here; counter path not run"
fi
echo "ok: profile and trace ($(cat "$t/share")% of the step in kernels and gather)"
