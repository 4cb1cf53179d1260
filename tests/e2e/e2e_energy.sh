#!/usr/bin/env bash
# End to end, energy counters: simulator (real clock) -> exporter -> vmagent -> VictoriaMetrics.
# After about 90 s of scraping, the counters stored in VM must have grown between two scrapes
# about 60 s apart by exactly the simulator's per-record energy of the records the exporter
# had between them (its iotawatt_last_record_timestamp_seconds), and increase() over one
# minute must agree with the energy of that minute.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

readonly HISTORY_DAYS=2
# Exporter poll interval and vmagent scrape interval (StartVmagent scrapes every second), s.
readonly POLL_S=5
readonly SCRAPE_S=1
# How long VM collects scrapes, and the distance between the two scrapes compared, s.
readonly RUN_S=90
readonly SPAN_S=60

readonly MAINS='iotawatt_energy_joules_total{device="iwatt5",channel="Mains_1",'\
'direction="positive"}'
readonly IMPORT='iotawatt_derived_energy_joules_total{name="grid_import",direction="positive"}'
readonly EXPORT='iotawatt_derived_energy_joules_total{name="grid_export",direction="positive"}'
readonly LAST_RECORD='iotawatt_last_record_timestamp_seconds{device=~"iwatt5|iwatt6"}'

Main() {
  RequirePrograms IWX_EXPORTER IWX_SIMULATOR IWX_VICTORIA_METRICS IWX_VMAGENT IWX_E2E_TRUTH
  E2eInit

  StartSimulator --clock real --history-days "$HISTORY_DAYS"

  PickPort
  local exporter_port=$PORT
  WriteConfig "$E2E_DIR/exporter.toml" "127.0.0.1:$exporter_port" "${POLL_S}s"
  printf '\n[state]\nfile = "%s"\n' "$E2E_DIR/counters.json" >>"$E2E_DIR/exporter.toml"
  StartExporter "$E2E_DIR/exporter.toml" "$exporter_port"
  WaitExporterData 30

  StartVictoriaMetrics
  StartVmagent "127.0.0.1:$exporter_port"
  WaitVmSeries "$MAINS" 30
  WaitVmSeries "$IMPORT" 30
  local first=$SECONDS
  Log "energy counters in VM; collecting scrapes for ${RUN_S}s"
  while ((SECONDS - first < RUN_S)); do
    kill -0 "$EXPORTER_PID" 2>/dev/null || Fail "exporter exited"
    kill -0 "$VMAGENT_PID" 2>/dev/null || Fail "vmagent exited"
    sleep 1
  done

  ExportSamples "$(($(date +%s) - RUN_S - 60))"
  CheckCounterGrowth
  CheckIncrease
  Log "PASS"
}

# Writes the scraped samples of the counters and of the last-record gauges, exactly as VM
# stores them, to export.jsonl; polls until the newest scrapes are visible (force_flush is
# not a barrier on VM 1.79).
ExportSamples() {
  local start="$1" deadline=$((SECONDS + 15)) wanted
  wanted=$(($(date +%s) - 3))
  while true; do
    curl -sf -o /dev/null --max-time 5 "$VM_URL/internal/force_flush" || true
    curl -sf --max-time 10 -G "$VM_URL/api/v1/export" --data-urlencode "match[]=$MAINS" \
      --data-urlencode "match[]=$IMPORT" --data-urlencode "match[]=$EXPORT" \
      --data-urlencode "match[]=$LAST_RECORD" -d "start=$start" -o "$E2E_DIR/export.jsonl" ||
      Fail "VM export failed"
    if python3 -c '
import json, sys
newest = {}
for line in open(sys.argv[1]):
    if line.strip():
        series = json.loads(line)
        key = json.dumps(series["metric"], sort_keys=True)
        newest[key] = max([newest.get(key, 0)] + series["timestamps"])
sys.exit(0 if len(newest) == 5 and min(newest.values()) >= int(sys.argv[2]) * 1000 else 1)
' "$E2E_DIR/export.jsonl" "$wanted"; then
      return 0
    fi
    ((SECONDS < deadline)) || Fail "VM export lacks the scrapes up to $wanted"
    sleep 0.5
  done
}

# The scrapes of export.jsonl as "time_ms mains import export last5 last6" lines, only those
# that hold every series (vmagent gives all samples of one scrape the same timestamp).
ScrapeTable() {
  python3 -c '
import json, sys
names = {
    "iotawatt_energy_joules_total": 0,
    ("iotawatt_derived_energy_joules_total", "grid_import"): 1,
    ("iotawatt_derived_energy_joules_total", "grid_export"): 2,
    ("iotawatt_last_record_timestamp_seconds", "iwatt5"): 3,
    ("iotawatt_last_record_timestamp_seconds", "iwatt6"): 4,
}
rows = {}
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    series = json.loads(line)
    metric = series["metric"]
    name = metric["__name__"]
    key = name if name in names else (name, metric.get("name") or metric.get("device"))
    column = names[key]
    for value, ts in zip(series["values"], series["timestamps"]):
        rows.setdefault(ts, [None] * 5)[column] = value
for ts in sorted(rows):
    if None not in rows[ts]:
        print(ts, " ".join(repr(v) for v in rows[ts]))
' "$E2E_DIR/export.jsonl"
}

# Prints the truth helper's energy lines for the records [BEGIN, END).
TruthEnergy() {
  "$IWX_E2E_TRUTH" energy --now="$2" --begin="$1" --end="$2" --history-days="$HISTORY_DAYS" ||
    Fail "truth helper failed for [$1, $2)"
}

# Checks |ACTUAL - EXPECTED| <= TOLERANCE; logs the comparison.
AssertNear() {
  local what="$1" expected="$2" actual="$3" tolerance="$4"
  python3 -c '
import sys
expected, actual, tolerance = map(float, sys.argv[1:])
sys.exit(0 if abs(expected - actual) <= tolerance else 1)' "$expected" "$actual" "$tolerance" ||
    Fail "$what: expected $expected J, VM has $actual J (tolerance $tolerance J)"
  Log "ok: $what = $actual J, truth $expected J (tolerance $tolerance J)"
}

# Energy tolerance for RECORDS records, in joules: the device rounds each record to 1e-9 Wh
# (3.6e-6 J), the counter keeps back 20 nWh (7.2e-5 J) per positive record, and VM stores
# the counter (about 1e8 J) as a decimal; 0.002 J per record and 0.01 J cover all of that
# with a wide margin, and any misplaced record (at least a few hundred joules) fails.
Tolerance() {
  python3 -c 'import sys; print(0.01 + 0.002 * int(sys.argv[1]))' "$1"
}

# Two scrapes about SPAN_S apart: each counter grew by the truth of the records that the
# exporter had newly received between them. Channel counters cover the records up to
# iwatt5's last record; derived ones those that both devices have delivered.
CheckCounterGrowth() {
  local table first_row second_row
  table=$(ScrapeTable)
  [[ $(wc -l <<<"$table") -ge $((SPAN_S + 10)) ]] ||
    Fail "only $(wc -l <<<"$table") complete scrapes in VM, expected about $RUN_S"
  # The second complete scrape (the first may predate the exporter's first poll of a
  # device), and the one closest to SPAN_S later.
  first_row=$(sed -n 2p <<<"$table")
  local t1 m1 i1 e1 a1 b1 t2 m2 i2 e2 a2 b2
  read -r t1 m1 i1 e1 a1 b1 <<<"$first_row"
  second_row=$(awk -v want=$((t1 + SPAN_S * 1000)) '
    { d = $1 - want; if (d < 0) d = -d; if (best == "" || d < bestd) { best = $0; bestd = d } }
    END { print best }' <<<"$table")
  read -r t2 m2 i2 e2 a2 b2 <<<"$second_row"
  (((t2 - t1) >= (SPAN_S - 3) * 1000 && (t2 - t1) <= (SPAN_S + 3) * 1000)) ||
    Fail "no scrape ${SPAN_S}s after the one at $t1 ms (nearest at $t2 ms)"
  Log "scrapes at $t1 and $t2 ms; iwatt5 last record $a1 -> $a2, iwatt6 $b1 -> $b2"

  local l5_1=${a1%.*} l5_2=${a2%.*}
  local ld_1=$((${a1%.*} < ${b1%.*} ? ${a1%.*} : ${b1%.*}))
  local ld_2=$((${a2%.*} < ${b2%.*} ? ${a2%.*} : ${b2%.*}))
  ((l5_2 > l5_1 && ld_2 > ld_1)) || Fail "the last record did not advance between the scrapes"

  local expected
  expected=$(TruthEnergy "$l5_1" "$l5_2" | awk '$1 == "Mains_1" { print $2 }')
  AssertNear "Mains_1 counter growth over [$l5_1, $l5_2)" "$expected" \
    "$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$m1" "$m2")" \
    "$(Tolerance $(((l5_2 - l5_1) / 5)))"

  local truth
  truth=$(TruthEnergy "$ld_1" "$ld_2")
  AssertNear "grid_import counter growth over [$ld_1, $ld_2)" \
    "$(awk '$1 == "grid_import" { print $2 }' <<<"$truth")" \
    "$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$i1" "$i2")" \
    "$(Tolerance $(((ld_2 - ld_1) / 5)))"
  # In sunshine grid_import stays 0; grid_export then carries the check of derived records.
  AssertNear "grid_export counter growth over [$ld_1, $ld_2)" \
    "$(awk '$1 == "grid_export" { print $2 }' <<<"$truth")" \
    "$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$e1" "$e2")" \
    "$(Tolerance $(((ld_2 - ld_1) / 5)))"

  # How far the exporter's last record trailed the scrapes, for the bound of CheckIncrease.
  Log "last record of iwatt5 behind the scrape: $(awk '
    { lag = $1 / 1000 - $5; if (lag > max) max = lag } END { printf "at most %.1f s", max }' \
    <<<"$table")"
}

# increase(Mains_1[1m]) at a time t inside the run, against the truth of that minute.
#
# Bound: VM's increase at t is C(b) - C(a), the counter at the last scrape b <= t minus the
# counter at the last scrape a <= t - 60 s, so a is in (t - 60 - S, t - 60] and b in
# (t - S, t] for a scrape interval S. The counter at a scrape x covers the records up to
# the exporter's last record L(x), which trails x by less than one poll interval P (time
# since the last poll) plus one record R (a poll reads whole records only):
# x - S - P - R < L(x) <= x once the scrape times themselves are included. With S = 1 s,
# P = 5 s, R = 5 s, rounded up to the record grid, W = 15 s: the increase covers the records
# [L(a), L(b)) with t - 60 - W <= L(a) <= t - 60 and t - W <= L(b) <= t. Mains_1 is never
# negative, so
#   E[t - 60, t - W) <= increase <= E[t - 60 - W, t)
# where E is the truth's per-record energy (plus the tolerance of CheckCounterGrowth).
CheckIncrease() {
  local newest t window=$((SCRAPE_S + POLL_S + 5))
  window=$(((window + 4) / 5 * 5))
  newest=$(ScrapeTable | tail -n 1 | cut -d' ' -f1)
  t=$((newest / 1000 / 5 * 5 - 5))
  local actual
  actual=$(curl -sf --max-time 10 -G "$VM_URL/api/v1/query" \
    --data-urlencode "query=increase(${MAINS}[1m])" -d "time=$t" -d nocache=1 | python3 -c '
import json, sys
body = json.load(sys.stdin)
result = body["data"]["result"] if body.get("status") == "success" else []
print(result[0]["value"][1] if len(result) == 1 else "")') || Fail "increase query failed"
  [[ -n "$actual" ]] || Fail "increase(${MAINS}[1m]) at $t: no result"

  local low high nominal tolerance
  low=$(TruthEnergy $((t - 60)) $((t - window)) | awk '$1 == "Mains_1" { print $2 }')
  high=$(TruthEnergy $((t - 60 - window)) "$t" | awk '$1 == "Mains_1" { print $2 }')
  nominal=$(TruthEnergy $((t - 60)) "$t" | awk '$1 == "Mains_1" { print $2 }')
  tolerance=$(Tolerance $(((60 + window) / 5)))
  python3 -c '
import sys
low, high, actual, tolerance = map(float, sys.argv[1:])
sys.exit(0 if low - tolerance <= actual <= high + tolerance else 1)' \
    "$low" "$high" "$actual" "$tolerance" ||
    Fail "increase(Mains_1[1m]) at $t = $actual J, outside [$low, $high] J" \
      "(truth of the minute $nominal J)"
  Log "ok: increase(Mains_1[1m]) at $t = $actual J, within [$low, $high] J" \
    "(truth of the minute $nominal J)"
}

Main "$@"
