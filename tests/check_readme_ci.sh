#!/usr/bin/env bash
# tests/check_readme_ci.sh SOURCE_DIR - the README's test command is the
# line .ci/run runs (the line after "# README test command:"), verbatim.
set -eu
src=$1
line=$(grep -A1 '^# README test command:' "$src/.ci/run" | tail -n 1)
[[ -n "$line" ]] || { echo ".ci/run has no README test command"; exit 1; }
grep -qxF -- "$line" "$src/README.md" || {
    echo "README.md lacks the line .ci/run runs:"
    echo "  $line"
    exit 1
}
echo "README and .ci/run agree: $line"
