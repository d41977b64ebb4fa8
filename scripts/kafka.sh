#!/usr/bin/env bash
# Run a real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) from
# Apache Kafka's own jars on Maven Central. Needs Java 17+ and Maven; no Docker.
#
#   scripts/kafka.sh fetch    jars -> .kafka/lib-<version>/ (cached)
#   scripts/kafka.sh start    fresh storage, start in the background, wait until it serves
#   scripts/kafka.sh stop     SIGTERM, then SIGKILL after 30 s; fine if not running
#   scripts/kafka.sh status   exit 0 if running and serving, 1 otherwise
#
# Environment: KAFKA_VERSION (4.1.2), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
# KAFKA_PARTITIONS (3), KAFKA_HEAP_OPTS (-Xms256m -Xmx512m), KAFKA_START_TIMEOUT (120 s),
# KAFKA_STATE_DIR (.kafka: data, pid file and logs; a second broker on other ports needs its own).
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.2}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_PARTITIONS="${KAFKA_PARTITIONS:-3}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONF_DIR="$ROOT/scripts/kafka"
KDIR="$ROOT/.kafka"
LIB="$KDIR/lib-$KAFKA_VERSION"
# The jars are shared; a broker's state is its own, so private brokers (the fault suite) can run
# beside the usual one.
STATE="${KAFKA_STATE_DIR:-$KDIR}"
DATA="$STATE/data"
PIDFILE="$STATE/kafka.pid"
LOG="$STATE/server.log"
PROPS="$STATE/server.properties"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

die() { echo "kafka.sh: $*" >&2; exit 1; }

fetch() {
  if [[ -f "$LIB/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (needed to fetch the Kafka jars)"
  echo "fetching kafka $KAFKA_VERSION jars from Maven Central into .kafka/lib-$KAFKA_VERSION"
  mkdir -p "$KDIR"
  local tmp="$KDIR/.lib-$KAFKA_VERSION.tmp"
  rm -rf "$tmp"
  # Output goes to a file: Maven 3.8 prints stray ANSI resets even with -B -q.
  if ! mvn -B -q -ntp -Dstyle.color=never -f "$CONF_DIR/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" </dev/null >"$KDIR/fetch.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$KDIR/fetch.log" >&2
    die "maven could not fetch kafka $KAFKA_VERSION (see above)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"
  touch "$tmp/.complete"
  rm -rf "$LIB"
  mv "$tmp" "$LIB"
}

# A short-lived JVM running one of Kafka's command line tools (quiet, fast start-up).
tool() {
  timeout "${TOOL_TIMEOUT:-60}" "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" -Dkafka.log.level=WARN \
    -cp "$LIB/*" "$@" </dev/null
}

# The pid in .kafka/kafka.pid, if that process is alive (not a zombie) and is our broker.
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid state
  pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ "$state" != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Serving = the broker answers ApiVersions and is listed (i.e. registered and unfenced) in metadata.
serving() {
  local out
  out="$(TOOL_TIMEOUT=30 tool org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "$BOOTSTRAP" 2>/dev/null)" || return 1
  grep -q '(id: 1 ' <<<"$out"
}

start() {
  local pid
  if pid="$(running_pid)"; then
    echo "kafka already running (pid $pid) on $BOOTSTRAP"
    return 0
  fi
  rm -f "$PIDFILE"
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then die "port 127.0.0.1:$p is already in use by another process"; fi
  done
  fetch
  local t0=$EPOCHREALTIME

  rm -rf "$DATA"
  mkdir -p "$DATA"
  sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@DATA_DIR@|$DATA|g" -e "s|@PARTITIONS@|$KAFKA_PARTITIONS|g" \
    "$CONF_DIR/server.properties" >"$PROPS"

  # Random cluster id in Kafka's format: 16 random bytes, URL-safe base64 without padding,
  # not starting with '-' (Kafka's Uuid.randomUuid avoids that too).
  local cluster_id
  while :; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [[ "$cluster_id" != -* ]] && break
  done
  echo "formatting $DATA (cluster id $cluster_id)"
  tool kafka.tools.StorageTool format --config "$PROPS" --cluster-id "$cluster_id" --standalone \
    >"$STATE/format.log" 2>&1 || { cat "$STATE/format.log" >&2; die "storage format failed"; }

  : >"$LOG"
  # setsid: the broker gets its own session, so it outlives this shell and its Ctrl-C.
  # The inner bash writes its own pid and then becomes java, so the pid file holds java's pid.
  # shellcheck disable=SC2086,SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
    "$JAVA" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$STATE" -cp "$LIB/*" kafka.Kafka "$PROPS" \
    </dev/null >>"$LOG" 2>&1 &
  local _
  for _ in $(seq 50); do running_pid >/dev/null && break; sleep 0.1; done
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  echo "starting kafka $KAFKA_VERSION (pid ${pid:-?}, log $LOG)"

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) why="timed out after ${KAFKA_START_TIMEOUT}s"
  while :; do
    if ! running_pid >/dev/null; then why="broker process exited"; break; fi
    if port_open "$KAFKA_PORT" && serving; then
      echo "kafka $KAFKA_VERSION ready on $BOOTSTRAP ($(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}")s)"
      return 0
    fi
    if ((SECONDS >= deadline)); then break; fi
    sleep 0.5
  done
  echo "kafka did not become ready: $why; last 50 lines of .kafka/server.log:" >&2
  tail -n 50 "$LOG" >&2 || true
  stop >&2 || true
  exit 1
}

stop() {
  local pid _
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    echo "kafka not running"
    return 0
  fi
  echo "stopping kafka (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do
    running_pid >/dev/null || break
    sleep 0.1
  done
  if running_pid >/dev/null; then
    echo "kafka did not stop within 30s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do running_pid >/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  echo "kafka stopped"
}

status() {
  local pid
  if pid="$(running_pid)" && serving; then
    echo "kafka $KAFKA_VERSION running (pid $pid) on $BOOTSTRAP"
    return 0
  fi
  echo "kafka not running"
  return 1
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
