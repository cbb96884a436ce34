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
# an ISA of the other architecture, never built into this binary
foreign=neon
"$bin" info 2>/dev/null | grep -q 'avx2 (not built' && foreign=avx2
while IFS='|' read -r want env args pattern; do
    want=$(echo "$want" | xargs)
    [[ -z "$want" || "$want" == \#* ]] && continue
    env=$(echo "$env" | xargs)
    args=$(echo "$args" | sed 's/^ *//; s/ *$//; s/@FOREIGN_ISA@/'"$foreign"'/g')
    pattern=$(echo "$pattern" | sed 's/^ *//; s/ *$//')
    run=$((run + 1))
    envs=()
    [[ "$env" != "-" ]] && envs=("$env")
    # shellcheck disable=SC2086  # word splitting of args is intended
    env -u BPLAB_ISA "${envs[@]}" "$bin" $args >"$tmp/out" 2>"$tmp/err"
    got=$?
    why=""
    if [[ "$got" != "$want" ]]; then
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
