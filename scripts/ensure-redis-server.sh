#!/usr/bin/env bash
# Makes sure `redis-server` is on PATH: the fleet tests (test/redis-store, revocation, fleet)
# start their own one per test file. Installs the Debian package when it is missing.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; else
    echo "ensure-redis-server: redis-server is missing and this user cannot apt-get install it" >&2
    exit 1
  fi
fi

# A fresh machine may have no package lists yet: update first, then install.
if ! $SUDO apt-get install -y --no-install-recommends redis-server >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y --no-install-recommends redis-server
fi

# The Debian package may start a system service on port 6379; the tests never use it.
command -v redis-server >/dev/null 2>&1 || { echo "ensure-redis-server: redis-server still not on PATH" >&2; exit 1; }
