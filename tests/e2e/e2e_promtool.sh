#!/usr/bin/env bash
# The live /metrics of an exporter polling the simulator passes `promtool check metrics`
# without a single complaint.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

Main() {
  RequirePrograms IWX_EXPORTER IWX_SIMULATOR IWX_PROMTOOL
  E2eInit

  StartSimulator --clock real
  PickPort
  local port=$PORT
  WriteConfig "$E2E_DIR/exporter.toml" "127.0.0.1:$port" 5s
  StartExporter "$E2E_DIR/exporter.toml" "$port"
  # Wait for data so that every metric family, device and derived series is exposed.
  WaitExporterData 30
  Scrape "$EXPORTER_URL/metrics" "$E2E_DIR/metrics.txt"

  local rc=0
  "$IWX_PROMTOOL" check metrics <"$E2E_DIR/metrics.txt" >"$E2E_DIR/promtool.txt" 2>&1 || rc=$?
  if [[ $rc -ne 0 || -s "$E2E_DIR/promtool.txt" ]]; then
    # 1 = parse error, 3 = lint problems (one per line).
    cat "$E2E_DIR/promtool.txt" >&2
    Fail "promtool check metrics exited $rc"
  fi
  Log "ok: promtool clean on $(grep -vc '^#' "$E2E_DIR/metrics.txt") samples"
  Log "PASS"
}

Main "$@"
