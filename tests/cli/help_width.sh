#!/usr/bin/env bash
# tests/cli/help_width.sh BPLAB - the help of bplab and of every command
# (the commands read from `bplab --help`): no line wider than 80 columns;
# every line that starts with "  --" has the shape tests/cli/option_matrix.sh
# reads ("  --name METAVAR  help", so wrapped help never looks like an
# option); and `bplab help CMD` prints exactly `bplab CMD --help`.
set -u
bp=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
failed=0 checked=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

cmds=$("$bp" --help | sed -n '/^commands:$/,/^$/s/^  \([a-z]*\) .*/\1/p')
[ -n "$cmds" ] || fail "no commands in 'bplab --help'"
for c in "" $cmds; do
    what="bplab ${c:+$c }--help"
    # shellcheck disable=SC2086  # an empty $c is no argument
    "$bp" $c --help > "$t/help" 2>&1 || fail "$what: exit $?"
    checked=$((checked + 1))
    awk -v what="$what" 'length($0) > 80 {
        printf "FAIL: %s, line %d has %d columns: %s\n", what, NR, length($0), $0
        bad++ } END { exit bad > 0 }' "$t/help" || failed=$((failed + 1))
    grep '^  --' "$t/help" | grep -v '^  --[a-z0-9-]*\( [^ ]*\)\{0,1\}  ' |
        sed "s/^/FAIL: $what: not an option line: /" | grep . && failed=$((failed + 1))
    if [ -n "$c" ]; then
        "$bp" help "$c" > "$t/help2" 2>&1 || fail "bplab help $c: exit $?"
        cmp -s "$t/help" "$t/help2" || fail "bplab help $c differs from $what"
    fi
done
echo "$checked help texts, $failed failed"
[ "$failed" -eq 0 ] && [ "$checked" -gt 1 ]
