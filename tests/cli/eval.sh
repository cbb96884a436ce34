#!/usr/bin/env bash
# tests/cli/eval.sh BPLAB - what `bplab eval` reports about a saved model:
#   - the model may be given without --model (bplab eval run.ckpt), and
#     both give the same report;
#   - an early-stopped model says which epoch its weights are from;
#   - --confusion names Fashion-MNIST's classes and gives each class's
#     precision and recall, which agree with the matrix;
#   - --predictions FILE.csv (and - for standard output, the report then on
#     stderr) holds one row per sample: index, label, predicted class and
#     one probability per class (named by class), agreeing with the
#     reported accuracy; a regression set's has index, target, prediction;
#   - data of another width or class count is refused with both shapes,
#     before any parameter count is compared.
set -u
bp=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# models: Fashion-MNIST (a little of it), an early-stopped one on circles
# (validation loss best at epoch 7, stopped at 9), a regression
"$bp" train --limit-train 600 --layers 16 --epochs 1 --quiet --save "$t/fm.ckpt" > /dev/null ||
    fail "training on fashion-mnist"
"$bp" train --data circles --layers 8 --val 0.2 --early-stop 2 --epochs 40 --lr 2 \
    --quiet --save "$t/es.ckpt" > "$t/es.train" || fail "training on circles"
grep -q "after 9 epochs, best validation loss at epoch 7 (stopped early)" "$t/es.train" ||
    fail "the early-stopping run changed: $(cat "$t/es.train")"
"$bp" train --model lstm --hidden 8 --data adding:5 --samples 64 --epochs 1 --quiet \
    --save "$t/reg.ckpt" > /dev/null || fail "training on adding:5"

# the model as a positional argument
"$bp" eval "$t/es.ckpt" > "$t/pos.out" 2> "$t/err" || fail "eval MODEL: $(cat "$t/err")"
"$bp" eval --model "$t/es.ckpt" > "$t/opt.out" || fail "eval --model MODEL"
cmp -s "$t/pos.out" "$t/opt.out" || fail "eval MODEL and eval --model MODEL differ"

# the epoch the weights are from
grep -q "^model .*9 epochs, weights of epoch 7 (the best validation loss)" "$t/pos.out" ||
    fail "an early-stopped model does not say its weights are from epoch 7: $(cat "$t/pos.out")"
"$bp" eval "$t/fm.ckpt" > "$t/fm.out" || fail "eval of the fashion-mnist model"
grep -q "^model .*, 1 epoch, trained on" "$t/fm.out" || fail "$(cat "$t/fm.out")"

# --confusion: class names, precision and recall
"$bp" eval "$t/fm.ckpt" --confusion > "$t/cm.out" || fail "eval --confusion"
for name in T-shirt/top Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag "Ankle boot"; do
    grep -q "^ *[0-9] $name  " "$t/cm.out" || fail "--confusion does not name '$name': $(cat "$t/cm.out")"
done
grep -q "precision *recall *samples$" "$t/cm.out" || fail "no precision and recall: $(cat "$t/cm.out")"
# recompute them from the matrix: rows "i name c0 .. c9 precision recall samples"
awk '/^ *[0-9]+ [A-Za-z]/ {
        n = NF; r = $1; sum = 0
        for (j = 0; j < 10; j++) { c[r, j] = $(n - 12 + j); sum += c[r, j] }
        prec[r] = $(n - 2); rec[r] = $(n - 1); cnt[r] = $n; rows++
        if (sum != cnt[r]) { print "row " r ": samples " cnt[r] " but the row sums to " sum; bad = 1 }
     }
     END {
        if (rows != 10) { print rows " rows"; exit 1 }
        for (i = 0; i < 10; i++) {
            col = 0
            for (j = 0; j < 10; j++) col += c[j, i]
            p = col ? sprintf("%.4f", c[i, i] / col) : "-"
            q = cnt[i] ? sprintf("%.4f", c[i, i] / cnt[i]) : "-"
            if (p != prec[i]) { print "class " i ": precision " prec[i] ", expected " p; bad = 1 }
            if (q != rec[i]) { print "class " i ": recall " rec[i] ", expected " q; bad = 1 }
        }
        exit bad
     }' "$t/cm.out" > "$t/awk.out" || fail "precision or recall wrong: $(cat "$t/awk.out")"

# --predictions: one row per test sample, agreeing with the accuracy
"$bp" eval "$t/fm.ckpt" --predictions "$t/p.csv" > "$t/p.out" || fail "eval --predictions"
head -n 1 "$t/p.csv" | grep -qx "index,label,predicted,T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot" ||
    fail "predictions header: $(head -n 1 "$t/p.csv")"
[ "$(wc -l < "$t/p.csv")" -eq 10001 ] || fail "predictions: $(wc -l < "$t/p.csv") lines, expected 10001"
acc=$(sed -n 's/^test loss [0-9.]* accuracy \([0-9.]*\)$/\1/p' "$t/p.out")
awk -F, -v acc="$acc" 'NR > 1 {
        if ($1 != NR - 2) { print "row " NR ": index " $1; bad = 1 }
        best = 4; s = 0
        for (j = 4; j <= NF; j++) { s += $j; if ($j > $best) best = j }
        if (best - 4 != $3) { print "row " NR ": predicted " $3 " but the largest probability is class " best - 4; bad = 1 }
        if (s < 0.999 || s > 1.001) { print "row " NR ": probabilities sum to " s; bad = 1 }
        right += $2 == $3
     }
     END {
        got = sprintf("%.4f", right / (NR - 1))
        if (got != acc) { print "accuracy " got " from the file, eval says " acc; bad = 1 }
        exit bad
     }' "$t/p.csv" > "$t/awk.out" || fail "predictions disagree: $(head -3 "$t/awk.out")"
# "-": the CSV on standard output, the report on stderr
"$bp" eval "$t/fm.ckpt" --predictions - > "$t/p2.csv" 2> "$t/p2.err" || fail "eval --predictions -"
cmp -s "$t/p.csv" "$t/p2.csv" || fail "--predictions - differs from the file"
grep -q "^test loss .* accuracy $acc\$" "$t/p2.err" || fail "the report did not move to stderr: $(cat "$t/p2.err")"
# two classes without names; a regression
"$bp" eval "$t/es.ckpt" --predictions "$t/es.csv" > /dev/null || fail "eval --predictions (circles)"
head -n 1 "$t/es.csv" | grep -qx "index,label,predicted,prob_0,prob_1" || fail "header: $(head -n 1 "$t/es.csv")"
"$bp" eval "$t/reg.ckpt" --predictions "$t/reg.csv" > /dev/null || fail "eval --predictions (adding:5)"
head -n 1 "$t/reg.csv" | grep -qx "index,target,prediction" || fail "regression header: $(head -n 1 "$t/reg.csv")"
[ "$(wc -l < "$t/reg.csv")" -eq 13 ] || fail "regression predictions: $(wc -l < "$t/reg.csv") lines, expected 13"

# data that does not fit the model: both shapes, before any parameter count
expect_error() { # exit pattern args...
    local want=$1 pattern=$2; shift 2
    "$bp" "$@" > "$t/out" 2> "$t/err"
    local rc=$?
    [ $rc -eq "$want" ] || fail "bplab $*: exit $rc, expected $want: $(cat "$t/err")"
    [ ! -s "$t/out" ] || fail "bplab $*: printed on stdout"
    grep -Eq -- "$pattern" "$t/err" || fail "bplab $*: $(cat "$t/err") does not match /$pattern/"
}
# a recurrent model runs over sequences of any length: the features per
# step are what must match
"$bp" eval "$t/reg.ckpt" --data adding:9 > "$t/out" 2> "$t/err" ||
    fail "an adding:5 model on adding:9: $(cat "$t/err")"
expect_error 2 "^bplab: error: --data fashion-mnist-rows: 28 features per time step and 10 classes, the model .*reg.ckpt expects 2 features per time step and real targets$" \
    eval "$t/reg.ckpt" --data fashion-mnist-rows
expect_error 2 "^bplab: error: --data circles: 2 features and 2 classes, the model .*fm.ckpt expects 784 features and 10 classes$" \
    eval "$t/fm.ckpt" --data circles
expect_error 2 "^bplab: error: --data adding:5: 10 features and real targets, the model .*fm.ckpt expects 784 features and 10 classes$" \
    eval "$t/fm.ckpt" --data adding:5
printf '0,0,0\n1,0,1\n0,1,2\n1,1,1\n0,0,2\n1,0,0\n0,1,1\n1,1,2\n0.5,0.5,0\n0.2,0.7,1\n' > "$t/three.csv"
expect_error 2 "^bplab: error: --data .*three.csv: 2 features and 3 classes, the model .*es.ckpt expects 2 features and 2 classes$" \
    eval "$t/es.ckpt" --data "$t/three.csv"
expect_error 2 "^bplab: error: --data .*three.csv: 2 features and 3 classes, the model .*es.ckpt expects 2 features and 2 classes$" \
    export "$t/es.ckpt" --data "$t/three.csv" "$t/x.npz"
expect_error 2 "^bplab: error: --confusion: the data set is a regression" eval "$t/reg.ckpt" --confusion
expect_error 2 "^bplab: error: two models: --model .*es.ckpt and '.*fm.ckpt'" eval --model "$t/es.ckpt" "$t/fm.ckpt"
expect_error 2 "^bplab: error: unexpected argument 'extra'" eval "$t/es.ckpt" extra
expect_error 1 "^bplab: error: --predictions /nonexistent-dir/p.csv: cannot create" \
    eval "$t/es.ckpt" --predictions /nonexistent-dir/p.csv
[ ! -e "$t/x.npz" ] || fail "a refused export wrote its file"
echo "eval checks passed"
