#!/usr/bin/env bash
# tools/bench.sh [--out DIR] [--quick] - the whole benchmark set, written to
# DIR (default results/bench): kernels.json (Google Benchmark: the kernels,
# and the reference CNN's convolutions beside oneDNN's), training
# throughput of bplab (every ISA, 1 and 2 threads) and of PyTorch when
# installed (train.jsonl), LSTM and CNN training throughput of both
# (lstm.jsonl, cnn.jsonl), provenance.json, and README.md, the report
# (tools/bench_report.py).
# About 25 minutes on 2 cores; --quick: two.
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset here: they push OpenBLAS
# (and so numpy and PyTorch) onto slower AVX2 kernels.
set -eu
cd "$(dirname "$0")/.."
build=${BPLAB_BUILD:-build}
out=results/bench quick=0
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option $1"; exit 2 ;;
    esac
    shift
done
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
mkdir -p "$out"
bp="$build/bplab"
bench="$build/bench/bench_kernels"
[ -x "$bench" ] && [ -x "$bp" ] || { echo "bench.sh: build first (cmake --build $build)"; exit 2; }
start=$SECONDS

# 1. kernels: medians of repetitions, every benchmark in one run
if [ $quick = 1 ]; then
    filter='sgemm/[a-z0-9]+/NN/128x256x784|fma_peak|train_step/avx512|copy/16384|relu_fwd/[a-z0-9]+/16384|conv_[a-z_]+/(avx512|onednn)/'
    reps=2 min=0.02
else
    filter='.' reps=5 min=0.1
fi
"$bench" --benchmark_filter="$filter" --benchmark_repetitions=$reps \
    --benchmark_min_time=$min --benchmark_report_aggregates_only=true \
    --benchmark_format=console --benchmark_out_format=json \
    --benchmark_out="$out/kernels.json.tmp" > "$out/kernels.txt"
mv "$out/kernels.json.tmp" "$out/kernels.json"
echo "bench.sh: kernels done at $((SECONDS - start)) s"

# bplab_run OUT TAGS ISA THREADS EPOCHS TRAIN-ARGS...: train, and append
# one line of JSON per epoch to OUT (TAGS: extra "key": "value" fields)
bplab_run() {
    local dest=$1 tags=$2 isa=$3 t=$4 e=$5
    shift 5
    "$bp" train "$@" --isa "$isa" --threads $t --epochs $e --quiet \
        --metrics "$out/m.csv" > "$out/acc.txt"
    acc=$(sed -n 's/^test accuracy \([0-9.]*\).*/\1/p' "$out/acc.txt")
    tail -n +2 "$out/m.csv" | awk -F, -v tags="$tags" -v isa="$isa" -v t=$t -v acc="$acc" -v n=$e '
        { printf "{\"impl\": \"bplab\", %s\"isa\": \"%s\", \"threads\": %d, \"epoch\": %d, \"seconds\": %s, \"samples_per_s\": %s, \"test_acc\": %s, \"final_test_acc\": %s, \"epochs\": %d}\n",
                 tags, isa, t, $1, $(NF-1), $NF, $10, acc, n }' >> "$dest"
    rm -f "$out/m.csv" "$out/acc.txt"
}

# 2. training throughput: the reference workload, one line of JSON per
#    epoch (bplab: every usable ISA at 1 and 2 threads; PyTorch: 1 thread,
#    2 threads, and 2 threads with OMP_WAIT_POLICY=PASSIVE)
epochs=10
[ $quick = 1 ] && epochs=1
: > "$out/train.jsonl.tmp"
for isa in $("$bp" info | sed -n 's/^isas *//p' | tr ',' '\n' | grep -v '(' | tr -d ' '); do
    for t in 1 2; do
        e=$epochs
        if [ "$isa" = scalar ]; then e=1; [ $t = 2 ] && continue; fi
        bplab_run "$out/train.jsonl.tmp" "" "$isa" $t $e
        echo "bplab $isa, $t thread(s): test accuracy $acc after $e epoch(s)"
    done
done
if /usr/bin/python3 -c 'import torch' 2> /dev/null; then
    py=bench/peers/pytorch_mlp.py
    /usr/bin/python3 $py --epochs $epochs --threads 1 >> "$out/train.jsonl.tmp"
    pe=3; [ $quick = 1 ] && pe=1
    /usr/bin/python3 $py --epochs $pe --threads 2 | sed 's/"impl": "pytorch"/"impl": "pytorch", "wait_policy": "default"/' >> "$out/train.jsonl.tmp"
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 $py --epochs $epochs --threads 2 |
        sed 's/"impl": "pytorch"/"impl": "pytorch", "wait_policy": "PASSIVE"/' >> "$out/train.jsonl.tmp"
    echo "bench.sh: PyTorch done"
else
    echo "bench.sh: PyTorch not installed (python3-torch): no PyTorch peer"
fi
mv "$out/train.jsonl.tmp" "$out/train.jsonl"

# 3. LSTM training throughput: sequential Fashion-MNIST (28 steps of 28
#    pixels), 128 units, batch 128, Adam at lr 0.001, on the best table at
#    1 and 2 threads, beside PyTorch's nn.LSTM on the same shapes
: > "$out/lstm.jsonl.tmp"
best=$("$bp" info | sed -n 's/^active *\([a-z0-9]*\).*/\1/p')
le=2; [ $quick = 1 ] && le=1
for t in 1 2; do
    bplab_run "$out/lstm.jsonl.tmp" '"model": "lstm", ' "$best" $t $le \
        --model lstm --hidden 128 --data fashion-mnist-rows --opt adam --lr 0.001
    echo "bplab lstm $best, $t thread(s): test accuracy $acc after $le epoch(s)"
done
if /usr/bin/python3 -c 'import torch' 2> /dev/null; then
    py=bench/peers/pytorch_lstm.py
    /usr/bin/python3 $py --epochs $le --threads 1 >> "$out/lstm.jsonl.tmp"
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 $py --epochs $le --threads 2 |
        sed 's/"impl": "pytorch"/"impl": "pytorch", "wait_policy": "PASSIVE"/' >> "$out/lstm.jsonl.tmp"
    /usr/bin/python3 $py --epochs 1 --threads 2 |
        sed 's/"impl": "pytorch"/"impl": "pytorch", "wait_policy": "default"/' >> "$out/lstm.jsonl.tmp"
    echo "bench.sh: PyTorch LSTM done"
fi
mv "$out/lstm.jsonl.tmp" "$out/lstm.jsonl"

# 4. CNN training throughput: the reference CNN (--model cnn: 3x3
#    convolutions of 32 and 64 channels, 2x2 max pools, dense 128), batch
#    128, momentum 0.9 at lr 0.05, on the best table at 1 and 2 threads,
#    beside PyTorch's nn.Conv2d net of the same shapes (NCHW, its default,
#    and channels-last, bplab's layout)
: > "$out/cnn.jsonl.tmp"
ce=2; [ $quick = 1 ] && ce=1
for t in 1 2; do
    bplab_run "$out/cnn.jsonl.tmp" '"model": "cnn", ' "$best" $t $ce --model cnn
    echo "bplab cnn $best, $t thread(s): test accuracy $acc after $ce epoch(s)"
done
if /usr/bin/python3 -c 'import torch' 2> /dev/null; then
    py=bench/peers/pytorch_cnn.py
    /usr/bin/python3 $py --epochs $ce --threads 1 >> "$out/cnn.jsonl.tmp"
    /usr/bin/python3 $py --epochs $ce --threads 1 --channels-last >> "$out/cnn.jsonl.tmp"
    /usr/bin/python3 $py --epochs $ce --threads 2 >> "$out/cnn.jsonl.tmp"
    echo "bench.sh: PyTorch CNN done"
fi
mv "$out/cnn.jsonl.tmp" "$out/cnn.jsonl"

# 5. provenance and the report
python3 tools/bench_report.py "$out" "$bp" "$((SECONDS - start))" "$quick"
echo "bench.sh: done in $((SECONDS - start)) s: $out/README.md"
