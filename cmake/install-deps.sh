#!/bin/sh
# Installs the Debian 12 packages civicperf builds with, only when one is
# missing (so it is quick and needs no network on a ready machine).
# Usage: cmake/install-deps.sh [--bench]   (--bench adds the benchmark tools)
set -eu
pkgs="cmake ninja-build g++ ccache libboost1.81-dev libboost-json1.81-dev libfmt-dev catch2 libsqlite3-dev libexpat1-dev curl"
if [ "${1:-}" = "--bench" ]; then
  pkgs="$pkgs libbenchmark-dev prometheus-cpp-dev wrk nginx-light"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi
