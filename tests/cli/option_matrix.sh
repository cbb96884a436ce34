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
                run_case "$name .*(must be|not an integer)|$tail_pat" $cmd "${h[@]}" "$name" "$v" "${tl[@]}"
            done
            case "$meta" in N|EPOCHS|PATIENCE)
                run_case "$name 1.5: not an integer" $cmd "${h[@]}" "$name" 1.5 "${tl[@]}" ;;
            esac ;;
        *)  # strings and files: a directory where a file is expected
            case "$name" in
            --save|--metrics)
                run_case "$name $t: is a directory" $cmd "${h[@]}" "$name" "$t" "${tl[@]}"
                run_case "$name /nonexistent-dir/f: cannot create" $cmd "${h[@]}" "$name" /nonexistent-dir/f "${tl[@]}" ;;
            --resume|--model)
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
    run_case "unexpected argument 'stray'" $cmd stray
done
echo "$cases bad-input cases, $failed failed"
[ $failed -eq 0 ] && [ $cases -gt 100 ]
