#!/usr/bin/env bash
# Fetches two Debian 12 packages of Cyrillic text, checks their sha256, unpacks them and
# writes zstd shards for corpusstat (cyrillic_convert.py):
#   fortunes-ru 1.52-3.1   20,899 Russian fortunes: aphorisms, quotations, jokes, haiku
#                          (GPL-2), one document per fortune;
#   manpages-uk 4.18.1-1   200 Ukrainian manual pages (manpages-l10n, GPL-3+), roff and
#                          mdoc stripped, one document per page.
# Why: real Cyrillic prose (Russian and Ukrainian, with Latin-script names and commands
# mixed in) from a registry every project machine reaches; Brown is English only.
#
# Usage:
#   datasets/cyrillic.sh [OUTDIR]              default datasets/out/cyrillic:
#       OUTDIR/jsonl/PART-NN.jsonl.zst         {"id","date","source","text"} per document
#       OUTDIR/text/PART-NN.txt.zst            the same documents, separated by a blank line
#       (PART: fortunes-ru, manpages-uk; NN: 00..03). Count jsonl/ or text/ (with
#       --doc-sep blank), not the whole folder, or every document is counted twice.
#   datasets/cyrillic.sh --tests-sample [DIR]  the excerpt the tests use, into DIR
#                                              (default tests/data/cyrillic)
# Needs `apt-get download` only for the first fetch (no root: it needs the apt lists of
# Debian 12 "bookworm", which `apt-get update` makes, as root, once per machine); the .deb
# files are kept in datasets/cache/. Same bytes on every run; a second run with nothing
# changed is a no-op.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cache=$here/cache
# name version sha256 (of the .deb; the SHA256 of Debian 12's Packages index)
debs=(
  "fortunes-ru 1.52-3.1 2dc76af9c0e02e2926d36f88dcb685bb171fab8677e553a6def41efe8a551cc6"
  "manpages-uk 4.18.1-1 7ad64b12010584a6cc10a341ba561a6774e8493166524f386bcd9fd7cbebdd5b"
)

die() { echo "cyrillic.sh: $*" >&2; exit 1; }
sha256_of() { sha256sum <"$1" | cut -d' ' -f1; }

for tool in python3 zstd dpkg-deb sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh"
done

# Fetch and unpack one package once; the .ok marker says the extraction finished.
# Prints the folder it was unpacked into.
fetch() {
  local name=$1 version=$2 sha=$3
  local deb=$cache/${name}_${version}_all.deb src=$cache/${name}_${version}
  if [[ -f $src/.ok ]]; then
    echo "$src"
    return
  fi
  mkdir -p "$cache"
  if [[ ! -f $deb || $(sha256_of "$deb") != "$sha" ]]; then
    command -v apt-get >/dev/null || die "apt-get is needed once to fetch $name $version"
    rm -f "$deb"
    echo "cyrillic.sh: fetching $name=$version from the Debian archive" >&2
    local log
    log=$(cd "$cache" && apt-get download -q "$name=$version" 2>&1) || {
      echo "$log" >&2
      die "apt-get download $name=$version failed: it needs Debian 12 (bookworm) in the" \
          "apt sources and their lists fetched (apt-get update, as root)"
    }
    # apt names the file after the version with ':' escaped; ours has no epoch.
    [[ -f $deb ]] || die "apt-get download did not write $deb"
  fi
  local got
  got=$(sha256_of "$deb")
  if [[ $got != "$sha" ]]; then
    rm -f "$deb"
    die "$deb: sha256 $got, expected $sha (file removed; rerun to fetch again)"
  fi
  rm -rf "$src" "$src.tmp"
  mkdir -p "$src.tmp"
  dpkg-deb -x "$deb" "$src.tmp" || die "cannot unpack $deb"
  touch "$src.tmp/.ok"
  mv "$src.tmp" "$src"
  echo "$src"
}

case ${1:-} in
  --tests-sample | "") ;;
  -*) die "unknown option $1 (usage: cyrillic.sh [OUTDIR] | --tests-sample [DIR])" ;;
esac

srcs=()
shas=""
for d in "${debs[@]}"; do
  read -r name version sha <<<"$d"
  src=$(fetch "$name" "$version" "$sha") || exit 1
  srcs+=("$src")
  shas+="$sha "
done

if [[ ${1:-} == --tests-sample ]]; then
  dir=${2:-$root/tests/data/cyrillic}
  rm -rf "$dir/fortunes-ru" "$dir/manpages-uk"
  python3 "$here/cyrillic_convert.py" sample "${srcs[@]}" "$dir" ||
    die "cyrillic_convert.py sample failed"
  echo "cyrillic.sh: wrote the test excerpt to $dir ($(find "$dir" -type f -path '*/usr/*' |
       wc -l) files, $(find "$dir" -type f -path '*/usr/*' -exec cat {} + | wc -c) bytes)" >&2
  exit 0
fi

out=${1:-$here/out/cyrillic}
out=${out%/}
# The stamp names the inputs of the output: the packages and this converter.
stamp="$shas$(cat "$here/cyrillic_convert.py" "${BASH_SOURCE[0]}" | sha1sum | cut -d' ' -f1)"
if [[ -f $out/.stamp && $(cat "$out/.stamp") == "$stamp" ]]; then
  echo "cyrillic.sh: $out is up to date" >&2
  exit 0
fi

# Build in a temporary sibling folder, then swap it in, so a failed run leaves no half output.
tmp=$out.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
python3 "$here/cyrillic_convert.py" shards "${srcs[@]}" "$tmp" ||
  die "cyrillic_convert.py shards failed"
# -19 single-threaded per file gives the same bytes every run; the two folders in parallel.
(cd "$tmp/jsonl" && zstd -q -19 --rm -- *.jsonl) & zj=$!
(cd "$tmp/text" && zstd -q -19 --rm -- *.txt) & zt=$!
wait "$zj" || die "zstd failed in $tmp/jsonl"
wait "$zt" || die "zstd failed in $tmp/text"
echo "$stamp" >"$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
echo "cyrillic.sh: wrote $(find "$out" -name '*.zst' | wc -l) shards to $out" \
     "($(du -sk "$out" | cut -f1) KB)" >&2
