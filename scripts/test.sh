#!/usr/bin/env bash
# Builds everything and runs all test suites (unit, integration, e2e), then checks that the
# C++ sources are clang-format clean. Exits non-zero if anything fails.
#
# Usage: scripts/test.sh [extra `meson test` arguments, e.g. --suite unit]
# Environment: BUILD_DIR (default: build, relative to the repository root).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT

log() { printf 'test.sh: %s\n' "$*" >&2; }

# Configures BUILD_DIR, or refreshes an existing configuration (tests must be enabled).
SetupBuild() {
  local build_dir="$1"
  if [[ -f "$build_dir/meson-private/coredata.dat" ]]; then
    meson setup --reconfigure -Dtests=true "$build_dir" "$REPO_ROOT" >/dev/null
  else
    meson setup -Dtests=true "$build_dir" "$REPO_ROOT"
  fi
}

# Prints "tests: N passed, N failed, N skipped" from meson's JSON test log, so that the
# outcome is visible on one line whatever meson's own summary looks like.
Summarize() {
  local testlog="$1/meson-logs/testlog.json"
  if [[ ! -f "$testlog" ]]; then
    log "no test log at $testlog"
    return 1
  fi
  python3 - "$testlog" <<'PY'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        result = json.loads(line).get("result", "")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
}

# Lists the C++ files under src/ tests/ bench/ that clang-format would change.
CheckFormat() {
  local bad=() file
  while IFS= read -r -d '' file; do
    if ! clang-format --dry-run --Werror "$file" >/dev/null 2>&1; then
      bad+=("$file")
    fi
  done < <(find src tests bench -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \
    -o -name '*.cc' \) -print0 2>/dev/null | sort -z)
  if [[ ${#bad[@]} -ne 0 ]]; then
    log "not clang-format clean (fix with clang-format -i):"
    printf '  %s\n' "${bad[@]}" >&2
    return 1
  fi
  log "clang-format: clean"
}

Main() {
  cd "$REPO_ROOT"
  local build_dir="${BUILD_DIR:-build}" started=$SECONDS
  bash scripts/install-deps.sh
  SetupBuild "$build_dir"
  meson compile -C "$build_dir"

  local test_rc=0 format_rc=0
  meson test -C "$build_dir" --print-errorlogs "$@" || test_rc=$?
  CheckFormat || format_rc=$?
  log "finished in $((SECONDS - started)) s"
  Summarize "$build_dir" || test_rc=1
  if [[ $test_rc -ne 0 || $format_rc -ne 0 ]]; then
    return 1
  fi
}

Main "$@"
