#!/usr/bin/env bash
# Throughput benchmark of corpusstat against its floor (decompression, reading) and the
# tools a user would otherwise reach for. A thin wrapper: installs what bench/run.py needs
# and then runs it. Settings come from the environment (see bench/run.py --help):
#   BENCH_SIZE=MB  BENCH_CORPUS=DIR  BENCH_GEN="cmd"  BENCH_THREADS="1 2"  BENCH_RUNS=3
#   BENCH_PEER_MB=16  BENCH_COOC_RUNS=2  BENCH_NLTK_RUNS=1
# Why these packages: scikit-learn and NLTK (BigramCollocationFinder with a window, the
# co-occurrence peer) are peers, matplotlib draws the scaling plots (an SVG is written by
# hand without it), GNU time measures peak RSS, zstd is the floor.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkgs=(python3 python3-sklearn python3-nltk python3-matplotlib time zstd)
missing=()
for p in "${pkgs[@]}"; do
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "bench/run.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
      echo "bench/run.sh: apt-get install ${missing[*]} failed; the peers needing them are reported as failed" >&2
  else
    echo "bench/run.sh: missing Debian packages: ${missing[*]} (run as root to install them);" \
         "the peers needing them are reported as failed" >&2
  fi
fi
# /usr/bin/python3: Debian's python, the only one that sees the apt-installed sklearn
# and nltk.
exec /usr/bin/python3 "$here/run.py" "$@"
