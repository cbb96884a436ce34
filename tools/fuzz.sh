#!/usr/bin/env bash
# tools/fuzz.sh [SECONDS] - build the libFuzzer targets (clang, with
# AddressSanitizer and UndefinedBehaviorSanitizer) into build-fuzz/, make
# their seed corpora, and run each target for SECONDS (default 30). A crash,
# leak or sanitizer report fails the script; the input that caused it is
# left in build-fuzz/ (crash-*, leak-*, timeout-*).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
b=build-fuzz
CC=clang cmake -S . -B $b -DBPLAB_FUZZ=ON -DBPLAB_SANITIZE=address,undefined \
    -DBPLAB_TESTS=OFF -DBPLAB_BENCH=OFF -DBPLAB_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build $b -j"$(nproc)" > /dev/null
corpus=$b/corpus
python3 tests/fuzz/make_seeds.py $corpus
# real checkpoints: a trained XOR net, an LSTM (with step norms), a CNN
$b/bplab train --data xor --layers 2 --act sigmoid --loss bce --batch 4 \
    --epochs 3 --save $corpus/ckpt/xor.ckpt --quiet > /dev/null
$b/bplab train --model lstm --hidden 3 --data adding:2 --loss mse --samples 16 \
    --batch 4 --epochs 2 --save $corpus/ckpt/lstm.ckpt --quiet > /dev/null
$b/bplab train --net conv:2:3:s2,relu,maxpool:2 --limit-train 64 --batch 16 \
    --epochs 1 --save $corpus/ckpt/cnn.ckpt --quiet > /dev/null
# run records of a sweep (every number, null for non-finite ones, a
# recurrent net's step norms)
$b/bplab sweep --out $b/sweep-seed --force --seeds 0 --vary "--net dense:2,rnn:2" -- \
    --data adding:3 --loss mse --samples 16 --batch 4 \
    --epochs 2 > /dev/null 2>&1
mkdir -p $corpus/runrec
cp $b/sweep-seed/runs/*.json $corpus/runrec/
fail=0
for t in idx csv ckpt args runrec; do
    log=$b/fuzz_$t.log
    if (cd $b && ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_$t corpus/$t \
            -max_total_time="$secs" -max_len=65536 -timeout=10 \
            -rss_limit_mb=4096 -print_final_stats=1) > "$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz_$t: $secs s, $runs executions, no crash"
    else
        echo "fuzz_$t: FAILED (see $log):"
        grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5
        fail=1
    fi
done
exit $fail
