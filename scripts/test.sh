#!/usr/bin/env bash
# Runs every check: typecheck, lint, and the test suite against real services.
#   PostgreSQL and Redis: DATABASE_URL / REDIS_URL, else 127.0.0.1:5432 and :6379 (started here when
#   this machine has them installed but stopped). Kafka: KAFKA_BROKERS, else a broker this script
#   starts from Apache Kafka's jars (scripts/kafka.sh; needs Java 17 and Maven) and stops at the end.
# Without CI=true a service that cannot be had skips its tests with the reason; with CI=true it fails.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node-env.sh || { echo "0 passed, 1 failed"; exit 1; }

failed_steps=()
step() { # name, command...
  local name=$1; shift
  echo "== $name"
  if ! "$@"; then failed_steps+=("$name"); echo "!! $name failed"; fi
}

started_kafka=0
cleanup() { if [[ $started_kafka == 1 ]]; then bash scripts/kafka.sh stop || true; fi; }
trap cleanup EXIT

# --- services ---------------------------------------------------------------------------------
if [[ -z "${DATABASE_URL:-}" ]]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
    echo "starting the local PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && export DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
fi
if [[ -z "${REDIS_URL:-}" ]]; then
  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && command -v redis-server >/dev/null; then
    echo "starting the local Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && export REDIS_URL=redis://127.0.0.1:6379
fi
if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  if command -v java >/dev/null && command -v mvn >/dev/null; then
    if bash scripts/kafka.sh status >/dev/null 2>&1; then
      export KAFKA_BROKERS=127.0.0.1:9092
    elif bash scripts/kafka.sh start; then
      started_kafka=1
      export KAFKA_BROKERS=127.0.0.1:9092
    else
      failed_steps+=("kafka start")
    fi
  fi
fi
echo "services: DATABASE_URL=${DATABASE_URL:-none} REDIS_URL=${REDIS_URL:-none} KAFKA_BROKERS=${KAFKA_BROKERS:-none}"

# --- checks -----------------------------------------------------------------------------------
step typecheck npx tsc --noEmit
step lint npx eslint --max-warnings 0 .
step format npx prettier --check --log-level warn .
# Both contracts (openapi/*.yaml, per redocly.yaml): no errors, and no warnings either.
step contracts-lint bash -c 'out=$(npx redocly lint 2>&1); s=$?; echo "$out" | grep -vE "^npm warn"; [[ $s == 0 ]] && ! grep -q "You have [0-9]* warning" <<<"$out"'

# --- tests ------------------------------------------------------------------------------------
mkdir -p .tap
rm -rf .tap/logs
# Every log line of the run (each process, at debug level whatever LOG_LEVEL says) also goes to
# .tap/logs, which is then scanned for the narratives, names, phones and addresses the tests send.
export CAD_TRIAGE_LOG_DIR=$PWD/.tap/logs
echo "== tests"
npx tap --reporter=tap 2>&1 | tee .tap/output.tap
tap_status=${PIPESTATUS[0]}
[[ $tap_status == 0 ]] || failed_steps+=("tests")
unset CAD_TRIAGE_LOG_DIR
step log-scan node scripts/scan-logs.ts .tap/logs

summary=$(grep -E '^# \{ total: ' .tap/output.tap | tail -1)
passed=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
passed=${passed:-0}
failed=${failed:-0}
# A failing step outside the test runner (typecheck, lint, a crashed runner) counts as a failure.
extra=$(( ${#failed_steps[@]} - ( tap_status != 0 && failed > 0 ? 1 : 0 ) ))
(( extra > 0 )) && echo "failed steps: ${failed_steps[*]}"
echo "$passed passed, $(( failed + extra )) failed"
(( ${#failed_steps[@]} == 0 ))
