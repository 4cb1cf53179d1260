#!/usr/bin/env bash
# The command-line contract: help and version, config errors, HTTP endpoints, the demo
# command, and a prompt stop on SIGTERM and SIGINT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

Main() {
  RequirePrograms IWX_EXPORTER IWX_SIMULATOR
  E2eInit
  CheckHelp
  CheckVersion
  CheckBadConfig
  CheckBackfillUsage
  CheckServe
  CheckDemo
  Log "PASS"
}

# Runs the exporter with ARGS; sets OUT (stdout + stderr) and RC.
OUT=""
RC=0
Run() {
  RC=0
  OUT=$(timeout 20 "$IWX_EXPORTER" "$@" 2>&1) || RC=$?
}

CheckHelp() {
  local args
  for args in "--help" "serve --help" "check --help" "demo --help"; do
    # shellcheck disable=SC2086  # word splitting wanted: "serve --help" is two arguments
    Run $args
    [[ $RC == 0 ]] || Fail "'$args' exited $RC: $OUT"
    grep -qi 'usage' <<<"$OUT" || Fail "'$args' printed no usage: $OUT"
    Log "ok: $args"
  done
}

CheckVersion() {
  Run --version
  [[ $RC == 0 ]] || Fail "--version exited $RC: $OUT"
  if [[ -n "${IWX_VERSION:-}" ]]; then
    grep -qF "$IWX_VERSION" <<<"$OUT" || Fail "--version does not name $IWX_VERSION: $OUT"
  fi
  Log "ok: --version: $(head -n 1 <<<"$OUT")"
}

# A syntax error on line 3: exit 2 and a message naming the file and the line.
CheckBadConfig() {
  local bad="$E2E_DIR/bad.toml"
  printf '[poll]\ninterval = "5s"\n[[device]\nname = "x"\n' >"$bad"
  Run check --config.file="$bad"
  [[ $RC == 2 ]] || Fail "check with a broken config exited $RC, expected 2: $OUT"
  grep -q 'bad\.toml:3' <<<"$OUT" || Fail "config error does not say bad.toml:3: $OUT"
  Log "ok: broken config -> exit 2: $(grep -m1 'bad\.toml:3' <<<"$OUT")"

  Run check --config.file="$E2E_DIR/does-not-exist.toml"
  [[ $RC == 2 ]] || Fail "check with a missing config file exited $RC, expected 2: $OUT"
  Log "ok: missing config -> exit 2"
}

# serve against the simulator: endpoints answer, `check` passes, SIGTERM and SIGINT stop it
# within a second with exit status 0.
CheckServe() {
  StartSimulator --clock real
  PickPort
  local port=$PORT
  WriteConfig "$E2E_DIR/exporter.toml" "127.0.0.1:$port" 5s

  Run check --config.file="$E2E_DIR/exporter.toml"
  [[ $RC == 0 ]] || Fail "check of a good config with reachable devices exited $RC: $OUT"
  Log "ok: check passes"

  local signal
  for signal in TERM INT; do
    StartExporter "$E2E_DIR/exporter.toml" "$port"
    WaitHttp "$EXPORTER_URL/-/ready" "$EXPORTER_PID" 30
    curl -sf "$EXPORTER_URL/" | grep -q '/metrics' || Fail "landing page does not link /metrics"
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$EXPORTER_URL/-/healthy")" == 200 ]] ||
      Fail "/-/healthy is not 200"
    WaitExporterData 30
    StopWithin "$EXPORTER_PID" "$signal" 1500
  done
}

# Bad backfill flags: exit 2 with a message naming the flag, before any unit is contacted
# (the configured one does not exist, so contacting it would hang in retries).
CheckBackfillUsage() {
  local config="$E2E_DIR/backfill.toml"
  printf '[[device]]\nname = "iwatt5"\nurl = "http://127.0.0.1:9"\n' >"$config"
  ExpectUsageError '--vm.url: "ftp://vm" is not a supported URL; expected http[s]://' \
    backfill --config.file="$config" --vm.url=ftp://vm
  ExpectUsageError '--format: unknown format "csv"; expected vm or openmetrics' \
    backfill --config.file="$config" --format=csv --vm.url=http://127.0.0.1:9
  ExpectUsageError '--output cannot be combined with --resume' \
    backfill --config.file="$config" --output="$E2E_DIR/out.jsonl" --resume
  ExpectUsageError 'no VictoriaMetrics URL: set url in [victoriametrics] of' \
    backfill --config.file="$config"
  Log "ok: bad backfill flags -> exit 2"

  # A plan reports a unit that does not answer at once instead of retrying it.
  Run backfill --config.file="$config" --plan
  [[ $RC == 1 ]] || Fail "--plan with an unreachable unit exited $RC, expected 1: $OUT"
  grep -qF 'device iwatt5: /status: ' <<<"$OUT" || Fail "--plan did not name the unit: $OUT"
  Log "ok: --plan with an unreachable unit -> exit 1 at once"
}

# Runs the exporter with ARGS and fails unless it exits 2 printing MESSAGE.
ExpectUsageError() {
  local message="$1"
  shift
  Run "$@"
  [[ $RC == 2 ]] || Fail "'$*' exited $RC, expected 2: $OUT"
  grep -qF -- "$message" <<<"$OUT" || Fail "'$*' printed '$OUT', expected '$message'"
}

# Sends SIG to PID (a child of this shell) and fails unless it exits with status 0 within
# LIMIT_MS milliseconds.
StopWithin() {
  local pid="$1" sig="$2" limit_ms="$3" start_ns elapsed_ms rc=0
  start_ns=$(date +%s%N)
  kill -"$sig" "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
    ((elapsed_ms <= limit_ms + 3000)) || break
    sleep 0.02
  done
  elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
  kill -0 "$pid" 2>/dev/null && Fail "SIG$sig did not stop pid $pid within ${elapsed_ms} ms"
  wait "$pid" || rc=$?
  Forget "$pid"
  ((elapsed_ms <= limit_ms)) || Fail "SIG$sig stopped pid $pid after ${elapsed_ms} ms"
  [[ $rc == 0 ]] || Fail "exit status after SIG$sig is $rc, expected 0"
  Log "ok: SIG$sig stopped the exporter in ${elapsed_ms} ms, status 0"
}

# The built-in demo serves derived series of its simulated installation.
CheckDemo() {
  PickPort
  local port=$PORT
  StartBg demo "$IWX_EXPORTER" demo --web.listen-address="127.0.0.1:$port"
  local pid=$LAST_PID
  EXPORTER_PID=$pid
  EXPORTER_URL="http://127.0.0.1:$port"
  WaitHttp "$EXPORTER_URL/-/healthy" "$pid" 30
  WaitExporterData 30
  Log "ok: demo serves grid_import = $(curl -sf "$EXPORTER_URL/metrics" |
    PromValue iotawatt_derived_power_watts name=grid_import)"
  StopWithin "$pid" TERM 1500
}

Main "$@"
