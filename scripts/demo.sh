#!/usr/bin/env bash
# Builds the exporter and runs its built-in demo: a simulated two-unit IoTaWatt installation
# served on loopback, with /metrics at http://127.0.0.1:9980/metrics by default.
#
# Usage: scripts/demo.sh [--web.listen-address=HOST:PORT] [other demo flags]
# Environment: BUILD_DIR (default: build, relative to the repository root).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT

# Configures BUILD_DIR, or refreshes an existing configuration.
SetupBuild() {
  local build_dir="$1"
  if [[ -f "$build_dir/meson-private/coredata.dat" ]]; then
    meson setup --reconfigure "$build_dir" "$REPO_ROOT" >/dev/null
  else
    meson setup "$build_dir" "$REPO_ROOT"
  fi
}

Main() {
  cd "$REPO_ROOT"
  local build_dir="${BUILD_DIR:-build}"
  bash scripts/install-deps.sh
  SetupBuild "$build_dir"
  # Only the exporter is needed; the tests are built by scripts/test.sh.
  meson compile -C "$build_dir" iotawatt_exporter
  exec "$build_dir/src/iotawatt_exporter" demo "$@"
}

Main "$@"
