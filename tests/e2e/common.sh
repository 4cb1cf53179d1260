# Shared functions of the end-to-end tests; sourced, not run.
#
# Every process a test starts goes through StartBg, listens on 127.0.0.1 only and is stopped
# by its PID when the test exits, whether it passed, failed or was interrupted.
#
# Inputs (environment, set by tests/e2e/meson.build):
#   IWX_EXPORTER, IWX_SIMULATOR   built binaries
#   IWX_VICTORIA_METRICS, IWX_VMAGENT, IWX_PROMTOOL   external programs ("" when absent)
#   IWX_VERSION   the project version
#   E2E_KEEP=1    keep the temp folder for inspection

set -euo pipefail

readonly E2E_SKIP=77

E2E_DIR=""
E2E_PIDS=()
E2E_NAMES=()
E2E_PORTS=()

Log() { printf '[%s] %s\n' "$(date +%H:%M:%S.%N | cut -c1-12)" "$*" >&2; }

Fail() {
  Log "FAIL: $*"
  exit 1
}

Skip() {
  Log "SKIP: $*"
  exit "$E2E_SKIP"
}

# Skips the test unless every named variable holds an executable path.
RequirePrograms() {
  local var
  for var in "$@"; do
    if [[ -z "${!var:-}" || ! -x "${!var}" ]]; then
      Skip "$var not available ('${!var:-}')"
    fi
  done
}

# Creates the temp folder and installs the cleanup trap. Call first.
E2eInit() {
  E2E_DIR="$(mktemp -d "${TMPDIR:-/tmp}/iwx-e2e.XXXXXX")"
  trap E2eCleanup EXIT
  # Turn signals into a normal exit so that the EXIT trap runs once.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  Log "work dir $E2E_DIR"
}

# Sends SIGTERM to PID and waits until it is gone; SIGKILL after TIMEOUT seconds.
StopPid() {
  local pid="$1" timeout="${2:-10}" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= timeout * 20)); then
      Log "pid $pid ignored SIGTERM for ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.05
    waited=$((waited + 1))
  done
  # Reap it if it is our child, so that no zombie keeps its PID.
  wait "$pid" 2>/dev/null || true
}

E2eCleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  # Stop in reverse start order: scrapers before the exporter, the exporter before devices.
  for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do
    StopPid "${E2E_PIDS[$i]}" 10
  done
  if [[ $rc -ne 0 && $rc -ne $E2E_SKIP && -n "$E2E_DIR" ]]; then
    DumpLogs
  fi
  if [[ -n "$E2E_DIR" && "${E2E_KEEP:-0}" != 1 ]]; then
    rm -rf "$E2E_DIR"
  elif [[ -n "$E2E_DIR" ]]; then
    Log "kept $E2E_DIR"
  fi
  exit "$rc"
}

# Prints the tail of every process log, for meson's --print-errorlogs.
DumpLogs() {
  local f
  for f in "$E2E_DIR"/*.log; do
    [[ -f "$f" ]] || continue
    printf '\n----- %s (last 40 lines) -----\n' "$(basename "$f")" >&2
    tail -n 40 "$f" >&2
  done
}

# True if some socket on this machine uses local TCP port $1 (any address, any state).
PortInUse() {
  local hex
  hex=$(printf ':%04X ' "$1")
  grep -qs -- "$hex" /proc/net/tcp /proc/net/tcp6
}

# Sets PORT to a free loopback port. (It sets a variable rather than printing, so that the
# ports it handed out are remembered.) Ports come from below the kernel's ephemeral range,
# so outgoing connections do not take them, and are random, so tests running in parallel
# rarely collide; a collision is caught by WaitHttp, which notices the server's exit.
PORT=""
PickPort() {
  local port tries
  for ((tries = 0; tries < 500; tries++)); do
    port=$((20000 + RANDOM % 12000))
    if ! PortInUse "$port" && [[ " ${E2E_PORTS[*]} " != *" $port "* ]]; then
      E2E_PORTS+=("$port")
      PORT=$port
      return 0
    fi
  done
  Fail "no free port found"
}

# Starts a command in the background with stdout in NAME.out and stderr in NAME.log inside
# the work dir; sets LAST_PID. The PID is the command's own (bash execs it directly).
LAST_PID=""
StartBg() {
  local name="$1"
  shift
  Log "start $name: $*"
  "$@" >"$E2E_DIR/$name.out" 2>"$E2E_DIR/$name.log" </dev/null &
  LAST_PID=$!
  E2E_PIDS+=("$LAST_PID")
  E2E_NAMES+=("$name")
}

# Removes PID from the list of processes to stop at exit (after the test stopped it).
Forget() {
  local pid="$1" i
  for i in "${!E2E_PIDS[@]}"; do
    if [[ "${E2E_PIDS[$i]}" == "$pid" ]]; then
      unset 'E2E_PIDS[i]' 'E2E_NAMES[i]'
    fi
  done
  E2E_PIDS=("${E2E_PIDS[@]}")
  E2E_NAMES=("${E2E_NAMES[@]}")
}

# Waits until URL answers 2xx; fails at once if PID exits, or after TIMEOUT seconds.
WaitHttp() {
  local url="$1" pid="$2" timeout="${3:-30}" deadline
  deadline=$((SECONDS + timeout))
  until curl -sf -o /dev/null --max-time 2 "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      Fail "process $pid exited while waiting for $url"
    fi
    if ((SECONDS >= deadline)); then
      Fail "$url not ready after ${timeout}s"
    fi
    sleep 0.1
  done
  return 0
}

# Waits until FILE has a line matching the extended regex; fails if PID exits first.
WaitForLine() {
  local file="$1" regex="$2" pid="$3" timeout="${4:-30}" deadline
  deadline=$((SECONDS + timeout))
  until grep -Eq -- "$regex" "$file" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      Fail "process $pid exited before printing /$regex/ to $file"
    fi
    if ((SECONDS >= deadline)); then
      Fail "no /$regex/ in $file after ${timeout}s"
    fi
    sleep 0.05
  done
}

# Starts the simulator with extra ARGS and waits for its unit lines. Sets SIM_PID and
# UNIT_URLS (unit name -> base URL).
declare -A UNIT_URLS=()
SIM_PID=""
StartSimulator() {
  local line unit url
  # Without --base-port the units bind free ports themselves and print them.
  StartBg simulator "$IWX_SIMULATOR" --host 127.0.0.1 "$@"
  SIM_PID=$LAST_PID
  WaitForLine "$E2E_DIR/simulator.out" '^unit=iwatt6 ' "$SIM_PID" 30
  while read -r line; do
    unit=$(sed -n 's/.*unit=\([^ ]*\).*/\1/p' <<<"$line")
    url=$(sed -n 's/.*url=\([^ ]*\).*/\1/p' <<<"$line")
    if [[ -n "$unit" && -n "$url" ]]; then
      UNIT_URLS[$unit]="$url"
    fi
  done <"$E2E_DIR/simulator.out"
  for unit in iwatt5 iwatt6; do
    [[ -n "${UNIT_URLS[$unit]:-}" ]] || Fail "simulator did not report unit $unit"
    WaitHttp "${UNIT_URLS[$unit]}/status" "$SIM_PID" 30
  done
}

# Writes the two-unit exporter config for the running simulator to FILE.
WriteConfig() {
  local file="$1" listen="$2" interval="${3:-5s}"
  cat >"$file" <<EOF
[web]
listen_address = "$listen"

[poll]
interval = "$interval"

[[device]]
name = "iwatt5"
url = "${UNIT_URLS[iwatt5]}"

[[device]]
name = "iwatt6"
url = "${UNIT_URLS[iwatt6]}"

[derived]
load = "iwatt5.Mains_1 + iwatt5.Mains_2"
solar_a = "SolarA_1 + SolarA_2"
solar_b = "SolarB_1 + SolarB_2"
solar = "max(0, solar_a + solar_b)"
grid_import = "max(0, load - solar)"
grid_export = "max(0, solar - load)"
EOF
}

# Starts `iotawatt_exporter serve` with CONFIG on loopback PORT (normally the one in CONFIG)
# and waits for /-/healthy. Sets EXPORTER_PID and EXPORTER_URL.
EXPORTER_PID=""
EXPORTER_URL=""
StartExporter() {
  local config="$1" port="$2"
  shift 2
  StartBg exporter "$IWX_EXPORTER" serve --config.file="$config" \
    --web.listen-address="127.0.0.1:$port" "$@"
  EXPORTER_PID=$LAST_PID
  EXPORTER_URL="http://127.0.0.1:$port"
  WaitHttp "$EXPORTER_URL/-/healthy" "$EXPORTER_PID" 30
}

# Waits until the exporter reports both devices up and the derived series grid_import.
WaitExporterData() {
  local timeout="${1:-30}" deadline body
  deadline=$((SECONDS + timeout))
  while true; do
    body=$(curl -sf --max-time 5 "$EXPORTER_URL/metrics" || true)
    if [[ "$(PromValue iotawatt_up device=iwatt5 <<<"$body")" == 1 &&
      "$(PromValue iotawatt_up device=iwatt6 <<<"$body")" == 1 &&
      -n "$(PromValue iotawatt_derived_power_watts name=grid_import <<<"$body")" ]]; then
      return 0
    fi
    kill -0 "$EXPORTER_PID" 2>/dev/null || Fail "exporter exited"
    if ((SECONDS >= deadline)); then
      Fail "exporter has no data from both devices after ${timeout}s"
    fi
    sleep 0.2
  done
}

# Prints the value of the first sample of metric NAME whose labels include every
# LABEL=VALUE given, from Prometheus text on stdin; prints nothing if there is none.
PromValue() {
  local name="$1"
  shift
  awk -v name="$name" -v want="$*" '
    BEGIN { n = split(want, pairs, " ") }
    /^#/ || NF < 2 { next }
    {
      brace = index($0, "{")
      metric = brace ? substr($0, 1, brace - 1) : $1
      if (metric != name) next
      labels = ""
      rest = $0
      if (brace) {
        close_at = index($0, "} ")
        labels = "," substr($0, brace + 1, close_at - brace - 1) ","
        rest = substr($0, close_at + 2)
      } else {
        rest = substr($0, length($1) + 2)
      }
      for (i = 1; i <= n; i++) {
        eq = index(pairs[i], "=")
        pat = "," substr(pairs[i], 1, eq - 1) "=\"" substr(pairs[i], eq + 1) "\","
        if (index(labels, pat) == 0) next
      }
      split(rest, value, " ")
      print value[1]
      exit
    }'
}

# Fetches URL (a Prometheus exposition) into FILE.
Scrape() {
  curl -sf --max-time 10 -o "$2" "$1" || Fail "cannot scrape $1"
}

# True if numbers A and B are equal within a relative tolerance of 1e-9 (absolute 1e-9
# near zero): VM stores float64, the exposition prints decimal text.
NumbersEqual() {
  python3 -c '
import sys
a, b = float(sys.argv[1]), float(sys.argv[2])
sys.exit(0 if abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)) else 1)' "$1" "$2"
}

AssertEqualNumbers() {
  local what="$1" expected="$2" actual="$3"
  [[ -n "$expected" ]] || Fail "$what: no expected value"
  [[ -n "$actual" ]] || Fail "$what: no actual value (expected $expected)"
  NumbersEqual "$expected" "$actual" || Fail "$what: expected $expected, got $actual"
  Log "ok: $what = $actual"
}

# Starts single-node VictoriaMetrics on a fresh data folder, set up so that tests see
# what was written: dedup of equal timestamps, no result cache, minimal latency offset.
# Sets VM_PID and VM_URL.
VM_PID=""
VM_URL=""
StartVictoriaMetrics() {
  PickPort
  VM_URL="http://127.0.0.1:$PORT"
  StartBg victoria-metrics "$IWX_VICTORIA_METRICS" -storageDataPath="$E2E_DIR/vm-data" \
    -httpListenAddr="127.0.0.1:$PORT" -retentionPeriod=100y -dedup.minScrapeInterval=1ms \
    -search.disableCache -search.latencyOffset=1s -loggerLevel=WARN
  VM_PID=$LAST_PID
  WaitHttp "$VM_URL/health" "$VM_PID" 30
}

# Starts vmagent scraping TARGET (host:port) every second and writing to VM_URL.
# Sets VMAGENT_PID and VMAGENT_URL.
VMAGENT_PID=""
VMAGENT_URL=""
StartVmagent() {
  local target="$1"
  cat >"$E2E_DIR/scrape.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: iotawatt
    honor_timestamps: false
    metrics_path: /metrics
    static_configs:
      - targets: ["$target"]
EOF
  StartVmagentWith "$E2E_DIR/scrape.yml"
}

# Starts vmagent with the scrape configuration FILE, writing to VM_URL.
# Sets VMAGENT_PID and VMAGENT_URL.
StartVmagentWith() {
  local config="$1"
  PickPort
  VMAGENT_URL="http://127.0.0.1:$PORT"
  StartBg vmagent "$IWX_VMAGENT" -promscrape.config="$config" \
    -remoteWrite.url="$VM_URL/api/v1/write" -remoteWrite.tmpDataPath="$E2E_DIR/vmagent-queue" \
    -remoteWrite.flushInterval=1s -httpListenAddr="127.0.0.1:$PORT" -loggerLevel=WARN
  VMAGENT_PID=$LAST_PID
  WaitHttp "$VMAGENT_URL/health" "$VMAGENT_PID" 30
}

# Runs an instant QUERY against VM (fresh data: nocache=1) and prints one line per series,
# "<value> <labels as JSON>", sorted.
VmQuery() {
  curl -sf --max-time 10 -G "$VM_URL/api/v1/query" --data-urlencode "query=$1" \
    -d nocache=1 | python3 -c '
import json, sys
body = json.load(sys.stdin)
if body.get("status") != "success":
    sys.exit("query failed: " + json.dumps(body))
rows = []
for series in body["data"]["result"]:
    rows.append(series["value"][1] + " " + json.dumps(series["metric"], sort_keys=True))
print("\n".join(sorted(rows)))'
}

# Polls until QUERY returns at least one series in VM; flushes VM's buffers each round
# because force_flush is not a barrier on VM 1.79.
WaitVmSeries() {
  local query="$1" timeout="${2:-30}" deadline
  deadline=$((SECONDS + timeout))
  while true; do
    curl -sf -o /dev/null --max-time 5 "$VM_URL/internal/force_flush" || true
    if [[ -n "$(VmQuery "$query" 2>/dev/null)" ]]; then
      return 0
    fi
    kill -0 "$VM_PID" 2>/dev/null || Fail "victoria-metrics exited"
    kill -0 "$VMAGENT_PID" 2>/dev/null || Fail "vmagent exited"
    if ((SECONDS >= deadline)); then
      Fail "no $query in VictoriaMetrics after ${timeout}s"
    fi
    sleep 0.2
  done
}
