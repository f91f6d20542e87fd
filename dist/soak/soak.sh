#!/usr/bin/env bash
# Mezzo chaos soak drill (issue 16). Run by hand, never by `mvn verify`; see dist/soak/README.md.
#
# Starts, from the built tarball tree (dist/target/mezzo), 3 ZooKeeper servers, 3 masters on them
# and 2 agents, all on 127.0.0.1 with free ports; runs N worker loops of
#     mezzo run --master zk://... --shell -- 'sleep S; exit E'      (S 0-3 s, E 0-9, from the seed)
# while a chaos loop kills or pauses one kind of process every K seconds for D; then prints a
# summary and exits non-zero if a run returned another exit code than its task's, did not finish
# within the bound, or a task was killed by a framework removal.
#
# Process model: this script is the only supervisor. Its main loop ticks once a second: it takes
# the chaos actions that are due, restores what an earlier action took down when its time comes,
# and restarts any daemon that exited on its own (as systemd Restart=always would; counted and
# reported). Workers are background subshells that only append to results.tsv. Everything it
# started is stopped on exit, Ctrl-C included (trap), and the logs stay in the run directory.

# Functions called through wait_for and the traps look unreachable to shellcheck.
# shellcheck disable=SC2317

set -uo pipefail

prog=$(basename "$0")
script_dir=$(cd "$(dirname "$0")" && pwd)

usage() {
  cat <<EOF
Usage: $prog [options]

Chaos soak of a 3-ZooKeeper, 3-master, 2-agent Mezzo cluster on 127.0.0.1.

  --variant V      what the chaos loop does every K seconds (default: leader)
                     leader     SIGKILL the leading master, restart it DOWN s later
                     agent      SIGKILL an agent, restart it on the same work dir DOWN s later
                     zk-leader  SIGKILL a ZooKeeper server, restart it DOWN s later: in turn the
                                one the leading master is connected to and the quorum leader
                     quorum     SIGSTOP two of the three ZooKeeper servers for DOWN s (longer
                                than the session timeout), then SIGCONT
  --workers N      concurrent 'mezzo run' loops (default: 4)
  --every K        seconds from one chaos action to the next (default: 10; quorum: 30);
                   at least DOWN + 3
  --duration D     how long runs are started and chaos acts: 600, 600s, 10m (default: 10m)
  --seed SEED      seeds each worker's S and E and the chaos choices (default: from the clock;
                   printed, so a run can be repeated)
  --down SECS      how long a killed process stays down, or the quorum stays paused
                   (default: 2; quorum: 2 x session + 2)
  --bound SECS     a run not finished after this long is hung (default: 120)
  --session SECS   the masters' --zk_session_timeout (default: 5; the masters' own default is 2)
  --isolation M    the agents' --isolation (default: posix; auto uses cgroups when it can)
  --run-dir DIR    where logs go (default: /tmp/mezzo-soak-<variant>-<time>)
  --mezzo-home DIR the unpacked tarball tree (default: dist/target/mezzo next to this script)
  -h, --help       this text

Exit status: 0 if every run returned its task's exit code in time and no task was killed by a
framework removal; 1 otherwise (or if no run finished); 2 for bad options or a cluster that did
not start; 130 if interrupted.

Environment: JAVA_HOME; SOAK_DAEMON_JAVA_OPTS (default -Xmx512m), SOAK_RUN_JAVA_OPTS (default
-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m, for the short-lived 'mezzo run' JVMs).
EOF
}

die() {
  echo "$prog: $*" >&2
  exit 2
}

# ------------------------------------------------------------------------------------------------
# Options
# ------------------------------------------------------------------------------------------------

variant=leader
workers=4
every=
duration=600
seed=
down=
bound=120
session=5
isolation=posix
run_dir=
home="$script_dir/../target/mezzo"

seconds_of() { # 600 | 600s | 10m | 1h -> seconds
  local v=$1
  case "$v" in
    *[!0-9smh]* | "" | [smh]*) return 1 ;;
    *h) echo $(( ${v%h} * 3600 )) ;;
    *m) echo $(( ${v%m} * 60 )) ;;
    *s) echo "${v%s}" ;;
    *) echo "$v" ;;
  esac
}

need_int() { # flag value
  [[ "$2" =~ ^[0-9]+$ ]] || die "$1 '$2' is not a whole number"
}

while (( $# > 0 )); do
  opt=$1
  case "$opt" in
    -h | --help) usage; exit 0 ;;
    --*=*) set -- "${opt%%=*}" "${opt#*=}" "${@:2}"; continue ;;
  esac
  (( $# >= 2 )) || die "$opt needs a value (see --help)"
  val=$2
  shift 2
  case "$opt" in
    --variant) variant=$val ;;
    --workers) need_int "$opt" "$val"; workers=$val ;;
    --every) need_int "$opt" "$val"; every=$val ;;
    --duration) duration=$(seconds_of "$val") || die "--duration '$val' is not like 600, 600s or 10m" ;;
    --seed) need_int "$opt" "$val"; seed=$val ;;
    --down) need_int "$opt" "$val"; down=$val ;;
    --bound) need_int "$opt" "$val"; bound=$val ;;
    --session) need_int "$opt" "$val"; session=$val ;;
    --isolation) isolation=$val ;;
    --run-dir) run_dir=$val ;;
    --mezzo-home) home=$val ;;
    *) die "unknown option $opt (see --help)" ;;
  esac
done

case "$variant" in
  leader | agent | zk-leader) : "${down:=2}" "${every:=10}" ;;
  quorum) : "${down:=$(( 2 * session + 2 ))}" "${every:=30}" ;;
  *) die "--variant '$variant' is not leader, agent, zk-leader or quorum" ;;
esac
(( workers >= 1 )) || die "--workers must be at least 1"
(( duration >= 1 )) || die "--duration must be positive"
(( session >= 2 )) || die "--session must be at least 2 (ZooKeeper grants at least 2 ticks of 500 ms)"
(( session <= 10 )) || die "--session must be at most 10 (ZooKeeper grants at most 20 ticks of 500 ms)"
(( bound >= 30 )) || die "--bound must be at least 30: a run starts a JVM and waits for an offer"
(( every >= down + 3 )) || die "--every $every is too short for --down $down: at least $(( down + 3 ))"
if [[ "$variant" == quorum ]] && (( down <= session )); then
  die "--down $down must be longer than --session $session for the quorum variant"
fi
: "${seed:=$(( EPOCHSECONDS % 100000 ))}"
home=$(cd "$home" 2>/dev/null && pwd) || die "no tarball tree at $home: build it first (mvn -B -ntp -DskipTests package)"
[[ -x "$home/bin/mezzo" ]] || die "no $home/bin/mezzo: build it first (mvn -B -ntp -DskipTests package)"
if [[ -n "${JAVA_HOME:-}" ]]; then java="$JAVA_HOME/bin/java"; else java=java; fi
command -v "$java" >/dev/null || die "no java (set JAVA_HOME or put java on PATH)"
for tool in curl jq ss timeout pgrep; do
  command -v "$tool" >/dev/null || die "needs $tool on PATH"
done
: "${run_dir:=${TMPDIR:-/tmp}/mezzo-soak-$variant-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$run_dir" || die "cannot create $run_dir"
run_dir=$(cd "$run_dir" && pwd)
[[ -z "$(ls -A "$run_dir")" ]] || die "--run-dir $run_dir is not empty"

daemon_java_opts=${SOAK_DAEMON_JAVA_OPTS:--Xmx512m}
# The runs' tasks run as the agents' user; as root, agents must allow it (--allow_root_tasks).
root_tasks=""
if (( EUID == 0 )); then root_tasks=--allow_root_tasks; fi
run_java_opts=${SOAK_RUN_JAVA_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m}
# The drill's flags are the only configuration: MEZZO_<FLAG> defaults from the caller's shell would
# silently change the daemons (e.g. MEZZO_WORK_DIR).
while read -r v; do unset "$v"; done < <(compgen -e | grep '^MEZZO_')

# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------

stamp() { date +%H:%M:%S; }

chaos_log=$run_dir/chaos.log
note() { # one line on screen and in chaos.log
  echo "[$(stamp)] $*" | tee -a "$chaos_log"
}

used_ports=" "
alloc_port() { # sets REPLY to a free port below the ephemeral range, never handed out twice
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

descendants() { # pids below $1, deepest first
  local c
  for c in $(pgrep -P "$1" 2>/dev/null); do
    descendants "$c"
    echo "$c"
  done
}

zk_cmd() { # port 4lw-command: prints the answer (empty if the server does not answer within 2 s)
  timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"' && echo '"$2"' >&3 && cat <&3' 2>/dev/null
}

# ------------------------------------------------------------------------------------------------
# The cluster
# ------------------------------------------------------------------------------------------------

declare -A pid=() state=() restart_at=() exits=() role_port=() http_port=()
daemons=(zk1 zk2 zk3 master1 master2 master3 agent1 agent2)
for d in "${daemons[@]}"; do exits[$d]=0; state[$d]=none; done
declare -a zk_client=() zk_quorum=() zk_elect=()

for i in 1 2 3; do
  alloc_port; zk_client[i]=$REPLY
  alloc_port; zk_quorum[i]=$REPLY
  alloc_port; zk_elect[i]=$REPLY
  alloc_port; role_port[master$i]=$REPLY
  alloc_port; http_port[master$i]=$REPLY
done
for i in 1 2; do alloc_port; role_port[agent$i]=$REPLY; alloc_port; http_port[agent$i]=$REPLY; done
zk_hosts="127.0.0.1:${zk_client[1]},127.0.0.1:${zk_client[2]},127.0.0.1:${zk_client[3]}"
zk_url="zk://$zk_hosts/mezzo"
RANDOM=$seed # chaos choices from here on

cat > "$run_dir/zk-logback.xml" <<'EOF'
<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} [%thread] %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.zookeeper.server.NIOServerCnxn" level="WARN"/>
  <logger name="org.apache.zookeeper.server.NIOServerCnxnFactory" level="WARN"/>
  <root level="INFO"><appender-ref ref="OUT"/></root>
</configuration>
EOF

for i in 1 2 3; do
  mkdir -p "$run_dir/zk$i/data"
  echo "$i" > "$run_dir/zk$i/data/myid"
  {
    echo "tickTime=500"
    echo "initLimit=20"
    echo "syncLimit=4"
    echo "dataDir=$run_dir/zk$i/data"
    echo "clientPort=${zk_client[i]}"
    echo "clientPortAddress=127.0.0.1"
    echo "admin.enableServer=false"
    echo "4lw.commands.whitelist=srvr,ruok"
    echo "maxClientCnxns=0"
    for j in 1 2 3; do echo "server.$j=127.0.0.1:${zk_quorum[j]}:${zk_elect[j]}"; done
  } > "$run_dir/zk$i/zoo.cfg"
done
for i in 1 2 3; do mkdir -p "$run_dir/master$i"; done
for i in 1 2; do mkdir -p "$run_dir/agent$i/work"; done
mkdir -p "$run_dir/runs"

log_of() { # daemon -> its log file (every start appends to it)
  case "$1" in
    zk*) echo "$run_dir/$1/zk.log" ;;
    master*) echo "$run_dir/$1/master.log" ;;
    agent*) echo "$run_dir/$1/agent.log" ;;
  esac
}

start_daemon() { # name
  local name=$1 i=${1: -1} log
  log=$(log_of "$name")
  echo "=== soak: starting $name at $(date -Is)" >> "$log"
  case "$name" in
    zk*)
      # shellcheck disable=SC2086
      "$java" -Xmx256m -Dlogback.configurationFile="$run_dir/zk-logback.xml" -cp "$home/lib/*" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$run_dir/$name/zoo.cfg" >> "$log" 2>&1 &
      ;;
    master*)
      MEZZO_JAVA_OPTS=$daemon_java_opts "$home/bin/mezzo" master --ip 127.0.0.1 \
        --port "${role_port[$name]}" --http_port "${http_port[$name]}" \
        --zk "$zk_url" --zk_session_timeout "${session}secs" >> "$log" 2>&1 &
      ;;
    agent*)
      local ports
      if [[ "$name" == agent1 ]]; then ports='[31000-31499]'; else ports='[31500-31999]'; fi
      MEZZO_JAVA_OPTS=$daemon_java_opts "$home/bin/mezzo" agent --master "$zk_url" --ip 127.0.0.1 \
        --port "${role_port[$name]}" --http_port "${http_port[$name]}" --work_dir "$run_dir/$name/work" \
        --isolation "$isolation" --resources "cpus:4;mem:4096;disk:4096;ports:$ports" $root_tasks >> "$log" 2>&1 &
      ;;
  esac
  pid[$name]=$!
  state[$name]=up
}

leading_master() { # prints the name of the master whose /health says it leads, if exactly one does
  local m found=
  for m in master1 master2 master3; do
    [[ "${state[$m]}" == up ]] || continue
    if [[ "$(curl -s --max-time 2 "http://127.0.0.1:${http_port[$m]}/health" | jq -r '.leader' 2>/dev/null)" == true ]]; then
      [[ -n "$found" ]] && return 1 # two claim to lead: ask again later
      found=$m
    fi
  done
  [[ -n "$found" ]] && echo "$found"
}

quorum_leader() { # prints the name of the ZooKeeper server in mode leader
  local i
  for i in 1 2 3; do
    [[ "${state[zk$i]}" == up ]] || continue
    if zk_cmd "${zk_client[i]}" srvr | grep -q '^Mode: leader'; then
      echo "zk$i"
      return 0
    fi
  done
  return 1
}

zk_of_master() { # master -> the ZooKeeper server its session is connected to
  local m=$1 i
  for i in 1 2 3; do
    if ss -Htnp state established "dport = :${zk_client[i]}" 2>/dev/null | grep -q "pid=${pid[$m]:-none},"; then
      echo "zk$i"
      return 0
    fi
  done
  return 1
}

registered_agents() { # how many agents the leader shows REGISTERED
  local m
  m=$(leading_master) || { echo 0; return; }
  curl -s --max-time 5 "http://127.0.0.1:${http_port[$m]}/agents" \
    | jq '[.agents[] | select(.state == "REGISTERED")] | length' 2>/dev/null || echo 0
}

agent_view() { # agent -> the leader's view of it: state, connection and times
  local m
  m=$(leading_master) || { echo "(no leader)"; return; }
  curl -s --max-time 3 "http://127.0.0.1:${http_port[$m]}/agents" | jq -c --argjson p "${role_port[$1]}" \
    '.agents[] | select(.agent_info.port == $p) | with_entries(select(.key | test("state|connect|seen|time")))' \
    2>/dev/null | tail -1
}

why_exited() { # daemon -> the line of its log that says why it stopped
  local log line
  log=$(log_of "$1")
  line=$(grep -E 'for good|Exception|ERROR' "$log" | grep -vE 'ClientCnxn|LeaderLatch|^\s' | tail -1)
  [[ -n "$line" ]] || line=$(grep -v '^=== soak' "$log" | tail -1)
  echo "${line:0:200}"
}

wait_for() { # seconds what command...: polls once a second
  local limit=$1 what=$2 t
  shift 2
  for (( t = 0; t < limit; t++ )); do
    "$@" && return 0
    sleep 1
  done
  echo "$prog: $what within ${limit}s; see the logs in $run_dir" >&2
  return 1
}

# ------------------------------------------------------------------------------------------------
# Workers
# ------------------------------------------------------------------------------------------------

results=$run_dir/results.tsv
printf 'run\tS\tE\texit\tseconds\tverdict\ttask\n' > "$results"

worker() { # index end-epoch
  local w=$1 end=$2 n=0 s e out rc t0 secs verdict task
  RANDOM=$(( seed * 100 + w ))
  while (( EPOCHSECONDS < end )); do
    n=$(( n + 1 ))
    s=$(( RANDOM % 31 )); s="$(( s / 10 )).$(( s % 10 ))"
    e=$(( RANDOM % 10 ))
    out=$run_dir/runs/w$w-$(printf %04d "$n").out
    echo "\$ mezzo run --master $zk_url --shell -- 'sleep $s; exit $e'   # $(date -Is)" > "$out"
    t0=$EPOCHREALTIME
    MEZZO_JAVA_OPTS=$run_java_opts timeout -k 10 "$bound" \
      "$home/bin/mezzo" run --master "$zk_url" --shell -- "sleep $s; exit $e" >> "$out" 2>&1
    rc=$?
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    echo "# exit $rc after ${secs}s" >> "$out"
    task=$(grep -o 'launching task run-[0-9a-f]*' "$out" | awk '{ print $3 }' | paste -sd, -)
    if (( rc == 124 )) || { (( rc == 137 )) && awk -v x="$secs" -v b="$bound" 'BEGIN { exit !(x >= b) }'; }; then
      verdict=hung
    elif (( rc != e )); then
      verdict=wrong
    elif (( e == 0 )) && ! grep -q 'TASK_FINISHED' "$out"; then
      verdict=wrong # exit 0 without the task finishing
    elif (( e != 0 )) && ! grep -q "TASK_FAILED (exit $e)" "$out"; then
      verdict=wrong # the right number, but not the task's (e.g. 1 for "never ran")
    else
      verdict=ok
    fi
    printf 'w%s-%04d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$n" "$s" "$e" "$rc" "$secs" "$verdict" "${task:--}" >> "$results"
  done
}

# ------------------------------------------------------------------------------------------------
# Stopping and the summary
# ------------------------------------------------------------------------------------------------

declare -a worker_pids=()
actions=0
skipped=0
finished=0 # the normal end was reached
cleaned=0  # stop_everything completed

stop_everything() {
  local p d t tree=()
  # The whole tree first: once a worker's subshell is gone its runs are no longer below it.
  for p in "${worker_pids[@]}"; do
    kill -0 "$p" 2>/dev/null || continue
    # shellcheck disable=SC2207
    tree+=($(descendants "$p") "$p")
  done
  (( ${#tree[@]} > 0 )) && kill -TERM "${tree[@]}" 2>/dev/null # mezzo run kills its task on SIGTERM
  for (( t = 0; t < 15 && ${#tree[@]} > 0; t++ )); do
    local alive=0
    for p in "${tree[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 1
  done
  for p in "${tree[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
  for d in "${daemons[@]}"; do
    [[ -n "${pid[$d]:-}" ]] || continue
    kill -CONT "${pid[$d]}" 2>/dev/null
  done
  for d in agent1 agent2 master1 master2 master3 zk1 zk2 zk3; do
    [[ -n "${pid[$d]:-}" ]] && kill -TERM "${pid[$d]}" 2>/dev/null
  done
  for (( t = 0; t < 20; t++ )); do
    local alive=0
    for d in "${daemons[@]}"; do [[ -n "${pid[$d]:-}" ]] && kill -0 "${pid[$d]}" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 1
  done
  for d in "${daemons[@]}"; do
    [[ -n "${pid[$d]:-}" ]] && kill -0 "${pid[$d]}" 2>/dev/null && kill -KILL "${pid[$d]}" 2>/dev/null
  done
  # Tasks that outlived their agents (checkpointed tasks are left running on purpose) run in
  # sandboxes under the run directory.
  local proc cwd
  for proc in /proc/[0-9]*; do
    cwd=$(readlink "$proc/cwd" 2>/dev/null) || continue
    [[ "$cwd" == "$run_dir"/* ]] && kill -KILL "${proc#/proc/}" 2>/dev/null
  done
  cleaned=1
}

summary() {
  local total ok wrong hung m_removed m_killed a_killed twice n_twice
  total=$(awk -F'\t' 'NR > 1' "$results" | wc -l)
  ok=$(awk -F'\t' 'NR > 1 && $6 == "ok"' "$results" | wc -l)
  wrong=$(awk -F'\t' 'NR > 1 && $6 == "wrong"' "$results" | wc -l)
  hung=$(awk -F'\t' 'NR > 1 && $6 == "hung"' "$results" | wc -l)
  local mlogs=("$run_dir"/master?/master.log) alogs=("$run_dir"/agent?/agent.log)
  # Every run tears its framework down at the end ("torn down by its scheduler"): only other
  # removals are the master's own decision.
  m_removed=$(grep -h 'Removed framework' "${mlogs[@]}" 2>/dev/null | grep -vc 'torn down by its scheduler')
  m_killed=$(grep -h 'Removed framework' "${mlogs[@]}" 2>/dev/null | grep -v 'torn down by its scheduler' \
    | sed -n 's/.*; killed \([0-9]*\) tasks.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
  a_killed=$(grep -h 'REASON_FRAMEWORK_REMOVED' "${alogs[@]}" 2>/dev/null | grep -c .)
  twice=$(grep -ho 'Removed framework [^ ]*' "${mlogs[@]}" 2>/dev/null | sort | uniq -d | awk '{ print $3 }')
  n_twice=$(grep -c . <<< "$twice")
  {
    echo
    echo "== Mezzo chaos soak: variant $variant, $workers workers, every ${every}s, down ${down}s, $(( duration / 60 ))m$(( duration % 60 ))s, seed $seed =="
    echo "run dir: $run_dir"
    echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $("$java" -version 2>&1 | head -1)"
    echo "runs: $total (ok $ok, wrong exit code $wrong, hung $hung; bound ${bound}s)"
    echo "chaos actions: $actions taken, $skipped skipped (chaos.log)"
    local d any=0
    for d in "${daemons[@]}"; do
      if (( exits[$d] > 0 )); then
        any=1
        echo "exited on their own and restarted: $d x${exits[$d]} (last: $(why_exited "$d"))"
      fi
    done
    (( any )) || echo "exited on their own and restarted: none"
    echo "frameworks removed by a master (not torn down): $m_removed; tasks they killed (master logs): $m_killed; REASON_FRAMEWORK_REMOVED lines (agent logs): $a_killed"
    echo "frameworks removed more than once (a removal that did not survive a failover): $n_twice"
    if (( n_twice > 0 )); then
      echo "$twice" | head -3 | while read -r f; do
        grep -h "Removed framework $f " "${mlogs[@]}" | sort | cut -c1-220 | sed 's/^/    /'
      done
    fi
    echo "answers 'not the leader; the leader is ...' (a hint to follow at once): agents $(cat "${alogs[@]}" | grep -c 'not the leader; the leader is'), runs $(cat "$run_dir"/runs/*.out 2>/dev/null | grep -c 'not the leader; the leader is')"
    if (( m_removed > 0 )); then
      echo "  removals (first 5):"
      grep -h 'Removed framework' "${mlogs[@]}" | grep -v 'torn down by its scheduler' | head -5 | cut -c1-220 | sed 's/^/    /'
    fi
    local r s e rc secs v task
    if (( hung > 0 )); then
      echo "hung runs:"
      awk -F'\t' 'NR > 1 && $6 == "hung"' "$results" | while IFS=$'\t' read -r r s e rc secs v task; do
        local in_m=0 in_a=0
        if [[ "$task" != - ]]; then
          in_m=$(grep -hc -e "${task%%,*}" "${mlogs[@]}" | awk '{ s += $1 } END { print s + 0 }')
          in_a=$(grep -hc -e "${task%%,*}" "${alogs[@]}" | awk '{ s += $1 } END { print s + 0 }')
        fi
        echo "  $r 'sleep $s; exit $e' task $task: exit $rc after ${secs}s; task in master logs: $in_m lines, agent logs: $in_a lines"
        grep -v '^#' "$run_dir/runs/$r.out" | grep 'mezzo run:' | uniq -c | tail -4 | cut -c1-200 | sed 's/^/      /'
      done
    fi
    if (( wrong > 0 )); then
      echo "wrong exit codes:"
      awk -F'\t' 'NR > 1 && $6 == "wrong"' "$results" | while IFS=$'\t' read -r r s e rc secs v task; do
        echo "  $r 'sleep $s; exit $e' task $task: exit $rc after ${secs}s"
        grep 'mezzo run:' "$run_dir/runs/$r.out" | tail -3 | cut -c1-200 | sed 's/^/      /'
      done
    fi
    local verdict=PASS code=0
    if (( total == 0 || wrong > 0 || hung > 0 || m_killed > 0 || a_killed > 0 || n_twice > 0 )); then
      verdict=FAIL
      code=1
    fi
    echo "result: $verdict ($wrong wrong, $hung hung, $(( m_killed > a_killed ? m_killed : a_killed )) tasks killed by framework removals, $n_twice frameworks removed twice; $total runs)"
    exit $code
  } | tee "$run_dir/summary.txt"
  return "${PIPESTATUS[0]}"
}

on_exit() {
  local code=$?
  trap - EXIT INT TERM
  if (( ! finished || ! cleaned )); then
    echo
    note "stopping (interrupted or failed); logs stay in $run_dir"
    stop_everything
    (( ${#worker_pids[@]} > 0 )) && summary
    exit $(( code == 0 ? 130 : code ))
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------------------------
# Start
# ------------------------------------------------------------------------------------------------

note "Mezzo chaos soak: variant $variant, $workers workers, every ${every}s, down ${down}s, duration ${duration}s, seed $seed"
note "run dir: $run_dir (each daemon's log in its own directory; runs/ holds each run's output)"
note "ZooKeeper $zk_url; masters http ${http_port[master1]}, ${http_port[master2]}, ${http_port[master3]}"
for i in 1 2 3; do start_daemon "zk$i"; done
quorum_ready() { quorum_leader >/dev/null; }
wait_for 60 "ZooKeeper had no quorum" quorum_ready || exit 2
for i in 1 2 3; do start_daemon "master$i"; done
leader_ready() { leading_master >/dev/null; }
wait_for 90 "no master was elected" leader_ready || exit 2
for i in 1 2; do start_daemon "agent$i"; done
agents_ready() { [[ "$(registered_agents)" == 2 ]]; }
wait_for 90 "the 2 agents did not register" agents_ready || exit 2
note "cluster up: leader $(leading_master), quorum leader $(quorum_leader), 2 agents registered"

start=$EPOCHSECONDS
end=$(( start + duration ))
for (( w = 1; w <= workers; w++ )); do
  worker "$w" "$end" &
  worker_pids+=($!)
done
note "$workers workers started; chaos every ${every}s until $(date -d "@$end" +%H:%M:%S)"

# ------------------------------------------------------------------------------------------------
# Chaos and supervision: one tick a second
# ------------------------------------------------------------------------------------------------

next_at=$(( start + every ))
tries=0
pair=0
zk_turn=0
declare -A paused_until=()

take_down() { # name why: SIGKILL now, restart after $down s
  local name=$1
  kill -KILL "${pid[$name]}" 2>/dev/null
  wait "${pid[$name]}" 2>/dev/null
  state[$name]=down
  restart_at[$name]=$(( EPOCHSECONDS + down ))
  actions=$(( actions + 1 ))
  note "chaos #$actions: SIGKILL $name (pid ${pid[$name]}): $2; restart in ${down}s"
}

chaos() { # returns 1 to try again at the next tick
  local target why m a b
  case "$variant" in
    leader)
      target=$(leading_master) || return 1
      take_down "$target" "the leading master"
      ;;
    agent)
      target=agent$(( RANDOM % 2 + 1 ))
      [[ "${state[$target]}" == up ]] || return 1
      take_down "$target" "an agent"
      ;;
    zk-leader)
      if (( zk_turn % 2 == 0 )); then
        m=$(leading_master) || return 1
        target=$(zk_of_master "$m") || return 1
        why="the ZooKeeper server the leading master $m is connected to"
      else
        target=$(quorum_leader) || return 1
        why="the ZooKeeper quorum leader"
      fi
      zk_turn=$(( zk_turn + 1 ))
      take_down "$target" "$why"
      ;;
    quorum)
      a=$(( pair % 3 + 1 )); b=$(( (pair + 1) % 3 + 1 ))
      pair=$(( pair + 1 ))
      for target in "zk$a" "zk$b"; do
        [[ "${state[$target]}" == up ]] || return 1
      done
      m=$(leading_master || echo none)
      for target in "zk$a" "zk$b"; do
        kill -STOP "${pid[$target]}"
        state[$target]=paused
        paused_until[$target]=$(( EPOCHSECONDS + down ))
      done
      actions=$(( actions + 1 ))
      note "chaos #$actions: SIGSTOP zk$a and zk$b (quorum lost; leading master was $m, on $(zk_of_master "$m" 2>/dev/null || echo '?')); SIGCONT in ${down}s"
      ;;
  esac
}

supervise() { # restore what chaos took down when due; restart daemons that exited on their own
  local d rc now=$EPOCHSECONDS
  for d in "${daemons[@]}"; do
    case "${state[$d]}" in
      down)
        if (( now >= restart_at[$d] )); then
          [[ "$d" == agent* ]] && note "while $d was down the leader showed it as: $(agent_view "$d")"
          start_daemon "$d"
          note "restarted $d (pid ${pid[$d]})"
        fi
        ;;
      paused)
        if (( now >= paused_until[$d] )); then
          kill -CONT "${pid[$d]}"
          state[$d]=up
          note "SIGCONT $d"
        fi
        ;;
      up)
        if ! kill -0 "${pid[$d]}" 2>/dev/null; then
          wait "${pid[$d]}" 2>/dev/null
          rc=$?
          exits[$d]=$(( exits[$d] + 1 ))
          note "$d (pid ${pid[$d]}) exited on its own with status $rc: $(why_exited "$d"); restarting it in 1s"
          state[$d]=down
          restart_at[$d]=$(( now + 1 ))
        fi
        ;;
    esac
  done
}

workers_alive() {
  local p
  for p in "${worker_pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done
  return 1
}

last_progress=0
while (( EPOCHSECONDS < end )); do
  supervise
  if (( EPOCHSECONDS >= next_at )); then
    if chaos; then
      next_at=$(( next_at + every ))
      tries=0
    else
      tries=$(( tries + 1 ))
      if (( tries >= every )); then
        skipped=$(( skipped + 1 ))
        note "chaos skipped: no target found for ${tries}s"
        next_at=$(( next_at + every ))
        tries=0
      fi
    fi
  fi
  if (( EPOCHSECONDS - last_progress >= 60 )); then
    last_progress=$EPOCHSECONDS
    note "progress: $(awk -F'\t' 'NR > 1 { n++; c[$6]++ } END { printf "%d runs finished (ok %d, wrong %d, hung %d)", n, c["ok"], c["wrong"], c["hung"] }' "$results")"
  fi
  sleep 1
done

# Chaos is over: bring everything back and let the runs in flight finish (each is bounded).
for d in "${daemons[@]}"; do
  [[ "${state[$d]}" == down ]] && restart_at[$d]=0
  [[ "${state[$d]}" == paused ]] && paused_until[$d]=0
done
supervise
note "chaos over after $actions actions; waiting for the runs in flight (at most $(( bound + 15 ))s)"
deadline=$(( EPOCHSECONDS + bound + 15 ))
while workers_alive && (( EPOCHSECONDS < deadline )); do
  supervise
  sleep 1
done
finished=1
note "stopping the cluster"
stop_everything
summary
exit $?
