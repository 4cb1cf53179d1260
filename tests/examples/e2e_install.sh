#!/usr/bin/env bash
# `meson install` into a temporary DESTDIR: the binary, the example configuration (as
# config.toml and config.toml.example) and the systemd unit land where examples/meson.build
# says, the unit names the installed paths, and a second install keeps an edited
# config.toml.
#
# Usage: e2e_install.sh MESON BUILD_ROOT BIN_DIR CONFIG_DIR UNIT_DIR (directories absolute,
# as configured); everything else comes from the environment described in common.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/common.sh"

readonly MESON="$1" BUILD_ROOT="$2" BIN_DIR="$3" CONFIG_DIR="$4" UNIT_DIR="$5"
EXAMPLE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples" && pwd)/iotawatt_exporter.toml"
readonly EXAMPLE

# Installs the build into $E2E_DIR/root without rebuilding (meson test has built it).
Install() {
  "$MESON" install -C "$BUILD_ROOT" --destdir "$E2E_DIR/root" --no-rebuild \
    >"$E2E_DIR/install.log" 2>&1 || { tail -n 20 "$E2E_DIR/install.log" >&2; Fail "meson install"; }
}

CheckInstalledFiles() {
  local root="$E2E_DIR/root" unit
  [[ -x "$root$BIN_DIR/iotawatt_exporter" ]] || Fail "no binary in $BIN_DIR"
  "$root$BIN_DIR/iotawatt_exporter" --version | grep -q "^iotawatt_exporter $IWX_VERSION" ||
    Fail "the installed binary does not report version $IWX_VERSION"
  cmp -s "$EXAMPLE" "$root$CONFIG_DIR/config.toml" || Fail "config.toml is not the example"
  cmp -s "$EXAMPLE" "$root$CONFIG_DIR/config.toml.example" ||
    Fail "config.toml.example is not the example"

  unit="$root$UNIT_DIR/iotawatt_exporter.service"
  [[ -f "$unit" ]] || Fail "no systemd unit in $UNIT_DIR"
  grep -q "^ExecStart=$BIN_DIR/iotawatt_exporter serve --config.file=$CONFIG_DIR/config.toml" \
    "$unit" || Fail "the unit's ExecStart names other paths: $(grep ExecStart "$unit")"
  Log "ok: binary, configuration and unit installed"
}

CheckConfigurationKept() {
  local config="$E2E_DIR/root$CONFIG_DIR/config.toml"
  printf '\n# edited after installation\n' >>"$config"
  Install
  grep -q '^# edited after installation$' "$config" ||
    Fail "a second meson install overwrote the edited config.toml"
  cmp -s "$EXAMPLE" "$E2E_DIR/root$CONFIG_DIR/config.toml.example" ||
    Fail "config.toml.example not refreshed"
  Log "ok: a second install keeps the edited config.toml"
}

E2eInit
Install
CheckInstalledFiles
CheckConfigurationKept
Log "PASS"
