#!/usr/bin/env bash
# tools/sweep-slurm.sh [-s SBATCH_OPTION]... [--wait] COMMAND [GRID OPTIONS...]
#
# Run an experiment grid on a Slurm cluster: one job array for the runs not
# yet complete, and a report job after it.
#
# COMMAND is an experiment name (${BPLAB_BUILD:-build}/experiments/NAME, the
# build folder of this checkout unless BPLAB_BUILD says otherwise), a path to
# a program, or "sweep" (build/bplab sweep, whose own "--" and train options
# follow in GRID OPTIONS). GRID OPTIONS define the grid and its folder
# (--quick, --seeds N, --epochs N, --out DIR, ...) and must be the same on
# every call for one sweep. The script
#   1. runs COMMAND GRID --list and COMMAND GRID --list --pending, and maps
#      the pending runs' IDs to their indices in the full list;
#   2. submits ONE job array, sbatch --parsable --array=<those indices>, whose
#      task i runs COMMAND GRID --run i --threads ${SLURM_CPUS_PER_TASK:-1}
#      (each run uses the CPUs Slurm gave it, -s --cpus-per-task=N for more;
#      no --threads is added when GRID OPTIONS have one);
#   3. submits a report job, --dependency=afterok:<array job>, running
#      COMMAND GRID --report (metrics.csv, summary.md, plots ... in OUT);
#   4. prints both job ids.
# A task whose run is already complete on disk exits 0 at once, so
# resubmitting fills in only what is missing. When nothing is pending, no
# array is submitted, only the report job (which then starts at once).
# If a task fails, the report job never starts (Slurm shows it PENDING,
# reason DependencyNeverSatisfied): fix the cause, scancel it, resubmit.
#
# The tasks run in the current directory (sbatch --chdir), with the
# program's absolute path: both must be on a file system every node sees.
# Logs: OUT/slurm/ when the grid has --out OUT, else ./slurm-logs/: one file
# per task (<array job>_<index>.out, stdout and stderr), <job>-report.out,
# and the two generated batch scripts (array.sbatch, report.sbatch).
#
# Options (before COMMAND):
#   -s OPTION  pass OPTION to both sbatch calls (repeatable), e.g.
#              -s --partition=short -s --time=30:00 -s --cpus-per-task=2
#   --wait     wait for the report job and exit with its status (0: every
#              run complete; non-zero: a task or the report failed, or the
#              report says INCOMPLETE); a failed task cancels the report job
#
# Examples:
#   tools/slurm-local.sh start            # a one-node cluster on this machine
#   tools/sweep-slurm.sh optimizers --quick --seeds 2 --out /shared/opt
#   tools/sweep-slurm.sh -s --partition=cpu sweep --out /shared/drop \
#       --seeds 0-3 --vary "--dropout 0,0.2" -- --limit-train 2000 --epochs 2
set -euo pipefail
me=sweep-slurm.sh
# shellcheck source=tools/sweep-common.sh
. "$(dirname "$0")/sweep-common.sh"

sbatch_opts=() wait=0
while [ $# -gt 0 ]; do
    case "$1" in
    -s) [ $# -ge 2 ] || sweep_die "-s needs an sbatch option"
        sbatch_opts+=("$2"); shift ;;
    -s*) sbatch_opts+=("${1#-s}") ;;
    --wait) wait=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) sweep_die "unknown option $1 (usage: tools/sweep-slurm.sh [-s SBATCH_OPTION]... [--wait] COMMAND [GRID OPTIONS...])" ;;
    *) break ;;
    esac
    shift
done
command -v sbatch > /dev/null || sweep_die "sbatch not found (no Slurm here; tools/slurm-local.sh start makes a local cluster)"
sweep_resolve "$@"

idx=$(sweep_pending) || exit 1
logs=${out:+$out/slurm}
logs=${logs:-slurm-logs}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)
# 0,1,2,5,7,8 -> 0-2,5,7-8
array=$(printf '%s\n' "$idx" | awk 'NF {
        if (n && $1 == last + 1) { last = $1; next }
        if (n) { s = s sep first (last > first ? "-" last : ""); sep = "," }
        first = last = $1; n = 1 }
    END { if (n) s = s sep first (last > first ? "-" last : ""); print s }')
npending=$(printf '%s\n' "$idx" | awk 'NF' | wc -l)

if [ "$npending" -gt 0 ]; then
    maxidx=$(printf '%s\n' "$idx" | tail -n 1)
    maxarray=$({ scontrol show config 2>/dev/null || true; } |
               awk '$1 == "MaxArraySize" { print $3 }')
    if [ -n "$maxarray" ] && [ "$maxidx" -ge "$maxarray" ]; then
        sweep_die "run index $maxidx is beyond the cluster's MaxArraySize ($maxarray): split the grid"
    fi
fi

q() { [ $# -eq 0 ] || printf '%q ' "$@"; }
script() { # script FLAG...: a batch script running the program with them
    echo '#!/usr/bin/env bash'
    echo "# written by tools/sweep-slurm.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cd $(q "$PWD")"
    echo "exec $(q "${cmd[@]}" "${pre[@]}")$*$(q "${post[@]}")"
}

submitted=""
if [ "$npending" -gt 0 ]; then
    # the task's index is the run's index in --list
    # shellcheck disable=SC2016 # expanded by the task, not here
    if [ "$threads" = 1 ]; then
        script '--run "$SLURM_ARRAY_TASK_ID" '
    else
        script '--run "$SLURM_ARRAY_TASK_ID" --threads "${SLURM_CPUS_PER_TASK:-1}" '
    fi > "$logs/array.sbatch"
    aid=$(sbatch --parsable --array="$array" --job-name="bplab-$name" \
        --chdir="$PWD" --output="$logs/%A_%a.out" "${sbatch_opts[@]}" "$logs/array.sbatch") ||
        sweep_die "sbatch of the job array failed"
    aid=${aid%%;*}
    echo "$me: array job $aid: $npending of the runs ($array), logs $logs/${aid}_<index>.out"
    dep=(--dependency="afterok:$aid")
    submitted=$aid
else
    echo "$me: nothing pending (every run of the grid is complete); submitting only the report"
    dep=()
fi
script '--report ' > "$logs/report.sbatch"
rid=$(sbatch --parsable --job-name="bplab-$name-report" "${dep[@]}" \
    --chdir="$PWD" --output="$logs/%j-report.out" "${sbatch_opts[@]}" "$logs/report.sbatch") ||
    sweep_die "sbatch of the report job failed"
rid=${rid%%;*}
echo "$me: report job $rid${submitted:+ (after $submitted)}, log $logs/$rid-report.out"
[ $wait = 1 ] || exit 0

# --wait: poll the report job (no accounting database needed)
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" | head -n 1; }
while :; do
    info=$(scontrol show job -o "$rid" 2>/dev/null) ||
        info=$(sacct -n -X -P -j "$rid" -o State,ExitCode 2>/dev/null |
               awk -F'|' 'NF { print " JobState=" $1 " ExitCode=" $2 " Reason=None" }' | head -n 1) || true
    [ -n "$info" ] || sweep_die "Slurm forgot report job $rid before it was seen to end (MinJobAge?)"
    state=$(printf ' %s\n' "$info" | field JobState)
    reason=$(printf ' %s\n' "$info" | field Reason)
    case "$state" in
    PENDING)
        if [ "$reason" = DependencyNeverSatisfied ]; then
            failed=$({ scontrol show job -o "$submitted" 2>/dev/null || true; } |
                     awk '/JobState=(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)/ {
                              if (match($0, /ArrayTaskId=[0-9]+/)) printf "%s%s", sep, substr($0, RSTART + 12, RLENGTH - 12); sep = "," }')
            scancel "$rid" 2> /dev/null || true
            sweep_die "run(s) ${failed:-?} of array job $submitted failed (logs $logs/${submitted}_<index>.out); report job $rid cancelled"
        fi
        # a task Slurm could not launch waits, held, for a person: say so
        if [ -n "$submitted" ] &&
           scontrol show job -o "$submitted" 2>/dev/null | grep -q 'Reason=launch_failed_requeued_held'; then
            sweep_die "Slurm could not launch tasks of array job $submitted (held: launch failed; see slurmd's log); report job $rid still waits"
        fi ;;
    COMPLETED)
        echo "$me: report job $rid completed; every run is complete"
        exit 0 ;;
    FAILED|CANCELLED*|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)
        code=$(printf ' %s\n' "$info" | field ExitCode)
        code=${code%%:*}
        [ -n "$code" ] && [ "$code" != 0 ] || code=1
        echo "$me: report job $rid ended $state (exit $code; log $logs/$rid-report.out)" >&2
        exit "$code" ;;
    esac
    sleep 2
done
