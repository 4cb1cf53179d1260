#!/bin/sh
# Run by `meson install`: puts the example configuration in place as config.toml only where
# none exists yet, so that reinstalling never overwrites a configuration someone edited.
# The example itself is always installed beside it as config.toml.example.
#
# Usage: install-config.sh EXAMPLE CONFIG_DIR (CONFIG_DIR absolute; DESTDIR is honoured)
set -eu

example="$1"
config_dir="${DESTDIR:-}$2"
config="$config_dir/config.toml"

if [ -n "${MESON_INSTALL_DRY_RUN:-}" ]; then
  exit 0
fi
if [ -e "$config" ]; then
  echo "Keeping existing $config (the new example is config.toml.example)"
  exit 0
fi
mkdir -p "$config_dir"
install -m 0644 "$example" "$config"
echo "Installing $config"
