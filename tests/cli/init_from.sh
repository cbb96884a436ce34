#!/usr/bin/env bash
# tests/cli/init_from.sh BPLAB - warm starts with --init-from FILE.ckpt:
#   - a run started from a 5-epoch model at a lower rate has a first-epoch
#     train loss below the from-scratch run's first epoch (it starts where
#     that run ended), and its checkpoint records init-from=PATH;
#   - such a run resumed (with the model file gone) ends byte-identical to
#     its uninterrupted run: the weights come from the checkpoint, not
#     again from the model;
#   - a model of another shape is refused with one line naming both
#     shapes, also when it was trained on another data set, and a model
#     trained on another set of the same widths is accepted;
#   - --init-from with --resume is a usage error.
set -u
bp=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
run=(--data spirals --samples 400 --layers 32,32 --batch 32 --seed 3 --quiet)
fail() { echo "FAIL: $*"; exit 1; }
loss1() { sed -n '2p' "$1" | cut -d, -f3; } # train loss of epoch 1

"$bp" train "${run[@]}" --epochs 5 --save "$t/a.ckpt" --metrics "$t/a.csv" > /dev/null ||
    fail "the first run failed"
"$bp" train "${run[@]}" --init-from "$t/a.ckpt" --lr 0.01 --epochs 1 \
    --save "$t/b.ckpt" --metrics "$t/b.csv" > /dev/null || fail "the --init-from run failed"
a1=$(loss1 "$t/a.csv") a5=$(sed -n '6p' "$t/a.csv" | cut -d, -f3) b1=$(loss1 "$t/b.csv")
awk -v a="$a1" -v b="$b1" 'BEGIN { exit !(b < a) }' ||
    fail "first-epoch train loss $b1 from the model, $a1 from scratch"
echo "first-epoch train loss: $a1 from scratch, $b1 from the model (its last epoch: $a5)"
[ "$(wc -l < "$t/b.csv")" -eq 2 ] || fail "the warm run's epochs do not count from 0"
grep -aqx "init-from=$t/a.ckpt" "$t/b.ckpt" || fail "the checkpoint does not record init-from"

# resume of a warm-started run: exact, without the model file
"$bp" train "${run[@]}" --init-from "$t/a.ckpt" --lr 0.01 --epochs 3 \
    --save "$t/c.ckpt" --metrics "$t/c.csv" > /dev/null || fail "3-epoch warm run failed"
"$bp" train "${run[@]}" --init-from "$t/a.ckpt" --lr 0.01 --epochs 1 \
    --save "$t/d.ckpt" > /dev/null || fail "1-epoch warm run failed"
mv "$t/a.ckpt" "$t/a-moved.ckpt"
"$bp" train --resume "$t/d.ckpt" --epochs 3 --save "$t/d.ckpt" --metrics "$t/d.csv" \
    --quiet > /dev/null || fail "resuming the warm run failed"
cmp "$t/c.ckpt" "$t/d.ckpt" || fail "the resumed warm run differs from the uninterrupted one"
cut -d, -f1-12 "$t/c.csv" > "$t/c.cut"; cut -d, -f1-12 "$t/d.csv" > "$t/d.cut"
cmp "$t/c.cut" "$t/d.cut" || fail "the resumed warm run's metrics differ"
mv "$t/a-moved.ckpt" "$t/a.ckpt"
echo "warm run resumed: identical"

# expect_err EXIT PATTERN ARGS...: one error line matching PATTERN
expect_err() {
    local want=$1 pattern=$2 rc=0; shift 2
    "$bp" "$@" > "$t/out" 2> "$t/err" || rc=$?
    [ $rc -eq "$want" ] || fail "bplab $*: exit $rc, expected $want"
    [ ! -s "$t/out" ] || fail "bplab $*: printed on stdout"
    [ "$(wc -l < "$t/err")" -eq 1 ] || fail "bplab $*: $(wc -l < "$t/err") lines on stderr"
    grep -Eq "$pattern" "$t/err" || fail "bplab $*: $(cat "$t/err")"
}
expect_err 1 "^bplab: error: --init-from $t/a.ckpt: the model is 2-32-32-2, this run builds 2-8-2\$" \
    train "${run[@]}" --layers 8 --init-from "$t/a.ckpt" --epochs 1
expect_err 1 "^bplab: error: --init-from $t/a.ckpt: the model is 2-32-32-2, this run builds 2-32-32-2 with batch norm\$" \
    train "${run[@]}" --batchnorm --init-from "$t/a.ckpt" --epochs 1
printf '0,1,2,0\n1,2,3,1\n2,3,4,0\n3,4,5,1\n4,5,6,0\n' > "$t/three.csv"
expect_err 1 "^bplab: error: --init-from $t/a.ckpt: the model is 2-32-32-2, this run builds 3-32-32-2\$" \
    train --data "$t/three.csv" --layers 32,32 --init-from "$t/a.ckpt" --epochs 1
expect_err 2 "^bplab: error: --init-from with --resume" \
    train --init-from "$t/a.ckpt" --resume "$t/b.ckpt" --epochs 4
"$bp" train --data circles --layers 32,32 --init-from "$t/a.ckpt" --epochs 1 --quiet > /dev/null ||
    fail "a model of the same shapes trained on another set was refused"
echo "shape checks and option errors passed"
