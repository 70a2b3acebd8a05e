#!/usr/bin/env bash
# Install the Debian packages the tests need, where we can. As root: apt-get. Otherwise: say what to run.
set -euo pipefail
missing=()
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts a default cluster on install; the tests use their own throwaway one.
    if command -v pg_lsclusters >/dev/null; then
        pg_lsclusters -h 2>/dev/null | awk '$2 == "main" && $4 == "online" {print $1}' | while read -r v; do
            pg_ctlcluster "$v" main stop || true
        done
    fi
else
    echo "NOTE: the browser and PostgreSQL tests need these Debian packages: ${missing[*]}"
    echo "      install them with: sudo apt-get install ${missing[*]}"
    echo "      (without them those tests are skipped locally; with CI=true they fail)"
fi
