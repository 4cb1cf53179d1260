#!/usr/bin/env bash
# Measures the exporter under scrape load against the simulated two-unit installation:
# /metrics latency at a fixed request rate, the exporter's CPU time and memory, and how many
# requests the exporter sends to each device per minute. Prints a markdown table.
#
# Usage: bench/run_exporter_bench.sh [BUILD_DIR]        (default: build; build it first with
#        meson compile -C BUILD_DIR)
# Environment: WARMUP_S (30), DURATION_S (60), RATE (200 req/s), CONNECTIONS (4),
#              POLL_INTERVAL (10s).
# Everything listens on 127.0.0.1 and is stopped by PID on exit.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly BUILD_DIR="${1:-$REPO_ROOT/build}"
readonly WARMUP_S="${WARMUP_S:-30}"
readonly DURATION_S="${DURATION_S:-60}"
readonly RATE="${RATE:-200}"
readonly CONNECTIONS="${CONNECTIONS:-4}"
readonly POLL_INTERVAL="${POLL_INTERVAL:-10s}"

export IWX_EXPORTER="$BUILD_DIR/src/iotawatt_exporter"
export IWX_SIMULATOR="$BUILD_DIR/src/iotawatt_simulator"
readonly BENCH_HTTP="$BUILD_DIR/bench/bench_http"

# The end-to-end harness already does process start, port picking and cleanup by PID.
source "$REPO_ROOT/tests/e2e/common.sh"

# Prints "utime+stime in seconds" of PID. Field 2 (comm) may hold spaces, so the fields are
# counted after its closing parenthesis: utime and stime are fields 14 and 15.
CpuSeconds() {
  local stat ticks
  stat=$(<"/proc/$1/stat")
  ticks=$(getconf CLK_TCK)
  awk -v ticks="$ticks" '{ print ($12 + $13) / ticks }' <<<"${stat##*) }"
}

# Prints the value in kB of FIELD (VmRSS, VmHWM) from /proc/PID/status.
MemoryKb() {
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"
}

# Prints a table row: CPU SECONDS used in WALL seconds, and as a share of one core.
CpuRow() {
  awk -v label="$1" -v c="$2" -v w="$3" \
    'BEGIN { printf "| %s | %.3f s in %.1f s = %.2f %% of one core |\n", label, c, w, 100 * c / w }'
}

# Saves the simulator's request counters to FILE.
SaveStats() {
  curl -sf --max-time 5 -o "$2" "$1/stats" || Fail "cannot read $1/stats"
}

# Prints a markdown table row per unit: device requests per minute between two /stats
# snapshots taken MINUTES apart, in total and by endpoint.
DeviceRequestRows() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys

def Units(path):
    with open(path) as f:
        body = json.load(f)
    if isinstance(body, dict) and isinstance(body.get("units"), (dict, list)):
        body = body["units"]
    if isinstance(body, list):
        body = {item.get("unit") or item.get("name"): item for item in body}
    return {unit: {k: v for k, v in counts.items() if isinstance(v, (int, float))}
            for unit, counts in body.items() if isinstance(counts, dict)}

before, after, minutes = Units(sys.argv[1]), Units(sys.argv[2]), float(sys.argv[3])
for unit in sorted(after):
    delta = {k: after[unit][k] - before.get(unit, {}).get(k, 0) for k in after[unit]}
    total = delta.pop("total", None)
    if total is None:
        total = sum(delta.values())
    parts = ", ".join(f"{k} {v / minutes:.1f}" for k, v in sorted(delta.items()) if v)
    print(f"| device requests/min, {unit} | {total / minutes:.1f} ({parts or 'none'}) |")
PY
}

Main() {
  for program in "$IWX_EXPORTER" "$IWX_SIMULATOR" "$BENCH_HTTP"; do
    [[ -x "$program" ]] || Fail "$program missing: run meson compile -C $BUILD_DIR"
  done
  E2eInit

  PickPort
  local control_url="http://127.0.0.1:$PORT"
  StartSimulator --clock real --control-port "$PORT"
  WaitHttp "$control_url/stats" "$SIM_PID" 30

  PickPort
  local port=$PORT
  WriteConfig "$E2E_DIR/exporter.toml" "127.0.0.1:$port" "$POLL_INTERVAL"
  StartExporter "$E2E_DIR/exporter.toml" "$port" --log.level=warn
  WaitExporterData 30

  # Idle phase: the exporter only polls; no one scrapes it.
  local idle_cpu0 idle_start
  idle_cpu0=$(CpuSeconds "$EXPORTER_PID")
  idle_start=$(date +%s.%N)
  Log "warm-up ${WARMUP_S}s"
  sleep "$WARMUP_S"

  local cpu0 rss0 t0 idle_cpu idle_wall
  cpu0=$(CpuSeconds "$EXPORTER_PID")
  rss0=$(MemoryKb "$EXPORTER_PID" VmRSS)
  t0=$(date +%s.%N)
  idle_cpu=$(awk -v a="$idle_cpu0" -v b="$cpu0" 'BEGIN { print b - a }')
  idle_wall=$(awk -v a="$idle_start" -v b="$t0" 'BEGIN { print b - a }')
  SaveStats "$control_url" "$E2E_DIR/stats0.json"

  Log "load: $RATE req/s for ${DURATION_S}s on $CONNECTIONS connections"
  local bench_rc=0
  "$BENCH_HTTP" --url="$EXPORTER_URL/metrics" --rate="$RATE" --duration="$DURATION_S" \
    --connections="$CONNECTIONS" >"$E2E_DIR/bench.txt" || bench_rc=$?

  local cpu1 rss1 hwm1 t1 wall cpu
  cpu1=$(CpuSeconds "$EXPORTER_PID")
  rss1=$(MemoryKb "$EXPORTER_PID" VmRSS)
  hwm1=$(MemoryKb "$EXPORTER_PID" VmHWM)
  t1=$(date +%s.%N)
  SaveStats "$control_url" "$E2E_DIR/stats1.json"
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')

  local -A r=()
  local key value
  while IFS='=' read -r key value; do
    r[$key]=$value
  done <"$E2E_DIR/bench.txt"

  printf '\n| measure | value |\n| --- | --- |\n'
  printf '| machine | %s cores, %s |\n' "$(nproc)" \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  printf '| exporter version | %s |\n' "$("$IWX_EXPORTER" --version 2>&1 | head -n 1)"
  printf '| poll interval | %s |\n' "$POLL_INTERVAL"
  printf '| /metrics requests (ok / errors) | %s / %s |\n' "${r[ok]:-?}" "${r[errors]:-?}"
  printf '| rate, target / achieved | %s / %s req/s on %s connections |\n' \
    "${r[target_rate]:-?}" "${r[achieved_rate]:-?}" "$CONNECTIONS"
  printf '| response size | %s bytes |\n' "${r[body_bytes_avg]:-?}"
  printf '| latency p50 / p90 / p99 / max | %s / %s / %s / %s ms |\n' \
    "${r[latency_p50_ms]:-?}" "${r[latency_p90_ms]:-?}" "${r[latency_p99_ms]:-?}" \
    "${r[latency_max_ms]:-?}"
  printf '| service time p50 / p99 | %s / %s ms |\n' "${r[service_p50_ms]:-?}" \
    "${r[service_p99_ms]:-?}"
  CpuRow 'exporter CPU under load' "$cpu" "$wall"
  CpuRow 'exporter CPU idle (polling only)' "$idle_cpu" "$idle_wall"
  awk -v a="$rss0" -v b="$rss1" -v h="$hwm1" 'BEGIN {
    printf "| exporter RSS before / after / peak | %.1f / %.1f / %.1f MiB |\n",
      a / 1024, b / 1024, h / 1024 }'
  DeviceRequestRows "$E2E_DIR/stats0.json" "$E2E_DIR/stats1.json" \
    "$(awk -v w="$wall" 'BEGIN { print w / 60 }')"
  if [[ -n "${r[first_error]:-}" ]]; then
    printf '\nfirst error: %s\n' "${r[first_error]}"
  fi
  return "$bench_rc"
}

Main "$@"
