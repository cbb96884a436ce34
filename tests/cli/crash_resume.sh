#!/usr/bin/env bash
# tests/cli/crash_resume.sh BPLAB - crash safety of training:
#   - runs killed with SIGKILL at several moments (a few times each) and
#     resumed from their --checkpoint-every file end with a checkpoint
#     byte-identical to an uninterrupted run's, and with the same metrics;
#   - SIGINT stops a run after its current step with one line, the
#     metrics of the completed epochs written, exit status 130;
#   - with --save, SIGINT in epoch 2 or later writes the checkpoint of the
#     last completed epoch, and resuming it ends byte-identical to the
#     uninterrupted run; in epoch 1 it says that no checkpoint was written.
# The scalar table keeps each epoch around a second, so kills land inside
# runs, not between them.
set -u
bp=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
run=(--data circles --samples 12000 --layers 96,96 --batch 64 --isa scalar
     --threads 1 --quiet)
epochs=4
fail() { echo "FAIL: $*"; exit 1; }

"$bp" train "${run[@]}" --epochs $epochs --save "$t/ref.ckpt" --metrics "$t/ref.csv" > /dev/null ||
    fail "the uninterrupted run failed"
start=$(date +%s%N)
"$bp" train "${run[@]}" --epochs 1 > /dev/null
epoch_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "one epoch: $epoch_ms ms"

for trial in 1 2 3 4; do
    ck="$t/run$trial.ckpt"
    kills=0
    # kill up to twice, at points spread over the run, then let it finish
    while :; do
        if [ -f "$ck" ]; then args=(--resume "$ck"); else args=("${run[@]}"); fi
        "$bp" train "${args[@]}" --epochs $epochs --checkpoint-every 1 --save "$ck" \
            --metrics "$t/run$trial.csv" > /dev/null 2>&1 &
        pid=$!
        if [ $kills -lt 2 ]; then
            delay=$(( (trial * 37 + kills * 53) % 100 ))       # 0..99 % of an epoch...
            ms=$(( epoch_ms * (kills + 1) * delay / 100 + 50 )) # ...into the run
            sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
            if kill -KILL $pid 2> /dev/null; then
                wait $pid 2> /dev/null
                kills=$((kills + 1))
                continue
            fi
        fi
        wait $pid || fail "trial $trial: the final run failed"
        break
    done
    ls "$t" | grep -Eq "\.tmp(\.|$)" && fail "trial $trial: a temporary file was left behind"
    cmp "$t/ref.ckpt" "$ck" || fail "trial $trial ($kills kills): checkpoint differs from the uninterrupted run"
    cut -d, -f1-12 "$t/ref.csv" > "$t/a"; cut -d, -f1-12 "$t/run$trial.csv" > "$t/b"
    cmp "$t/a" "$t/b" || fail "trial $trial: metrics differ"
    echo "trial $trial: killed $kills times, resumed: identical"
done

# wait until FILE holds at least N lines (polled, not timed, so that a
# loaded machine cannot make the run too slow for the test)
wait_lines() {
    for _ in $(seq 1 2400); do
        [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
# run PID to its end; its exit status must be 130 (128 + SIGINT) and its
# stderr (FILE) one line matching the pattern
expect_int() {
    local rc=0
    wait "$1" || rc=$?
    [ $rc -eq 130 ] || fail "SIGINT ($4): exit $rc, expected 130: $(cat "$2")"
    [ "$(wc -l < "$2")" -eq 1 ] || fail "SIGINT ($4): $(wc -l < "$2") lines on stderr"
    grep -Eq "$3" "$2" || fail "SIGINT ($4): $(cat "$2")"
}

# SIGINT: one line, exit 130, completed epochs kept
"$bp" train "${run[@]}" --epochs 20 --metrics "$t/int.csv" > /dev/null 2> "$t/err" &
pid=$!
wait_lines "$t/int.csv" 2 || fail "SIGINT: no epoch completed"
kill -INT $pid
expect_int $pid "$t/err" \
    "^bplab: interrupted in epoch [0-9]+ at step [0-9]+ of [0-9]+; metrics of completed epochs kept\$" \
    "no --save"
rows=$(($(wc -l < "$t/int.csv") - 1))
[ $rows -ge 1 ] || fail "SIGINT: no completed epoch in the metrics"
echo "SIGINT: stopped cleanly with $rows epochs of metrics"

# SIGINT with --save, in epoch 2 or later: the checkpoint of the last
# completed epoch is written, and resuming it gives the uninterrupted run
"$bp" train "${run[@]}" --epochs $epochs --save "$t/int.ckpt" --metrics "$t/int2.csv" \
    > /dev/null 2> "$t/err" &
pid=$!
wait_lines "$t/int2.csv" 2 || fail "SIGINT --save: no epoch completed"
kill -INT $pid
expect_int $pid "$t/err" \
    "^bplab: interrupted in epoch [2-9] at step [0-9]+ of [0-9]+; checkpoint of epoch [1-9] written to $t/int.ckpt \(resume with --resume $t/int.ckpt\); metrics of completed epochs kept\$" \
    "--save"
[ -f "$t/int.ckpt" ] || fail "SIGINT --save: no checkpoint"
done_epochs=$(sed -n 's/.*checkpoint of epoch \([0-9]*\) written.*/\1/p' "$t/err")
[ "$done_epochs" -lt $epochs ] || fail "SIGINT --save: the run had finished"
"$bp" train --resume "$t/int.ckpt" --epochs $epochs --save "$t/int.ckpt" \
    --metrics "$t/int2.csv" > /dev/null || fail "SIGINT --save: the resumed run failed"
cmp "$t/ref.ckpt" "$t/int.ckpt" || fail "SIGINT --save: checkpoint differs from the uninterrupted run"
cut -d, -f1-12 "$t/int2.csv" > "$t/b"; cut -d, -f1-12 "$t/ref.csv" > "$t/a"
cmp "$t/a" "$t/b" || fail "SIGINT --save: metrics differ"
echo "SIGINT --save: checkpoint of epoch $done_epochs written, resumed: identical"

# SIGINT with --save before the first epoch ends: no checkpoint, said so
# (the "training" line is printed once Ctrl-C is handled)
run1=(); for a in "${run[@]}"; do [ "$a" = --quiet ] || run1+=("$a"); done
"$bp" train "${run1[@]}" --epochs $epochs --save "$t/none.ckpt" > "$t/out" 2> "$t/err" &
pid=$!
for _ in $(seq 1 2400); do grep -q "^training" "$t/out" && break; sleep 0.01; done
kill -INT $pid
expect_int $pid "$t/err" \
    "^bplab: interrupted in epoch 1 at step [0-9]+ of [0-9]+; no epoch completed, no checkpoint written\$" \
    "epoch 1"
[ -e "$t/none.ckpt" ] && fail "SIGINT in epoch 1: a checkpoint was written"
echo "SIGINT --save in epoch 1: no checkpoint, said so"
