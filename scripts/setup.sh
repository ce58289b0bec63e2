#!/usr/bin/env bash
# Installs every Debian package IMI Chain needs to build, run and test.
# Safe to run repeatedly: packages already present are skipped quickly.
set -euo pipefail

PACKAGES=(
  build-essential g++ cmake pkg-config
  libleveldb-dev libsnappy-dev libsodium-dev libssl-dev rapidjson-dev
  libboost-dev            # Asio and Beast are header-only parts of Boost
  libcpp-httplib-dev doctest-dev
  zlib1g-dev              # Token Status Lists (identity/status_list)
  python3 python3-nacl
  clang libclang-rt-14-dev  # libFuzzer targets and sanitizer builds
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
