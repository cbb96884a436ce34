#!/bin/sh
# tools/setup.sh [test] - install what bplab needs on Debian 12, and only
# what is missing (quiet when everything is there). Run as root, or with
# sudo available. "test" adds what the test suite needs beyond the build.
set -e
pkgs="build-essential cmake git pkg-config check zlib1g-dev libbenchmark-dev
      dataset-fashion-mnist"
if [ "${1:-}" = test ]; then
    pkgs="$pkgs binutils"
fi
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
        grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "tools/setup.sh: installing$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends $missing >/dev/null
