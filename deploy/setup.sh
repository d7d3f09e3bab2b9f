#!/usr/bin/env bash
# Installs relbot's build dependencies on Debian 12 (as root, or through sudo).
#   deploy/setup.sh          what building and running relbot and relbot-sim needs
#   deploy/setup.sh --test   also what the tests need: a headless browser (Debian's chromium,
#                            chromium-driver and python3-selenium) for the sandbox page's test,
#                            clang 14 with libFuzzer (libclang-rt-14-dev) for fuzz/, and
#                            PostgreSQL 15's server for the storage tests' throwaway cluster
# Does nothing when they are all installed already.
set -euo pipefail

packages=(cmake g++ make libboost1.81-dev libboost-url1.81-dev libssl-dev nlohmann-json3-dev
          libsqlitecpp-dev libsqlite3-dev libpq-dev libcairo2-dev fonts-dejavu-core catch2 openssl
          ca-certificates tzdata pkg-config)
if [ "${1:-}" = "--test" ]; then
    packages+=(chromium chromium-driver python3 python3-selenium fonts-noto-color-emoji clang-14
              libclang-rt-14-dev postgresql-15)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "setup.sh: these packages are missing and I am not root: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
