#!/usr/bin/env bash
# tools/slurm-local.sh start|stop|status - a single-node Slurm cluster on
# this machine, for trying tools/sweep-slurm.sh and for its CI test.
#
# start   installs slurm-wlm and munge if missing (Debian 12, as root; only
#         what is missing, quietly), writes a minimal slurm.conf (node = this
#         host's short hostname with the CPUs and memory `slurmd -C` finds,
#         one partition "local", no cgroups: proctrack/linuxproc, task/none,
#         SlurmUser=root), creates the munge key if absent, starts munged
#         (unless one already answers), slurmctld and slurmd, and waits until
#         sinfo shows the node idle. Idempotent: a running cluster is left
#         as it is. Prints the line that points Slurm's commands at it.
# stop    cancels the cluster's jobs and stops the daemons start started.
# status  says whether the cluster is up (exit 0) or not (exit 1).
#
# Everything (slurm.conf, state, spool, logs, pid files) lives in
# ${BPLAB_SLURM_DIR:-/tmp/bplab-slurm}. Slurm's commands find the cluster
# through SLURM_CONF=$BPLAB_SLURM_DIR/slurm.conf; when /etc/slurm/slurm.conf
# does not exist, start also links it there (and stop removes the link), so
# that plain `sinfo` and `sbatch` work too. BPLAB_SLURM_TIMEOUT (seconds,
# default 60) bounds the wait for the node. Ports: 6817 and 6818 (Slurm's
# defaults) on 127.0.0.1.
set -euo pipefail
me=slurm-local.sh
dir=${BPLAB_SLURM_DIR:-/tmp/bplab-slurm}
wait_s=${BPLAB_SLURM_TIMEOUT:-60}
conf=$dir/slurm.conf
etc_conf=/etc/slurm/slurm.conf
export SLURM_CONF=$conf

die() { echo "$me: error: $*" >&2; exit 1; }

alive() { # alive PIDFILE NAME: the process the file names runs, and is NAME
    local pid comm
    [ -s "$1" ] && pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] &&
        comm=$(cat "/proc/$pid/comm" 2>/dev/null) && [ "$comm" = "$2" ]
}

node_state() { # the node's state as sinfo reports it, or nothing
    timeout 10 sinfo -h -N -o %T 2>/dev/null | head -n 1 || true
}

install_missing() {
    local p missing=()
    for p in slurm-wlm munge; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
            grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "$me: installing ${missing[*]}"
    { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
          --no-install-recommends "${missing[@]}"; } > "$dir/apt.log" 2>&1 ||
        die "apt-get install ${missing[*]} failed (see $dir/apt.log)"
}

write_conf() {
    local host node
    host=$(hostname -s)
    # NodeName=... CPUs=... Boards=... RealMemory=...: what slurmd finds here
    node=$({ slurmd -C 2>/dev/null || true; } | head -n 1)
    case "$node" in
    NodeName=*" CPUs="*) ;;
    *) die "slurmd -C did not describe this machine: ${node:-no output}" ;;
    esac
    cat > "$conf.tmp" <<EOF
# written by tools/slurm-local.sh: a single-node cluster on $host, as root,
# without cgroups; state, spool and logs under $dir
ClusterName=bplab
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    # UpTime=... is on slurmd -C's second line, not kept; no stray fields
    mv "$conf.tmp" "$conf"
}

start_munge() {
    if munge -n < /dev/null 2>/dev/null | unmunge > /dev/null 2>&1; then
        return 0 # a munged answers already (the system's, or ours)
    fi
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        mungekey --create --keyfile=/etc/munge/munge.key > /dev/null 2>&1 ||
            die "could not create /etc/munge/munge.key (mungekey --create)"
    fi
    chown munge:munge /etc/munge /etc/munge/munge.key
    chmod 700 /etc/munge
    chmod 400 /etc/munge/munge.key
    install -d -o munge -g munge -m 755 /run/munge
    install -d -o munge -g munge -m 700 /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged < /dev/null > "$dir/munged.out" 2>&1 ||
        die "munged did not start: $(tail -n 1 "$dir/munged.out")"
    cp /run/munge/munged.pid "$dir/munged.pid" # ours: stop ends it
    for _ in $(seq 50); do
        munge -n < /dev/null 2>/dev/null | unmunge > /dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "munged started but does not answer (see /var/log/munge/munged.log)"
}

stop_pid() { # stop_pid PIDFILE NAME: TERM, wait up to 10 s, then KILL
    local pid
    alive "$1" "$2" || { rm -f "$1"; return 0; }
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "$me: $2 ($pid) ignored SIGTERM; killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

up() { # the daemons run and the node takes jobs
    alive "$dir/slurmctld.pid" slurmctld && alive "$dir/slurmd.pid" slurmd &&
        case "$(node_state)" in idle|mixed|allocated|completing) true ;; *) false ;; esac
}

do_stop() {
    if alive "$dir/slurmctld.pid" slurmctld; then
        # the cluster is ours alone: its jobs go with it, before slurmd
        local jobs
        jobs=$(timeout 10 squeue -h -o %A 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086 # job ids, one word each
            timeout 10 scancel $jobs 2>/dev/null || true
            for _ in $(seq 100); do
                [ -z "$(timeout 10 squeue -h -o %A 2>/dev/null)" ] && break
                sleep 0.1
            done
        fi
    fi
    stop_pid "$dir/slurmd.pid" slurmd
    stop_pid "$dir/slurmctld.pid" slurmctld
    # job steps that outlived slurmd (none should)
    kill_steps
    stop_pid "$dir/munged.pid" munged
    if [ -L "$etc_conf" ] && [ "$(readlink "$etc_conf")" = "$conf" ]; then
        rm -f "$etc_conf"
    fi
}

kill_steps() {
    local pid
    for pid in $(pgrep -x slurmstepd 2>/dev/null || true); do
        # only the steps of this cluster: slurmd passed them its
        # environment, SLURM_CONF=$conf included
        if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null |
            grep -qxF "SLURM_CONF=$conf"; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
}

do_start() {
    [ "$(id -u)" -eq 0 ] || die "start needs root (it runs the daemons as root)"
    mkdir -p "$dir"
    if up; then
        echo "$me: already up ($(hostname -s) $(node_state)); export SLURM_CONF=$conf"
        return 0
    fi
    # half up (a crash, a daemon killed): start over
    do_stop
    install_missing
    mkdir -p "$dir/ctld" "$dir/spool"
    write_conf
    if [ ! -e "$etc_conf" ] && [ ! -L "$etc_conf" ]; then
        mkdir -p /etc/slurm
        ln -s "$conf" "$etc_conf"
    fi
    start_munge
    # -c: no jobs or state from an earlier cluster in this folder. Standard
    # input from /dev/null: a daemon started with it closed (CI's steps have
    # none) reuses descriptor 0, and slurmd then fails every job launch
    slurmctld -c -f "$conf" < /dev/null > "$dir/slurmctld.out" 2>&1 ||
        { do_stop; die "slurmctld did not start: $(tail -n 1 "$dir/slurmctld.out") (see $dir/slurmctld.log)"; }
    slurmd -f "$conf" < /dev/null > "$dir/slurmd.out" 2>&1 ||
        { do_stop; die "slurmd did not start: $(tail -n 1 "$dir/slurmd.out") (see $dir/slurmd.log)"; }
    local t0=$SECONDS state=""
    while [ $((SECONDS - t0)) -lt "$wait_s" ]; do
        state=$(node_state)
        case "$state" in
        idle) break ;;
        down*|drain*|fail*|inval*)
            # ReturnToService=2 covers most of it; a node marked down by a
            # slow first registration needs one resume
            timeout 10 scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true ;;
        esac
        alive "$dir/slurmctld.pid" slurmctld || { do_stop; die "slurmctld exited: $(tail -n 1 "$dir/slurmctld.log" 2>/dev/null)"; }
        alive "$dir/slurmd.pid" slurmd || { do_stop; die "slurmd exited: $(tail -n 1 "$dir/slurmd.log" 2>/dev/null)"; }
        sleep 0.5
    done
    if [ "$state" != idle ]; then
        do_stop
        die "node $(hostname -s) not idle after $wait_s s (state: ${state:-none}); see $dir/slurmctld.log and $dir/slurmd.log"
    fi
    # idle is not enough: one job must run (a failed launch leaves it held)
    local id js=""
    id=$(timeout 10 sbatch --parsable --job-name=slurm-local-check \
            --output=/dev/null --chdir=/ --wrap=true 2> "$dir/check.out") ||
        { do_stop; die "sbatch of a test job failed: $(tail -n 1 "$dir/check.out")"; }
    t0=$SECONDS
    while [ $((SECONDS - t0)) -lt 30 ]; do
        js=$(timeout 10 scontrol show job -o "${id%%;*}" 2>/dev/null |
             grep -o 'JobState=[A-Z_]* Reason=[^ ]*' | head -n 1) || true
        case "$js" in
        JobState=COMPLETED*|*held*|JobState=FAILED*) break ;;
        esac
        sleep 0.2
    done
    if [ "${js%% *}" != JobState=COMPLETED ]; then
        do_stop
        die "a test job did not complete on node $(hostname -s) (${js:-no state after 30 s}); see $dir/slurmd.log"
    fi
    echo "$me: up: node $(hostname -s) idle; export SLURM_CONF=$conf"
}

case "${1:-}" in
start) do_start ;;
stop)
    do_stop
    echo "$me: stopped"
    ;;
status)
    if up; then
        echo "$me: up: node $(hostname -s) $(node_state); export SLURM_CONF=$conf"
    else
        echo "$me: down"
        exit 1
    fi
    ;;
-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" ;;
*) echo "usage: tools/slurm-local.sh start|stop|status" >&2; exit 2 ;;
esac
