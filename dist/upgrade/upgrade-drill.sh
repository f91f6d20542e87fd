#!/usr/bin/env bash
# Mezzo rolling upgrade drill (issue 11). Run by hand, never by `mvn verify`; see docs/operations.md,
# "Rolling upgrade".
#
# Starts 3 ZooKeeper servers (from the new tree's ZooKeeper jar), 3 masters and 2 agents of the OLD
# tree on 127.0.0.1, launches a long-running checkpointed task with the old `mezzo run`, then
# upgrades one daemon at a time to the NEW tree as docs/operations.md says: standby masters first,
# the leader last, then each agent (SIGTERM, start the new one on the same work directory). After
# every step it checks that a leader is elected, that the long task is still RUNNING with the same
# process, and that a short `mezzo run` (new CLI) finishes. Prints what it did and each daemon's
# version; exits 0 when every check passed, 1 when one failed, 2 for bad options.
#
# Usage: dist/upgrade/upgrade-drill.sh --old OLD_TREE --new NEW_TREE [--run-dir DIR] [--keep]
#   OLD_TREE, NEW_TREE: unpacked tarballs (bin/mezzo, lib/), e.g. /tmp/old/dist/target/mezzo and
#   dist/target/mezzo. --keep leaves the cluster running at the end (Ctrl-C stops it).

# Functions called through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

set -uo pipefail

prog=$(basename "$0")
die() { echo "$prog: $*" >&2; exit 2; }

old='' new='' run_dir='' keep=0
while (( $# > 0 )); do
  case "$1" in
    --old) old=${2:-}; shift 2 ;;
    --new) new=${2:-}; shift 2 ;;
    --run-dir) run_dir=${2:-}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ -x "$old/bin/mezzo" ]] || die "--old must be an unpacked tarball tree with bin/mezzo"
[[ -x "$new/bin/mezzo" ]] || die "--new must be an unpacked tarball tree with bin/mezzo"
old=$(cd "$old" && pwd)
new=$(cd "$new" && pwd)
for tool in curl jq ss pgrep timeout; do command -v "$tool" >/dev/null || die "needs $tool on PATH"; done
if [[ -n "${JAVA_HOME:-}" ]]; then java="$JAVA_HOME/bin/java"; else java=java; fi
: "${run_dir:=${TMPDIR:-/tmp}/mezzo-upgrade-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$run_dir" || die "cannot create $run_dir"
run_dir=$(cd "$run_dir" && pwd)
[[ -z "$(ls -A "$run_dir")" ]] || die "--run-dir $run_dir is not empty"
# Only the drill's flags configure the daemons.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^MEZZO_')
root_tasks=""
if (( EUID == 0 )); then root_tasks=--allow_root_tasks; fi
export MEZZO_JAVA_OPTS=-Xmx384m

log=$run_dir/drill.log
note() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$log"; }
failed=0
fail() { note "FAILED: $*"; failed=1; }

used_ports=" "
alloc_port() {
  local p _
  for _ in $(seq 500); do
    p=$(( 12000 + RANDOM % 18000 ))
    [[ "$used_ports" == *" $p "* ]] && continue
    [[ -n "$(ss -Htan "sport = :$p" 2>/dev/null)" ]] && continue
    used_ports+="$p "
    REPLY=$p
    return 0
  done
  die "found no free port"
}

declare -A pid=() port=() http=() home=()
declare -a zkc=() zkq=() zke=()
for i in 1 2 3; do
  alloc_port; zkc[i]=$REPLY; alloc_port; zkq[i]=$REPLY; alloc_port; zke[i]=$REPLY
  alloc_port; port[master$i]=$REPLY; alloc_port; http[master$i]=$REPLY
done
for i in 1 2; do alloc_port; port[agent$i]=$REPLY; alloc_port; http[agent$i]=$REPLY; done
zk_url="zk://127.0.0.1:${zkc[1]},127.0.0.1:${zkc[2]},127.0.0.1:${zkc[3]}/mezzo"

run_pid=''
long_pid=''
long_pgid=''
stop_all() {
  local d
  [[ -n "$run_pid" ]] && kill -TERM "$run_pid" 2>/dev/null
  for d in agent1 agent2 master1 master2 master3 zk1 zk2 zk3; do
    [[ -n "${pid[$d]:-}" ]] && kill -TERM "${pid[$d]}" 2>/dev/null
  done
  sleep 3
  for d in agent1 agent2 master1 master2 master3 zk1 zk2 zk3; do
    [[ -n "${pid[$d]:-}" ]] && kill -KILL "${pid[$d]}" 2>/dev/null
  done
  # The long task, left running by design by the agents: its launcher's process group.
  if [[ -n "$long_pgid" ]]; then kill -KILL -- "-$long_pgid" 2>/dev/null; fi
}
trap 'stop_all; exit 130' INT TERM

start() { # daemon tree
  local name=$1 tree=$2 i=${1: -1}
  home[$name]=$tree
  echo "=== $(date -Is) starting $name from $tree" >> "$run_dir/$name.log"
  case "$name" in
    zk*)
      "$java" -Xmx128m -cp "$tree/lib/*" org.apache.zookeeper.server.quorum.QuorumPeerMain \
        "$run_dir/$name/zoo.cfg" >> "$run_dir/$name.log" 2>&1 &
      ;;
    master*)
      "$tree/bin/mezzo" master --ip 127.0.0.1 --port "${port[$name]}" --http_port "${http[$name]}" \
        --zk "$zk_url" >> "$run_dir/$name.log" 2>&1 &
      ;;
    agent*)
      "$tree/bin/mezzo" agent --master "$zk_url" --ip 127.0.0.1 --port "${port[$name]}" \
        --http_port "${http[$name]}" --work_dir "$run_dir/$name/work" --isolation posix \
        --resources "cpus:2;mem:2048;disk:2048;ports:[3${i}000-3${i}499]" $root_tasks >> "$run_dir/$name.log" 2>&1 &
      ;;
  esac
  pid[$name]=$!
}

stop() { # daemon: SIGTERM, as systemctl stop does, and wait for it to exit
  local name=$1 t
  kill -TERM "${pid[$name]}" 2>/dev/null
  for (( t = 0; t < 30; t++ )); do
    kill -0 "${pid[$name]}" 2>/dev/null || { wait "${pid[$name]}" 2>/dev/null; return 0; }
    sleep 1
  done
  fail "$name did not exit within 30 s of SIGTERM"
  kill -KILL "${pid[$name]}" 2>/dev/null
}

wait_for() { # seconds what command...
  local limit=$1 what=$2 t
  shift 2
  for (( t = 0; t < limit; t++ )); do
    "$@" && return 0
    sleep 1
  done
  fail "$what within ${limit}s"
  return 1
}

health() { curl -s --max-time 2 "http://127.0.0.1:${http[$1]}/health"; }
leader() { # the one master whose /health says it leads
  local m found=
  for m in master1 master2 master3; do
    if [[ "$(health "$m" | jq -r '.leader' 2>/dev/null)" == true ]]; then
      [[ -n "$found" ]] && return 1
      found=$m
    fi
  done
  [[ -n "$found" ]] && echo "$found"
}
master_up() { [[ -n "$(health "$1")" ]]; }
has_leader() { leader >/dev/null; }
registered_agents() {
  local m
  m=$(leader) || { echo 0; return; }
  curl -s --max-time 5 "http://127.0.0.1:${http[$m]}/agents" \
    | jq '[.agents[] | select(.state == "REGISTERED")] | length' 2>/dev/null || echo 0
}
two_agents() { [[ "$(registered_agents)" == 2 ]]; }
long_task_state() {
  local m
  m=$(leader) || return 1
  curl -s --max-time 5 "http://127.0.0.1:${http[$m]}/tasks" \
    | jq -r '[.tasks[] | select(.name == "upgrade-long")][0].state // empty' 2>/dev/null
}
long_running() { [[ "$(long_task_state)" == TASK_RUNNING ]]; }
task_pid() { pgrep -f '^sleep 86399$' | head -1; } # the task itself, not its launcher or mezzo run

short_run() { # label: a short task through the leader, with the new CLI
  local out=$run_dir/run-$1.out rc
  timeout 120 "$new/bin/mezzo" run --master "$zk_url" --name "upgrade-$1" --shell -- 'echo upgraded-ok' > "$out" 2>&1
  rc=$?
  if (( rc == 0 )) && grep -q 'TASK_FINISHED' "$out"; then
    note "  mezzo run ($1): exit 0, $(grep -o 'TASK_FINISHED.*' "$out" | head -1)"
  else
    fail "mezzo run ($1) exited $rc: $(tail -2 "$out" | tr '\n' ' ')"
  fi
}

tree_name() { [[ "$1" == "$old" ]] && echo "OLD" || echo "NEW"; }

versions() {
  local d
  for d in master1 master2 master3; do
    printf '  %s %s from %s%s\n' "$d" "$(health "$d" | jq -r '.master_info.version // "?"' 2>/dev/null)" \
      "$(tree_name "${home[$d]}")" "$([[ "$(leader)" == "$d" ]] && echo ' (leader)')" | tee -a "$log"
  done
  for d in agent1 agent2; do printf '  %s from %s\n' "$d" "$(tree_name "${home[$d]}")" | tee -a "$log"; done
}

check() { # label: the task survived and the cluster works
  wait_for 60 "a leader is elected ($1)" has_leader || return
  wait_for 90 "both agents are registered ($1)" two_agents
  wait_for 60 "the long task is TASK_RUNNING ($1)" long_running
  local now
  now=$(task_pid)
  if [[ "$now" == "$long_pid" ]]; then
    note "  long task: TASK_RUNNING, same process $now"
  else
    fail "the long task's process is ${now:-gone}, was $long_pid ($1)"
  fi
  short_run "$1"
}

# ---------------------------------------------------------------------------------------- start
note "Old tree: $old ($("$old/bin/mezzo" --version 2>/dev/null | grep '^mezzo '))"
note "New tree: $new ($("$new/bin/mezzo" --version 2>/dev/null | grep '^mezzo '))"
note "Run directory: $run_dir; ZooKeeper $zk_url"
for i in 1 2 3; do
  mkdir -p "$run_dir/zk$i/data"
  echo "$i" > "$run_dir/zk$i/data/myid"
  {
    echo "tickTime=500"; echo "initLimit=20"; echo "syncLimit=4"
    echo "dataDir=$run_dir/zk$i/data"; echo "clientPort=${zkc[i]}"; echo "clientPortAddress=127.0.0.1"
    echo "admin.enableServer=false"; echo "maxClientCnxns=0"
    for j in 1 2 3; do echo "server.$j=127.0.0.1:${zkq[j]}:${zke[j]}"; done
  } > "$run_dir/zk$i/zoo.cfg"
  start "zk$i" "$new"
done
for i in 1 2 3; do start "master$i" "$old"; done
for i in 1 2; do mkdir -p "$run_dir/agent$i/work"; start "agent$i" "$old"; done
wait_for 90 "a leader is elected" has_leader || { stop_all; exit 1; }
wait_for 90 "both agents are registered" two_agents || { stop_all; exit 1; }
note "Cluster up on the old version:"
versions

"$old/bin/mezzo" run --master "$zk_url" --name upgrade-long --checkpoint -- sleep 86399 > "$run_dir/run-long.out" 2>&1 &
run_pid=$!
wait_for 90 "the long task runs" long_running || { stop_all; exit 1; }
long_pid=$(task_pid)
long_pgid=$(ps -o pgid= -p "$long_pid" | tr -d ' ')
note "Long task upgrade-long: TASK_RUNNING, process $long_pid (old mezzo run $run_pid stays its framework)"
short_run before
# Back up the registry before touching the masters (docs/operations.md), with the new CLI.
if "$new/bin/mezzo" registry backup --zk "$zk_url" "$run_dir/registry-backup.json" >> "$log" 2>&1; then
  note "Registry backed up to $run_dir/registry-backup.json: $(jq -c '[.nodes[] | select(.path | contains("/"))
    | {(.path | split("/")[0]): ((.data | length) * 3 / 4 | floor)}] | add' "$run_dir/registry-backup.json") bytes per record"
else
  fail "mezzo registry backup failed: $(tail -1 "$log")"
fi

# ---------------------------------------------------------------------------------------- masters
first_leader=$(leader)
order=()
for m in master1 master2 master3; do [[ "$m" != "$first_leader" ]] && order+=("$m"); done
order+=("$first_leader")
for m in "${order[@]}"; do
  was=$( [[ "$(leader)" == "$m" ]] && echo "leader" || echo "standby")
  note "Upgrading $m ($was): SIGTERM, start the new version"
  stop "$m"
  start "$m" "$new"
  wait_for 60 "$m answers /health" master_up "$m"
  check "$m"
  note "  leader now: $(leader) (epoch $(health "$(leader)" | jq -r '.master_info.epoch // "?"' 2>/dev/null))"
done

# ---------------------------------------------------------------------------------------- agents
for a in agent1 agent2; do
  note "Upgrading $a: SIGTERM (checkpointed tasks keep running), start the new version on the same work dir"
  stop "$a"
  start "$a" "$new"
  check "$a"
done
grep -h "Recovered\|recovered" "$run_dir/agent1.log" "$run_dir/agent2.log" | grep -v "^===" | tail -4 \
  | cut -c1-220 | sed 's/^/  /' | tee -a "$log"

note "All daemons upgraded:"
versions
if kill -0 "$run_pid" 2>/dev/null; then
  note "The old mezzo run (framework of the long task) is still connected: running"
else
  fail "the old mezzo run exited: $(tail -2 "$run_dir/run-long.out" | tr '\n' ' ')"
fi
if (( keep )); then
  note "--keep: the cluster runs on; Ctrl-C stops it"
  while true; do sleep 60; done
fi
stop_all
if (( failed )); then note "Drill FAILED; logs in $run_dir"; exit 1; fi
note "Drill passed; logs in $run_dir"
exit 0
