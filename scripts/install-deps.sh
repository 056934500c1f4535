#!/usr/bin/env bash
# Installs the Debian packages needed to build and test corpusstat, and with --demo
# (alias --npm, or WITH_NPM=1) also npm, which only `make demo` needs: datasets/brown.sh
# fetches the Brown corpus with it; with --fuzz also clang, libFuzzer and LLVM's OpenMP,
# which only `make fuzz` needs. Why: every project machine starts bare, so the repo must install what
# it uses. Checks with dpkg-query first and does nothing, with no network, when all are
# there. As root it runs apt-get; otherwise it prints the command to run and exits 1.
#
# Usage: scripts/install-deps.sh [--demo | --fuzz]
set -euo pipefail

with_npm=${WITH_NPM:-0}
with_fuzz=0
case ${1:-} in
  --demo | --npm) with_npm=1 ;;
  --fuzz) with_fuzz=1 ;;
  "") ;;
  *) echo "usage: $0 [--demo | --fuzz]" >&2; exit 2 ;;
esac

pkgs=(build-essential pkg-config libzstd-dev libxxhash-dev libutf8proc-dev zstd sqlite3 python3 valgrind)
# npm may come from outside Debian (nvm, nodesource): any npm on PATH will do.
if [[ $with_npm == 1 ]] && ! command -v npm >/dev/null; then
  pkgs+=(npm)
fi

if [[ $with_fuzz == 1 ]]; then
  pkgs+=(clang libfuzzer-14-dev libclang-rt-14-dev libomp-14-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: missing Debian packages: ${missing[*]}" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || { echo "install-deps.sh: apt-get update failed" >&2; exit 1; }
apt-get install -y -q --no-install-recommends "${missing[@]}" ||
  { echo "install-deps.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
