#!/usr/bin/env bash
# tools/sweep-parallel.sh [-j N] [--sshloginfile FILE] COMMAND [GRID OPTIONS...]
#
# Run an experiment grid with GNU parallel (Debian package "parallel"): the
# runs not yet complete, N at a time, on this machine or over ssh, then the
# report. COMMAND and GRID OPTIONS are as for tools/sweep-slurm.sh: an
# experiment name (${BPLAB_BUILD:-build}/experiments/NAME, the build folder of
# this checkout unless BPLAB_BUILD says otherwise), a path to a program, or
# "sweep" (build/bplab sweep, its "--" and train options following).
#
# It feeds the IDs of COMMAND GRID --list --pending to parallel, which runs
# COMMAND GRID --run ID for each (its output lines tagged with the ID), and
# then runs COMMAND GRID --report here. Exit status: 0 when every run is
# complete; non-zero when a run failed or the report says INCOMPLETE. A run
# already complete on disk is skipped, so rerunning fills in what is missing.
#
#   -j N                 runs at a time (per host with --sshloginfile);
#                        default: the number of CPUs (parallel's own default)
#   --sshloginfile FILE  run on the hosts listed in FILE (parallel's format:
#                        one [N/]host a line, ":" for this machine). The
#                        program and the current directory must be at the
#                        same path on every host, on a shared file system:
#                        parallel runs each job in "--workdir ." (the
#                        current directory; one below $HOME is taken as the
#                        same path below the remote $HOME)
#
# Like the programs' own --jobs N, each run gets --threads CPUs/N (at least
# 1; CPUs of this machine), or --threads 1 without -j (parallel then starts
# one run per CPU of each host), unless GRID OPTIONS hold --threads.
#
# The equivalent one-liner (here: optimizers, quick grid, 2 at a time on 2
# CPUs; over ssh add --sshloginfile FILE --workdir .):
#   P="build/experiments/optimizers --quick"; $P --list --pending | cut -f1 |
#       parallel -j 2 $P --threads 1 --run {}; $P --report
set -euo pipefail
me=sweep-parallel.sh
# shellcheck source=tools/sweep-common.sh
. "$(dirname "$0")/sweep-common.sh"

jobs="" sshlogin=""
while [ $# -gt 0 ]; do
    case "$1" in
    -j) [ $# -ge 2 ] || sweep_die "-j needs a number"; jobs=$2; shift ;;
    -j*) jobs=${1#-j} ;;
    --sshloginfile) [ $# -ge 2 ] || sweep_die "--sshloginfile needs a file"
        sshlogin=$2; shift ;;
    --sshloginfile=*) sshlogin=${1#--sshloginfile=} ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) sweep_die "unknown option $1 (usage: tools/sweep-parallel.sh [-j N] [--sshloginfile FILE] COMMAND [GRID OPTIONS...])" ;;
    *) break ;;
    esac
    shift
done
[ -z "$jobs" ] || [[ $jobs =~ ^[1-9][0-9]*$ ]] || sweep_die "-j wants a positive number, not $jobs"
[ -z "$sshlogin" ] || [ -r "$sshlogin" ] || sweep_die "$sshlogin: cannot read the ssh login file"
command -v parallel > /dev/null || sweep_die "GNU parallel not found (apt-get install parallel)"
sweep_resolve "$@"

list=$(mktemp)
trap 'rm -f "$list"' EXIT
sweep_call --list --pending | cut -f1 > "$list" ||
    sweep_die "$name --list --pending failed"
n=$(wc -l < "$list")

rc=0
if [ "$n" -gt 0 ]; then
    popts=(--will-cite --tag --line-buffer)
    [ -z "$jobs" ] || popts+=(-j "$jobs")
    run=(--run {})
    if [ "$threads" = 0 ]; then
        t=1
        [ -z "$jobs" ] || t=$(( $(nproc) / jobs ))
        [ "$t" -ge 1 ] || t=1
        run+=(--threads "$t")
    fi
    [ -z "$sshlogin" ] || popts+=(--sshloginfile "$sshlogin" --workdir .)
    echo "$me: $n pending runs of $name${jobs:+, $jobs at a time}${sshlogin:+ on the hosts of $sshlogin}"
    # -q: parallel quotes each word of the command (grid options with
    # spaces or quotes in them), {} becomes one ID; --arg-file keeps the
    # program's standard input its own
    parallel "${popts[@]}" -q --arg-file "$list" \
        "${cmd[@]}" "${pre[@]}" "${run[@]}" "${post[@]}" || rc=$?
    if [ $rc -gt 100 ]; then
        echo "$me: parallel failed (exit $rc; over 100 failed runs at 101)" >&2
    elif [ $rc -gt 0 ]; then
        echo "$me: $rc run(s) failed" >&2
    fi
else
    echo "$me: nothing pending (every run of the grid is complete)"
fi
rrc=0
sweep_call --report || rrc=$?
[ $rc -eq 0 ] || exit 1
exit $rrc
