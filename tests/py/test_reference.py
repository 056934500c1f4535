"""Engine vs reference: `corpusstat count` compared with tests/ref/csref.py.

Two groups of tests:
  test_ref_*     hand-computed cases run through the reference alone (golden checks of
                 the reference itself; they need no engine);
  test_engine_*  the engine ($CORPUSSTAT, run at -T 1 and -T 3, on plain, zstd and
                 many-tiny-frames zstd inputs) against the reference on generated
                 adversarial corpora (tests/ref/gentext.py) and on tests/data/brown-press.
Compared: terms.csv and ngrams.csv byte for byte; cooc.csv by csref.compare_cooc_csv
(measures within 1e-9) and between engine runs byte for byte; the summary.json counters in COUNTERS
and ngram_types.  A failure prints the first differing rows.

Runs under tests/run.py (plain functions, plain asserts) or alone:
    CORPUSSTAT=build/release/corpusstat python3 tests/py/test_reference.py [SUBSTRING]
"""
import contextlib
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "ref"))
import csref      # noqa: E402
import csutil     # noqa: E402
import gentext    # noqa: E402

COUNTERS = ["documents", "segments", "tokens", "types", "bad_records", "invalid_utf8",
            "long_tokens_dropped", "excluded_tokens", "undecodable_shards", "unreadable_inputs"]
# The engine's testing option --chunk-size: tiny chunks make tokens, n-grams, UTF-8
# sequences and JSONL records straddle chunk edges.
CHUNK_SIZES = [1, 2, 3, 7, 17, 64, 1000]
BROWN = os.path.join(ROOT, "tests", "data", "brown-press")
SEEDS = [1, 2]


# =======================================================================================
# Helpers
# =======================================================================================
def write(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def ref_run(args, inputs, outdir):
    """The reference, in-process (same code as the CLI). Its messages about
    skipped input are expected here; keep them out of the test log."""
    with contextlib.redirect_stderr(io.StringIO()):
        return csref.main([*args, "-q", "-o", outdir, *inputs])


def engine_path():
    exe = os.environ.get("CORPUSSTAT") or os.path.join(ROOT, "build", "release", "corpusstat")
    assert os.path.isfile(exe) and os.access(exe, os.X_OK), (
        f"engine binary not found or not executable: {exe} "
        f"(build it with `make` in {ROOT}, or set CORPUSSTAT)")
    return exe


def engine_run(args, inputs, outdir, threads, stdin=None):
    cmd = [engine_path(), "count", *args, "-T", str(threads), "-q", "-o", outdir, *inputs]
    proc = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    assert proc.returncode == 0, (
        f"engine exit {proc.returncode}: {' '.join(cmd)}\n"
        f"{proc.stderr.decode('utf-8', 'replace')[-3000:]}")


def csv_rows(data):
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return list(csv.reader(io.StringIO(text, newline="")))


def describe_csv_diff(name, ref, eng):
    """Human-readable account of how two CSV files differ."""
    if ref is None or eng is None:
        return f"{name}: reference {'missing' if ref is None else 'present'}, " \
               f"engine {'missing' if eng is None else 'present'}"
    out = [f"{name}: files differ ({len(ref)} bytes reference, {len(eng)} bytes engine)"]
    if ref.startswith(b"\xef\xbb\xbf") != eng.startswith(b"\xef\xbb\xbf"):
        out.append("  BOM differs")
    rl, el = ref.split(b"\n"), eng.split(b"\n")
    for i in range(max(len(rl), len(el))):
        a = rl[i] if i < len(rl) else None
        b = el[i] if i < len(el) else None
        if a != b:
            out.append(f"  first difference at line {i + 1}:")
            for j in range(max(0, i - 2), min(max(len(rl), len(el)), i + 4)):
                ra = rl[j] if j < len(rl) else b"<none>"
                eb = el[j] if j < len(el) else b"<none>"
                mark = "  " if ra == eb else "!!"
                out.append(f"  {mark} ref: {ra!r}")
                if ra != eb:
                    out.append(f"  {mark} eng: {eb!r}")
            break
    # By key: which rows are missing / extra / have other counts.
    try:
        rr, er = csv_rows(ref)[1:], csv_rows(eng)[1:]
        nkey = 2 if name.startswith("ngrams") else 1
        rd = {tuple(r[:nkey]): r[nkey:] for r in rr}
        ed = {tuple(r[:nkey]): r[nkey:] for r in er}
        only_r = [k for k in rd if k not in ed]
        only_e = [k for k in ed if k not in rd]
        changed = [k for k in rd if k in ed and rd[k] != ed[k]]
        out.append(f"  rows: {len(rr)} reference, {len(er)} engine; "
                   f"{len(only_r)} only in reference, {len(only_e)} only in engine, "
                   f"{len(changed)} with other counts")
        for k in only_r[:8]:
            out.append(f"    only ref: {k} {rd[k]}")
        for k in only_e[:8]:
            out.append(f"    only eng: {k} {ed[k]}")
        for k in changed[:8]:
            out.append(f"    counts:   {k} ref {rd[k]} eng {ed[k]}")
        if not only_r and not only_e and not changed:
            out.append("  same rows, different order or formatting")
    except Exception as e:   # a malformed CSV from the engine is itself the finding
        out.append(f"  (could not parse as CSV: {e})")
    return "\n".join(out)


def compare_dirs(ref_dir, eng_dir, label):
    problems = []
    for name in ("terms.csv", "ngrams.csv"):
        r, e = read(os.path.join(ref_dir, name)), read(os.path.join(eng_dir, name))
        if r != e:
            problems.append(describe_csv_diff(name, r, e))
    # cooc.csv: keys and integer counts exactly, measures (and harmonic counts) within
    # 1e-9; the engine's runs are also compared with each other byte for byte (see
    # check_against_engine).
    why = csref.compare_cooc_csv(read(os.path.join(ref_dir, "cooc.csv")),
                                 read(os.path.join(eng_dir, "cooc.csv")))
    if why:
        problems.append(why)
    rs = json.loads(read(os.path.join(ref_dir, "summary.json")))
    raw = read(os.path.join(eng_dir, "summary.json"))
    if raw is None:
        problems.append("summary.json: missing in engine output")
    else:
        es = json.loads(raw)
        for k in COUNTERS + (["cooc_pairs"] if "cooc_pairs" in rs else []):
            if es.get(k) != rs[k]:
                problems.append(f"summary.json {k}: reference {rs[k]}, engine {es.get(k)}")
        eng_nt = {str(k): v for k, v in (es.get("ngram_types") or {}).items()}
        if eng_nt != rs["ngram_types"]:
            problems.append(f"summary.json ngram_types: reference {rs['ngram_types']}, "
                            f"engine {es.get('ngram_types')}")
    if problems:
        raise AssertionError(f"[{label}] engine and reference differ:\n" + "\n".join(problems))


def hidden(path):
    return any(part.startswith(".") for part in path.split(os.sep))


def zstd_cli(data, level=3):
    proc = subprocess.run(["zstd", "-q", f"-{level}", "-c"], input=data,
                          stdout=subprocess.PIPE, check=True)
    return proc.stdout


def split_frames(data, rng):
    """data as many concatenated frames: mostly 1..17-byte raw-block frames built by hand,
    a few zstd-CLI-compressed pieces, empty and skippable frames in between."""
    out = []
    i = 0
    cli_pieces = 0
    while i < len(data):
        if cli_pieces < 3 and rng.random() < 0.01:
            n = rng.randint(100, 3000)
            out.append(zstd_cli(data[i:i + n]))
            cli_pieces += 1
        else:
            n = rng.randint(1, 17)
            out.append(gentext.zstd_raw_frames(data[i:i + n], rng))
        i += n
    return b"".join(out)


def mirror_zst(src_dir, dst_dir, mode, seed=0):
    """Copy of src_dir with every file (hidden ones too) as FILE.zst.
    mode 'cli': `zstd -q -3`; mode 'split': split_frames."""
    rng = random.Random(seed)
    for base, dirs, files in os.walk(src_dir):
        dirs.sort()
        for name in sorted(files):
            src = os.path.join(base, name)
            data = read(src)
            packed = zstd_cli(data) if mode == "cli" else split_frames(data, rng)
            write(os.path.join(dst_dir, os.path.relpath(src, src_dir) + ".zst"), packed)


def check_against_engine(label, args, inputs, tmp, zst_dirs=None, threads=(1, 3),
                         chunk_sizes=None):
    """Reference once on inputs; engine at every thread count on inputs and on each
    zstd mirror (a list of (name, inputs)); plus one run with tiny chunks per chunk
    size (default: one size, picked from the label so that runs differ)."""
    engine_path()     # fail early, with a clear message, when there is no engine
    ref_dir = os.path.join(tmp, "ref-" + label.replace(" ", "_").replace("/", "_"))
    ref_run(args, inputs, ref_dir)
    if chunk_sizes is None:
        chunk_sizes = [CHUNK_SIZES[sum(label.encode()) % len(CHUNK_SIZES)]]
    runs = [("plain", inputs, t, []) for t in threads]
    runs += [(variant, vin, t, []) for variant, vin in (zst_dirs or []) for t in threads]
    runs += [("plain", inputs, 3, ["--chunk-size", str(c)]) for c in chunk_sizes]
    first_cooc = None
    for k, (variant, variant_inputs, t, extra) in enumerate(runs):
        eng_dir = os.path.join(tmp, f"eng{k}")
        engine_run(args + extra, variant_inputs, eng_dir, t)
        what = f"{label}, {variant} input, -T {t}, args {args + extra}"
        compare_dirs(ref_dir, eng_dir, what)
        # The measures are compared with the reference within a tolerance; between
        # thread counts, chunk sizes and input forms the engine must give the same bytes.
        cooc = read(os.path.join(eng_dir, "cooc.csv"))
        if k == 0:
            first_cooc = cooc
        elif cooc != first_cooc:
            raise AssertionError(f"[{what}] cooc.csv differs from the first engine run's:\n"
                                 + describe_csv_diff("cooc.csv", first_cooc, cooc))
        shutil.rmtree(eng_dir)


def generated_option_set(label, args, seeds=SEEDS, file_bytes=8000, split=True,
                         jsonl_records=80):
    """Generated corpus folder (plain + .jsonl + empty + hidden files) per seed; the
    engine reads it plain, as zstd (CLI) and as many tiny frames."""
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
            corpus = os.path.join(tmp, "in")
            gentext.write_corpus(corpus, seed, n_files=5, file_bytes=file_bytes,
                                 jsonl_records=jsonl_records)
            full_args = [os.path.join(tmp, a[1:]) if a in ("@STOP", "@TERMS") else a
                         for a in args]
            if "@STOP" in args:
                write(os.path.join(tmp, "STOP"), gentext.STOPWORDS_FILE_TEXT)
            if "@TERMS" in args:
                write(os.path.join(tmp, "TERMS"), COOC_TERMS_FILE_TEXT)
            zdirs = []
            zc = os.path.join(tmp, "zst-cli")
            mirror_zst(corpus, zc, "cli")
            zdirs.append(("zstd", [zc]))
            if split:
                zs = os.path.join(tmp, "zst-split")
                mirror_zst(corpus, zs, "split", seed)
                zdirs.append(("zstd tiny frames", [zs]))
            check_against_engine(f"{label} seed {seed}", full_args, [corpus], tmp, zdirs)


# =======================================================================================
# The reference alone: hand-computed golden cases
# =======================================================================================
def ref_case(inputs, args=(), files=None, aux=None):
    """Runs the reference on files {name: bytes|str} (or given inputs); aux files are
    written but not inputs (an arg "@NAME" is their path).  Returns (terms rows, ngrams
    rows or None, summary, terms.csv bytes, ngrams.csv bytes); rows are lists of str,
    header dropped."""
    with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
        paths = []
        for name, data in (files or {}).items():
            paths.append(write(os.path.join(tmp, name), data))
        for name, data in (aux or {}).items():
            write(os.path.join(tmp, name), data)
        args = [os.path.join(tmp, a[1:]) if a.startswith("@") else a for a in args]
        out = os.path.join(tmp, "out")
        summary = ref_run(list(args), paths + list(inputs), out)
        terms = csv_rows(read(os.path.join(out, "terms.csv")))
        ngrams = csv_rows(read(os.path.join(out, "ngrams.csv")))
        raw_terms = read(os.path.join(out, "terms.csv"))
        raw_ngrams = read(os.path.join(out, "ngrams.csv"))
    assert terms[0] == ["term", "count", "doc_count"], terms[0]
    if ngrams is not None:
        assert ngrams[0] == ["n", "ngram", "count", "doc_count"], ngrams[0]
        ngrams = ngrams[1:]
    return terms[1:], ngrams, summary, raw_terms, raw_ngrams


def expect_rows(got, want, what):
    csutil.assert_rows(got, [[str(x) for x in r] for r in want],
                       f"{what}: reference output differs from the hand-computed rows")


def expect_summary(summary, **want):
    for k, v in want.items():
        assert summary[k] == v, f"summary {k}: got {summary[k]}, want {v}\n{summary}"


def test_ref_golden_sentence():
    text = "Ex-governor Zhakiyanov\u2019s U.S. visit cost $3.5 million, or 1,000 tenge."
    terms, ngrams, s, raw, _ = ref_case([], files={"a.txt": text})
    expect_rows(terms, [["1,000", 1, 1], ["3.5", 1, 1], ["cost", 1, 1],
                        ["ex-governor", 1, 1], ["million", 1, 1], ["or", 1, 1],
                        ["tenge", 1, 1], ["u.s", 1, 1], ["visit", 1, 1],
                        ["zhakiyanov's", 1, 1]], "terms")
    # "U.S." ends the first segment: no bigram "u.s visit".
    expect_rows(ngrams, [[2, "1,000 tenge", 1, 1], [2, "3.5 million", 1, 1],
                         [2, "cost 3.5", 1, 1], [2, "ex-governor zhakiyanov's", 1, 1],
                         [2, "million or", 1, 1], [2, "or 1,000", 1, 1],
                         [2, "visit cost", 1, 1], [2, "zhakiyanov's u.s", 1, 1]], "ngrams")
    expect_summary(s, documents=1, segments=2, tokens=10, types=10, invalid_utf8=0,
                   ngram_types={"2": 8})
    assert raw.startswith(b'term,count,doc_count\n"1,000",1,1\n3.5,1,1\n'), raw[:60]


def test_ref_golden_joiners_read_literally():
    text = ("rock-'n'-roll x--y U.S. a,b 1,000 \u0663,\u0664 \u00b2,3 co\u2010operate "
            "'quoted' trail- -lead a.b.c 1,a e\u0301-\u0301x ab\u00adcd snake_case")
    terms, ngrams, s, _, _ = ref_case([], ["--ngrams", "1-3"], files={"j.txt": text})
    # Segment 1: rock n roll x y u.s | '.' ends it.  Segment 2: the rest.
    seg2 = ["a", "b", "1,000", "\u0663,\u0664", "\u00b2", "3", "co-operate", "quoted",
            "trail", "lead", "a.b.c", "1", "a", "e\u0301-\u0301x", "ab", "cd", "snake", "case"]
    seg1 = ["rock", "n", "roll", "x", "y", "u.s"]
    from collections import Counter
    c = Counter(seg1 + seg2)
    want_terms = sorted(c.items(), key=lambda kv: (-kv[1], kv[0].encode()))
    expect_rows(terms, [[t, n, 1] for t, n in want_terms], "terms")
    grams = []
    for n in (2, 3):
        g = Counter(" ".join(seg[i:i + n]) for seg in (seg1, seg2) for i in range(len(seg) - n + 1))
        grams += [[n, k, v, 1] for k, v in sorted(g.items(), key=lambda kv: (-kv[1], kv[0].encode()))]
    expect_rows(ngrams, grams, "ngrams")
    assert ["2", "u.s a", "1", "1"] not in ngrams
    expect_summary(s, segments=2, tokens=24, ngram_types={"2": 22, "3": 20})


def test_ref_golden_full_case_folding():
    text = "Straße STRASSE İ ﬁ ẞ ΣΊΣΥΦΟΣ σίσυφος Kelvin\u212a ǅ"
    terms, _, s, _, _ = ref_case([], ["--ngrams", "1"], files={"f.txt": text})
    expect_rows(terms, [["strasse", 2, 1], ["σίσυφοσ", 2, 1], ["fi", 1, 1],
                        ["i\u0307", 1, 1], ["kelvink", 1, 1], ["ss", 1, 1], ["ǆ", 1, 1]],
                "terms")
    terms, _, _, _, _ = ref_case([], ["--ngrams", "1", "--case", "keep"], files={"f.txt": text})
    expect_rows(terms, [["Kelvin\u212a", 1, 1], ["STRASSE", 1, 1], ["Straße", 1, 1],
                        ["İ", 1, 1], ["ǅ", 1, 1], ["ΣΊΣΥΦΟΣ", 1, 1], ["σίσυφος", 1, 1],
                        ["ẞ", 1, 1], ["ﬁ", 1, 1]], "terms --case keep")


def test_ref_golden_normalize():
    text = "ﬁ ｆｕｌｌ ① \ufdfa e\u0301 \u00e9 \u212b"
    # No normalization: casefold only (ﬁ -> fi by full folding, ｆｕｌｌ stays fullwidth).
    terms, _, _, _, _ = ref_case([], ["--ngrams", "1"], files={"n.txt": text})
    expect_rows(terms, [["e\u0301", 1, 1], ["fi", 1, 1], ["\u00e5", 1, 1], ["\u00e9", 1, 1],
                        ["①", 1, 1], ["\ufdfa", 1, 1], ["ｆｕｌｌ", 1, 1]], "terms none")
    terms, _, _, _, _ = ref_case([], ["--ngrams", "1", "--normalize", "nfc"], files={"n.txt": text})
    expect_rows(terms, [["\u00e9", 2, 1], ["fi", 1, 1], ["\u00e5", 1, 1],
                        ["①", 1, 1], ["\ufdfa", 1, 1], ["ｆｕｌｌ", 1, 1]], "terms nfc")
    terms, ngrams, _, _, _ = ref_case([], ["--normalize", "nfkc"], files={"n.txt": text})
    sal = "صلى الله عليه وسلم"     # NFKC of U+FDFA holds spaces: still one term
    expect_rows(terms, [["\u00e9", 2, 1], ["1", 1, 1], ["fi", 1, 1], ["full", 1, 1],
                        ["\u00e5", 1, 1], [sal, 1, 1]], "terms nfkc")
    assert ["2", f"1 {sal}", "1", "1"] in ngrams, ngrams


def test_ref_golden_line_breaks_and_terminators():
    text = "a b\r\nc d\re f\ng h\u2028i j\x0bk"
    _, ngrams, s, _, _ = ref_case([], files={"l.txt": text})
    expect_rows(ngrams, [[2, "a b", 1, 1], [2, "c d", 1, 1], [2, "e f", 1, 1],
                         [2, "g h", 1, 1], [2, "h i", 1, 1], [2, "i j", 1, 1],
                         [2, "j k", 1, 1]], "ngrams")
    expect_summary(s, segments=4, tokens=11)
    _, ngrams, s, _, _ = ref_case([], ["--join-lines"], files={"l.txt": text})
    assert len(ngrams) == 10 and ["2", "b c", "1", "1"] in ngrams \
        and ["2", "f g", "1", "1"] in ngrams, ngrams
    expect_summary(s, segments=1)
    text = "a\u2026b\u3002c\uff01d\uff1fe!f?g.h i...j .k"
    _, ngrams, s, _, _ = ref_case([], files={"t.txt": text})
    expect_rows(ngrams, [[2, "g.h i", 1, 1]], "ngrams terminators")
    expect_summary(s, segments=9, tokens=10)


def test_ref_golden_malformed_utf8():
    raw = (b"ab\x80cd \xc0\x80 \xed\xa0\x80x \xef\xbf\xbd y a-\xffb 1,\xe2\x82000 "
           b"\xf0\x9f\x98\xf4\x90\x80\x80z\xe1\x80")
    terms, ngrams, s, _, _ = ref_case([], files={"m.txt": raw})
    # maximal subparts: 80 | C0 80 (2) | ED A0 80 (3) | FF | E2 82 | F0 9F 98 | F4 90 80 80
    # (4) | E1 80 at the end; the genuine U+FFFD is a separator but is not counted.
    expect_summary(s, invalid_utf8=1 + 2 + 3 + 1 + 1 + 1 + 4 + 1, segments=1, tokens=9)
    expect_rows(terms, [["000", 1, 1], ["1", 1, 1], ["a", 1, 1], ["ab", 1, 1], ["b", 1, 1],
                        ["cd", 1, 1], ["x", 1, 1], ["y", 1, 1], ["z", 1, 1]], "terms")
    expect_rows(ngrams, [[2, "000 z", 1, 1], [2, "1 000", 1, 1], [2, "a b", 1, 1],
                         [2, "ab cd", 1, 1], [2, "b 1", 1, 1], [2, "cd x", 1, 1],
                         [2, "x y", 1, 1], [2, "y a", 1, 1]], "ngrams")


def test_ref_golden_max_len():
    _, ngrams, s, _, _ = ref_case([], ["--max-len", "5"],
                                  files={"x.txt": "aaa bbbbbb ccc ddd İİ eee İ fff"})
    # bbbbbb (6 bytes) dropped and ends the segment; İİ folds to 6 bytes: same.
    expect_rows(ngrams, [[2, "ccc ddd", 1, 1], [2, "eee i\u0307", 1, 1],
                         [2, "i\u0307 fff", 1, 1]], "ngrams")
    expect_summary(s, long_tokens_dropped=2, tokens=6, segments=3)
    terms, _, s, _, _ = ref_case([], ["--max-len", "5", "--case", "keep"],
                                 files={"x.txt": "aaa bbbbbb ccc ddd İİ eee"})
    assert ["İİ", "1", "1"] in terms
    expect_summary(s, long_tokens_dropped=1)
    # Exactly 64 bytes is kept at the default; 65 is not.
    terms, _, s, _, _ = ref_case([], files={"x.txt": "b" * 64 + " " + "c" * 65 + " " + "ж" * 32})
    expect_rows(terms, [["b" * 64, 1, 1], ["ж" * 32, 1, 1]], "terms")
    expect_summary(s, long_tokens_dropped=1, segments=2)


def test_ref_golden_stopwords_and_min_len():
    files = {"s.txt": "The cat and a dog Zhakiyanov's hat.\nx y the z w STRAẞE ﬁ ok"}
    aux = {"stop": "the\n  AND \r\nzhakiyanov\u2019s\n\n \t\nstrasse\nfi\n"}
    terms, ngrams, s, _, _ = ref_case([], ["--min-len", "2", "--stopwords", "@stop"],
                                      files=files, aux=aux)
    # the(stop) cat and(stop) a(short) dog zhakiyanov's(stop) hat
    # x(short) y(short) the(stop) z(short) w(short) straße(stop) ﬁ->fi(stop) ok
    expect_rows(terms, [["cat", 1, 1], ["dog", 1, 1], ["hat", 1, 1], ["ok", 1, 1]], "terms")
    expect_rows(ngrams, [], "ngrams")
    expect_summary(s, tokens=4, excluded_tokens=11, segments=2, types=4)
    terms, ngrams, s, _, _ = ref_case([], ["--stopwords", "@stop"],
                                      files={"s.txt": "x y the z w"}, aux={"stop": "THE\n"})
    expect_rows(ngrams, [[2, "x y", 1, 1], [2, "z w", 1, 1]], "ngrams")
    expect_summary(s, documents=1, excluded_tokens=1, tokens=4)


def test_ref_golden_doc_sep():
    text = "a b\n \t\nc\x0b\n\nd\r\ne\n\u00a0\n\x0c\nd d\r\rb"
    for sep, docs, want in [
        ("file", 1, [["d", 3, 1], ["b", 2, 1], ["a", 1, 1], ["c", 1, 1], ["e", 1, 1]]),
        # lines: "a b" | blank | "c\v" | blank | d | e | NBSP (not blank) | blank | "d d" |
        # "" (between two CR) | "b"
        ("line", 7, [["d", 3, 2], ["b", 2, 2], ["a", 1, 1], ["c", 1, 1], ["e", 1, 1]]),
        ("blank", 5, [["d", 3, 2], ["b", 2, 2], ["a", 1, 1], ["c", 1, 1], ["e", 1, 1]]),
    ]:
        terms, _, s, _, _ = ref_case([], ["--doc-sep", sep], files={"d.txt": text, "e.txt": b""})
        expect_rows(terms, want, f"terms --doc-sep {sep}")
        # --doc-sep file: the empty file is a document too
        expect_summary(s, documents=docs + (1 if sep == "file" else 0))


def test_ref_golden_jsonl():
    lines = [
        b'\xef\xbb\xbf{"text":"Hello world"}',                 # BOM at file start: ignored
        b'{"text":"a\\u00e9\\ud83d\\ude00b", "id": [1, {"x": null}]}',
        b'{"text":"x\\ud800y \\udc00\\ud800\\ud83d\\ude00z"}',   # 3 lone, then a pair
        b'{"text":"p\xffq\xe2\x82"}',
        b'{"text":"ok","n":NaN}',
        b'{"text":5,"text":"late wins"}\r',
        b'{"text":"early","text":5}',
        b'{"text":"ok","x":"\xff"}',
        b'[1]',
        b'   \t\r',
        b'',
        b'{"text":"raw\ttab"}',
        b'{"text":""}',
        b'{"te\\u0078t":"escaped key"}',
        b'{"text":"ok"} x',
        b'\x0c',
        b'{"text":"line\\nbreak\\r\\nand\\/slash \\"q\\" back\\\\slash"}',
        b'{"text":"ok","n":-0.5e+3,"m":1E2,"b":[true,false]}',
        b'{"text":"ok","n":01}',
    ]
    data = b"\n".join(lines) + b"\n"
    terms, ngrams, s, _, _ = ref_case([], files={"r.jsonl": data})
    expect_summary(s, documents=9, bad_records=8, invalid_utf8=3 + 2, segments=10)
    got = {r[0]: int(r[1]) for r in terms}
    assert got == {"hello": 1, "world": 1, "a\u00e9": 1, "b": 1, "x": 1, "y": 1, "z": 1,
                   "p": 1, "q": 2, "late": 1, "wins": 1, "escaped": 1, "key": 1, "line": 1,
                   "break": 1, "and": 1, "slash": 2, "back": 1, "ok": 1}, got
    # --text-field, --format: the same bytes read as text make one document
    _, _, s, _, _ = ref_case([], ["--format", "text"], files={"r.jsonl": data})
    expect_summary(s, documents=1, bad_records=0)
    _, _, s, _, _ = ref_case([], ["--format", "jsonl", "--text-field", "body"],
                             files={"r.txt": b'{"body":"a b"}\n{"text":"c"}\n'})
    expect_summary(s, documents=1, bad_records=1, tokens=2)
    _, _, s, _, _ = ref_case([], files={"r.ndjson": b'{"text":"c"}\n'})
    expect_summary(s, documents=1, tokens=1)


def test_ref_golden_tables():
    text = "b b a a c\nB a é z 𐐨 ｆ"
    terms, _, _, raw, _ = ref_case([], ["--case", "keep", "--ngrams", "1"], files={"o.txt": text})
    # count desc, then UTF-8 bytes: B < a < z < é (C3) < ｆ (EF) < 𐐨 (F0)
    expect_rows(terms, [["a", 3, 1], ["b", 2, 1], ["B", 1, 1], ["c", 1, 1], ["z", 1, 1],
                        ["é", 1, 1], ["ｆ", 1, 1], ["𐐨", 1, 1]], "terms")
    terms, ngrams, _, raw, rawn = ref_case(
        [], ["--ngrams", "1-3", "--top", "2", "--min-count", "2", "--bom"],
        files={"o.txt": "x y z. x y z. x y q. p p p p"})
    assert raw.startswith(b"\xef\xbb\xbfterm,count,doc_count\n") and rawn.startswith(b"\xef\xbb\xbfn,")
    expect_rows(terms, [["p", 4, 1], ["x", 3, 1]], "terms top/min-count")
    expect_rows(ngrams, [[2, "p p", 3, 1], [2, "x y", 3, 1], [3, "p p p", 2, 1],
                         [3, "x y z", 2, 1]], "ngrams top/min-count per n")
    terms, ngrams, s, raw, rawn = ref_case([], ["--top", "0", "--ngrams", "2-2"],
                                           files={"o.txt": "x y"})
    assert raw == b"term,count,doc_count\n" and rawn == b"n,ngram,count,doc_count\n"
    expect_summary(s, types=2, ngram_types={"2": 1})
    _, ngrams, s, _, _ = ref_case([], ["--ngrams", "1"], files={"o.txt": "x y"})
    assert ngrams is None, "no ngrams.csv when B < 2"
    assert s["ngram_types"] == {}


def test_ref_golden_doc_counts():
    files = {"1.txt": "a b a b", "2.txt": "a b", "3.txt": "b a"}
    terms, ngrams, s, _, _ = ref_case([], files=files)
    expect_rows(terms, [["a", 4, 3], ["b", 4, 3]], "terms")
    expect_rows(ngrams, [[2, "a b", 3, 2], [2, "b a", 2, 2]], "ngrams")
    expect_summary(s, documents=3)


def test_ref_inputs_walk():
    with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
        write(os.path.join(tmp, "d", "b.txt"), "bee")
        write(os.path.join(tmp, "d", "a", "z.txt"), "zed")
        write(os.path.join(tmp, "d", ".h.txt"), "hidden")
        write(os.path.join(tmp, "d", ".hd", "x.txt"), "hidden")
        write(os.path.join(tmp, "list"), os.path.join(tmp, "d", "b.txt") + "\n")
        write(os.path.join(tmp, "c.txt.zst"), zstd_cli(b"see"))
        write(os.path.join(tmp, "e.jsonl.zst"), gentext.zstd_raw_frames(b'{"text":"ee"}', random.Random(1)))
        write(os.path.join(tmp, "f.txt.zst"), b"")
        assert csref.walk_dir(os.path.join(tmp, "d")) == [
            os.path.join(tmp, "d", "a", "z.txt"), os.path.join(tmp, "d", "b.txt")]
        s = ref_run([], [os.path.join(tmp, "d"), "@" + os.path.join(tmp, "list"),
                         os.path.join(tmp, "c.txt.zst"), os.path.join(tmp, "e.jsonl.zst"),
                         os.path.join(tmp, "f.txt.zst")], os.path.join(tmp, "o"))
        assert read(os.path.join(tmp, "o", "terms.csv")) == \
            b"term,count,doc_count\nbee,2,2\nee,1,1\nsee,1,1\nzed,1,1\n"
        expect_summary(s, documents=6)


def test_ref_zstd_frames_decode():
    rng = random.Random(5)
    data = gentext.gen_text(3, 3000)
    packed = split_frames(data, rng)
    out = subprocess.run(["zstd", "-dc", "-q"], input=packed, stdout=subprocess.PIPE, check=True)
    assert out.stdout == data


def test_ref_jsonl_scanner_agrees_with_json_module():
    """On lines that are valid UTF-8, the hand-written scanner accepts exactly what
    json.loads (strict, NaN/Infinity refused) accepts as an object with a string field."""
    def no_constants(name):
        raise ValueError(name)
    n_checked = 0
    for seed in range(6):
        data = gentext.gen_jsonl(seed, 150, bom=False)
        for line in data.split(b"\n"):
            if all(b in b" \t\r" for b in line):
                continue
            try:
                s = line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            try:
                obj = json.loads(s, parse_constant=no_constants)
                ok = isinstance(obj, dict) and isinstance(obj.get("text"), str)
            except ValueError:
                ok = False
            try:
                text, n_bad = csref.parse_jsonl_record(line, "text")
                mine = True
            except csref.BadRecord:
                mine = False
            assert mine == ok, (line, mine, ok)
            if ok:
                # json keeps lone surrogates; we turn each into one U+FFFD and count it.
                want = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in obj["text"])
                assert text == want, (line, text, want)
                assert n_bad == sum(1 for c in obj["text"] if 0xD800 <= ord(c) <= 0xDFFF)
            n_checked += 1
    assert n_checked > 500, n_checked


def test_ref_generator_is_deterministic():
    assert gentext.gen_text(11, 5000) == gentext.gen_text(11, 5000)
    assert gentext.gen_jsonl(11, 50) == gentext.gen_jsonl(11, 50)
    assert gentext.gen_text(11, 5000) != gentext.gen_text(12, 5000)


# =======================================================================================
# Engine vs reference
# =======================================================================================
def test_engine_defaults():
    generated_option_set("defaults", [], seeds=[1, 2, 3])


def test_engine_ngrams_1_3():
    generated_option_set("ngrams 1-3", ["--ngrams", "1-3"])


def test_engine_doc_sep_line():
    generated_option_set("doc-sep line", ["--doc-sep", "line"])


def test_engine_doc_sep_blank():
    generated_option_set("doc-sep blank", ["--doc-sep", "blank"])


def test_engine_join_lines():
    generated_option_set("join-lines", ["--join-lines"])


def test_engine_case_keep():
    generated_option_set("case keep", ["--case", "keep"])


def test_engine_normalize_nfkc():
    generated_option_set("nfkc", ["--normalize", "nfkc"])


def test_engine_normalize_nfc():
    generated_option_set("nfc", ["--normalize", "nfc"])


def test_engine_min_len_stopwords():
    generated_option_set("min-len 3 stopwords", ["--min-len", "3", "--stopwords", "@STOP"])


def test_engine_max_len_8():
    generated_option_set("max-len 8", ["--max-len", "8"])


def test_engine_min_count_top():
    generated_option_set("min-count 2 top 50", ["--min-count", "2", "--top", "50"])


def test_engine_top_ties():
    # Most rows are counted once: the top's last count holds far more rows than it has room
    # for, and the engine keeps only those whose first two bytes can reach it (reduce.h,
    # cs_tie_hist_part). NFKC terms can hold a space, as the joined n-gram keys do.
    generated_option_set("ngrams 1-3 top 300", ["--ngrams", "1-3", "--top", "300"],
                         seeds=[6, 7], split=False, file_bytes=30000)
    generated_option_set("nfkc ngrams 2-3 top 40", ["--normalize", "nfkc", "--ngrams", "2-3",
                                                    "--top", "40"], seeds=[8], split=False)


def test_engine_ngrams_2_4_top_bom():
    generated_option_set("ngrams 2-4 top 7 bom", ["--ngrams", "2-4", "--top", "7", "--bom"],
                         split=False)


def test_engine_ngrams_1_only():
    generated_option_set("ngrams 1 top 0", ["--ngrams", "1"], seeds=[4], split=False)
    generated_option_set("ngrams 3 top 0", ["--ngrams", "3", "--top", "0"], seeds=[4],
                         split=False)


def test_engine_combined_options():
    generated_option_set("nfkc keep stopwords blank join",
                         ["--normalize", "nfkc", "--case", "keep", "--stopwords", "@STOP",
                          "--doc-sep", "blank", "--join-lines", "--max-len", "20"],
                         seeds=[5], split=False)


# --cooc-terms: frequent and rare generated words, one folded the way a token would be,
# a stopword (never a token, so in no pair), a multi-word line (matches nothing), a BOM.
COOC_TERMS_FILE_TEXT = ("\ufeffthe\n  Almaty \nкөкжиек\nSTRASSE\nnew york\nof\nи\n"
                        "opposition\nex-governor\n1994-1997\n\n")


def test_engine_cooc_window_1():
    generated_option_set("window 1", ["--window", "1"], seeds=[1])


def test_engine_cooc_window_32_harmonic():
    generated_option_set("window 32 harmonic blank",
                         ["--window", "32", "--weight", "harmonic", "--doc-sep", "blank"],
                         seeds=[2], split=False)


def test_engine_cooc_harmonic_stopwords_min_len():
    generated_option_set("window 7 harmonic stopwords min-len 3",
                         ["--window", "7", "--weight", "harmonic", "--stopwords", "@STOP",
                          "--min-len", "3"], seeds=[3])


def test_engine_cooc_join_lines_top_min_count():
    generated_option_set("window 3 join-lines top 40 min-count 2",
                         ["--window", "3", "--join-lines", "--top", "40", "--min-count", "2"],
                         seeds=[4], split=False)


def test_engine_cooc_doc_vocab():
    generated_option_set("doc vocab 30 line", ["--cooc", "doc", "--cooc-vocab", "30",
                                               "--doc-sep", "line"], seeds=[1, 5])


def test_engine_cooc_doc_default_vocab_top():
    generated_option_set("doc blank top 300", ["--cooc", "doc", "--doc-sep", "blank",
                                               "--top", "300", "--min-count", "2"],
                         seeds=[6], split=False)


def test_engine_cooc_doc_terms_stopwords():
    generated_option_set("doc terms stopwords", ["--cooc", "doc", "--cooc-terms", "@TERMS",
                                                 "--stopwords", "@STOP", "--doc-sep", "line"],
                         seeds=[7])


def jsonl_case(label, args, name, seeds=(1, 2, 3), records=250):
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
            path = write(os.path.join(tmp, "in", name), gentext.gen_jsonl(seed, records))
            zc = write(os.path.join(tmp, "zc", name + ".zst"), zstd_cli(read(path)))
            zs = write(os.path.join(tmp, "zs", name + ".zst"),
                       split_frames(read(path), random.Random(seed)))
            check_against_engine(f"{label} seed {seed}", args, [path], tmp,
                                 [("zstd", [zc]), ("zstd tiny frames", [zs])])


def test_engine_jsonl():
    jsonl_case("jsonl", [], "records.jsonl")


def test_engine_jsonl_ngrams_1_3_join_lines():
    jsonl_case("jsonl ngrams 1-3 join-lines", ["--ngrams", "1-3", "--join-lines"],
               "records.ndjson", seeds=(4,))


def test_engine_jsonl_text_field_body():
    jsonl_case("jsonl text-field body", ["--text-field", "body"], "records.jsonl",
               seeds=(1, 2))


def test_engine_format_overrides():
    jsonl_case("format jsonl on .txt", ["--format", "jsonl"], "records.txt", seeds=(6,))
    jsonl_case("format text on .jsonl", ["--format", "text"], "records.jsonl", seeds=(6,))


def test_engine_inputs():
    """Folder walk (hidden entries skipped), a file named twice, @LIST, mixed .zst."""
    with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
        corpus = os.path.join(tmp, "in")
        files = gentext.write_corpus(corpus, 9, n_files=4, file_bytes=3000, jsonl_records=40)
        visible = [f for f in files if not hidden(os.path.relpath(f, corpus))]
        write(os.path.join(tmp, "list"), "\n".join(visible[:2]) + "\n")
        zpath = write(os.path.join(tmp, "extra.jsonl.zst"), zstd_cli(gentext.gen_jsonl(9, 30)))
        inputs = [corpus, visible[0], "@" + os.path.join(tmp, "list"), zpath]
        check_against_engine("inputs", [], inputs, tmp)


# Tiny inputs, one rule each: when one fails, the input is its own minimal reproduction.
EDGE_CASES = [
    ("empty file", "e.txt", b"", [[], ["--doc-sep", "line"], ["--doc-sep", "blank"]]),
    ("BOM at text start", "b.txt", b"\xef\xbb\xbfword word\n", [[], ["--doc-sep", "line"]]),
    ("CR-only line ends", "cr.txt", b"a b\rc d\r\r  \re f\r", [[], ["--doc-sep", "line"],
                                                              ["--doc-sep", "blank"]]),
    ("CRLF blank lines", "crlf.txt", b"a\r\n\r\nb\r\n \t\r\nc d\r\n",
     [["--doc-sep", "line"], ["--doc-sep", "blank"]]),
    ("NBSP line is not blank", "nb.txt", b"a b\n\xc2\xa0\nc d\n", [["--doc-sep", "blank"],
                                                                 ["--doc-sep", "line"]]),
    ("VT FF blank line", "vf.txt", b"a b\n\x0b\x0c \t\nc d", [["--doc-sep", "blank"],
                                                            ["--doc-sep", "line"]]),
    ("truncated UTF-8 at end", "t.txt", b"abc def \xe2\x82", [[], ["--doc-sep", "line"]]),
    ("only malformed", "m.txt", b"\xff\xfe\x80\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80", [[]]),
    ("malformed next to joiners", "j.txt",
     b"a-\x80b 1,\xc3000 a\xe2\x80\x99\xffs x\xff.y 3.\xe2\x82", [[]]),
    ("genuine U+FFFD", "f.txt", "a\ufffdb c-\ufffdd".encode(), [[]]),
    ("U+2028 U+0085 are not line breaks", "ls.txt", "a\u2028b\u0085c\x0bd\x0ce".encode(),
     [[], ["--doc-sep", "line"]]),
    ("terminators and joiners", "tj.txt",
     "a.b. c.d.e...f !g U.S.A. 3.5. x\u2026y z\u3002w 1.\u0661 e\u0301.x".encode(),
     [[], ["--ngrams", "1-3"]]),
    ("comma between digits", "c.txt",
     "1,000,000 \u0661,\u0662 1,a a,1 \u00b2,3 \uff11,\uff12 1,,2 ,5 5, 1,\u0301".encode(),
     [[], ["--normalize", "nfkc"]]),
    ("apostrophes and hyphens", "ah.txt",
     "rock-'n'-roll x--y don\u2019t co\u2010op a\u2011b 'a' -b- a'-b a\u2019\u2019b".encode(),
     [[], ["--case", "keep"]]),
    ("max-len boundaries", "ml.txt",
     ("b" * 64 + " " + "c" * 65 + " x y " + "\u0436" * 32 + " " + "\u0436" * 33 + " "
      + "\u0130" * 22 + " " + "\ufb03" * 22 + " " + "\u00df" * 32 + " z").encode(),
     [[], ["--case", "keep"], ["--max-len", "2"]]),
    ("full folding", "ff.txt",
     "Stra\u00dfe STRASSE \u1e9e \u0130 \ufb01 \u0149 \u01c5 \u03a3\u039f\u03a6\u039f\u03a3 "
     "\u1f88 \u0390 \u212a \u212b \u2126 \u13a0 \uab70 \U00010400 \U0001e900".encode(),
     [[], ["--normalize", "nfc"], ["--normalize", "nfkc"], ["--case", "keep",
                                                           "--normalize", "nfkc"]]),
    ("NFKC term with spaces", "sp.txt", "\ufdfa x \ufdfa. \ufdfb \ufdfa".encode(),
     [["--normalize", "nfkc", "--ngrams", "1-3"]]),
    ("NFKC term with comma or full stop (CSV quoting)", "q.txt",
     "\U0001f102 \u2488 \u2474 \u037a \ufe70 \u2189 x\U0001f101y".encode(),
     [["--normalize", "nfkc"], []]),
    ("min-len counts code points after folding", "mn.txt",
     "\u00df \ufb03 ab e\u0301 \u0130 x".encode(),
     [["--min-len", "2"], ["--min-len", "3"], ["--min-len", "2", "--normalize", "nfc"]]),
    ("JSONL surrogates", "s.jsonl",
     b'{"text":"a\\ud83d\\ude00b \\ud800 c\\udc00d \\ude00\\ud83d e\\ud83dx"}\n'
     b'{"text":"\\uD835\\uDFCF\\uD835\\uDFD0 f\\u00e9 \\u0041\\u0301"}\n', [[]]),
    ("JSONL duplicate keys", "d.jsonl",
     b'{"text":"first","text":"second"}\n{"text":1,"text":"third"}\n'
     b'{"text":"fourth","text":null}\n{"te\\u0078t":"fifth"}\n', [[]]),
    ("JSONL BOM CRLF blank", "b.jsonl",
     b'\xef\xbb\xbf{"text":"one"}\r\n\r\n  \t\r\n{"text":"two"}\r\n\xef\xbb\xbf{"text":"x"}\n',
     [[]]),
    ("JSONL strictness", "st.jsonl",
     b'{"text":"ok","n":NaN}\n{"text":"ok","n":1e5}\n{"text":"ok","n":-0}\n'
     b'{"text":"ok"} \n{"text":"ok"}x\n{"text":"a\x01"}\n{"text":"a\x7f\\u0000b"}\n'
     b'{"text":"ok","x":"\xff"}\n{"text":"\xff ok"}\n{"text":"ok","\xc3":1}\n'
     b'[{"text":"no"}]\n{"a":{"text":"no"}}\n{"text":"ok","a":[1,2,{"b":[]}]}\n'
     b'{"text":"ok",}\n{"text":"\\x"}\n{"text":"\\u00G0"}\n{"text":"ok"}{"text":"ok"}\n'
     b'{"text":"ok","n":123456789012345678901234567890.5e-7}\n'
     b'{"text":"ok","d":' + b"[" * 300 + b"]" * 300 + b'}\n'
     b'{"text":"ok","d":' + b"[" * 100000 + b'}\n', [[]]),
    ("JSONL text field", "tf.jsonl",
     b'{"text":"a","body":"b c"}\n{"body":5}\n{"body":"d\\ne"}\n', [["--text-field", "body"]]),
]


def test_engine_edge_cases():
    engine_path()
    failures = []
    for name, fname, data, arg_sets in EDGE_CASES:
        for args in arg_sets:
            with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
                path = write(os.path.join(tmp, "in", fname), data)
                try:
                    check_against_engine(name, args, [path], tmp)
                except AssertionError as e:
                    failures.append(f"--- {name}: input {fname} = {data!r}, args {args}\n{e}")
    assert not failures, f"{len(failures)} edge cases differ:\n" + "\n".join(failures)


def test_engine_byte_soup():
    """Random bytes (every byte value, joiners, terminators, line breaks), read as text
    and wrapped as JSONL text strings, cut into tiny chunks."""
    alphabet = [bytes([b]) for b in range(256)] + \
        [c.encode() for c in "aé-'.,1٣ \n\r\u2019\u2010…。ß İ"] * 8
    for seed in range(12):
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
            for k in range(3):
                data = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3000)))
                name = f"{k}.txt"
                if k and rng.random() < 0.5:
                    name = f"{k}.jsonl"
                    data = b"\n".join(b'{"text":"' + d.replace(b'"', b"").replace(b"\\", b"")
                                      + b'"}' for d in data.split(b"\n"))
                write(os.path.join(tmp, "in", name), data)
            args = rng.choice([[], ["--doc-sep", "line"], ["--doc-sep", "blank"],
                               ["--normalize", "nfkc", "--ngrams", "1-3"], ["--join-lines"]])
            check_against_engine(f"byte soup seed {seed}", args, [os.path.join(tmp, "in")],
                                 tmp, threads=(3,), chunk_sizes=[rng.choice([1, 2, 3, 5, 11])])


def test_engine_zstd_shards():
    """Good, empty, skippable-only and broken .zst shards: a broken one counts nothing."""
    rng = random.Random(3)
    text = gentext.gen_text(21, 4000)
    good = zstd_cli(text)
    shards = {
        "good.txt.zst": good,
        "frames.jsonl.zst": gentext.zstd_raw_frames(gentext.gen_jsonl(21, 40), rng),
        "empty.txt.zst": b"",
        "skippable-only.txt.zst": gentext.zstd_skippable_frame(rng) + gentext.zstd_skippable_frame(rng),
        "truncated.txt.zst": good[:len(good) // 2],
        "cut-second-frame.txt.zst": good + good[:len(good) - 3],
        "not-zstd.txt.zst": b"not zstd at all\n",
        "trailing-garbage.txt.zst": good + b"xyz",
        "bad-checksum.txt.zst": good[:-1] + bytes([good[-1] ^ 1]),
    }
    failures = []
    for name, data in shards.items():
        for args in ([], ["--doc-sep", "line"]):
            with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
                path = write(os.path.join(tmp, "in", name), data)
                try:
                    check_against_engine(name, args, [path], tmp, chunk_sizes=[7])
                except AssertionError as e:
                    failures.append(f"--- shard {name}, args {args}\n{e}")
    with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
        for name, data in shards.items():
            write(os.path.join(tmp, "in", name), data)
        try:
            check_against_engine("all shards", [], [os.path.join(tmp, "in")], tmp)
        except AssertionError as e:
            failures.append(f"--- all shards together\n{e}")
    assert not failures, f"{len(failures)} zstd cases differ:\n" + "\n".join(failures)


def test_engine_stdin():
    """`-` reads stdin (plain text unless --format jsonl)."""
    for seed, args, data in [(31, [], gentext.gen_text(31, 6000)),
                             (32, ["--doc-sep", "blank"], gentext.gen_text(32, 6000)),
                             (33, ["--format", "jsonl"], gentext.gen_jsonl(33, 60))]:
        with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
            path = write(os.path.join(tmp, "stdin-copy"), data)
            ref_dir, eng_dir = os.path.join(tmp, "ref"), os.path.join(tmp, "eng")
            ref_run(args, [path], ref_dir)
            for t in (1, 3):
                engine_run(args, ["-"], eng_dir, t, stdin=data)
                compare_dirs(ref_dir, eng_dir, f"stdin seed {seed}, -T {t}, args {args}")
                shutil.rmtree(eng_dir)


def test_engine_output_inside_input_and_missing_input():
    """The output folder is never read as input, also inside an input folder (second
    run: the first run's tables lie there); a missing input is skipped and counted."""
    with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
        corpus = os.path.join(tmp, "in")
        gentext.write_corpus(corpus, 41, n_files=3, file_bytes=3000, jsonl_records=20)
        out = os.path.join(corpus, "out")
        ref_dir = os.path.join(tmp, "ref")
        missing = os.path.join(tmp, "no-such-file.txt")
        ref_run([], [corpus, missing], ref_dir)
        for t in (1, 3, 3):
            engine_run([], [corpus, missing], out, t)
            compare_dirs(ref_dir, out, f"output folder inside the input folder, -T {t}")


def test_engine_brown_press():
    assert os.path.isdir(BROWN) and any(n.endswith(".txt") for n in os.listdir(BROWN)), (
        f"tests/data/brown-press/ is missing or empty ({BROWN}): it should hold the Brown "
        f"press texts as plain .txt files (created by the data helper)")
    with tempfile.TemporaryDirectory(prefix="csref-") as tmp:
        zc = os.path.join(tmp, "zst")
        mirror_zst(BROWN, zc, "cli")
        # --min-count 2: half the rows, half the reference's time (its exact logarithms
        # of 200,000 window pairs took 8 s); the margins still span every pair.
        check_against_engine("brown-press min-count 2", ["--min-count", "2"], [BROWN], tmp,
                             [("zstd", [zc])])
        check_against_engine("brown-press ngrams 1-3 blank", ["--ngrams", "1-3", "--doc-sep", "blank"],
                             [BROWN], tmp)
        # --top: the reference's exact logarithms of all 200,000 pairs would take a minute
        check_against_engine("brown-press window 4 harmonic top 3000",
                             ["--ngrams", "1", "--window", "4", "--weight", "harmonic",
                              "--top", "3000"], [BROWN], tmp, threads=(2,))
        check_against_engine("brown-press doc vocab 300 blank",
                             ["--ngrams", "1", "--cooc", "doc", "--cooc-vocab", "300",
                              "--doc-sep", "blank"], [BROWN], tmp, [("zstd", [zc])], threads=(3,))


if __name__ == "__main__":
    sys.exit(csutil.run_standalone(globals()))
