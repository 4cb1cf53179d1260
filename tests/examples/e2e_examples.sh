#!/usr/bin/env bash
# Keeps examples/ true against the real programs.
#
#   e2e_examples.sh static    vmalert -dryRun and promtool on the rules, the dashboard's
#                             structure, systemd-analyze verify on the unit (each skipped
#                             when its program is missing; 77 when none is there)
#   e2e_examples.sh queries   two-unit-installation.toml serving the simulator (plus a third
#                             unit with a reversed CT), scraped by vmagent with vmagent.yml
#                             into VictoriaMetrics for about a minute; then every dashboard
#                             query and rule expression must return data. Then `backfill`
#                             writes the units' history into the same VictoriaMetrics, and
#                             the dashboard must work over that history too, with daily
#                             energies equal to the units' own totals
#
# Arguments after the mode: the paths of vmalert and systemd-analyze ("" when absent);
# everything else comes from the environment described in common.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/common.sh"

TEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXAMPLES="$(cd "$TEST_DIR/../../examples" && pwd)"
readonly TEST_DIR EXAMPLES
IWX_VMALERT="${2:-}"
IWX_SYSTEMD_ANALYZE="${3:-}"
readonly QUERIES="$TEST_DIR/example_queries.py"
# How long the exporter feeds VictoriaMetrics before the queries run.
readonly RUN_SECONDS="${IWX_EXAMPLES_RUN_SECONDS:-60}"
# Solar noon of the simulated installation (12:30 at UTC-5) in seconds after midnight UTC.
readonly SOLAR_NOON_UTC=$((17 * 3600 + 1800))
# History the simulated units hold: enough for two whole UTC days before the solar noon
# the live check runs at, which lies up to a day in the past.
readonly HISTORY_DAYS=4

Static() {
  local ran=0
  E2eInit
  if [[ -n "${IWX_VMALERT:-}" && -x "$IWX_VMALERT" ]]; then
    "$IWX_VMALERT" -dryRun -rule="$EXAMPLES/vmalert-rules.yml" >"$E2E_DIR/vmalert.log" 2>&1 ||
      { tail -n 5 "$E2E_DIR/vmalert.log" >&2; Fail "vmalert -dryRun rejects vmalert-rules.yml"; }
    Log "ok: vmalert -dryRun accepts vmalert-rules.yml"
    ran=1
  else
    Log "note: vmalert not available; rules syntax not checked by vmalert"
  fi
  if [[ -n "${IWX_PROMTOOL:-}" && -x "$IWX_PROMTOOL" ]]; then
    "$IWX_PROMTOOL" check rules "$EXAMPLES/vmalert-rules.yml" >&2 ||
      Fail "promtool check rules rejects vmalert-rules.yml"
    Log "ok: promtool check rules"
    ran=1
  fi
  python3 "$QUERIES" static "$EXAMPLES" >&2 || Fail "grafana-dashboard.json"
  python3 "$QUERIES" list "$EXAMPLES" >"$E2E_DIR/queries.jsonl" || Fail "cannot list queries"
  Log "ok: $(wc -l <"$E2E_DIR/queries.jsonl") queries listed"
  if [[ -n "${IWX_SYSTEMD_ANALYZE:-}" && -x "$IWX_SYSTEMD_ANALYZE" ]]; then
    # verify insists that ExecStart names an executable: point it at the built binary.
    mkdir -p "$E2E_DIR/unit"
    sed "s#/usr/local/bin/iotawatt_exporter#$IWX_EXPORTER#" "$EXAMPLES/iotawatt_exporter.service" \
      >"$E2E_DIR/unit/iotawatt_exporter.service"
    "$IWX_SYSTEMD_ANALYZE" verify "$E2E_DIR/unit/iotawatt_exporter.service" >&2 ||
      Fail "systemd-analyze verify rejects iotawatt_exporter.service"
    Log "ok: systemd-analyze verify"
    ran=1
  else
    Log "note: systemd-analyze not available; unit not verified"
  fi
  ((ran)) || Skip "neither vmalert, promtool nor systemd-analyze available"
  Log "PASS"
}

# The newest solar noon at least 10 minutes ago: the simulated sun shines (ratios of solar
# energy have a value) and the records lag the host clock (the stale-data alert fires).
SolarNoonBefore() {
  local now="$1" t
  t=$((now - 600))
  echo $((t - ((t - SOLAR_NOON_UTC) % 86400 + 86400) % 86400))
}

# vmagent with examples/vmagent.yml, scraping TARGET every second instead of every 10 s.
# Sets VMAGENT_PID and VMAGENT_URL, as StartVmagent does.
StartExampleVmagent() {
  local target="$1"
  python3 - "$EXAMPLES/vmagent.yml" "$E2E_DIR/vmagent.yml" "$target" <<'PY'
import re, sys
source, target_file, target = sys.argv[1:]
text = open(source).read()
for pattern, value in [(r"(?m)^(\s*)scrape_interval: \S+", r"\1scrape_interval: 1s"),
                       (r"(?m)^(\s*)scrape_timeout: \S+", r"\1scrape_timeout: 1s"),
                       (r'targets: \["[^"]*"\]', f'targets: ["{target}"]')]:
    text, count = re.subn(pattern, value, text)
    if count != 1:
        sys.exit(f"{source}: expected one match of {pattern!r}, found {count}")
open(target_file, "w").write(text)
PY
  StartVmagentWith "$E2E_DIR/vmagent.yml"
}

# A third unit on its own simulator: one signed CT clamped backwards on an always-on load.
StartReversedUnit() {
  local control="$1"
  cat >"$E2E_DIR/iwatt7.toml" <<'TOML'
seed = 7
timezone_minutes = -300

[[unit]]
name = "iwatt7"

  [[unit.input]]
  name = "Voltage"
  type = "VT"
  nominal = 120

  [[unit.input]]
  name = "Heat_Pump"
  profile = "base"
  nominal = 3000
  signed = true
  reversed = true
  leg = 1
TOML
  StartBg simulator7 "$IWX_SIMULATOR" --host 127.0.0.1 --installation "$E2E_DIR/iwatt7.toml" \
    --history-days 2 --control-port "$control"
  WaitForLine "$E2E_DIR/simulator7.out" '^unit=iwatt7 ' "$LAST_PID" 30
  IWATT7_URL=$(sed -n 's/^unit=iwatt7 url=\([^ ]*\).*/\1/p' "$E2E_DIR/simulator7.out")
  [[ -n "$IWATT7_URL" ]] || Fail "simulator did not report iwatt7"
}

# examples/two-unit-installation.toml with the simulator's URLs, a private counter file and
# port, and the third unit appended.
WriteExampleConfig() {
  local file="$1" port="$2"
  python3 - "$EXAMPLES/two-unit-installation.toml" "$file" "$port" "${UNIT_URLS[iwatt5]}" \
    "${UNIT_URLS[iwatt6]}" "$E2E_DIR/counters.json" "$IWATT7_URL" <<'PY'
import re, sys
source, target, port, url5, url6, state, url7 = sys.argv[1:]
text = open(source).read()
for pattern, value in [(r'url = "http://iwatt5[^"]*"', f'url = "{url5}"'),
                       (r'url = "http://iwatt6[^"]*"', f'url = "{url6}"'),
                       (r'(?m)^listen_address = "[^"]*"', f'listen_address = "127.0.0.1:{port}"'),
                       (r'(?m)^file = "[^"]*"', f'file = "{state}"')]:
    text, count = re.subn(pattern, value, text)
    if count != 1:
        sys.exit(f"{source}: expected one match of {pattern!r}, found {count}")
text += f'''
[[device]]
name = "iwatt7"
url = "{url7}"
'''
open(target, "w").write(text)
PY
}

Queries() {
  RequirePrograms IWX_EXPORTER IWX_SIMULATOR IWX_VICTORIA_METRICS IWX_VMAGENT
  E2eInit

  PickPort
  local control=$PORT
  StartSimulator --history-days "$HISTORY_DAYS" --control-port "$control"
  local noon
  noon=$(SolarNoonBefore "$(date +%s)")
  curl -sf -d '' "http://127.0.0.1:$control/clock?set=$noon" >/dev/null ||
    Fail "cannot set the simulator clock"
  Log "simulated units iwatt5, iwatt6 run from $(date -u -d "@$noon" +%FT%TZ)"

  PickPort
  local control7=$PORT
  StartReversedUnit "$control7"

  PickPort
  local exporter_port=$PORT
  WriteExampleConfig "$E2E_DIR/exporter.toml" "$exporter_port"
  "$IWX_EXPORTER" check --config.file="$E2E_DIR/exporter.toml" >"$E2E_DIR/check.out" 2>&1 ||
    { cat "$E2E_DIR/check.out" >&2; Fail "iotawatt_exporter check rejects the example setup"; }
  StartExporter "$E2E_DIR/exporter.toml" "$exporter_port"
  WaitExporterData 60

  StartVictoriaMetrics
  StartExampleVmagent "127.0.0.1:$exporter_port"
  WaitVmSeries 'iotawatt_derived_energy_joules_total{name="grid_import"}' 30
  Log "collecting for ${RUN_SECONDS}s"
  sleep "$RUN_SECONDS"

  python3 "$QUERIES" check "$EXAMPLES" "$VM_URL" 30 IotaWattChannelReversed IotaWattDataStale \
    >"$E2E_DIR/queries.txt" 2>&1 || { cat "$E2E_DIR/queries.txt" >&2; Fail "example queries"; }
  Log "ok: $(tail -n 1 "$E2E_DIR/queries.txt")"

  CheckUnitDownAlert "$control7"
  CheckBackfilledHistory "$noon" "127.0.0.1:$exporter_port"
  Log "PASS"
}

# iwatt7 stops answering: the unit-down condition and the poll-error panel see it.
CheckUnitDownAlert() {
  local control="$1"
  curl -sf -d '' "http://127.0.0.1:$control/fault?unit=iwatt7&kind=refuse" >/dev/null ||
    Fail "cannot make iwatt7 refuse connections"
  WaitVmSeries 'iotawatt_up{device="iwatt7"} == 0' 60
  WaitVmSeries 'rate(iotawatt_poll_errors_total{device="iwatt7", reason="connect"}[5m]) > 0' 30
  Log "ok: iotawatt_up == 0 and poll errors for iwatt7 in VictoriaMetrics"
}

# The dashboard over history written by `backfill` into the VictoriaMetrics that holds the
# live data: the history of iwatt5 and iwatt6 up to NOON, the simulated time the live
# exporter started at, under the labels vmagent adds for TARGET, so that history and live
# data form one series each. (The units' clock runs behind the host's here, so the
# backfill cannot find the live samples' start by itself, as it does when the clocks
# agree; --to stands in for that.) example_queries.py history then requires data from
# every query that reads history and compares the daily energies with the units' totals.
CheckBackfilledHistory() {
  local noon="$1" target="$2" labels begin samples rc=0
  labels=$(python3 "$QUERIES" scrape-labels "$EXAMPLES" "$target") ||
    Fail "cannot read the labels of vmagent.yml"
  cp "$E2E_DIR/exporter.toml" "$E2E_DIR/backfill.toml"
  printf '\n[victoriametrics]\nurl = "%s"\nextra_labels = %s\n' "$VM_URL" "$labels" \
    >>"$E2E_DIR/backfill.toml"
  Log "backfill up to $(date -u -d "@$noon" +%FT%TZ) with extra_labels = $labels"
  # Four days of two units take about a second; 60 s leave room for a slow machine.
  timeout 60 "$IWX_EXPORTER" backfill --config.file="$E2E_DIR/backfill.toml" --device=iwatt5 \
    --device=iwatt6 --to="$noon" >"$E2E_DIR/backfill.out" 2>"$E2E_DIR/backfill.log" || rc=$?
  ((rc == 0)) || Fail "backfill exited with status $rc (124: still running after 60 s)"
  if grep -E 'level=(warn|error)' "$E2E_DIR/backfill.log" >&2; then
    Fail "backfill warned (above)"
  fi
  samples=$(sed -n 's/.*msg="backfill complete".* samples=\([0-9]*\).*/\1/p' \
    "$E2E_DIR/backfill.log")
  [[ -n "$samples" ]] || Fail "no \"backfill complete\" line with samples= in backfill.log"
  # The whole days of history start after the later of the units' log starts.
  begin=$(sed -n 's/.*msg="device discovered".* history_start=\([^ ]*\).*/\1/p' \
    "$E2E_DIR/backfill.log" | sort | tail -n 1)
  [[ -n "$begin" ]] || Fail "no history_start in backfill.log"
  Log "ok: backfill wrote $samples samples from $begin"

  python3 "$QUERIES" history "$EXAMPLES" "$VM_URL" "$(date -u -d "$begin" +%s)" "$noon" \
    "$samples" "iwatt5=${UNIT_URLS[iwatt5]}" "iwatt6=${UNIT_URLS[iwatt6]}" \
    >"$E2E_DIR/history.txt" 2>&1 || { cat "$E2E_DIR/history.txt" >&2; Fail "backfilled history"; }
  Log "ok: $(tail -n 1 "$E2E_DIR/history.txt")"
}

case "${1:-}" in
  static) Static ;;
  queries) Queries ;;
  *)
    echo "usage: $0 static|queries" >&2
    exit 2
    ;;
esac
