#!/usr/bin/env bash
# tests/cli/regimes.sh BPLAB - the options that set up the experiments'
# regimes, through the command line:
#   - --label-noise P is recorded in the checkpoint, so a resumed run
#     continues bit-identical to a straight one, a resume with another P
#     is refused, and eval rebuilds the same noisy training labels
#     (accuracy on --split train below the clean model's view of them);
#   - --input-dropout P trains the same bits as --net dropout:P,... (the
#     layers it spells out), goes in front of a recurrent layer too, and
#     is refused with --net;
#   - --max-norm C is recorded, and a resume keeps it;
#   - --forget-bias B starts an LSTM's forget gate at B (exported bias),
#     is recorded when not 1, and a resume with another B is refused;
#   - options added since checkpoints record every number are written
#     only when set: a run without them names none of them.
set -u
bp=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
base=(--limit-train 1000 --layers 32 --quiet)

# --label-noise: checkpoint, resume, eval
"$bp" train "${base[@]}" --label-noise 0.3 --epochs 3 --save "$t/n3.ckpt" > /dev/null || fail "noisy run"
"$bp" train "${base[@]}" --label-noise 0.3 --epochs 2 --save "$t/n2.ckpt" > /dev/null || fail "noisy run, 2 epochs"
"$bp" train --resume "$t/n2.ckpt" --epochs 3 --save "$t/n2.ckpt" --quiet > /dev/null || fail "resume"
cmp -s "$t/n2.ckpt" "$t/n3.ckpt" || fail "a resumed --label-noise run differs from a straight one"
"$bp" train --resume "$t/n2.ckpt" --label-noise 0.2 --epochs 4 2> "$t/err" > /dev/null &&
    fail "a resume with another --label-noise was accepted"
grep -q "^bplab: error: --label-noise 0.2: the checkpoint was trained with 0.3" "$t/err" ||
    fail "resume with another --label-noise: $(cat "$t/err")"
"$bp" train "${base[@]}" --epochs 3 --save "$t/c3.ckpt" > /dev/null || fail "clean run"
acc() { "$bp" eval "$1" --split train | sed -n 's/^train loss .* accuracy \(.*\)/\1/p'; }
noisy=$(acc "$t/n3.ckpt") clean=$(acc "$t/c3.ckpt")
# the noisy model is scored on the labels it was trained on, 30% of them
# wrong, so its training accuracy is far below the clean one's
awk -v n="$noisy" -v c="$clean" 'BEGIN { exit !(n < c - 0.15) }' ||
    fail "eval --split train: noisy model $noisy, clean model $clean"

# --input-dropout: the same bits as the layers it spells out
"$bp" train "${base[@]}" --input-dropout 0.2 --dropout 0.5 --epochs 2 --save "$t/i.ckpt" > /dev/null ||
    fail "--input-dropout"
"$bp" train --limit-train 1000 --net dropout:0.2,dense:32,relu,dropout:0.5 --epochs 2 --quiet \
    --save "$t/n.ckpt" > /dev/null || fail "--net dropout:0.2,..."
"$bp" eval "$t/i.ckpt" --predictions "$t/i.csv" > /dev/null &&
    "$bp" eval "$t/n.ckpt" --predictions "$t/n.csv" > /dev/null || fail "eval"
cmp -s "$t/i.csv" "$t/n.csv" || fail "--input-dropout and --net dropout:P,... predict differently"
"$bp" train --data adding:5 --samples 64 --model lstm --hidden 4 --input-dropout 0.1 --epochs 1 \
    > "$t/lstm.out" || fail "--input-dropout before an LSTM"
grep -q "^network  5x2-lstm4-1 mse dropout" "$t/lstm.out" || fail "$(cat "$t/lstm.out")"

# --model cnn: the same bits as the layers it spells out (with bn and
# dropout from the shorthands), on a folder of the first 256 training and
# 256 test images (a whole test set is slow under the sanitizers); with
# its default --layers, PyTorch's parameter count for the same net
python3 - "$t/mini" <<'PY' || fail "cannot write the small MNIST folder"
import gzip, os, sys
src, out = "/usr/share/datasets/fashion-mnist", sys.argv[1]
src = os.environ.get("BPLAB_DATA") or src
os.makedirs(out)
for name, n in (("train", 256), ("t10k", 256)):
    for kind, head, size in (("images-idx3", 16, 784), ("labels-idx1", 8, 1)):
        f = "%s-%s-ubyte" % (name, kind)
        p = os.path.join(src, f)
        data = gzip.open(p + ".gz").read() if os.path.exists(p + ".gz") else open(p, "rb").read()
        hdr = bytearray(data[:head])
        hdr[4:8] = n.to_bytes(4, "big")
        open(os.path.join(out, f), "wb").write(bytes(hdr) + data[head:head + n * size])
PY
mini=(--data "$t/mini" --epochs 1 --quiet)
"$bp" train "${mini[@]}" --model cnn --batchnorm --dropout 0.1 --layers 16 \
    --save "$t/c1.ckpt" > /dev/null || fail "--model cnn"
"$bp" train "${mini[@]}" --net conv:32:3,bn,relu,dropout:0.1,maxpool:2,conv:64:3,bn,relu,dropout:0.1,maxpool:2,dense:16,bn,relu,dropout:0.1 \
    --save "$t/c2.ckpt" > /dev/null || fail "--net conv:32:3,..."
"$bp" eval "$t/c1.ckpt" --data "$t/mini" --predictions "$t/c1.csv" > /dev/null &&
    "$bp" eval "$t/c2.ckpt" --data "$t/mini" --predictions "$t/c2.csv" > /dev/null || fail "eval cnn"
cmp -s "$t/c1.csv" "$t/c2.csv" || fail "--model cnn and its --net predict differently"
"$bp" train --data "$t/mini" --epochs 1 --model cnn --threads 2 --save "$t/c2t.ckpt" \
    > "$t/cnn.out" || fail "--model cnn"
grep -q "^network  784-conv32-maxpool2-conv64-maxpool2-128-10 relu ce, 421642 parameters$" "$t/cnn.out" ||
    fail "--model cnn: $(grep network "$t/cnn.out")"
# at batch 128 the threads share the convolutions' blocks, the pools'
# images, the activations' chunks and the bias gradients' columns: the
# same bits as one thread
"$bp" train "${mini[@]}" --model cnn --threads 1 --save "$t/c1t.ckpt" > /dev/null ||
    fail "--model cnn at 1 thread"
cmp -s "$t/c1t.ckpt" "$t/c2t.ckpt" || fail "--model cnn: 1 and 2 threads train different weights"
# ... and the same as every kernel on its own (--no-fuse: the activation's
# forward and backward as a layer of their own, not in the convolution's)
"$bp" train "${mini[@]}" --model cnn --threads 2 --no-fuse --save "$t/cnf.ckpt" > /dev/null ||
    fail "--model cnn --no-fuse"
cmp -s "$t/c1t.ckpt" "$t/cnf.ckpt" || fail "--model cnn: --no-fuse trains different weights"

# --max-norm: recorded; a resumed run continues bit-identical
"$bp" train "${base[@]}" --max-norm 0.5 --epochs 2 --save "$t/m2.ckpt" > /dev/null || fail "--max-norm"
"$bp" train "${base[@]}" --max-norm 0.5 --epochs 1 --save "$t/m1.ckpt" > /dev/null || fail "--max-norm, 1 epoch"
"$bp" train --resume "$t/m1.ckpt" --epochs 2 --save "$t/m1.ckpt" --quiet > /dev/null || fail "resume --max-norm"
cmp -s "$t/m1.ckpt" "$t/m2.ckpt" || fail "a resumed --max-norm run differs from a straight one"
grep -aq "^max-norm=0.5$" "$t/m2.ckpt" || fail "max-norm not recorded"

# --forget-bias: the bias of the gate columns [i f g o] of an LSTM of 3
# units, exported after one epoch at lr 1e-9 (so still the initial
# values, to 1e-6); recorded when not 1
lstm=(--data adding:5 --samples 64 --model lstm --hidden 3 --lr 1e-9 --epochs 1 --quiet)
for b in 1 0 -2.5; do
    "$bp" train "${lstm[@]}" --forget-bias "$b" --save "$t/f$b.ckpt" > /dev/null ||
        fail "--forget-bias $b"
    "$bp" export --model "$t/f$b.ckpt" "$t/f$b.safetensors" > /dev/null ||
        fail "export --forget-bias $b"
done
python3 - "$t" <<'PY' || fail "--forget-bias: the exported LSTM biases"
import json, struct, sys
t = sys.argv[1]
for b in (1, 0, -2.5):
    raw = open(f"{t}/f{b:g}.safetensors", "rb").read()
    (n,) = struct.unpack_from("<Q", raw)
    head = json.loads(raw[8:8 + n])
    lo, hi = next(v for k, v in head.items() if k.endswith("lstm.bias"))["data_offsets"]
    bias = struct.unpack(f"<{(hi - lo) // 4}f", raw[8 + n + lo:8 + n + hi])
    want = [0.0] * 3 + [b] * 3 + [0.0] * 6
    assert len(bias) == 12 and all(abs(x - w) < 1e-6 for x, w in zip(bias, want)), (b, bias)
PY
grep -aq "^forget-bias=0$" "$t/f0.ckpt" || fail "forget-bias not recorded"
grep -aq "^forget-bias=" "$t/f1.ckpt" && fail "the default forget bias is recorded"
"$bp" train --resume "$t/f0.ckpt" --forget-bias 1 --epochs 2 2> "$t/err" > /dev/null &&
    fail "a resume with another --forget-bias was accepted"
grep -q "^bplab: error: --forget-bias 1: the checkpoint was trained with 0" "$t/err" ||
    fail "resume with another --forget-bias: $(cat "$t/err")"
"$bp" train "${lstm[@]}" --forget-bias 101 2> "$t/err" > /dev/null && fail "--forget-bias 101 accepted"
[ "$(wc -l < "$t/err")" = 1 ] && grep -q "^bplab: error: --forget-bias 101: must be between -100 and 100" "$t/err" ||
    fail "--forget-bias 101: $(cat "$t/err")"

# written only when set
grep -aq "^limit-train=1000$" "$t/c3.ckpt" || fail "no spec text in the checkpoint"
grep -aEq "^(label-noise|input-dropout|max-norm|forget-bias)=" "$t/c3.ckpt" &&
    fail "a run without --label-noise, --input-dropout, --max-norm or --forget-bias names them"
grep -aq "^label-noise=0.3$" "$t/n3.ckpt" || fail "label-noise not recorded"
grep -aq "^input-dropout=0.2$" "$t/i.ckpt" || fail "input-dropout not recorded"
echo "ok: --label-noise, --input-dropout, --model cnn, --max-norm and --forget-bias"
