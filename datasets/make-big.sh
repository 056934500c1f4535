#!/usr/bin/env bash
# Makes a large synthetic corpus for throughput measurements: the Brown corpus repeated
# with varied words until the plain text reaches at least MB MiB, written as SHARDS zstd
# shards twice over, as JSONL ({"id","date","source","text"}) and as plain text with
# documents separated by a blank line. Both hold the same documents and the same text,
# so `corpusstat count` must give the same tables for OUT/jsonl and OUT/text.
#
# Why varied: a plain repeat would keep the vocabulary at Brown's ~42k case-folded types
# and flatter the hash tables. Repeat 0 is Brown itself; in repeat r, each word of 3+
# letters is, by a hash of (r, word), kept (65%), given a syllable suffix (32%) or a
# suffix and a Cyrillic transliteration (3%, so the multi-byte UTF-8 path is exercised).
# The suffix is drawn from 4*ceil(sqrt(r)) choices, so the vocabulary keeps growing,
# roughly as the square root of the corpus size (Heaps' law with beta ~ 0.5).
#
# Usage: datasets/make-big.sh [MB [SHARDS [OUTDIR]]]   defaults: 256, 8, datasets/out/big-MB
#   OUTDIR/jsonl/big-NN.jsonl.zst, OUTDIR/text/big-NN.txt.zst (zstd -q -3)
# Needs datasets/brown.sh (run here; npm on its first run). Deterministic: same arguments,
# same bytes. Skips the work when OUTDIR already holds this exact output.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mb=${1:-256}
shards=${2:-8}
out=${3:-$here/out/big-$mb}
out=${out%/}
die() { echo "make-big.sh: $*" >&2; exit 1; }
[[ $mb =~ ^[1-9][0-9]*$ ]] || die "MB must be a positive integer, not '$mb'"
[[ $shards =~ ^[1-9][0-9]*$ && $shards -le 100 ]] || die "SHARDS must be 1..100, not '$shards'"

brown=$here/out/brown
"$here/brown.sh" "$brown" || die "datasets/brown.sh failed"

stamp="$mb $shards $(cat "$brown/.stamp" "${BASH_SOURCE[0]}" | sha1sum | cut -d' ' -f1)"
if [[ -f $out/.stamp && $(cat "$out/.stamp") == "$stamp" ]]; then
  echo "make-big.sh: $out is up to date" >&2
  exit 0
fi

gen=$(cat <<'EOF'
import datetime, glob, json, math, os, re, subprocess, sys, zlib

brown_dir, out, mb, n_shards = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
target = mb << 20                  # bytes of plain text to reach (MiB)
SYL = "ba ce di fo gu ka le mi no pu ra se ti vo wu za".split()
LAT = "abcdefghijklmnopqrstuvwxyz"
CYR = "а б ц д е ф г х и й к л м н о п к р с т у в в кс ы з".split()
TO_CYR = str.maketrans({**dict(zip(LAT, CYR)),
                        **{a.upper(): c.upper() for a, c in zip(LAT, CYR)}})
ALPHA = re.compile(r"([A-Za-z]+)")
EPOCH = datetime.date(1961, 1, 1).toordinal()

# Base documents: each text split into alternating separator / letter-run pieces, so a
# repeat is one C-speed pass: "".join(map(runmap.get, pieces, pieces)).
docs, runs = [], set()
for path in sorted(glob.glob(os.path.join(brown_dir, "brown-*.jsonl.zst"))):
    data = subprocess.run(["zstd", "-dcq", path], check=True, stdout=subprocess.PIPE).stdout
    for line in data.decode("utf-8").splitlines():
        d = json.loads(line)
        pieces = ALPHA.split(d["text"].replace("\n\n", "\n"))  # no blank line inside a doc
        runs.update(pieces[1::2])
        docs.append((d["id"], d["category"], pieces))
if not docs:
    sys.exit(f"no brown-*.jsonl.zst in {brown_dir}")
runs = sorted(r for r in runs if len(r) >= 3)
hashes = {r: zlib.crc32(r.lower().encode()) for r in runs}

def suffix(k, upper):
    s = SYL[k % 16]
    k //= 16
    while k:
        s += SYL[k % 16]
        k //= 16
    return s.upper() if upper else s

def runmap(rep):
    """Letter run -> its variant in repeat `rep` (runs left as they are are absent)."""
    if rep == 0:
        return {}
    choices = 4 * math.isqrt(rep - 1) + 4          # 4*ceil(sqrt(rep))
    m = {}
    for r in runs:
        h = (hashes[r] ^ (rep * 0x9E3779B1)) * 0x85EBCA6B & 0xFFFFFFFF
        h ^= h >> 15
        u = h % 100
        if u < 35:
            v = r + suffix((h >> 8) % choices, r.isupper() and len(r) > 1)
            m[r] = v.translate(TO_CYR) if u < 3 else v
    return m

procs = []
def sink(sub, name):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
    f = open(os.path.join(out, sub, name), "wb")
    p = subprocess.Popen(["zstd", "-q", "-3", "-c"], stdin=subprocess.PIPE, stdout=f,
                         bufsize=1 << 20)
    procs.append((p, f))
    return p.stdin
jsonl = [sink("jsonl", f"big-{i:02d}.jsonl.zst") for i in range(n_shards)]
text = [sink("text", f"big-{i:02d}.txt.zst") for i in range(n_shards)]

written = n_docs = rep = 0
while written < target:
    m = runmap(rep)
    for doc_id, cat, pieces in docs:
        body = "".join(map(m.get, pieces, pieces)) if m else "".join(pieces)
        raw = body.encode("utf-8")
        s = n_docs % n_shards
        date = datetime.date.fromordinal(EPOCH + (n_docs * 7) % 14610).isoformat()
        rec = {"id": f"r{rep:04d}-{doc_id}", "date": date, "source": f"brown/{cat}",
               "text": body}
        jsonl[s].write(json.dumps(rec, ensure_ascii=False).encode("utf-8") + b"\n")
        text[s].write(raw + b"\n\n")
        written += len(raw) + 2
        n_docs += 1
        if written >= target:
            break
    rep += 1
for p, f in procs:
    p.stdin.close()
    if p.wait() != 0:
        sys.exit(f"zstd failed writing {f.name}")
    f.close()
print(f"{n_docs} documents, {rep} repeats, {written} bytes of text", file=sys.stderr)
EOF
)

tmp=$out.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"
echo "make-big.sh: generating $mb MiB x2 (jsonl, text) in $shards shards into $out" >&2
python3 -c "$gen" "$brown" "$tmp" "$mb" "$shards" || die "generator failed"
echo "$stamp" >"$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
echo "make-big.sh: done: $(du -sh "$out/jsonl" | cut -f1) jsonl.zst," \
     "$(du -sh "$out/text" | cut -f1) txt.zst in $out" >&2
