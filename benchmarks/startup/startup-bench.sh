#!/usr/bin/env bash
# Mezzo start-up benchmark (issue 12). Run by hand, never by `mvn verify`; see docs/benchmarks.md.
#
# Measures, from the unpacked distribution (dist/target/mezzo, or --mezzo-home), the edges a person
# feels, each the way the issue's table does:
#
#   version    `mezzo --version`                                       median of N: wall, CPU
#   run-dev    `mezzo run -- true` against `mezzo dev`                 median of N: wall, CPU
#   ha-20      20 sequential `mezzo run --master zk://... -- true`
#              against 3 ZooKeeper + 3 masters + 1 agent               median of N: total wall
#   start      start 3 ZooKeeper + 3 masters + 1 agent and one
#              `mezzo run --master zk://... -- true` together ->
#              the run exits 0                                         median of N: wall
#   failover   kill -9 the leading master, start `mezzo run
#              --master zk://... -- true` at once -> it exits 0        median of N: wall
#   daemons    a standalone `mezzo master`: exec -> serving (its
#              "listening" log line) and -> leading ("Leading with
#              epoch"); then `mezzo agent` on it: exec -> "Registered
#              with master" (the daemons' own log timestamps)          median of N: three walls
#
# The ZooKeeper servers run with tickTime=500 (so that 2 s sessions are granted) and
# -Dzookeeper.fastleader.maxNotificationInterval=1000: servers that start together otherwise back
# off their quorum election up to 60 s apart (doubling from 200 ms) and take 5-7 s to form a quorum
# on a loaded 2-core machine, which no Mezzo process can shorten (docs/high-availability.md).
#
# Every row runs --warmup unmeasured samples first. Daemons run with their default flags (only
# ports, directories and the ZooKeeper URL are given); MEZZO_JAVA_OPTS is passed through to every
# bin/mezzo, so an A/B of JVM options is two calls of this script. The load average is printed
# with the table: on a shared machine, compare two trees with alternating calls (--mezzo-home),
# not with figures from different times.
#
# Process model: this script starts everything it measures on 127.0.0.1 with free ports and
# stops it on exit (trap), Ctrl-C included. Logs stay in the run directory.

set -uo pipefail

prog=$(basename "$0")
script_dir=$(cd "$(dirname "$0")" && pwd)

usage() {
  cat <<EOF
Usage: $prog [options]

  --rows LIST        comma-separated rows: version,run-dev,ha-20,start,failover,daemons (default: all)
  -n N               measured samples per row (default: 8; ha-20 and start use min(N,3))
  --warmup N         unmeasured samples first (default: 1)
  --mezzo-home DIR   the unpacked distribution (default: dist/target/mezzo of this checkout)
  --run-dir DIR      where logs go (default: /tmp/mezzo-startup-<time>)
  -h, --help         this text

Environment: JAVA_HOME, MEZZO_JAVA_OPTS (passed to every bin/mezzo).
Prints one table row per measured row; exit 0 unless a run failed or a cluster did not start.
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }

rows=version,run-dev,ha-20,start,failover,daemons
n=8
warmup=1
home=$script_dir/../../dist/target/mezzo
run_dir=
while (( $# )); do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    -n) n=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --mezzo-home) home=$2; shift 2 ;;
    --run-dir) run_dir=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "-n must be a positive number"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "--warmup must be a number"
home=$(cd "$home" 2>/dev/null && pwd) || die "no distribution at $home: build it first (mvn -B -ntp -DskipTests package)"
mezzo=$home/bin/mezzo
[[ -x "$mezzo" ]] || die "no $mezzo"
if [[ -n "${JAVA_HOME:-}" ]]; then java="$JAVA_HOME/bin/java"; else java=java; fi
for tool in curl jq ss; do command -v "$tool" >/dev/null || die "needs $tool on PATH"; done
: "${run_dir:=${TMPDIR:-/tmp}/mezzo-startup-$(date +%Y%m%d-%H%M%S)-$$}"
mkdir -p "$run_dir" || die "cannot create $run_dir"
run_dir=$(cd "$run_dir" && pwd)
# Only this script's flags configure the daemons.
while read -r v; do [[ "$v" == MEZZO_JAVA_OPTS ]] || unset "$v"; done < <(compgen -e | grep '^MEZZO_')

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }

used_ports=" "
alloc_port() { # sets REPLY to a free port, never handed out twice
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

declare -a started=()
stop_all() {
  local p
  for p in "${started[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${started[@]}"; do wait "$p" 2>/dev/null; done
  started=()
}
trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM

# timed CMD...: runs CMD, sets T_WALL, T_CPU (user+sys of it and its children) and T_RC.
timed() {
  local out t0 rc
  out=$(mktemp)
  TIMEFORMAT='%R %U %S'
  t0=$(now)
  { time "$@" >> "$run_dir/runs.log" 2>&1 ; } 2> "$out"
  rc=$?
  T_WALL=$(since "$t0")
  T_CPU=$(awk '{ print $2 + $3 }' "$out")
  T_RC=$rc
  rm -f "$out"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "-" } else if (NR % 2) { printf "%.3f\n", a[(NR + 1) / 2] } else { printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 } }'; }

declare -a table=()
report() { # row samples walls cpus note
  local w c
  w=$(tr ' ' '\n' <<< "$3" | grep . | median)
  c=$(tr ' ' '\n' <<< "$4" | grep . | median)
  table+=("$(printf '%-9s %4s %9s %9s  %s' "$1" "$2" "$w" "$c" "$5")")
  echo "  -> $1: median wall ${w}s, cpu ${c}s over $2 samples ($5)"
}

wait_until() { # seconds command...: polls the command every 50 ms until it succeeds
  local deadline=$(( SECONDS + $1 ))
  shift
  until "$@"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.05
  done
}

# ------------------------------------------------------------------------------------------------
# A cluster: 3 ZooKeeper servers, 3 masters, 1 agent (default flags), all on 127.0.0.1.
# ------------------------------------------------------------------------------------------------

declare -A cpid=() mport=() hport=()
zk_url=
cluster_dir=

new_cluster() { # dir: writes configs and picks ports; nothing starts
  cluster_dir=$1
  mkdir -p "$cluster_dir"
  local i j zc=() zq=() ze=()
  for i in 1 2 3; do
    alloc_port; zc[i]=$REPLY; alloc_port; zq[i]=$REPLY; alloc_port; ze[i]=$REPLY
    alloc_port; mport[master$i]=$REPLY; alloc_port; hport[master$i]=$REPLY
  done
  alloc_port; mport[agent]=$REPLY; alloc_port; hport[agent]=$REPLY
  zk_url="zk://127.0.0.1:${zc[1]},127.0.0.1:${zc[2]},127.0.0.1:${zc[3]}/mezzo"
  cat > "$cluster_dir/zk-logback.xml" <<'EOF'
<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} [%thread] %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="OUT"/></root>
</configuration>
EOF
  for i in 1 2 3; do
    mkdir -p "$cluster_dir/zk$i/data" "$cluster_dir/master$i"
    echo "$i" > "$cluster_dir/zk$i/data/myid"
    {
      echo "tickTime=500"
      echo "initLimit=20"
      echo "syncLimit=4"
      echo "dataDir=$cluster_dir/zk$i/data"
      echo "clientPort=${zc[i]}"
      echo "clientPortAddress=127.0.0.1"
      echo "admin.enableServer=false"
      echo "maxClientCnxns=0"
      for j in 1 2 3; do echo "server.$j=127.0.0.1:${zq[j]}:${ze[j]}"; done
    } > "$cluster_dir/zk$i/zoo.cfg"
  done
  mkdir -p "$cluster_dir/agent/work"
}

start_proc() { # name
  local name=$1 log=$cluster_dir/$1.log
  case "$name" in
    zk*)
      "$java" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlogback.configurationFile="$cluster_dir/zk-logback.xml" \
        -Dzookeeper.fastleader.maxNotificationInterval=1000 \
        -cp "$home/lib/*" org.apache.zookeeper.server.quorum.QuorumPeerMain "$cluster_dir/$name/zoo.cfg" >> "$log" 2>&1 &
      ;;
    master*)
      "$mezzo" master --ip 127.0.0.1 --port "${mport[$name]}" --http_port "${hport[$name]}" --zk "$zk_url" \
        >> "$log" 2>&1 &
      ;;
    agent)
      # shellcheck disable=SC2046
      "$mezzo" agent --master "$zk_url" --ip 127.0.0.1 --port "${mport[agent]}" --http_port "${hport[agent]}" \
        --work_dir "$cluster_dir/agent/work" --resources "cpus:4;mem:4096;disk:4096" \
        $( (( EUID == 0 )) && echo --allow_root_tasks) >> "$log" 2>&1 &
      ;;
  esac
  cpid[$name]=$!
  started+=("$!")
}

kill_proc() { # name
  kill -9 "${cpid[$1]}" 2>/dev/null
  wait "${cpid[$1]}" 2>/dev/null
  cpid[$1]=
}

leading_master() { # prints the master whose /health says it leads
  local m
  for m in master1 master2 master3; do
    [[ -n "${cpid[$m]:-}" ]] || continue
    if [[ "$(curl -s --max-time 1 "http://127.0.0.1:${hport[$m]}/health" | jq -r '.leader' 2>/dev/null)" == true ]]; then
      echo "$m"
      return 0
    fi
  done
  return 1
}

agent_registered() {
  local m
  m=$(leading_master) || return 1
  [[ "$(curl -s --max-time 1 "http://127.0.0.1:${hport[$m]}/agents" \
    | jq '[.agents[] | select(.state == "REGISTERED")] | length' 2>/dev/null)" == 1 ]]
}

masters_up() { # every master started serves HTTP
  local m
  for m in master1 master2 master3; do
    [[ -z "${cpid[$m]:-}" ]] && continue
    curl -s --max-time 1 -o /dev/null "http://127.0.0.1:${hport[$m]}/health" || return 1
  done
}

start_cluster() { # dir
  new_cluster "$1"
  local p
  for p in zk1 zk2 zk3 master1 master2 master3 agent; do start_proc "$p"; done
}

run_zk() { "$mezzo" run --master "$zk_url" -- true; }
run_host() { "$mezzo" run --master "127.0.0.1:$dev_port" -- true; }

# ------------------------------------------------------------------------------------------------
# Rows
# ------------------------------------------------------------------------------------------------

row_version() {
  local i walls= cpus=
  for (( i = 0; i < warmup + n; i++ )); do
    timed "$mezzo" --version
    (( i >= warmup )) && { walls+=" $T_WALL"; cpus+=" $T_CPU"; }
  done
  report version "$n" "$walls" "$cpus" "mezzo --version"
}

dev_port=
row_run_dev() {
  local i walls= cpus= fails=0 hp
  alloc_port; dev_port=$REPLY; alloc_port; hp=$REPLY
  mkdir -p "$run_dir/dev"
  "$mezzo" dev --port "$dev_port" --http_port "$hp" --agent_port 0 --no-demo --work_dir "$run_dir/dev" \
    >> "$run_dir/dev.log" 2>&1 &
  started+=("$!")
  wait_until 120 grep -q 'Mezzo dev cluster is up' "$run_dir/dev.log" || die "mezzo dev did not start (see $run_dir/dev.log)"
  for (( i = 0; i < warmup + n; i++ )); do
    timed run_host
    (( T_RC == 0 )) || fails=$(( fails + 1 ))
    (( i >= warmup )) && { walls+=" $T_WALL"; cpus+=" $T_CPU"; }
  done
  report run-dev "$n" "$walls" "$cpus" "mezzo run -- true vs mezzo dev; $fails failed"
  stop_all
}

row_ha_20() {
  local s j t0 walls= fails=0 samples=$(( n < 3 ? n : 3 ))
  start_cluster "$run_dir/ha-20"
  wait_until 120 agent_registered || die "HA cluster did not start (see $run_dir/ha-20)"
  for (( s = 0; s < warmup + samples; s++ )); do
    t0=$(now)
    for (( j = 0; j < 20; j++ )); do
      run_zk >> "$run_dir/runs.log" 2>&1 || fails=$(( fails + 1 ))
    done
    (( s >= warmup )) && walls+=" $(since "$t0")"
  done
  report ha-20 "$samples" "$walls" "" "20 sequential runs, zk:// master; $fails failed"
  stop_all
}

row_start() {
  local s t0 walls= fails=0 samples=$(( n < 3 ? n : 3 )) p rp
  for (( s = 0; s < warmup + samples; s++ )); do
    new_cluster "$run_dir/start-$s"
    t0=$(now)
    for p in zk1 zk2 zk3 master1 master2 master3 agent; do start_proc "$p"; done
    run_zk >> "$run_dir/runs.log" 2>&1 &
    rp=$!
    wait "$rp" || fails=$(( fails + 1 ))
    (( s >= warmup )) && walls+=" $(since "$t0")"
    stop_all
  done
  report start "$samples" "$walls" "" "3 ZK + 3 masters + 1 agent + mezzo run started together; $fails failed"
}

row_failover() {
  local s t0 walls= fails=0 leader
  start_cluster "$run_dir/failover"
  wait_until 120 agent_registered || die "HA cluster did not start (see $run_dir/failover)"
  for (( s = 0; s < warmup + n; s++ )); do
    run_zk >> "$run_dir/runs.log" 2>&1 || fails=$(( fails + 1 ))
    wait_until 60 masters_up || die "a master did not come back (see $run_dir/failover)"
    leader=$(leading_master) || die "no leader"
    t0=$(now)
    kill_proc "$leader"
    run_zk >> "$run_dir/runs.log" 2>&1 || fails=$(( fails + 1 ))
    (( s >= warmup )) && walls+=" $(since "$t0")"
    echo "  failover $s: killed $leader, next run done after $(since "$t0")s"
    start_proc "$leader"
  done
  report failover "$n" "$walls" "" "kill -9 leader -> next run exits 0; $fails failed"
  stop_all
}

# log_time FILE PATTERN: the epoch seconds of the first line of FILE matching PATTERN (its ISO
# timestamp, the daemons' log format), or nothing.
log_time() {
  local ts
  ts=$(grep -m1 -- "$2" "$1" 2>/dev/null | cut -d' ' -f1)
  [[ -n "$ts" ]] && date -d "$ts" +%s.%N
}

row_daemons() {
  local s t0 t1 mp mh ap ah dir serve= lead= reg= a b c
  for (( s = 0; s < warmup + n; s++ )); do
    dir=$run_dir/daemons-$s
    mkdir -p "$dir/agent"
    alloc_port; mp=$REPLY; alloc_port; mh=$REPLY; alloc_port; ap=$REPLY; alloc_port; ah=$REPLY
    t0=$(now)
    "$mezzo" master --ip 127.0.0.1 --port "$mp" --http_port "$mh" >> "$dir/master.log" 2>&1 &
    started+=("$!")
    wait_until 60 grep -q 'Leading with epoch' "$dir/master.log" || die "master did not lead (see $dir)"
    t1=$(now)
    # shellcheck disable=SC2046
    "$mezzo" agent --master "127.0.0.1:$mp" --ip 127.0.0.1 --port "$ap" --http_port "$ah" \
      --work_dir "$dir/agent" --resources "cpus:4;mem:4096;disk:4096" \
      $( (( EUID == 0 )) && echo --allow_root_tasks) >> "$dir/agent.log" 2>&1 &
    started+=("$!")
    wait_until 60 grep -q 'Registered with master' "$dir/agent.log" || die "agent did not register (see $dir)"
    a=$(echo "$(log_time "$dir/master.log" ' listening on ') - $t0" | bc -l)
    b=$(echo "$(log_time "$dir/master.log" 'Leading with epoch') - $t0" | bc -l)
    c=$(echo "$(log_time "$dir/agent.log" 'Registered with master') - $t1" | bc -l)
    echo "  daemons $s: master serving after ${a}s, leading after ${b}s; agent registered ${c}s after its exec"
    (( s >= warmup )) && { serve+=" $a"; lead+=" $b"; reg+=" $c"; }
    stop_all
  done
  report master-serve "$n" "$serve" "" "exec mezzo master (standalone) -> listening"
  report master-lead "$n" "$lead" "" "exec mezzo master (standalone) -> leading"
  report agent-reg "$n" "$reg" "" "exec mezzo agent (master up) -> registered"
}

echo "mezzo start-up benchmark: $home, n=$n, warmup=$warmup, run dir $run_dir"
echo "MEZZO_JAVA_OPTS=${MEZZO_JAVA_OPTS:-}"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
IFS=, read -ra want <<< "$rows"
for r in "${want[@]}"; do
  echo "row $r ..."
  case "$r" in
    version) row_version ;;
    run-dev) row_run_dev ;;
    ha-20) row_ha_20 ;;
    start) row_start ;;
    failover) row_failover ;;
    daemons) row_daemons ;;
    *) die "unknown row $r" ;;
  esac
done
echo
echo "$(date -Is) $(nproc) cores, load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %4s %9s %9s  %s\n' row n wall_s cpu_s what
printf '%s\n' "${table[@]}"
