#!/usr/bin/env bash
# tests/sweep/engines.sh - the sweep engines give the results of a local run.
#
# Uses the existing build (${BPLAB_BUILD:-build}; builds nothing) and, as
# root, a one-node Slurm cluster from tools/slurm-local.sh (started here,
# stopped at the end unless it was up before). For two grids, a quick
# experiment grid and a small `bplab sweep` grid, it runs the grid
#   - locally, PROG GRID --jobs 1,
#   - through Slurm, tools/sweep-slurm.sh --wait,
#   - through GNU parallel, tools/sweep-parallel.sh -j 2,
# each into its own folder, and requires the three metrics.csv to be equal
# byte for byte in every column but the timings (seconds, samples_per_s,
# found by name in the header). Then: resubmitting the complete Slurm sweep
# must submit no job array; and a local --jobs 1 sweep killed (its process
# group, SIGTERM then SIGKILL) once its first run file appears, then rerun,
# must give the metrics.csv of the uninterrupted one.
# Needs: slurm-wlm, munge, parallel (sh tools/setup.sh engines). Takes
# well under a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
me=engines.sh
build=${BPLAB_BUILD:-build}
export BPLAB_BUILD=$build
export BPLAB_SLURM_DIR=${BPLAB_SLURM_DIR:-/tmp/bplab-slurm}
export SLURM_CONF=$BPLAB_SLURM_DIR/slurm.conf
start=$SECONDS

# the grids: COMMAND and GRID OPTIONS as the engines take them (each engine
# adds --out). The experiment: recurrent --quick, the fastest quick grid (a
# small RNN or LSTM on the adding problem, a few tenths of a second a run;
# the Fashion-MNIST ones take 20 s and more), with variant names holding a
# space and rows wider than most, for 4 seeds: 16 runs, so that the
# resume check's kill lands with runs left. The sweep: 2 dropout rates x 2
# seeds of a small spirals net, 2 epochs.
grid_exp=(recurrent --quick --seeds 4)
grid_sweep=(sweep --seeds 0-1 --vary "--dropout 0,0.2"
            -- --data spirals --samples 400 --layers 16 --epochs 2)

die() { echo "$me: error: $*" >&2; exit 1; }
t=$(mktemp -d /tmp/bplab-engines.XXXXXX)
slurm_was_up=0
cleanup() {
    if [ $slurm_was_up = 0 ]; then
        bash tools/slurm-local.sh stop > /dev/null 2>&1 || true
    fi
    rm -rf "$t"
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP

for p in sbatch parallel python3; do
    command -v $p > /dev/null || die "$p not found (sh tools/setup.sh engines)"
done
[ -x "$build/bplab" ] || die "$build/bplab not built (cmake --build $build)"

if bash tools/slurm-local.sh status > /dev/null 2>&1; then
    slurm_was_up=1
elif ! bash tools/slurm-local.sh start > "$t/slurm-start.log" 2>&1; then
    die "Slurm did not start: $(tail -n 1 "$t/slurm-start.log")"
fi

# grid COMMAND [GRID OPTIONS...]: set prog (the program's words, as the
# engines resolve COMMAND), pre and post (the options before bplab sweep's
# "--", and the "--" with what follows), so that flags go between the two
grid() {
    case "$1" in
    sweep) prog=("$build/bplab" sweep) ;;
    *) prog=("$build/experiments/$1") ;;
    esac
    shift
    pre=() post=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do pre+=("$1"); shift; done
    post=("$@")
}
# direct FLAGS...: the program itself on the grid, with those flags
direct() { "${prog[@]}" "${pre[@]}" "$@" "${post[@]}"; }

# step LOG WHAT COMMAND...: run it (5 minutes at most), its output to LOG;
# on failure show the end of it
step() {
    local log=$1 what=$2 t0=$SECONDS rc=0
    shift 2
    timeout -k 10 300 "$@" > "$log" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then
        tail -n 30 "$log" | sed 's/^/    /'
        [ $rc -ne 124 ] || die "$what: still running after 300 s"
        die "$what: exit $rc"
    fi
    echo "$me: $what ($((SECONDS - t0)) s)"
}

# same_metrics A B WHAT: the two metrics.csv agree but for the timings
same_metrics() {
    python3 - "$1" "$2" "$3" <<'EOF' || die "$3: metrics.csv differ (above)"
import re, sys
a, b, what = sys.argv[1:]
TIMING = ("seconds", "samples_per_s")
FIELD = re.compile(r'("(?:[^"]|"")*"|[^,"]*)(,|$)')
def split(line):
    # the fields of one CSV line as they are written, quotes and all
    out, pos = [], 0
    while True:
        m = FIELD.match(line, pos)
        if not m:
            sys.exit(f"{what}: not CSV: {line!r}")
        out.append(m.group(1))
        if m.group(2) == "":
            return out
        pos = m.end()
def load(path):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").split("\n")
    if not lines or lines[-1] != "":
        sys.exit(f"{what}: {path} does not end in a newline")
    rows = [split(l) for l in lines[:-1]]
    if not rows:
        sys.exit(f"{what}: {path} is empty")
    head = rows[0]
    for c in TIMING:
        if c not in head:
            sys.exit(f"{what}: {path} has no column {c}")
    skip = {i for i, c in enumerate(head) if c in TIMING}
    return head, [[f for i, f in enumerate(r) if i not in skip] for r in rows]
ha, ra = load(a)
hb, rb = load(b)
if ha != hb:
    sys.exit(f"{what}: headers differ:\n  {ha}\n  {hb}")
if len(ra) != len(rb):
    sys.exit(f"{what}: {len(ra) - 1} rows against {len(rb) - 1}")
for n, (x, y) in enumerate(zip(ra, rb)):
    if x != y:
        sys.exit(f"{what}: line {n + 1} differs:\n  {x}\n  {y}")
print(f"engines.sh: {what}: {len(ra) - 1} rows equal but for the timings")
EOF
}

engines() { # engines NAME COMMAND [GRID OPTIONS...]
    local name=$1 cmd=$2
    shift
    grid "$@"
    local d=$t/$name
    step "$t/$name-local.log" "$name: local --jobs 1" \
        "${prog[@]}" "${pre[@]}" --out "$d-local" --jobs 1 "${post[@]}"
    [ -s "$d-local/metrics.csv" ] || die "$name: local run wrote no metrics.csv"
    step "$t/$name-slurm.log" "$name: tools/sweep-slurm.sh --wait" \
        bash tools/sweep-slurm.sh --wait "$cmd" --out "$d-slurm" "${pre[@]}" "${post[@]}"
    grep -q 'array job' "$t/$name-slurm.log" || die "$name: sweep-slurm.sh submitted no job array"
    step "$t/$name-parallel.log" "$name: tools/sweep-parallel.sh -j 2" \
        bash tools/sweep-parallel.sh -j 2 "$cmd" --out "$d-parallel" "${pre[@]}" "${post[@]}"
    same_metrics "$d-local/metrics.csv" "$d-slurm/metrics.csv" "$name: local and Slurm"
    same_metrics "$d-local/metrics.csv" "$d-parallel/metrics.csv" "$name: local and parallel"
    # a complete sweep resubmitted: the report job alone, by the script's
    # word and by Slurm's (no job after the last one holds an array task)
    local last
    last=$(scontrol show job -o | sed -n 's/^JobId=\([0-9]*\) .*/\1/p' | sort -n | tail -n 1) ||
        die "scontrol show job failed"
    step "$t/$name-slurm2.log" "$name: tools/sweep-slurm.sh --wait again" \
        bash tools/sweep-slurm.sh --wait "$cmd" --out "$d-slurm" "${pre[@]}" "${post[@]}"
    if grep -q 'array job' "$t/$name-slurm2.log" ||
       ! grep -q 'nothing pending' "$t/$name-slurm2.log" ||
       scontrol show job -o | awk -v last="${last:-0}" '
           match($0, /^JobId=[0-9]+/) && substr($0, 7, RLENGTH - 6) + 0 > last + 0 &&
           /ArrayTaskId=/ { found = 1 } END { exit !found }'; then
        cat "$t/$name-slurm2.log"
        die "$name: resubmitting a complete sweep submitted array tasks"
    fi
}

resume() { # resume NAME COMMAND [GRID OPTIONS...]: kill, rerun, compare
    local name=$1 pid rc=0 i left
    shift
    grid "$@"
    local d=$t/$name-resume
    # in its own process group, so that the kill reaches the pool's workers
    # too: without job control the background job leads no group, so
    # setsid execs the program itself and $! is its pid and group
    set +m
    setsid "${prog[@]}" "${pre[@]}" --out "$d" --jobs 1 "${post[@]}" \
        > "$t/$name-resume1.log" 2>&1 &
    pid=$!
    for i in $(seq 2400); do
        compgen -G "$d/runs/*.json" > /dev/null && break
        kill -0 $pid 2> /dev/null || break
        sleep 0.05
    done
    if [ "$i" -ge 2400 ]; then
        kill -KILL -- -$pid 2> /dev/null || true
        die "$name: no run file after 120 s"
    fi
    kill -TERM -- -$pid 2> /dev/null || true
    sleep 0.3
    kill -KILL -- -$pid 2> /dev/null || true
    wait $pid 2> /dev/null || rc=$?
    left=$(direct --out "$d" --list --pending | wc -l) || die "$name: --list --pending failed"
    [ "$left" -gt 0 ] || die "$name: the sweep ended before it was killed (exit $rc): nothing to resume"
    echo "$me: $name: local --jobs 1 killed (exit $rc) after its first run file, $left runs left"
    step "$t/$name-resume2.log" "$name: local --jobs 1 rerun" \
        "${prog[@]}" "${pre[@]}" --out "$d" --jobs 1 "${post[@]}"
    same_metrics "$t/$name-local/metrics.csv" "$d/metrics.csv" "$name: uninterrupted and resumed"
}

engines experiment "${grid_exp[@]}"
resume experiment "${grid_exp[@]}"
engines sweep "${grid_sweep[@]}"
echo "$me: all engines agree ($((SECONDS - start)) s)"
