#!/usr/bin/env bash
# The demo, and the main job on a fresh machine: fetch and convert the Brown corpus
# (datasets/brown.sh), count it with corpusstat on all cores, and show where the tables
# are, their first rows and the headline numbers of summary.json.
# Why: one command that shows the whole path, real shards in, CSV tables out.
#
# Usage: scripts/demo.sh            (make demo runs it)
# Environment: CORPUSSTAT  engine binary (default build/release/corpusstat; built with
#                          `make` when missing)
# Counts the 15 JSONL shards only: press/ holds the same news texts again as plain text,
# and counting the whole folder would count them twice.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${CORPUSSTAT:-$root/build/release/corpusstat}
shards=$root/datasets/out/brown
tables=$root/datasets/out/brown-tables
die() { echo "demo.sh: $*" >&2; exit 1; }

"$root/scripts/install-deps.sh" --demo || die "scripts/install-deps.sh --demo failed"
if [[ ! -x $bin && -z ${CORPUSSTAT:-} ]]; then
  echo "demo.sh: $bin missing, running make" >&2
  make -C "$root" || die "make failed"
fi
[[ -x $bin ]] || die "no engine binary at $bin (build it with make, or set CORPUSSTAT)"

"$root/datasets/brown.sh" "$shards" || die "datasets/brown.sh failed"
inputs=("$shards"/brown-*.jsonl.zst)

echo "demo.sh: $bin count -T 0 -o $tables datasets/out/brown/brown-*.jsonl.zst" >&2
"$bin" count -T 0 -o "$tables" "${inputs[@]}" || die "corpusstat count failed (exit $?)"

echo
echo "Tables in $tables:"
ls -l "$tables"
for t in terms ngrams; do
  echo
  echo "== $t.csv: first 10 rows =="
  head -n 11 "$tables/$t.csv"
done
echo
echo "== summary.json (excerpt) =="
python3 - "$tables/summary.json" <<'EOF'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    s = json.load(f)
for key in ("documents", "tokens", "types", "ngram_types", "bad_records", "invalid_utf8",
            "bytes_decompressed", "threads", "seconds", "mb_per_s", "peak_rss_bytes"):
    print(f"{key:>18}: {s[key]}")
EOF
