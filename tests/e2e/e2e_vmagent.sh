#!/usr/bin/env bash
# End to end: simulator (fixed clock) -> exporter -> vmagent -> VictoriaMetrics.
# Checks that what VM stores equals what the exporter serves, that vmagent's target is up
# and that both devices are up. With IWX_E2E_TRUTH set, also checks the values against the
# simulator's own generator.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# History kept by the simulator: a little is enough and keeps its start-up quick.
readonly HISTORY_DAYS=2
# The device reports power rounded to a few decimals; the generator's value is exact.
readonly TRUTH_TOLERANCE_W=0.01
# Every gauge family compared between /metrics and VM (compare_vm.py has the same list).
readonly FAMILIES='iotawatt_power_watts|iotawatt_voltage_volts|iotawatt_derived_power_watts'
readonly GAUGES="{__name__=~\"$FAMILIES|iotawatt_up\"}"

Main() {
  RequirePrograms IWX_EXPORTER IWX_SIMULATOR IWX_VICTORIA_METRICS IWX_VMAGENT
  E2eInit

  # A clock standing still on a 5-s boundary: the device data, and so every value the
  # exporter computes, is the same in every poll and in every run started at that time.
  local fixed=$(($(date +%s) / 5 * 5))
  StartSimulator --clock "fixed:$fixed" --history-days "$HISTORY_DAYS"

  PickPort
  local exporter_port=$PORT
  WriteConfig "$E2E_DIR/exporter.toml" "127.0.0.1:$exporter_port" 5s
  StartExporter "$E2E_DIR/exporter.toml" "$exporter_port"
  WaitExporterData 30

  StartVictoriaMetrics
  StartVmagent "127.0.0.1:$exporter_port"
  WaitVmSeries 'iotawatt_derived_power_watts{name="grid_import"}' 30
  WaitVmSeries 'iotawatt_power_watts{device="iwatt5",channel="Mains_1"}' 30

  CompareWithVm
  CheckTargetUp
  CheckDevicesUp
  CheckTruth "$fixed"
  Log "PASS"
}

# VM's newest samples of every gauge family equal the exporter's current /metrics. A
# scrape may land between our two reads, so a mismatch is retried for a few seconds.
CompareWithVm() {
  local deadline=$((SECONDS + 15))
  while true; do
    curl -sf -o /dev/null "$VM_URL/internal/force_flush" || true
    Scrape "$EXPORTER_URL/metrics" "$E2E_DIR/metrics.txt"
    curl -sf --max-time 10 -G "$VM_URL/api/v1/query" --data-urlencode "query=$GAUGES" \
      -d nocache=1 -o "$E2E_DIR/vm.json" || Fail "VM query failed"
    if python3 "$(dirname "${BASH_SOURCE[0]}")/compare_vm.py" "$E2E_DIR/metrics.txt" \
      "$E2E_DIR/vm.json" >"$E2E_DIR/compare.txt"; then
      Log "ok: $(tail -n 1 "$E2E_DIR/compare.txt")"
      break
    fi
    if ((SECONDS >= deadline)); then
      cat "$E2E_DIR/compare.txt" >&2
      Fail "VictoriaMetrics does not hold what the exporter serves"
    fi
    sleep 1
  done

  local name labels
  for name in 'iotawatt_power_watts device=iwatt5 channel=Mains_1' \
    'iotawatt_derived_power_watts name=grid_import'; do
    read -r -a labels <<<"$name"
    Log "exporter ${labels[*]} = $(PromValue "${labels[@]}" <"$E2E_DIR/metrics.txt")"
  done
}

# vmagent scrapes the exporter successfully: its own up series in VM and its target list.
CheckTargetUp() {
  local up
  up=$(VmQuery 'up{job="iotawatt"}' | cut -d' ' -f1)
  [[ "$up" == 1 ]] || Fail "vmagent's up{job=\"iotawatt\"} in VM is '$up', expected 1"
  curl -sf "$VMAGENT_URL/api/v1/targets" | python3 -c '
import json, sys
targets = json.load(sys.stdin)["data"]["activeTargets"]
bad = [t for t in targets if t.get("health") != "up"]
sys.exit(f"targets not up: {bad}" if bad or not targets else 0)' ||
    Fail "vmagent reports a target that is not up"
  Log "ok: vmagent target up"
}

# Both devices up, none down, as stored in VM.
CheckDevicesUp() {
  local down count
  down=$(VmQuery 'iotawatt_up == 0')
  [[ -z "$down" ]] || Fail "iotawatt_up is 0 in VM: $down"
  count=$(VmQuery 'count(iotawatt_up == 1)' | cut -d' ' -f1)
  [[ "$count" == 2 ]] || Fail "expected 2 devices up in VM, got '$count'"
  Log "ok: 2 devices up, none down"
}

# Values computed independently from the simulator's generator by e2e_truth.
# The exporter's first poll covers the single 5-s record that ends at the fixed time; the
# clock stands still, so no later record ever replaces it.
CheckTruth() {
  local fixed="$1" name expected actual
  if [[ -z "${IWX_E2E_TRUTH:-}" ]]; then
    Log "note: IWX_E2E_TRUTH not set; values checked against the exporter only"
    return 0
  fi
  "$IWX_E2E_TRUTH" --now="$fixed" --history-days="$HISTORY_DAYS" >"$E2E_DIR/truth.txt" ||
    Fail "e2e_truth failed"
  while read -r name expected; do
    if [[ "$name" == Mains_1 ]]; then
      actual=$(VmQuery 'iotawatt_power_watts{device="iwatt5",channel="Mains_1"}')
    else
      actual=$(VmQuery "iotawatt_derived_power_watts{name=\"$name\"}")
    fi
    actual=${actual%% *}
    [[ -n "$actual" ]] || Fail "truth $name: no value in VM"
    python3 -c '
import sys
expected, actual, tolerance = map(float, sys.argv[1:])
sys.exit(0 if abs(expected - actual) <= tolerance else 1)' "$expected" "$actual" \
      "$TRUTH_TOLERANCE_W" || Fail "truth $name: expected $expected, VM has $actual"
    Log "ok: $name = $actual in VM, $expected from the generator"
  done <"$E2E_DIR/truth.txt"
}

Main "$@"
