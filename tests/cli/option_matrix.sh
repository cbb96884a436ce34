#!/usr/bin/env bash
# tests/cli/option_matrix.sh BPLAB - every option of `bplab train`, `eval`
# and `check` (read from their --help) with bad values: missing, empty,
# non-numeric, NaN, infinite, overflowing, overlong, negative, zero,
# fractional for integers, unknown choices, a value given to a flag. Each
# must end with exactly one line "bplab: error: ..." naming the option (or,
# for a value that is valid, the deliberately bad argument that follows),
# a non-zero exit (2 for a bad option, 1 for a file that cannot be used),
# nothing on stdout, and no file left behind in the output folder. Prints
# the number of cases; fails on any miss.
set -u
bp=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
out="$t/out"
mkdir "$out"
cases=0 failed=0
long=$(printf '9%.0s' $(seq 1 300))

# check CMD OPTION PATTERN: run `bplab CMD ... OPTION...`; the error line must
# match PATTERN.
run_case() {
    local pattern=$1; shift
    cases=$((cases + 1))
    "$bp" "$@" > "$t/stdout" 2> "$t/stderr"
    local rc=$? why=""
    if [ $rc -ne 2 ] && [ $rc -ne 1 ]; then why="exit $rc"
    elif [ -s "$t/stdout" ]; then why="wrote to stdout"
    elif [ "$(wc -l < "$t/stderr")" -ne 1 ]; then why="$(wc -l < "$t/stderr") lines on stderr"
    elif ! grep -q '^bplab: error: ' "$t/stderr"; then why="no 'bplab: error:' prefix"
    elif ! grep -Eq -- "$pattern" "$t/stderr"; then why="message does not match /$pattern/"
    elif [ -n "$(ls -A "$out")" ]; then why="left files behind: $(ls -A "$out")"
    fi
    if [ -n "$why" ]; then
        failed=$((failed + 1))
        echo "FAIL: bplab $* : $why"
        head -3 "$t/stderr" | sed 's/^/    /'
    fi
    rm -rf "$out"/* "$out"/.[!.]* 2> /dev/null || true
}

# options of a command: "name metavar" per line, from --help
options() {
    "$bp" "$1" --help | sed -n 's/^  \(--[a-z0-9-]*\)\( \([^ ]*\)\)\{0,1\}  .*/\1 \3/p'
}

for cmd in train eval check; do
    # head: outputs a failed run must not leave behind (a tested --save or
    # --metrics comes later and wins); tail: an argument that fails for sure
    # once the tested value has been accepted
    head_args=() tail_args=()
    case $cmd in
    train) head_args=(--save "$out/x.ckpt" --metrics "$out/m.csv")
           tail_args=(--data no-such-set) tail_pat='--data no-such-set' ;;
    eval)  head_args=(--model "$out/none.ckpt")
           tail_pat='none.ckpt: cannot open' ;;
    check) tail_args=(--kernel no-such-kernel) tail_pat='--kernel no-such-kernel' ;;
    esac
    while read -r name meta; do
        [ "$name" = --help ] && continue
        # the option last, without its value
        h=("${head_args[@]}") tl=("${tail_args[@]}")
        if [ -n "$meta" ]; then
            run_case "$name: missing value" $cmd "${h[@]}" "$name"
            run_case "$name: empty value" $cmd "${h[@]}" "$name=" "${tl[@]}"
        else
            run_case "$name takes no value" $cmd "${h[@]}" "$name=1" "${tl[@]}"
            continue
        fi
        case "$meta" in
        *'|'*)
            run_case "$name bogus: must be one of" $cmd "${h[@]}" "$name" bogus "${tl[@]}" ;;
        N|EPOCHS|PATIENCE|G|P|RATE|MU|B|E|LAMBDA|C|FRACTION)
            for v in abc nan inf -inf 1e999 "$long" 1.5x; do
                run_case "$name .*: (not a|must be|too large)" $cmd "${h[@]}" "$name" "$v" "${tl[@]}"
            done
            for v in -1 0 -0.5; do
                run_case "$name .*(must be|not an integer|applies to|needs)|$tail_pat" $cmd "${h[@]}" "$name" "$v" "${tl[@]}"
            done
            case "$meta" in N|EPOCHS|PATIENCE)
                run_case "$name 1.5: not an integer" $cmd "${h[@]}" "$name" 1.5 "${tl[@]}" ;;
            esac ;;
        *)  # strings and files: a directory where a file is expected
            case "$name" in
            --save|--metrics|--predictions)
                run_case "$name $t: is a directory" $cmd "${h[@]}" "$name" "$t" "${tl[@]}"
                run_case "$name /nonexistent-dir/f: cannot create" $cmd "${h[@]}" "$name" /nonexistent-dir/f "${tl[@]}" ;;
            --resume|--model|--init-from)
                run_case "$t: not a regular file|$t: is a directory" \
                    $cmd "${h[@]}" "$name" "$t" "${tl[@]}"
                run_case "/nonexistent: cannot open" $cmd "${h[@]}" "$name" /nonexistent "${tl[@]}" ;;
            esac ;;
        esac
    done < <(options $cmd)
done
# unknown options and stray arguments everywhere
for cmd in train eval check info; do
    run_case "unknown option '--no-such-option'" $cmd --no-such-option
    # eval's first argument is the model
    [ $cmd = eval ] && stray=("$out/none.ckpt" stray) || stray=(stray)
    run_case "unexpected argument 'stray'" $cmd "${stray[@]}"
done
# bad files: data sets and checkpoints that exist but cannot be used
bad="$t/bad"
mkdir -p "$bad"
printf '1,2,0\n3,4,1\n5,x,0\n' > "$bad/nonnum.csv"
printf '1,2,0\n3,4\n' > "$bad/short.csv"
printf '1,2,0\nnan,4,1\n' > "$bad/nan.csv"
printf '1,2,0\n1e999,4,1\n' > "$bad/inf.csv"
printf '1,2,-1\n3,4,1\n' > "$bad/label.csv"
: > "$bad/empty.csv"
run_case "nonnum.csv:3:2: .x. is not a number" train --data "$bad/nonnum.csv" --save "$out/x.ckpt"
run_case "short.csv:2: .*(2 columns|expected 3)" train --data "$bad/short.csv" --save "$out/x.ckpt"
run_case "nan.csv:2:1: .nan. is not finite" train --data "$bad/nan.csv" --save "$out/x.ckpt"
run_case "inf.csv:2:1: .1e999. is not finite" train --data "$bad/inf.csv" --save "$out/x.ckpt"
run_case "label.csv:1:3: label .-1. is not an integer" train --data "$bad/label.csv" --save "$out/x.ckpt"
run_case "empty.csv: no data rows" train --data "$bad/empty.csv" --save "$out/x.ckpt"
# an IDX folder: wrong magic, truncated images, counts that disagree
idx() {  # idx DIR: a valid 3-image set of 2x2 pixels in DIR
    mkdir -p "$1"
    printf '\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00\x02' > "$1/train-images-idx3-ubyte"
    head -c 12 /dev/zero >> "$1/train-images-idx3-ubyte"
    printf '\x00\x00\x08\x01\x00\x00\x00\x03\x00\x01\x02' > "$1/train-labels-idx1-ubyte"
    cp "$1/train-images-idx3-ubyte" "$1/t10k-images-idx3-ubyte"
    cp "$1/train-labels-idx1-ubyte" "$1/t10k-labels-idx1-ubyte"
}
idx "$bad/magic"
printf '\x00\x00\x08\x01' | dd of="$bad/magic/train-images-idx3-ubyte" conv=notrunc 2> /dev/null
run_case "train-images-idx3-ubyte: .*magic" train --data "$bad/magic" --save "$out/x.ckpt"
idx "$bad/trunc"
head -c 20 "$bad/trunc/t10k-images-idx3-ubyte" > "$bad/trunc/x" && mv "$bad/trunc/x" "$bad/trunc/t10k-images-idx3-ubyte"
run_case "t10k-images-idx3-ubyte: .*truncated" train --data "$bad/trunc" --save "$out/x.ckpt"
idx "$bad/count"
printf '\x00\x00\x08\x01\x00\x00\x00\x02\x00\x01' > "$bad/count/train-labels-idx1-ubyte"
run_case "has 3 images but .* has 2 labels" train --data "$bad/count" --save "$out/x.ckpt"
# a folder without one of the four files: the file, and what chose the folder
idx "$bad/partial"
rm "$bad/partial/t10k-labels-idx1-ubyte"
run_case "^bplab: error: --data $bad/partial: no t10k-labels-idx1-ubyte\\[\\.gz\\] in this folder\$" \
    train --data "$bad/partial" --save "$out/x.ckpt"
BPLAB_DATA="$bad/partial" run_case "^bplab: error: BPLAB_DATA=$bad/partial: no t10k-labels-idx1-ubyte\\[\\.gz\\] in this folder\$" \
    train --save "$out/x.ckpt"
# checkpoints: not one, cut short, one byte flipped
"$bp" train --data xor --layers 2 --epochs 1 --quiet --save "$bad/good.ckpt" > /dev/null
printf 'hello\n' > "$bad/text.ckpt"
head -c 100 "$bad/good.ckpt" > "$bad/cut.ckpt"
cp "$bad/good.ckpt" "$bad/flip.ckpt"
size=$(stat -c %s "$bad/flip.ckpt")
printf '\xff' | dd of="$bad/flip.ckpt" bs=1 seek=$((size - 9)) conv=notrunc 2> /dev/null
for f in text:"not a bplab checkpoint" cut:"checksum mismatch" flip:"checksum mismatch"; do
    why=${f#*:} f=${f%%:*}
    run_case "$f.ckpt: $why" eval --model "$bad/$f.ckpt"
    run_case "$f.ckpt: $why" train --resume "$bad/$f.ckpt" --save "$out/x.ckpt"
    run_case "--init-from .*$f.ckpt: $why" train --init-from "$bad/$f.ckpt" --save "$out/x.ckpt"
done
echo "$cases bad-input cases, $failed failed"
[ $failed -eq 0 ] && [ $cases -gt 100 ]
