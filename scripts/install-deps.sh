#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build iotawatt_exporter, run its tests (unit,
# integration, end-to-end) and its benchmarks. Idempotent: does nothing when all are present.
#
# Usage: scripts/install-deps.sh        (as root, or with everything already installed)
set -euo pipefail

# Build: compiler, Meson, libraries. Tests: GoogleTest, VictoriaMetrics + vmagent and
# promtool for the end-to-end tests, curl and python3 for the test harness, clang-format
# for the style check.
readonly PACKAGES=(
  meson
  ninja-build
  g++
  pkg-config
  prometheus-cpp-dev
  libcpp-httplib-dev
  nlohmann-json3-dev
  libtomlplusplus-dev
  libgtest-dev
  libgmock-dev
  libssl-dev
  libcrypt-dev
  openssl
  apache2-utils
  zlib1g-dev
  victoria-metrics
  prometheus
  curl
  ca-certificates
  clang-format
  python3
  procps
)

# Packages whose postinst enables a network service we must not leave running.
readonly SERVICES=(victoria-metrics prometheus)

readonly POLICY_RC=/usr/sbin/policy-rc.d

log() { printf 'install-deps: %s\n' "$*" >&2; }

# Prints the packages of PACKAGES that are not installed, one per line.
MissingPackages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "installed" ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# Debian's victoria-metrics and prometheus packages start their services from postinst
# (listening on all interfaces, :8428 and :9090). A policy-rc.d that answers 101 makes
# invoke-rc.d and deb-systemd-invoke skip those starts. An existing policy is left alone.
created_policy=0
DenyServiceStarts() {
  if [[ -e "$POLICY_RC" ]]; then
    return 0
  fi
  printf '#!/bin/sh\n# Temporary: deny service starts while packages install.\nexit 101\n' \
    >"$POLICY_RC"
  chmod 755 "$POLICY_RC"
  created_policy=1
}

RestoreServicePolicy() {
  if [[ "$created_policy" == 1 ]]; then
    rm -f "$POLICY_RC"
    created_policy=0
  fi
}

# On a systemd machine the packages are also enabled for the next boot; the project only
# needs their binaries, so services installed by this run are stopped and disabled.
StopNewServices() {
  local svc
  if [[ ! -d /run/systemd/system ]] || ! command -v systemctl >/dev/null; then
    return 0
  fi
  for svc in "$@"; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
}

Main() {
  local missing
  mapfile -t missing < <(MissingPackages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "all ${#PACKAGES[@]} packages present"
    return 0
  fi

  if [[ "$(id -u)" != 0 ]]; then
    log "missing packages: ${missing[*]}"
    log "run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    return 1
  fi

  local new_services=() svc pkg
  for svc in "${SERVICES[@]}"; do
    for pkg in "${missing[@]}"; do
      if [[ "$pkg" == "$svc" ]]; then
        new_services+=("$svc")
      fi
    done
  done

  log "installing: ${missing[*]}"
  # The temporary policy must go even if apt fails or the script is interrupted.
  trap RestoreServicePolicy EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  DenyServiceStarts
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  RestoreServicePolicy
  trap - EXIT INT TERM
  if [[ ${#new_services[@]} -gt 0 ]]; then
    StopNewServices "${new_services[@]}"
  fi

  mapfile -t missing < <(MissingPackages)
  if [[ ${#missing[@]} -ne 0 ]]; then
    log "still missing after install: ${missing[*]}"
    return 1
  fi
  log "done"
}

Main "$@"
