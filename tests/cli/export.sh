#!/usr/bin/env bash
# tests/cli/export.sh BPLAB - bplab export against an independent forward
# pass:
#   - an MLP with batch norm trained on a generated CSV, and an LSTM (with
#     dropout) and an RNN (with a dense layer after it) on the adding problem, are exported to .npz and .safetensors;
#   - tests/cli/export_check.py (numpy only) recomputes the test loss and
#     accuracy in float64 from the .npz alone and compares them with
#     bplab eval's, and checks the .safetensors file bit for bit against it;
#   - both command forms write the same bytes, twice;
#   - a directory, an unwritable folder or a corrupt checkpoint give one
#     error line, a non-zero exit and no file.
# Needs a python3 with numpy (Debian: python3-numpy); without one the test
# is skipped (exit 77, ctest's SKIP_RETURN_CODE), not passed.
set -eu
bp=$1
here=$(cd "$(dirname "$0")" && pwd)
py=""
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' 2>/dev/null; then
        py=$p
        break
    fi
done
if [ -z "$py" ]; then
    echo "SKIP: no python3 with numpy (apt-get install python3-numpy)"
    exit 77
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Three classes from four features with two decimals (exact enough to
# parse the same way in C and numpy), no header, no normalisation.
"$py" - "$t" <<'EOF'
import sys
import numpy as np
rng = np.random.default_rng(12)
w = rng.normal(size=(4, 3))
for name, n in (("train", 400), ("test", 100)):
    x = np.round(rng.uniform(-2, 2, size=(n, 4)), 2)
    y = np.argmax(x @ w + rng.normal(scale=0.8, size=(n, 3)), axis=1)
    with open(f"{sys.argv[1]}/{name}.csv", "w") as f:
        for row, label in zip(x, y):
            f.write(",".join(f"{v:.2f}" for v in row) + f",{label}\n")
EOF

check() { # name mode data-arg: export, eval and compare
    local n=$1
    "$bp" eval --model "$t/$n.ckpt" > "$t/$n.eval"
    "$bp" export --model "$t/$n.ckpt" "$t/$n.npz" > "$t/$n.exp"
    grep -q "^exported $t/$n.ckpt (.*) to $t/$n.npz\$" "$t/$n.exp" || fail "$(cat "$t/$n.exp")"
    "$bp" export "$t/$n.ckpt" "$t/$n.safetensors" > /dev/null
    "$py" "$here/export_check.py" "$2" "$t/$n.npz" "$t/$n.safetensors" "$3" \
        "$t/$n.eval" "$t/$n.csv" || fail "$n: the exported weights disagree with bplab"
}

"$bp" train --data "$t/train.csv" --test-csv "$t/test.csv" --layers 16,8 \
    --batchnorm --batch 32 --epochs 4 --seed 5 --save "$t/mlp.ckpt" \
    --metrics "$t/mlp.csv" --quiet > /dev/null
check mlp mlp "$t/test.csv"
"$bp" train --model lstm --hidden 8 --dropout 0.1 --data adding:7 --samples 1000 \
    --loss mse --opt adam --lr 0.02 --batch 20 --epochs 8 --save "$t/lstm.ckpt" \
    --metrics "$t/lstm.csv" --quiet > /dev/null
check lstm rec 7
"$bp" train --model rnn --hidden 8 --layers 4 --data adding:5 --samples 1000 \
    --loss mse --opt adam --lr 0.01 --batch 20 --epochs 8 --save "$t/rnn.ckpt" \
    --metrics "$t/rnn.csv" --quiet > /dev/null
check rnn rec 5

# the same bytes from either form and from a second run
"$bp" export "$t/mlp.ckpt" "$t/again.npz" > /dev/null
cmp "$t/mlp.npz" "$t/again.npz" || fail "two exports of one model differ"
"$bp" export --model "$t/mlp.ckpt" "$t/again.safetensors" > /dev/null
cmp "$t/mlp.safetensors" "$t/again.safetensors" || fail "two safetensors exports differ"

# errors: one line, non-zero exit, nothing left behind
expect_error() { # exit pattern args...
    local want=$1 pattern=$2
    shift 2
    set +e
    "$bp" export "$@" > "$t/out" 2> "$t/err"
    local got=$?
    set -e
    [ "$got" -eq "$want" ] || fail "export $*: exit $got, expected $want"
    [ ! -s "$t/out" ] || fail "export $*: printed on stdout"
    [ "$(wc -l < "$t/err")" -eq 1 ] || fail "export $*: $(cat "$t/err")"
    grep -Eq "^bplab: error: .*$pattern" "$t/err" || fail "export $*: $(cat "$t/err")"
}
mkdir "$t/dir.npz"
expect_error 1 "is a directory" --model "$t/mlp.ckpt" "$t/dir.npz"
expect_error 1 "cannot create" "$t/mlp.ckpt" "$t/no-such-dir/x.safetensors"
head -c 500 "$t/mlp.ckpt" > "$t/cut.ckpt"
expect_error 1 "checksum mismatch" "$t/cut.ckpt" "$t/cut.npz"
expect_error 2 "unknown export format" "$t/mlp.ckpt" "$t/mlp.pt"
[ ! -e "$t/cut.npz" ] && [ ! -e "$t/mlp.pt" ] && [ -z "$(ls "$t/no-such-dir" 2>/dev/null)" ] ||
    fail "a failed export left a file"
ls "$t" | grep -q '\.tmp$' && fail "a failed export left a .tmp file"
echo "export checks passed"
