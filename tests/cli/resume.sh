#!/usr/bin/env bash
# tests/cli/resume.sh BPLAB - the command line's checkpoint contract:
#   - 4 epochs straight and 2 epochs + --resume to 4 save byte-identical
#     files (and identical metrics, wall time aside);
#   - two identical runs at 1 and 2 threads save identical files;
#   - eval of the saved model reports the accuracy train printed;
#   - a resumed run refuses a changed run option, and a corrupt file;
#   - a CNN (with channel dropout) resumes to the same bits.
set -eu
bp=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
run="--data spirals --samples 400 --layers 32,32 --batch 32 --seed 3 --val 0.1"
fail() { echo "FAIL: $*"; exit 1; }

"$bp" train $run --epochs 4 --save "$t/a.ckpt" --metrics "$t/a.csv" --quiet > "$t/a.out"
"$bp" train $run --epochs 2 --save "$t/b.ckpt" --threads 1 --quiet > /dev/null
"$bp" train --resume "$t/b.ckpt" --epochs 4 --save "$t/b.ckpt" --metrics "$t/b.csv" --threads 2 --quiet > /dev/null
cmp "$t/a.ckpt" "$t/b.ckpt" || fail "resumed checkpoint differs from the uninterrupted one"
# metrics: identical but for the wall-time columns of the resumed epochs
cut -d, -f1-12 "$t/a.csv" > "$t/a.cut"; cut -d, -f1-12 "$t/b.csv" > "$t/b.cut"
cmp "$t/a.cut" "$t/b.cut" || fail "resumed metrics differ"
[ "$(wc -l < "$t/a.csv")" -eq 5 ] || fail "metrics should have a header and 4 rows"

"$bp" train $run --epochs 4 --save "$t/c.ckpt" --threads 1 --quiet > /dev/null
cmp "$t/a.ckpt" "$t/c.ckpt" || fail "1 and 2 threads saved different checkpoints"

acc=$(sed -n 's/^test accuracy \([0-9.]*\).*/\1/p' "$t/a.out")
"$bp" eval --model "$t/a.ckpt" --confusion > "$t/eval.out"
grep -q "^test loss [0-9.]* accuracy $acc\$" "$t/eval.out" || fail "eval disagrees with train ($acc): $(cat "$t/eval.out")"

if "$bp" train --resume "$t/b.ckpt" --epochs 5 --lr 0.2 2> "$t/err"; then
    fail "a changed --lr was accepted on resume"
fi
grep -q "^bplab: error: --lr 0.2: the checkpoint was trained with 0.05" "$t/err" || fail "$(cat "$t/err")"
# a flag or option the checkpoint's run did not set is a change too (the
# command line's value must not fill in what the checkpoint left out)
if "$bp" train --resume "$t/b.ckpt" --epochs 5 --batchnorm 2> "$t/err"; then
    fail "an added --batchnorm was accepted on resume"
fi
grep -q "^bplab: error: --batchnorm 1: the checkpoint was trained with 0" "$t/err" || fail "$(cat "$t/err")"
"$bp" train --data spirals --samples 400 --net dense:8,tanh --epochs 1 --save "$t/n.ckpt" --quiet > /dev/null
if "$bp" train --resume "$t/n.ckpt" --epochs 2 --layers 8 2> "$t/err"; then
    fail "--layers was accepted on resuming a --net run"
fi
grep -q "^bplab: error: --layers 8: the checkpoint was trained without --layers" "$t/err" || fail "$(cat "$t/err")"
"$bp" train --resume "$t/n.ckpt" --epochs 2 --net dense:8,tanh --quiet > /dev/null ||
    fail "resuming a --net run with its own --net was refused"
if "$bp" train --resume "$t/b.ckpt" --epochs 3 2> "$t/err"; then
    fail "resuming below the checkpoint's epochs was accepted"
fi
grep -q "has already done 4 epochs" "$t/err" || fail "$(cat "$t/err")"
# a CNN (im2col, pooling's argmax, batch norm over channels, channel
# dropout) trained on shifted and flipped images resumes to the same bits
# too, whatever the threads: the draws depend on the seed, the epoch and
# the sample alone, the masks on the seed, the step and the layer
cnn="--net conv:4:3,bn,relu,dropout2d:0.2,maxpool:2,dense:16,relu --limit-train 256 --batch 32 --seed 2"
"$bp" train $cnn --augment shift:2,flip --epochs 2 --save "$t/ca.ckpt" --threads 2 --quiet > /dev/null
"$bp" train $cnn --augment shift:2,flip --epochs 1 --save "$t/cb.ckpt" --threads 1 --quiet > /dev/null
"$bp" train --resume "$t/cb.ckpt" --epochs 2 --save "$t/cb.ckpt" --threads 2 --quiet > /dev/null
cmp "$t/ca.ckpt" "$t/cb.ckpt" || fail "a resumed CNN checkpoint differs from the uninterrupted one"
# ... and the augmentation did something
"$bp" train $cnn --epochs 2 --save "$t/cc.ckpt" --quiet > /dev/null
if cmp -s "$t/ca.ckpt" "$t/cc.ckpt"; then fail "--augment shift:2,flip trained the same weights as none"; fi
if "$bp" train --resume "$t/cb.ckpt" --augment flip --epochs 3 2> "$t/err" > /dev/null; then
    fail "resuming with another --augment was accepted"
fi
grep -q "augment" "$t/err" || fail "$(cat "$t/err")"
head -c 1000 "$t/a.ckpt" > "$t/cut.ckpt"
if "$bp" eval --model "$t/cut.ckpt" 2> "$t/err"; then fail "a truncated model was accepted"; fi
grep -q "checksum mismatch" "$t/err" || fail "$(cat "$t/err")"
echo "resume, thread-count and eval checks passed"
