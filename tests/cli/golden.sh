#!/bin/bash
# tests/cli/golden.sh BPLAB - the bits of three runs never change.
#
# tests/fixtures/golden/ holds checkpoints and SHA-256 sums made by bplab
# 09411d0 (tools/make_golden.sh; the runs are in runs.txt, which says
# which SIMD sums were made anew since, and why): the reference
# workload's network on 2048 Fashion-MNIST samples, an LSTM on the adding
# problem, a batch-norm + dropout + L2 MLP. For every ISA this CPU runs,
# the binary under test, at 2 threads (the fixtures were made at 1), must
# train each run to the same checkpoint and metrics bytes (wall time
# aside), evaluate each fixture to the same report and predictions, and
# resume each fixture for one more epoch to the same checkpoint, and train
# ref and the LSTM to the same checkpoint under odd GEMM blockings, and ref
# with --no-fuse too (a tanh/sigmoid net, fused and not, alike); the LSTM
# and the batch-norm run written in the layer grammar (--net) must give the
# same metrics as their shorthands. An ISA the fixtures cover but this CPU
# lacks is reported as skipped.
set -uo pipefail
bp=$1
dir=$(cd "$(dirname "$0")/../fixtures/golden" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
nowall() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) keep[i] = $i != "seconds" && $i != "samples_per_s" }
             { s = ""; for (i = 1; i <= NF; i++) if (keep[i]) s = s (s == "" ? "" : ",") $i; print s }' "$1"
}
hash() { sha256sum | cut -c1-64; }
# the fixtures are x86-64's: elsewhere even the scalar table may round
# differently (another libm), so the test does not apply
arch=$("$bp" info | sed -n 's/^cpu .*(\([a-z0-9_]*\))$/\1/p')
if [ "$arch" != x86_64 ]; then
    echo "skipped: the fixtures are x86_64's, this is ${arch:-unknown}"
    exit 77
fi
isas=$("$bp" info | sed -n 's/^isas *//p' | tr ',' '\n' | grep -v '(' | tr -d ' ')
for isa in $(awk '!/^#/ { print $2 }' "$dir/expected.txt" | sort -u); do
    echo "$isas" | grep -qx "$isa" || echo "skipped: $isa (this CPU or build cannot run it)"
done
checked=0
while IFS='|' read -r name args; do
    name=$(echo $name)
    [ -n "$name" ] && [ "${name#\#}" = "$name" ] || continue
    epochs=$(echo "$args" | sed -n 's/.*--epochs \([0-9]*\).*/\1/p')
    for isa in $isas; do
        grep -q "^$name $isa " "$dir/expected.txt" || continue
        # shellcheck disable=SC2086
        "$bp" train $args --isa $isa --threads 2 --quiet --save "$t/a.ckpt" \
            --metrics "$t/a.csv" > /dev/null || { echo "FAIL: $name/$isa: training failed"; fail=1; continue; }
        "$bp" train --resume "$dir/$name.ckpt" --epochs $((epochs + 1)) --isa $isa \
            --threads 2 --quiet --save "$t/r.ckpt" > /dev/null || { echo "FAIL: $name/$isa: resume failed"; fail=1; continue; }
        "$bp" eval "$dir/$name.ckpt" --isa $isa --threads 2 --predictions "$t/p.csv" |
            sed "s|$dir/||" > "$t/e.txt" || { echo "FAIL: $name/$isa: eval failed"; fail=1; continue; }
        for art in train.ckpt train.csv resume.ckpt eval.txt pred.csv; do
            case $art in
            train.ckpt) got=$(hash < "$t/a.ckpt") ;;
            train.csv) got=$(nowall "$t/a.csv" | hash) ;;
            resume.ckpt) got=$(hash < "$t/r.ckpt") ;;
            eval.txt) got=$(hash < "$t/e.txt") ;;
            pred.csv) got=$(hash < "$t/p.csv") ;;
            esac
            want=$(awk -v n="$name" -v i="$isa" -v a="$art" '$1 == n && $2 == i && $3 == a { print $4 }' "$dir/expected.txt")
            if [ "$got" != "$want" ]; then
                echo "FAIL: $name on $isa: $art differs from the fixture's ($got, expected $want)"
                [ $art = eval.txt ] && cat "$t/e.txt"
                fail=1
            fi
            checked=$((checked + 1))
        done
        echo "$name on $isa: trained, resumed and evaluated to the fixture's bits"
    done
done < "$dir/runs.txt"
# the committed fixture is itself the scalar run (its metrics too)
"$bp" train $(awk -F'|' '$1 ~ /^ref/ { print $2 }' "$dir/runs.txt") --isa scalar --threads 2 \
    --quiet --save "$t/ref.ckpt" --metrics "$t/ref.csv" > /dev/null
cmp -s "$t/ref.ckpt" "$dir/ref.ckpt" || { echo "FAIL: ref on scalar differs from ref.ckpt"; fail=1; }
nowall "$t/ref.csv" | cmp -s - "$dir/ref.csv" || { echo "FAIL: ref's metrics differ from ref.csv"; fail=1; }
# the cache blocking sets speed only: ref and lstm trained under odd
# blockings (KC splitting every reduction, MC and NC below one tile, the
# largest allowed) give the fixtures' bits on every SIMD table
for isa in $isas; do
    [ "$isa" = scalar ] && continue
    for name in ref lstm; do
        grep -q "^$name $isa train.ckpt " "$dir/expected.txt" || continue
        want=$(awk -v n="$name" -v i="$isa" '$1 == n && $2 == i && $3 == "train.ckpt" { print $4 }' "$dir/expected.txt")
        for blk in 5,1,1 37,50,100 384,1024,1024; do
            # shellcheck disable=SC2046
            BPLAB_GEMM_BLOCKING=$blk "$bp" train $(awk -F'|' -v n="$name" '$1 ~ "^" n " " { print $2 }' "$dir/runs.txt") \
                --isa $isa --threads 2 --quiet --save "$t/b.ckpt" > /dev/null ||
                { echo "FAIL: $name/$isa: training with blocking $blk failed"; fail=1; continue; }
            got=$(hash < "$t/b.ckpt")
            [ "$got" = "$want" ] || { echo "FAIL: $name on $isa with BPLAB_GEMM_BLOCKING=$blk: train.ckpt differs from the fixture's"; fail=1; }
            checked=$((checked + 1))
        done
        echo "$name on $isa: the fixture's bits under blockings 5,1,1 37,50,100 384,1024,1024"
    done
done
# fusion sets speed only: ref with every kernel on its own (--no-fuse)
# gives the fixture's bits, and nets whose dense layers end in tanh and
# sigmoid (the out-of-line epilogue) the bits of their fused runs
for isa in $isas; do
    want=$(awk -v i="$isa" '$1 == "ref" && $2 == i && $3 == "train.ckpt" { print $4 }' "$dir/expected.txt")
    [ -n "$want" ] || continue
    # shellcheck disable=SC2046
    "$bp" train $(awk -F'|' '$1 ~ /^ref / { print $2 }' "$dir/runs.txt") --isa $isa --threads 2 \
        --no-fuse --quiet --save "$t/u.ckpt" > /dev/null || { echo "FAIL: ref/$isa: training with --no-fuse failed"; fail=1; continue; }
    got=$(hash < "$t/u.ckpt")
    [ "$got" = "$want" ] || { echo "FAIL: ref on $isa with --no-fuse: train.ckpt differs from the fixture's"; fail=1; }
    for fuse in "" --no-fuse; do
        # shellcheck disable=SC2086
        "$bp" train --data spirals --net dense:32,tanh,dense:16,sigmoid --epochs 2 --isa $isa \
            --threads 2 $fuse --quiet --save "$t/s$fuse.ckpt" > /dev/null ||
            { echo "FAIL: tanh/sigmoid net on $isa ${fuse:-fused}: training failed"; fail=1; }
    done
    cmp -s "$t/s.ckpt" "$t/s--no-fuse.ckpt" || { echo "FAIL: tanh/sigmoid net on $isa: --no-fuse changes the bits"; fail=1; }
    checked=$((checked + 2))
    echo "ref and a tanh/sigmoid net on $isa: the same bits with --no-fuse"
done
# the layer grammar trains the same bits as the shorthands it spells out
while IFS='|' read -r name args; do
    "$bp" train $args --isa scalar --threads 2 --quiet --metrics "$t/n.csv" > /dev/null
    got=$(nowall "$t/n.csv" | hash)
    want=$(awk -v n="$name" '$1 == n && $2 == "scalar" && $3 == "train.csv" { print $4 }' "$dir/expected.txt")
    [ "$got" = "$want" ] || { echo "FAIL: $name as --net: metrics differ from the shorthand's"; fail=1; }
    checked=$((checked + 1))
done <<'NETS'
lstm|--data adding:10 --samples 2000 --net lstm:16 --opt adam --lr 0.01 --epochs 2
bndrop|--data spirals --net dense:64,bn,relu,dropout:0.2,dense:64,bn,relu,dropout:0.2 --l2 0.0001 --epochs 3
NETS
[ $checked -ge 15 ] || { echo "FAIL: only $checked comparisons made"; fail=1; }
[ $fail = 0 ] && echo "golden: $checked artifacts identical"
exit $fail
