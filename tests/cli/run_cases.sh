#!/usr/bin/env bash
# tests/cli/run_cases.sh BPLAB CASES - run the command-line case table.
# See cases.txt for the format. Prints one line per failing case and exits
# non-zero if any failed or if no case ran.
set -u
bin=$1
cases=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run=0 failed=0
# The ISAs as `bplab info` lists them ("isas  scalar, avx2, neon (not built
# into this binary)"): all of their names (@ISAS@, space-separated; @ISA_RE@,
# an alternation), and the first one this binary is not built for
# (@FOREIGN_ISA@: neon on x86-64, avx2 on aarch64).
isa_lines=$("$bin" info 2>/dev/null | sed -n 's/^isas *//p' | tr ',' '\n' | sed 's/^ *//')
isas=$(echo "$isa_lines" | sed 's/ .*//' | xargs)
foreign=$(echo "$isa_lines" | sed -n 's/ (not built into this binary)$//p' | head -n 1)
if [[ -z "$isas" || -z "$foreign" ]]; then
    echo "FAIL: cannot read the ISAs from '$bin info' (got '$isas', foreign '$foreign')"
    exit 1
fi
isa_re=${isas// /|}
subst() {
    sed "s/@FOREIGN_ISA@/$foreign/g; s/@ISAS@/$isas/g; s/@ISA_RE@/$isa_re/g"
}
"$bin" --help >"$tmp/usage" 2>&1 && echo >>"$tmp/usage"
while IFS='|' read -r want env args pattern; do
    [[ "$want" =~ ^[[:space:]]*(#|$) ]] && continue # comments, blank lines
    want=$(echo "$want" | xargs)
    # "2+usage": exit 2 with the top-level usage and a blank line on stderr
    # before the one error line (plain `bplab`: what to type instead)
    usage=0
    if [[ "$want" == *+usage ]]; then
        usage=1 want=${want%+usage}
    fi
    env=$(echo "$env" | xargs)
    args=$(echo "$args" | sed 's/^ *//; s/ *$//' | subst)
    pattern=$(echo "$pattern" | sed 's/^ *//; s/ *$//' | subst)
    run=$((run + 1))
    envs=()
    [[ "$env" != "-" ]] && envs=("$env")
    # shellcheck disable=SC2086  # word splitting of args is intended
    env -u BPLAB_ISA "${envs[@]}" "$bin" $args >"$tmp/out" 2>"$tmp/err"
    got=$?
    why=""
    if [[ $usage == 1 ]]; then
        if ! head -n -1 "$tmp/err" | cmp -s - "$tmp/usage"; then
            why="stderr does not start with the output of 'bplab --help'"
        fi
        tail -n 1 "$tmp/err" >"$tmp/err1" && mv "$tmp/err1" "$tmp/err"
    fi
    if [[ -n "$why" ]]; then
        :
    elif [[ "$got" != "$want" ]]; then
        why="exit $got, expected $want"
    elif [[ "$want" != 0 ]]; then
        if [[ -s "$tmp/out" ]]; then
            why="printed on stdout"
        elif [[ $(wc -l <"$tmp/err") -ne 1 ]]; then
            why="stderr has $(wc -l <"$tmp/err") lines, expected 1"
        elif ! grep -Eq "^bplab: error: " "$tmp/err"; then
            why="stderr does not start with 'bplab: error: '"
        elif ! grep -Eq -- "$pattern" "$tmp/err"; then
            why="stderr does not match /$pattern/"
        fi
    elif ! grep -Eq -- "$pattern" "$tmp/out"; then
        why="stdout does not match /$pattern/"
    fi
    if [[ -n "$why" ]]; then
        failed=$((failed + 1))
        echo "FAIL: bplab $args (env: $env): $why"
        sed 's/^/    stderr: /' "$tmp/err" | head -5
    fi
done <"$cases"
echo "$run cases, $failed failed"
[[ $run -gt 0 && $failed -eq 0 ]]
