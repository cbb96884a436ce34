#!/usr/bin/env bash
# tests/cli/premises.sh BPLAB - the premise of the overfitting experiments,
# checked in a configuration small enough for every test run: with 40% of
# the training labels wrong (--label-noise 0.4), an unregularised net
# memorises them, so its test accuracy peaks early and then falls
# (Zhang et al. 2017, Arpit et al. 2017); early stopping on the clean
# validation set recovers it. On seeds 0-2 (2000 training images of
# Fashion-MNIST, 500 for validation, 784-512-10, the reference optimizer,
# 40 epochs), each seed must show
#   - a fall from the peak test accuracy to the last epoch's of >= 0.05
#     with the noise (measured: 0.13-0.17), and a mean fall with the noise
#     larger than without it by >= 0.05;
#   - early stopping (patience 5 on the validation loss) ending >= 0.05
#     above the same run trained to the end (measured: +0.11 to +0.17).
# And the premises of exploding and gradient_flow, on the same seeds
# (10000 training images, one epoch):
#   - plain SGD at lr 1 on the reference MLP explodes: the run diverges
#     or ends at chance (<= 0.15; measured: 2 of 3 diverge within 17
#     steps, the third ends at 0.10), while clipping the global norm at
#     1.5 (the exploding experiment's threshold) trains (>= 0.3; measured
#     0.39-0.48);
#   - in 8 sigmoid layers of 128 (lr 0.01) the first layer's gradient
#     norm is below 1e-3 of the output layer's (measured 5e-5), and with
#     batch norm above 0.1 of it (measured 1.06).
# A change that breaks a premise (the noise, the split, early stopping,
# clipping, the trainer) fails here rather than in a committed result.
set -u
bp=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

common=(--limit-train 2500 --val 0.2 --layers 512 --epochs 40 --threads 2 --quiet)
# peak and last test accuracy of a metrics file
peak_last() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "test_acc") c = i; next }
             { if ($c > m) m = $c; l = $c } END { print m, l }' "$1"
}
fall_noise=0 fall_clean=0
for s in 0 1 2; do
    "$bp" train "${common[@]}" --label-noise 0.4 --seed "$s" --metrics "$t/n$s.csv" \
        > /dev/null || fail "seed $s with noise"
    "$bp" train "${common[@]}" --seed "$s" --metrics "$t/c$s.csv" > /dev/null ||
        fail "seed $s without noise"
    read -r pk last < <(peak_last "$t/n$s.csv")
    read -r pkc lastc < <(peak_last "$t/c$s.csv")
    awk -v p="$pk" -v l="$last" 'BEGIN { exit !(p - l >= 0.05) }' ||
        fail "seed $s: with 40% label noise the test accuracy only fell from $pk to $last"
    fall_noise=$(awk -v a="$fall_noise" -v p="$pk" -v l="$last" 'BEGIN { print a + (p - l) / 3 }')
    fall_clean=$(awk -v a="$fall_clean" -v p="$pkc" -v l="$lastc" 'BEGIN { print a + (p - l) / 3 }')
    "$bp" train "${common[@]}" --label-noise 0.4 --seed "$s" --early-stop 5 > "$t/es$s.out" ||
        fail "seed $s with early stopping"
    es=$(sed -n 's/^test accuracy \([0-9.]*\) .*/\1/p' "$t/es$s.out")
    awk -v e="$es" -v l="$last" 'BEGIN { exit !(e - l >= 0.05) }' ||
        fail "seed $s: early stopping ended at $es, training to the end at $last"
    echo "seed $s: noisy peak $pk, last $last; early stopping $es; clean peak $pkc, last $lastc"
done
awk -v n="$fall_noise" -v c="$fall_clean" 'BEGIN { exit !(n - c >= 0.05) }' ||
    fail "the mean fall from the peak is $fall_noise with noise, $fall_clean without"
echo "ok: mean fall from the peak $fall_noise with 40% label noise, $fall_clean without"

# exploding: unclipped lr 1 diverges or ends at chance, clipped trains
quick=(--limit-train 10000 --epochs 1 --threads 2 --quiet)
for s in 0 1 2; do
    if "$bp" train "${quick[@]}" --opt sgd --lr 1 --seed "$s" > "$t/x$s.out" 2>&1; then
        acc=$(sed -n 's/^test accuracy \([0-9.]*\) .*/\1/p' "$t/x$s.out")
        awk -v a="$acc" 'BEGIN { exit !(a != "" && a <= 0.15) }' ||
            fail "seed $s: plain SGD at lr 1 neither diverged nor stayed at chance ($acc)"
        what="ended at $acc"
    else
        grep -q diverged "$t/x$s.out" ||
            fail "seed $s: plain SGD at lr 1 failed: $(cat "$t/x$s.out")"
        what="diverged"
    fi
    "$bp" train "${quick[@]}" --opt sgd --lr 1 --clip-norm 1.5 --seed "$s" \
        > "$t/xc$s.out" 2>&1 || fail "seed $s: clipped at norm 1.5: $(cat "$t/xc$s.out")"
    acc=$(sed -n 's/^test accuracy \([0-9.]*\) .*/\1/p' "$t/xc$s.out")
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.3) }' ||
        fail "seed $s: clipped at norm 1.5, lr 1 ended at $acc"
    echo "seed $s: lr 1 unclipped $what, clipped $acc"
done

# gradient_flow: the first layer's share of the gradient, sigmoid x 8
deep=(--layers 128,128,128,128,128,128,128,128 --act sigmoid --lr 0.01)
ratio() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "grad_norm_1") a = i;
                                                   if ($i == "grad_norm_9") b = i }; next }
             { r = $a / $b } END { print r }' "$1"
}
for s in 0 1 2; do
    "$bp" train "${quick[@]}" "${deep[@]}" --seed "$s" --metrics "$t/g$s.csv" > /dev/null ||
        fail "seed $s: deep sigmoid"
    "$bp" train "${quick[@]}" "${deep[@]}" --batchnorm --seed "$s" --metrics "$t/gb$s.csv" \
        > /dev/null || fail "seed $s: deep sigmoid with batch norm"
    r=$(ratio "$t/g$s.csv") rb=$(ratio "$t/gb$s.csv")
    awk -v r="$r" -v b="$rb" 'BEGIN { exit !(r < 1e-3 && b > 0.1) }' ||
        fail "seed $s: first-to-output gradient ratio $r without batch norm, $rb with"
    echo "seed $s: deep sigmoid first-to-output gradient ratio $r, with batch norm $rb"
done
echo "ok: exploding and vanishing premises hold"
