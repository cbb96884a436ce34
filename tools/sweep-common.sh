# tools/sweep-common.sh - sourced by tools/sweep-slurm.sh and
# tools/sweep-parallel.sh (bash; the caller sets `me` and `set -euo pipefail`).
#
# shellcheck shell=bash disable=SC2034,SC2154 # sets its caller's variables, uses its $me

# sweep_resolve COMMAND [GRID OPTIONS...] sets
#   cmd   the program as an argument list with an absolute path: an
#         experiment name is ${BPLAB_BUILD:-<repo>/build}/experiments/NAME,
#         "sweep" is ${BPLAB_BUILD:-<repo>/build}/bplab sweep, anything with
#         a slash is a path to a program;
#   pre   the grid options before the first "--" (all of them if none);
#   post  the "--" and what follows it (bplab sweep's train options), so
#         that the engine's own flags (--list, --run ...) go between the two;
#   out   the grid's --out DIR (the last one), or nothing;
#   name  a short name for jobs and logs (the program's, or "sweep");
#   threads  1 when the grid options hold --threads, else 0.
# sweep_call FLAGS... runs the program on the grid with those flags.
# sweep_pending lists the indices (0-based, in --list order) of the runs
# that --list --pending names, one a line, ascending.

sweep_die() { echo "$me: error: $*" >&2; exit 1; }

sweep_resolve() {
    local repo build arg seen=0
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    build=${BPLAB_BUILD:-$repo/build}
    [ $# -ge 1 ] || sweep_die "no COMMAND (an experiment name, a program's path, or sweep)"
    case "$1" in
    sweep) cmd=("$build/bplab" sweep); name=sweep ;;
    */*) cmd=("$1"); name=$(basename "$1") ;;
    *) cmd=("$build/experiments/$1"); name=$1 ;;
    esac
    if [ ! -f "${cmd[0]}" ] || [ ! -x "${cmd[0]}" ]; then
        sweep_die "${cmd[0]}: no such program (build it: cmake --build ${build})"
    fi
    cmd[0]=$(cd "$(dirname "${cmd[0]}")" && pwd)/$(basename "${cmd[0]}")
    shift
    pre=() post=() out="" threads=0
    local prev=""
    for arg in "$@"; do
        if [ $seen = 1 ] || [ "$arg" = -- ]; then
            seen=1
            post+=("$arg")
            continue
        fi
        pre+=("$arg")
        case "$prev" in --out) out=$arg ;; esac
        case "$arg" in
        --out=*) out=${arg#--out=} ;;
        --threads|--threads=*) threads=1 ;;
        esac
        prev=$arg
    done
    return 0
}

sweep_call() {
    "${cmd[@]}" "${pre[@]}" "$@" "${post[@]}"
}

sweep_pending() {
    local tmp rc=0
    tmp=$(mktemp -d)
    sweep_call --list > "$tmp/all" || rc=$?
    [ $rc -eq 0 ] || { rm -rf "$tmp"; sweep_die "$name --list failed (exit $rc)"; }
    sweep_call --list --pending > "$tmp/pending" || rc=$?
    [ $rc -eq 0 ] || { rm -rf "$tmp"; sweep_die "$name --list --pending failed (exit $rc)"; }
    [ -s "$tmp/all" ] || { rm -rf "$tmp"; sweep_die "$name --list named no runs"; }
    # every pending ID must be in the full list: its line number is the index
    awk -F'\t' -v me="$me" '
        FILENAME == ARGV[1] { idx[$1] = FNR - 1; next }
        !($1 in idx) { printf "%s: error: pending run %s is not in --list\n", me, $1 > "/dev/stderr"; bad = 1; next }
        { print idx[$1] }
        END { exit bad }' "$tmp/all" "$tmp/pending" | sort -n > "$tmp/idx" || rc=$?
    cat "$tmp/idx"
    rm -rf "$tmp"
    [ $rc -eq 0 ] || exit 1
}
