#!/usr/bin/env bash
# Installs the Debian 12 packages Huddle builds with, when they are missing (as root), or prints
# the one apt-get line to run (otherwise). Nothing else is ever downloaded.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build ccache pkg-config make
  libboost1.81-dev            # Asio, Beast, system (header-only)
  libboost-program-options1.81-dev  # huddle-server's flags, environment and config file
  libprotobuf-dev protobuf-compiler
  librocksdb-dev
  libgtest-dev libgmock-dev
  libspdlog-dev libfmt-dev
  libssl-dev openssl          # TLS (wss://); the openssl CLI for the TLS tests (s_client)
  libjwt-dev                  # JWT verification (--auth jwt) and invite links
  chromium                    # the web client's end-to-end tests (tests/e2e), driven by playwright-core
  fonts-noto-color-emoji      # so that the reactions render in those tests' screenshots
)
# Node.js (>= 20) and npm for tests/e2e: the machine's own install counts (it may not come from
# Debian's packages: npm is then part of the nodejs package), so ask for them only when missing.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  [[ "$p" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "Huddle needs these Debian packages: ${missing[*]}" >&2
  echo "Run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
