#!/usr/bin/env bash
# A one-node Slurm cluster on localhost for the tests: munged, slurmctld and slurmd of our own.
#
#   tests/slurm/cluster.sh up DIR     install what is missing, start the daemons, wait until a
#                                     job step runs; writes DIR/env (source it: SLURM_CONF=...)
#   tests/slurm/cluster.sh down DIR   cancel the jobs, stop the daemons it started (by pid)
#
# Everything lives in DIR: slurm.conf (clients find it through SLURM_CONF; /etc/slurm is not
# touched), a munged with its own socket, state, logs and pid files. The ports come from DIR,
# so clusters of two build trees (or the shared slurm-local tool's, on 6817/6818) do not meet.
# Exit codes: 0 ok; 77 skipped (no root outside CI, or DIR's ports are taken by daemons that
# are not ours); 1 failed. In CI (CI=true) a cluster that cannot start is a failure, not a skip.
set -euo pipefail

action=${1:-}
dir=${2:-}
[[ "$action" =~ ^(up|down)$ && -n "$dir" ]] || { echo "usage: $0 up|down DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
run=$dir/run log=$dir/log
conf=$dir/slurm.conf
host=$(hostname -s)

say() { echo "[cluster] $*" >&2; }
# Skip outside CI, fail in CI: a missing cluster must never pass silently there.
give_up() {
    say "$*"
    if [ "${CI:-}" = true ]; then exit 1; fi
    say "skipping the Slurm tests (outside CI)"; exit 77
}
fail() {
    say "ERROR: $*"
    for f in "$log"/*.log; do [ -f "$f" ] && { say "--- $f"; tail -n 15 "$f" >&2; }; done
    stop slurmd; stop slurmctld; stop munged
    exit 1
}

# A process runs (not a zombie) and has the expected name (pids get reused).
running() { # running PID NAME
    [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}
# The process of a pid file of ours is alive.
alive() { # alive NAME
    local pid
    pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid" "$1"
}
stop() { # stop NAME: SIGTERM, then SIGKILL after 10 s, only to the pid we recorded
    local pid i
    if alive "$1"; then
        pid=$(cat "$run/$1.pid")
        kill -TERM "$pid" 2>/dev/null || true
        # Wait for the process itself: a daemon removes its pid file before it has ended.
        for i in $(seq 100); do running "$pid" "$1" || break; sleep 0.1; done
        if running "$pid" "$1"; then say "$1 (pid $pid) ignores SIGTERM: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$run/$1.pid"
}
wait_until() { # wait_until SECONDS COMMAND...: true once COMMAND succeeds
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done
}

if [ "$action" = down ]; then
    export SLURM_CONF=$conf
    if alive slurmctld; then
        jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
        if [ -n "${jobs// /}" ]; then
            say "cancelling jobs $jobs"
            scancel $jobs 2>/dev/null || true
            wait_until 20 test -z "$(squeue -h -o %A 2>/dev/null)" || say "jobs still listed: $(squeue -h -o %A | tr '\n' ' ')"
        fi
    fi
    stop slurmd
    stop slurmctld
    stop munged
    rm -f "$dir/env"
    say "stopped the daemons of $dir"
    exit 0
fi

# ------------------------------------------------------------------------------------- up
rm -f "$dir/env"
[ "$(id -u)" = 0 ] || give_up "the Slurm test cluster needs root (slurmd runs jobs as any user)"

# Packages, only those missing. policy-rc.d keeps dpkg from starting the daemons itself.
packages=(munge slurmctld slurmd slurm-client slurm-wlm-basic-plugins libpmix2 slurm-wlm-torque)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod 755 $policy; own_policy=1; fi
    export DEBIAN_FRONTEND=noninteractive
    ok=1
    apt-get install -y -q --no-install-recommends "${missing[@]}" > "$dir/apt.log" 2>&1 || {
        apt-get update -q >> "$dir/apt.log" 2>&1 || true
        apt-get install -y -q --no-install-recommends "${missing[@]}" >> "$dir/apt.log" 2>&1 || ok=0
    }
    [ $own_policy = 1 ] && rm -f $policy
    [ $ok = 1 ] || { tail -n 20 "$dir/apt.log" >&2; fail "apt-get install ${missing[*]} failed (log: $dir/apt.log)"; }
fi

# Ports from the directory's name: 20000-29998, even for slurmctld, odd for slurmd.
sum=$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
ctld_port=$((20000 + (sum % 5000) * 2))
slurmd_port=$((ctld_port + 1))
port_busy() { grep -qi ":$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
if ! alive slurmctld && port_busy $ctld_port; then give_up "port $ctld_port is taken by a process that is not our slurmctld"; fi
if ! alive slurmd && port_busy $slurmd_port; then give_up "port $slurmd_port is taken by a process that is not our slurmd"; fi

mkdir -p "$run" "$log" "$dir/state" "$dir/spool" "$dir/tmp"
chmod 755 "$dir" "$run" "$log"
chmod 1777 "$dir/tmp"
grep -q "[[:space:]]$host\b" /etc/hosts || getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >> /etc/hosts

# munged with its own socket, so stopping it never touches a munged someone else uses.
key=/etc/munge/munge.key
if [ ! -s $key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=$key && chown munge:munge $key && chmod 0400 $key
fi
install -d -o munge -g munge -m 0755 "$dir/munge"
socket=$dir/munge/munge.socket
if ! alive munged; then
    runuser -u munge -- /usr/sbin/munged --force --socket="$socket" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" </dev/null \
        || fail "munged did not start (log: $dir/munge/munged.log)"
    cp "$dir/munge/munged.pid" "$run/munged.pid"
fi
wait_until 20 sh -c "munge -n -S '$socket' </dev/null | unmunge -S '$socket'" || fail "munged does not answer on $socket"

# Four fake GPUs, so jobs may ask for --gpus-per-node. Slurm drops a GPU without a device file
# and wants a character device: copies of /dev/null. There is no CUDA device behind them, so
# mpisweep's workers run on CPU.
mkdir -p "$dir/dev"
for i in 0 1 2 3; do
    [ -c "$dir/dev/gpu$i" ] || mknod "$dir/dev/gpu$i" c 1 3 || fail "mknod $dir/dev/gpu$i failed"
done
cat > "$dir/gres.conf" <<EOF
NodeName=$host Name=gpu File=$dir/dev/gpu[0-3]
EOF
cat > "$dir/plugstack.conf" <<EOF
optional /usr/lib/x86_64-linux-gnu/slurm-wlm/spank_pbs.so
EOF
cpus=$(( $(nproc) > 16 ? $(nproc) : 16 ))
mem=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
cat > "$conf.new" <<EOF
# The mpisweep tests' one-node cluster ($0).
ClusterName=mpisweep
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
TmpFS=$dir/tmp
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$log/slurmctld.log
SlurmdLogFile=$log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
MailProg=/bin/true
# srun starts Open MPI ranks through PMIx.
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# Start jobs at submission; keep ended jobs visible 5 s (sbatch --wait then polls every 2 s).
SchedulerParameters=batch_sched_delay=0
MinJobAge=5
KillWait=5
InactiveLimit=0
# More CPUs than cores, so a job can have a master and several workers on a small machine.
SlurmdParameters=config_overrides
ReturnToService=2
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:4 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
if ! cmp -s "$conf.new" "$conf"; then stop slurmd; stop slurmctld; mv "$conf.new" "$conf"; else rm "$conf.new"; fi

export SLURM_CONF=$conf
if ! alive slurmctld; then
    # -c: a throw-away cluster starts without the jobs of a previous run
    slurmctld -c </dev/null >> "$log/slurmctld.start.log" 2>&1 || fail "slurmctld did not start"
fi
wait_until 30 sh -c 'scontrol ping | grep -q "is UP"' || fail "slurmctld does not answer on port $ctld_port"
if ! alive slurmd; then
    slurmd -N "$host" </dev/null >> "$log/slurmd.start.log" 2>&1 || fail "slurmd did not start"
fi
node_ready() {
    case $(sinfo -h -N -n "$host" -o %T 2>/dev/null) in
        idle|mixed|allocated|completing) return 0 ;;
        down*|drain*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 ;;
    esac
    return 1
}
wait_until 30 node_ready || fail "node $host is not up: $(sinfo -h -N -o '%T %E' 2>&1)"
# One real step through slurmctld, slurmd and slurmstepd.
timeout 60 srun -n1 -t 1 -J cluster-check true || fail "a test step 'srun -n1 true' failed"

printf 'export SLURM_CONF=%q\n' "$conf" > "$dir/env"
say "up: $host, $cpus CPUs, 4 fake GPUs, ports $ctld_port/$slurmd_port, SLURM_CONF=$conf"
