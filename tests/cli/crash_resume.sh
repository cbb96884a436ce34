#!/usr/bin/env bash
# tests/cli/crash_resume.sh BPLAB - crash safety of training:
#   - runs killed with SIGKILL at several moments (a few times each) and
#     resumed from their --checkpoint-every file end with a checkpoint
#     byte-identical to an uninterrupted run's, and with the same metrics;
#   - SIGINT stops a run after its current step with one error line, the
#     metrics of the completed epochs written, exit status 1.
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

# SIGINT: one line, exit 1, completed epochs kept
"$bp" train "${run[@]}" --epochs 20 --metrics "$t/int.csv" > /dev/null 2> "$t/err" &
pid=$!
# interrupt once the first epoch's metrics are on disk (polled, not timed,
# so that a loaded machine cannot make the run too slow for the test)
for _ in $(seq 1 2400); do
    [ -f "$t/int.csv" ] && [ "$(wc -l < "$t/int.csv")" -ge 2 ] && break
    sleep 0.05
done
kill -INT $pid
rc=0
wait $pid || rc=$?
[ $rc -eq 1 ] || fail "SIGINT: exit $rc, expected 1"
[ "$(wc -l < "$t/err")" -eq 1 ] || fail "SIGINT: $(wc -l < "$t/err") lines on stderr"
grep -q "^bplab: error: interrupted in epoch [0-9]* at step [0-9]* of [0-9]*; metrics of completed epochs kept" "$t/err" ||
    fail "SIGINT: $(cat "$t/err")"
rows=$(($(wc -l < "$t/int.csv") - 1))
[ $rows -ge 1 ] || fail "SIGINT: no completed epoch in the metrics"
echo "SIGINT: stopped cleanly with $rows epochs of metrics"
