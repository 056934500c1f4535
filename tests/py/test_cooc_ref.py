"""Co-occurrence in the reference (tests/ref/csref.py), checked against hand computation.

The engine does not count co-occurrence yet, so these tests run the reference alone: each
case is small enough to be counted on paper, and the arithmetic is written beside it.
The contract (spec v1, "Tables", "Output", "Precisions"):

  --cooc window, --window W (1..32, default 5), --weight none|harmonic: positions i < j of
      one segment with j - i <= W holding DIFFERENT terms add 1 (harmonic: 1/(j-i)) to the
      unordered pair; excluded tokens (stopwords, --min-len) keep their position but are in
      no pair; a token dropped by --max-len ends the segment.
  --cooc doc, --cooc-vocab K (default 5000) | --cooc-terms FILE: each document adds 1 to
      every unordered pair of distinct vocabulary terms it contains; the vocabulary is the
      K terms of highest doc_count (ties by term bytes) or the terms of FILE.
  Window measures: m_a = sum of c_ab over all b (before pruning), T = sum of m_a;
      pmi = log2(c*T/(m_a*m_b)), npmi = pmi / -log2(c/T), llr = Dunning G^2 on
      k11 = c, k12 = m_a - c, k21 = m_b - c, k22 = T - m_a - m_b + c, E from the margins.
  Doc measures: the same with D documents and doc_count df; npmi = 1 when c = D.
  cooc.csv: term_a,term_b,count,pmi,npmi,llr; term_a < term_b bytewise; count desc, then
      term_a, then term_b (bytes); --min-count, --top as for the other tables.

In the 2x2 tables below, rows are "a" / "not a", columns "b" / "not b", N the total, and
E = row * column / N.  Measures are compared with a relative tolerance of 1e-12 against
the formula evaluated in doubles (the reference computes them to 50 digits).

Runs under tests/run.py (`python3 tests/run.py -k test_cooc_ref`) or alone:
    python3 tests/py/test_cooc_ref.py [SUBSTRING]
"""
import contextlib
import io
import math
import os
import sys
import tempfile
from fractions import Fraction
from math import log, log2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "ref"))
import csref      # noqa: E402
import csutil     # noqa: E402

HEADER = "term_a,term_b,count,pmi,npmi,llr"


# =======================================================================================
# Helpers
# =======================================================================================
def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def _materialize(tmp, files, args, aux):
    """Writes files (inputs, in the given order) and aux files (not inputs); an argument
    "@NAME" becomes the path of aux file NAME."""
    paths = [_write(os.path.join(tmp, "in", name), data) for name, data in files.items()]
    for name, data in (aux or {}).items():
        _write(os.path.join(tmp, "aux", name), data)
    args = [os.path.join(tmp, "aux", a[1:]) if a.startswith("@") else a for a in args]
    return paths, args


def run(files, args=(), aux=None, outdir=None):
    """The reference CLI (in-process) on files {name: text}.  Returns (rows, raw, summary):
    rows of cooc.csv as lists of str without the header (None when there is no
    cooc.csv), its bytes, and the summary dict."""
    with tempfile.TemporaryDirectory(prefix="csref-cooc-") as tmp:
        paths, args = _materialize(tmp, files, args, aux)
        out = outdir or os.path.join(tmp, "out")
        with contextlib.redirect_stderr(io.StringIO()):
            summary = csref.main([*args, "-q", "-o", out, *paths])
        path = os.path.join(out, "cooc.csv")
        if not os.path.exists(path):
            return None, None, summary
        with open(path, "rb") as f:
            raw = f.read()
    lines = raw.decode("utf-8").split("\n")
    assert lines[0].lstrip("\ufeff") == HEADER and lines[-1] == "", lines[:1]
    return [l.split(",") for l in lines[1:-1]], raw, summary


def exact_rows(files, args=(), aux=None):
    """The reference as a library: cooc rows with their exact counts (int or Fraction)."""
    with tempfile.TemporaryDirectory(prefix="csref-cooc-") as tmp:
        paths, args = _materialize(tmp, files, args, aux)
        parser = csref.build_parser()
        a = parser.parse_args([*args, "-q", *paths])
        csref.check_args(parser, a)
        opts = csref.options_from_args(a)
        with contextlib.redirect_stderr(io.StringIO()):
            counts = csref.count_inputs(a.inputs, opts)
        return [(r[0], r[1], r[2]) for r in csref.cooc_rows(counts)]


def expect_pairs(rows, want, what):
    """rows: CSV rows; want: [(term_a, term_b, count as printed)]: keys, counts, order."""
    csutil.assert_rows([tuple(r[:3]) for r in rows], [(a, b, str(c)) for a, b, c in want],
                       f"{what}: reference cooc.csv differs from the hand-computed pairs")


def expect_measures(rows, a, b, pmi, npmi, llr, what):
    row = [r for r in rows if r[0] == a and r[1] == b]
    assert len(row) == 1, f"{what}: no single row ({a}, {b}) in {rows}"
    for name, got, want in (("pmi", row[0][3], pmi), ("npmi", row[0][4], npmi),
                            ("llr", row[0][5], llr)):
        assert math.isclose(float(got), want, rel_tol=1e-12, abs_tol=1e-15), \
            f"{what}: ({a}, {b}) {name} = {got}, hand-computed {want!r}"


def expect_usage_error(args, files=None):
    with tempfile.TemporaryDirectory(prefix="csref-cooc-") as tmp:
        paths, args = _materialize(tmp, files or {"x.txt": "a b"}, args, {"t": "a\n"})
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                csref.main([*args, "-q", "-o", os.path.join(tmp, "out"), *paths])
        except SystemExit as e:
            assert e.code == 2, f"{args}: exit {e.code}, want 2"
            return
        raise AssertionError(f"{args}: accepted, want a usage error (exit 2)")


WIN = ["--cooc", "window"]
DOC = ["--cooc", "doc", "--doc-sep", "line"]


# =======================================================================================
# Window scope: which pairs
# =======================================================================================
def test_cooc_ref_window_w1_w2_default():
    # "a b c d": positions a0 b1 c2 d3.
    # W=1: (0,1) a-b, (1,2) b-c, (2,3) c-d: three pairs, 1 each.
    rows, _, s = run({"x.txt": "a b c d"}, WIN + ["--window", "1"])
    expect_pairs(rows, [("a", "b", 1), ("b", "c", 1), ("c", "d", 1)], "W=1")
    assert s["cooc_pairs"] == 3
    # W=2 adds the distance-2 pairs (0,2) a-c and (1,3) b-d; all count 1, so bytes order.
    rows, _, _ = run({"x.txt": "a b c d"}, WIN + ["--window", "2"])
    expect_pairs(rows, [("a", "b", 1), ("a", "c", 1), ("b", "c", 1), ("b", "d", 1),
                        ("c", "d", 1)], "W=2")
    # Default W=5 on a0 .. g6: distances 1..5 give 6+5+4+3+2 = 20 pairs; a-g (distance
    # 6) is the only pair of the 21 missing; a-f (distance 5) is in.
    rows, _, s = run({"x.txt": "a b c d e f g"}, WIN)
    keys = {(r[0], r[1]) for r in rows}
    assert len(rows) == 20 and ("a", "f") in keys and ("a", "g") not in keys, rows
    assert all(r[2] == "1" for r in rows), rows
    # --window 32 (the maximum) reaches them all: 21 pairs.
    rows, _, _ = run({"x.txt": "a b c d e f g"}, WIN + ["--window", "32"])
    assert len(rows) == 21, rows


def test_cooc_ref_segment_boundaries():
    # "a b. c d\ne f": the '.' and the line break end segments: [a b] [c d] [e f].
    # W=5 would reach across them (b-c is distance 1 in the text), but no pair crosses
    # a segment end: only a-b, c-d, e-f.
    rows, _, _ = run({"x.txt": "a b. c d\ne f"}, WIN)
    expect_pairs(rows, [("a", "b", 1), ("c", "d", 1), ("e", "f", 1)], "segments")
    # --join-lines: the line break no longer ends a segment: [a b] [c d e f], and
    # c-d, c-e, c-f, d-e, d-f, e-f (distances 1, 2, 3, 1, 2, 1 <= 5) all count.
    rows, _, _ = run({"x.txt": "a b. c d\ne f"}, WIN + ["--join-lines"])
    expect_pairs(rows, [("a", "b", 1), ("c", "d", 1), ("c", "e", 1), ("c", "f", 1),
                        ("d", "e", 1), ("d", "f", 1), ("e", "f", 1)], "join-lines")
    # A token dropped by --max-len (10 bytes > 5) ends the segment: [a b] [c d]; no b-c.
    rows, _, s = run({"x.txt": "a b xxxxxxxxxx c d"}, WIN + ["--max-len", "5"])
    expect_pairs(rows, [("a", "b", 1), ("c", "d", 1)], "max-len")
    assert s["long_tokens_dropped"] == 1
    # Documents end segments: two files (--doc-sep file) give no b-c either.
    rows, _, _ = run({"1.txt": "a b", "2.txt": "c d"}, WIN)
    expect_pairs(rows, [("a", "b", 1), ("c", "d", 1)], "documents")


def test_cooc_ref_stopword_hole():
    # "a the b" with the stopword "the": positions a0 the1 b2; "the" occupies position 1
    # but holds no term.  W=1: (0,1) and (1,2) touch the hole, (0,2) is distance 2 > 1:
    # no pair at all (the file holds the header only).
    stop = {"stop": "THE\n"}
    rows, raw, s = run({"x.txt": "a the b"}, WIN + ["--window", "1", "--stopwords", "@stop"],
                       aux=stop)
    assert rows == [] and raw == (HEADER + "\n").encode(), raw
    assert s["excluded_tokens"] == 1 and s["cooc_pairs"] == 0
    # W=2: (0,2) a-b at distance 2 counts 1 (the hole is not squeezed out: the distance
    # stays 2), and harmonic gives 1/2 = 0.5.
    rows, _, _ = run({"x.txt": "a the b"}, WIN + ["--window", "2", "--stopwords", "@stop"],
                     aux=stop)
    expect_pairs(rows, [("a", "b", 1)], "hole W=2")
    rows, _, _ = run({"x.txt": "a the b"},
                     WIN + ["--window", "2", "--weight", "harmonic", "--stopwords", "@stop"],
                     aux=stop)
    expect_pairs(rows, [("a", "b", 0.5)], "hole W=2 harmonic")
    # --min-len 2 makes the same kind of hole: "aa b cc" -> aa0 (b)1 cc2.
    rows, _, _ = run({"x.txt": "aa b cc"}, WIN + ["--window", "1", "--min-len", "2"])
    assert rows == [], rows
    rows, _, _ = run({"x.txt": "aa b cc"}, WIN + ["--window", "2", "--min-len", "2"])
    expect_pairs(rows, [("aa", "cc", 1)], "min-len hole W=2")


def test_cooc_ref_repeated_term():
    # "a a b", W=2: positions a0 a1 b2.
    #   (0,1) a-a: same term, never counted;  (0,2) a-b distance 2: +1;
    #   (1,2) a-b distance 1: +1.  So {a,b} = 2 (every pair of positions counts).
    rows, _, s = run({"x.txt": "a a b"}, WIN + ["--window", "2"])
    expect_pairs(rows, [("a", "b", 2)], "a a b")
    assert s["cooc_pairs"] == 1
    # Harmonic: 1/2 + 1/1 = 3/2 = 1.5.
    rows, _, _ = run({"x.txt": "a a b"}, WIN + ["--window", "2", "--weight", "harmonic"])
    expect_pairs(rows, [("a", "b", 1.5)], "a a b harmonic")
    assert exact_rows({"x.txt": "a a b"}, WIN + ["--window", "2", "--weight", "harmonic"]) \
        == [("a", "b", Fraction(3, 2))]
    # "a b a", W=2: (0,1) a-b +1, (1,2) b-a +1 (the same unordered pair), (0,2) a-a no.
    rows, _, _ = run({"x.txt": "a b a"}, WIN + ["--window", "2"])
    expect_pairs(rows, [("a", "b", 2)], "a b a")
    # "a a": only a same-term pair: no row.
    rows, _, _ = run({"x.txt": "a a"}, WIN)
    assert rows == [], rows


# =======================================================================================
# Window scope: harmonic weights
# =======================================================================================
def test_cooc_ref_harmonic_exact():
    # "p q r s", W=3, harmonic: distance 1 -> 1, 2 -> 1/2, 3 -> 1/3.
    #   p-q 1, q-r 1, r-s 1;  p-r 1/2, q-s 1/2;  p-s 1/3.
    args = WIN + ["--window", "3", "--weight", "harmonic"]
    assert exact_rows({"x.txt": "p q r s"}, args) == [
        ("p", "q", 1), ("q", "r", 1), ("r", "s", 1),
        ("p", "r", Fraction(1, 2)), ("q", "s", Fraction(1, 2)), ("p", "s", Fraction(1, 3))]
    rows, _, _ = run({"x.txt": "p q r s"}, args)
    expect_pairs(rows, [("p", "q", "1.0"), ("q", "r", "1.0"), ("r", "s", "1.0"),
                        ("p", "r", "0.5"), ("q", "s", "0.5"),
                        ("p", "s", "0.3333333333333333")], "harmonic printed")
    # Two segments "p q r s. p x y s": p-s = 1/3 + 1/3 = 2/3 exactly.
    got = dict(((a, b), c) for a, b, c in exact_rows({"x.txt": "p q r s. p x y s"}, args))
    assert got[("p", "s")] == Fraction(2, 3), got
    # Harmonic measures, "a b c", W=2: a-b 1, b-c 1, a-c 1/2.
    #   m_a = 1 + 1/2 = 3/2, m_b = 1 + 1 = 2, m_c = 3/2; T = 3/2 + 2 + 3/2 = 5.
    #   a-c: pmi = log2((1/2)*5 / ((3/2)*(3/2))) = log2(10/9) = 0.15200309344505006
    #        npmi = log2(10/9) / -log2((1/2)/5) = log2(10/9) / log2(10) = 0.04575749056067515
    #        table    b      not b  | row          E      b       not b
    #        a        1/2    1      | 3/2          a      9/20    21/20
    #        not a    1      5/2    | 7/2          not a  21/20   49/20
    #        column   3/2    7/2    | N = 5
    #        llr = 2*(1/2 ln(10/9) + ln(20/21) + ln(20/21) + 5/2 ln(50/49))
    #            = 0.011213395567695475
    rows, _, _ = run({"x.txt": "a b c"}, WIN + ["--window", "2", "--weight", "harmonic"])
    expect_pairs(rows, [("a", "b", "1.0"), ("b", "c", "1.0"), ("a", "c", "0.5")], "a b c")
    expect_measures(rows, "a", "c", log2(10 / 9), log2(10 / 9) / log2(10),
                    2 * (0.5 * log(10 / 9) + 2 * log(20 / 21) + 2.5 * log(50 / 49)),
                    "harmonic a-c")
    # The reference computes harmonic measures on integers in units of 1/lcm(1..W)
    # (and divides G^2 by the unit); the direct computation on Fractions agrees.
    assert csref.cooc_measures(Fraction(1, 2), Fraction(3, 2), Fraction(3, 2), 5) == \
        csref.cooc_measures(1, 3, 3, 10, unit=2)


def test_cooc_ref_harmonic_ties():
    # "p s q. p t q. a b", W=2, harmonic:
    #   [p s q]: p-s 1, q-s 1 (s-q), p-q 1/2;  [p t q]: p-t 1, q-t 1, p-q 1/2;  [a b]: a-b 1.
    #   p-q = 1/2 + 1/2 = 1: an exact tie with the single distance-1 pairs, so all six
    #   rows count 1 and stand in bytes order of (term_a, term_b).
    args = WIN + ["--window", "2", "--weight", "harmonic"]
    text = "p s q. p t q. a b"
    rows, _, _ = run({"x.txt": text}, args)
    expect_pairs(rows, [("a", "b", "1.0"), ("p", "q", "1.0"), ("p", "s", "1.0"),
                        ("p", "t", "1.0"), ("q", "s", "1.0"), ("q", "t", "1.0")], "1/2+1/2")
    assert dict(((a, b), c) for a, b, c in exact_rows({"x.txt": text}, args))[("p", "q")] == 1
    # A tie that a double would break: ten segments "a + 9 stopwords + b" (distance 10,
    # W=10): a-b = 10 * 1/10 = 1 exactly; "y z": y-z = 1.  Equal counts: a-b first (bytes).
    # Summing the double 0.1 ten times gives 0.9999999999999999, which would print that
    # way and put y-z first.
    assert sum([0.1] * 10) != 1.0
    text = "a " + "the " * 9 + "b\n"
    rows, _, _ = run({"x.txt": text * 10 + "y z\n"},
                     WIN + ["--window", "10", "--weight", "harmonic", "--stopwords", "@s"],
                     aux={"s": "the\n"})
    expect_pairs(rows, [("a", "b", "1.0"), ("y", "z", "1.0")], "ten tenths")


# =======================================================================================
# Doc scope
# =======================================================================================
def test_cooc_ref_doc_vocab_tie():
    # --doc-sep line, four documents:
    #   1 "b z é"   2 "z b"   3 "é d"   4 "b"
    # doc_count: b 3, z 2, é 2, d 1.  --cooc-vocab 2: b, then the tie z / é at 2 is
    # broken by bytes: z (7A) < é (C3 A9), so the vocabulary is {b, z} (a dictionary
    # order would take é).  Pairs: doc 1 b-z, doc 2 b-z -> b-z 2.
    files = {"d.txt": "b z é\nz b\né d\nb\n"}
    rows, _, s = run(files, DOC + ["--cooc-vocab", "2"])
    expect_pairs(rows, [("b", "z", 2)], "vocab 2")
    assert s["documents"] == 4
    # Measures of b-z: D = 4, df_b = 3, df_z = 2, c = 2.
    #   pmi = log2(2*4/(3*2)) = log2(4/3) = 0.41503749927884376
    #   npmi = log2(4/3) / -log2(2/4) = log2(4/3) / 1 = 0.41503749927884376
    #   table    z   not z | row      E      z     not z
    #   b        2   1     | 3        b      1.5   1.5
    #   not b    0   1     | 1        not b  0.5   0.5
    #   column   2   2     | N = 4
    #   llr = 2*(2 ln(2/1.5) + 1 ln(1/1.5) + 0 + 1 ln(1/0.5))     (0 ln 0 = 0)
    #       = 2*(2 ln 4 - 2 ln 3 + ln 2 - ln 3 + ln 2) = 2*(6 ln 2 - 3 ln 3)
    #       = 6 ln(4/3) = 1.7260924347106852
    expect_measures(rows, "b", "z", log2(4 / 3), log2(4 / 3), 6 * log(4 / 3), "vocab 2 b-z")
    # --cooc-vocab 3: {b, z, é}.  doc 1: b-z, b-é, z-é; doc 2: b-z.
    rows, _, _ = run(files, DOC + ["--cooc-vocab", "3"])
    expect_pairs(rows, [("b", "z", 2), ("b", "é", 1), ("z", "é", 1)], "vocab 3")
    # --cooc-vocab 1: one term, no pair; 0: nothing.  The default (5000) takes all four.
    for k in ("1", "0"):
        rows, _, _ = run(files, DOC + ["--cooc-vocab", k])
        assert rows == [], (k, rows)
    rows, _, _ = run(files, DOC)
    expect_pairs(rows, [("b", "z", 2), ("b", "é", 1), ("d", "é", 1), ("z", "é", 1)],
                 "default vocab")
    # --window and --weight belong to window scope: doc scope ignores them.
    _, raw1, _ = run(files, DOC)
    _, raw2, _ = run(files, DOC + ["--window", "1", "--weight", "harmonic"])
    assert raw1 == raw2, (raw1, raw2)


def test_cooc_ref_cooc_terms():
    # Each line of the file is one whole term, trimmed, joiners in ASCII form, folded
    # (not tokenized): "  The  " -> the, "CITY" -> city, "Straße" -> strasse (full
    # folding), "Zhakiyanov’s" -> zhakiyanov's; "new york" holds a space and matches no
    # term; "U.S." -> "u.s." (never a term: the final dot is not a joiner); "" skipped.
    terms = "  The  \nCITY\n\nStraße\nZhakiyanov\u2019s\nnew york\nU.S.\n"
    docs = ("The City is big\n"                    # the, city             -> city-the
            "STRASSE and the city\n"               # strasse, the, city    -> city-strasse,
                                                   #                 city-the, strasse-the
            "strasse\n"                            # one term: no pair
            "Zhakiyanov's city\n"                  # -> city-zhakiyanov's
            "new york city, U.S. today\n")         # only city is listed: no pair
    rows, _, _ = run({"d.txt": docs}, DOC + ["--cooc-terms", "@terms"], aux={"terms": terms})
    expect_pairs(rows, [("city", "the", 2), ("city", "strasse", 1),
                        ("city", "zhakiyanov's", 1), ("strasse", "the", 1)], "cooc-terms")
    # A listed term that is a stopword never is in a document's term set: "the" goes.
    rows, _, _ = run({"d.txt": docs}, DOC + ["--cooc-terms", "@terms", "--stopwords", "@stop"],
                     aux={"terms": terms, "stop": "the\n"})
    expect_pairs(rows, [("city", "strasse", 1), ("city", "zhakiyanov's", 1)],
                 "cooc-terms with stopwords")


def test_cooc_ref_doc_measures():
    # --doc-sep line, five documents: "a b" | "a b c" | "a c" | "b" | "---" (a document
    # without terms: D counts it).  D = 5; df: a 3, b 3, c 2.
    # Pairs: doc 1 a-b; doc 2 a-b, a-c, b-c; doc 3 a-c  ->  a-b 2, a-c 2, b-c 1.
    rows, _, s = run({"d.txt": "a b\na b c\na c\nb\n---\n"}, ["--cooc", "doc", "--doc-sep", "line"])
    assert s["documents"] == 5
    expect_pairs(rows, [("a", "b", 2), ("a", "c", 2), ("b", "c", 1)], "doc pairs")
    # a-b: pmi = log2(2*5/(3*3)) = log2(10/9) = 0.15200309344505006
    #      npmi = log2(10/9) / -log2(2/5) = log2(10/9) / log2(5/2) = 0.11498590130048018
    #      table    b   not b | row     E      b     not b
    #      a        2   1     | 3       a      1.8   1.2
    #      not a    1   1     | 2       not a  1.2   0.8
    #      column   3   2     | N = 5
    #      llr = 2*(2 ln(2/1.8) + ln(1/1.2) + ln(1/1.2) + ln(1/0.8)) = 0.13844293808390656
    expect_measures(rows, "a", "b", log2(10 / 9), log2(10 / 9) / log2(5 / 2),
                    2 * (2 * log(2 / 1.8) + 2 * log(1 / 1.2) + log(1 / 0.8)), "doc a-b")
    # a-c: pmi = log2(2*5/(3*2)) = log2(5/3) = 0.7369655941662062
    #      npmi = log2(5/3) / log2(5/2) = 0.5574929506502401
    #      table    c   not c | row     E      c     not c
    #      a        2   1     | 3       a      1.2   1.8
    #      not a    0   2     | 2       not a  0.8   1.2
    #      column   2   3     | N = 5
    #      llr = 2*(2 ln(2/1.2) + ln(1/1.8) + 0 + 2 ln(2/1.2)) = 2*(4 ln(5/3) + ln(5/9))
    #          = 2.9110316603236877
    expect_measures(rows, "a", "c", log2(5 / 3), log2(5 / 3) / log2(5 / 2),
                    2 * (4 * log(5 / 3) + log(5 / 9)), "doc a-c")
    # b-c, a negative pmi: pmi = log2(1*5/(3*2)) = log2(5/6) = -0.2630344058337938
    #      npmi = log2(5/6) / -log2(1/5) = log2(5/6) / log2(5) = -0.11328275255937834
    #      table    c   not c | row     E      c     not c
    #      b        1   2     | 3       b      1.2   1.8
    #      not b    1   1     | 2       not b  0.8   1.2
    #      column   2   3     | N = 5
    #      llr = 2*(ln(1/1.2) + 2 ln(2/1.8) + ln(1/0.8) + ln(1/1.2)) = 0.13844293808390656
    expect_measures(rows, "b", "c", log2(5 / 6), log2(5 / 6) / log2(5),
                    2 * (2 * log(1 / 1.2) + 2 * log(2 / 1.8) + log(1 / 0.8)), "doc b-c")


def test_cooc_ref_doc_c_equals_D():
    # Two documents, both holding a and b: c = D = df_a = df_b = 2.
    #   pmi = log2(2*2/(2*2)) = 0; npmi = 0 / -log2(2/2) = 0/0: the contract says 1.
    #   table    b   not b | row      E: only E11 = 2*2/2 = 2 is needed
    #   a        2   0     | 2        llr = 2*(2 ln(2/2)) = 0
    #   not a    0   0     | 0
    rows, raw, _ = run({"d.txt": "a b\nb a\n"}, DOC)
    assert raw == (HEADER + "\na,b,2,0.0,1.0,0.0\n").encode(), raw
    # The same two files plus an empty file (--doc-sep file: a document too): D = 3.
    #   pmi = log2(2*3/(2*2)) = log2(3/2) = 0.5849625007211562
    #   npmi = log2(3/2) / -log2(2/3) = 1 (a and b always together)
    #   table    b   not b | row     E      b     not b
    #   a        2   0     | 2       a      4/3   2/3
    #   not a    0   1     | 1       not a  2/3   1/3
    #   column   2   1     | N = 3
    #   llr = 2*(2 ln(2/(4/3)) + 1 ln(1/(1/3))) = 2*(2 ln(3/2) + ln 3) = 3.819085009768877
    rows, _, s = run({"1.txt": "a b", "2.txt": "b a", "3.txt": ""}, ["--cooc", "doc"])
    assert s["documents"] == 3
    expect_pairs(rows, [("a", "b", 2)], "D=3")
    expect_measures(rows, "a", "b", log2(3 / 2), 1.0, 2 * (2 * log(3 / 2) + log(3)), "D=3")


# =======================================================================================
# Window measures, ordering, pruning
# =======================================================================================
WIN_MEASURES_TEXT = "a b. a b. a c. b c. d e"


def test_cooc_ref_window_measures():
    # Segments [a b] [a b] [a c] [b c] [d e] (W=5: every segment has two terms).
    # c: a-b 2, a-c 1, b-c 1, d-e 1.
    # m_a = 2 + 1 = 3, m_b = 2 + 1 = 3, m_c = 1 + 1 = 2, m_d = 1, m_e = 1; T = 10.
    rows, _, _ = run({"x.txt": WIN_MEASURES_TEXT}, WIN)
    expect_pairs(rows, [("a", "b", 2), ("a", "c", 1), ("b", "c", 1), ("d", "e", 1)], "pairs")
    # a-b: pmi = log2(2*10/(3*3)) = log2(20/9) = 1.15200309344505
    #      npmi = log2(20/9) / -log2(2/10) = log2(20/9) / log2(5) = 0.49614072717481555
    #      table    b   not b | row     E      b     not b
    #      a        2   1     | 3       a      0.9   2.1
    #      not a    1   6     | 7       not a  2.1   4.9
    #      column   3   7     | N = 10
    #      llr = 2*(2 ln(2/0.9) + ln(1/2.1) + ln(1/2.1) + 6 ln(6/4.9)) = 2.656572575291266
    expect_measures(rows, "a", "b", log2(20 / 9), log2(20 / 9) / log2(5),
                    2 * (2 * log(2 / 0.9) + 2 * log(1 / 2.1) + 6 * log(6 / 4.9)), "a-b")
    # a-c: pmi = log2(1*10/(3*2)) = log2(5/3) = 0.7369655941662062
    #      npmi = log2(5/3) / -log2(1/10) = log2(5/3) / log2(10) = 0.2218487496163564
    #      table    c   not c | row     E      c     not c
    #      a        1   2     | 3       a      0.6   2.4
    #      not a    1   6     | 7       not a  1.4   5.6
    #      column   2   8     | N = 10
    #      llr = 2*(ln(1/0.6) + 2 ln(2/2.4) + ln(1/1.4) + 6 ln(6/5.6)) = 0.4473350049571544
    #      (b-c is the same table: m_b = m_a = 3.)
    want_ac = (log2(5 / 3), log2(5 / 3) / log2(10),
               2 * (log(1 / 0.6) + 2 * log(2 / 2.4) + log(1 / 1.4) + 6 * log(6 / 5.6)))
    expect_measures(rows, "a", "c", *want_ac, "a-c")
    expect_measures(rows, "b", "c", *want_ac, "b-c")
    # d-e, a table with two empty cells: pmi = log2(1*10/(1*1)) = log2(10) = 3.321928094887362
    #      npmi = log2(10) / -log2(1/10) = 1
    #      table    e   not e | row     E      e     not e
    #      d        1   0     | 1       d      0.1   0.9
    #      not d    0   9     | 9       not d  0.9   8.1
    #      column   1   9     | N = 10
    #      llr = 2*(ln(1/0.1) + 0 + 0 + 9 ln(9/8.1)) = 2*(ln 10 + 9 ln(10/9)) = 6.501659467828965
    expect_measures(rows, "d", "e", log2(10), 1.0, 2 * (log(10) + 9 * log(10 / 9)), "d-e")
    # The measures are finite plain decimals, never -0.
    for r in rows:
        for x in r[3:]:
            assert math.isfinite(float(x)) and not x.startswith("-0"), r


def test_cooc_ref_cyrillic_bytes():
    # One segment "Яблоко арбуз Ёж жук zebra" (folded: яблоко арбуз ёж жук zebra), W=1:
    #   яблоко-арбуз, арбуз-ёж, ёж-жук, жук-zebra, 1 each.  UTF-8 bytes: zebra 7A..,
    #   арбуз D0 B0.., жук D0 B6.., яблоко D1 8F.., ёж D1 91.. -- so ё sorts after я
    #   (in the Russian alphabet it comes right after е), and Latin before Cyrillic.
    #   Keys (term_a < term_b): (арбуз, яблоко), (арбуз, ёж), (жук, ёж), (zebra, жук).
    # Second line "ｆ 𐐨": ｆ is U+FF46 (EF BD 86), 𐐨 U+10428 (F0 90 90 A8): (ｆ, 𐐨) by
    # bytes (UTF-16 order, as in Java or JavaScript, would put 𐐨 first).
    # All counts 1: rows by term_a, then term_b, in bytes.
    rows, _, _ = run({"x.txt": "Яблоко арбуз Ёж жук zebra\nｆ 𐐨"}, WIN + ["--window", "1"])
    expect_pairs(rows, [("zebra", "жук", 1), ("арбуз", "яблоко", 1), ("арбуз", "ёж", 1),
                        ("жук", "ёж", 1), ("ｆ", "𐐨", 1)], "bytes order")


def test_cooc_ref_min_count_top():
    # The window-measures corpus: a-b 2, a-c 1, b-c 1, d-e 1 (see above).
    files = {"x.txt": WIN_MEASURES_TEXT}
    # --min-count 2 keeps a-b alone; its measures still use the unpruned margins
    # (m_a = m_b = 3, T = 10): pmi = log2(20/9) as before.
    rows, _, s = run(files, WIN + ["--min-count", "2"])
    expect_pairs(rows, [("a", "b", 2)], "min-count 2")
    expect_measures(rows, "a", "b", log2(20 / 9), log2(20 / 9) / log2(5),
                    2 * (2 * log(2 / 0.9) + 2 * log(1 / 2.1) + 6 * log(6 / 4.9)),
                    "a-b after min-count")
    assert s["cooc_pairs"] == 4          # pruning changes the file only
    rows, _, _ = run(files, WIN + ["--top", "2"])
    expect_pairs(rows, [("a", "b", 2), ("a", "c", 1)], "top 2")
    rows, _, _ = run(files, WIN + ["--min-count", "1", "--top", "3"])
    expect_pairs(rows, [("a", "b", 2), ("a", "c", 1), ("b", "c", 1)], "min-count 1 top 3")
    rows, raw, _ = run(files, WIN + ["--top", "0", "--bom"])
    assert raw == b"\xef\xbb\xbf" + (HEADER + "\n").encode(), raw
    # Harmonic "a b c", W=2: a-b 1, b-c 1, a-c 1/2; --min-count 1 drops a-c (1/2 < 1).
    rows, _, _ = run({"x.txt": "a b c"},
                     WIN + ["--window", "2", "--weight", "harmonic", "--min-count", "1"])
    expect_pairs(rows, [("a", "b", "1.0"), ("b", "c", "1.0")], "harmonic min-count")


def test_cooc_ref_none_default_and_usage_errors():
    # The reference's default follows the engine's CLI (csref.COOC_DEFAULT): "none" until
    # the engine switches to "window".  No cooc.csv then, nor with --cooc none.
    assert csref.COOC_DEFAULT in ("none", "window")
    rows, _, s = run({"x.txt": "a b"})
    if csref.COOC_DEFAULT == "none":
        assert rows is None and "cooc_pairs" not in s
    else:
        expect_pairs(rows, [("a", "b", 1)], "default window")
    rows, _, _ = run({"x.txt": "a b"}, ["--cooc", "none"])
    assert rows is None
    # A stale cooc.csv in the output folder does not survive a run without co-occurrence.
    with tempfile.TemporaryDirectory(prefix="csref-cooc-") as tmp:
        out = os.path.join(tmp, "out")
        rows, _, _ = run({"x.txt": "a b"}, WIN, outdir=out)
        assert rows == [["a", "b", "1", "1.0", "1.0", "2.772588722239781"]], rows
        # (one pair: m_a = m_b = 1, T = 2: pmi = log2(1*2/1) = 1, npmi = 1/-log2(1/2) = 1,
        #  table [[1, 0], [0, 1]], E = 1/2 on the diagonal: llr = 2*(2 ln 2) = 4 ln 2)
        assert math.isclose(2.772588722239781, 4 * log(2), rel_tol=1e-15)
        rows, _, _ = run({"x.txt": "a b"}, ["--cooc", "none"], outdir=out)
        assert rows is None and not os.path.exists(os.path.join(out, "cooc.csv"))
    # Usage errors (exit 2), as the engine's CLI has them.
    for args in (["--cooc", "window", "--window", "0"], ["--cooc", "window", "--window", "33"],
                 ["--cooc", "window", "--window", "x"], ["--cooc", "pairs"],
                 ["--cooc", "window", "--weight", "log"],
                 ["--cooc", "window", "--cooc-vocab", "3"], ["--cooc-terms", "@t"],
                 ["--cooc", "doc", "--cooc-vocab", "-1"],
                 ["--cooc", "doc", "--cooc-vocab", "3", "--cooc-terms", "@t"]):
        expect_usage_error(args)
    # --option=value is accepted, as by the engine.
    rows, _, _ = run({"x.txt": "a b c"}, ["--cooc=window", "--window=1"])
    expect_pairs(rows, [("a", "b", 1), ("b", "c", 1)], "--opt=value")


# =======================================================================================
# The comparison helper for engine vs reference
# =======================================================================================
def test_cooc_ref_compare_helper():
    _, ref, _ = run({"x.txt": WIN_MEASURES_TEXT}, WIN)
    cmp = csref.compare_cooc_csv
    assert cmp(ref, ref) is None and cmp(None, None) is None
    assert "engine missing" in cmp(ref, None)
    lines = ref.decode().split("\n")        # header, a-b, a-c, b-c, d-e, ""

    def with_field(line_no, field, value):
        ls = list(lines)
        cells = ls[line_no].split(",")
        cells[field] = value
        ls[line_no] = ",".join(cells)
        return "\n".join(ls).encode()

    pmi = float(lines[1].split(",")[3])
    # Within the tolerance (relative 1e-9): equal; beyond it: reported with the line.
    assert cmp(ref, with_field(1, 3, repr(pmi * (1 + 1e-11)))) is None
    msg = cmp(ref, with_field(1, 3, repr(pmi * (1 + 1e-7))))
    assert msg and "line 2" in msg and "pmi" in msg, msg
    # 6 significant digits (the contract's minimum) are not enough for this tolerance.
    assert cmp(ref, with_field(1, 3, f"{pmi:.6g}")) is not None
    assert cmp(ref, with_field(1, 3, f"{pmi:.12g}")) is None
    # Unweighted counts and keys exactly: "2.0" for 2 is a mismatch.
    assert "exact" in cmp(ref, with_field(1, 2, "2.0"))
    assert "key" in cmp(ref, with_field(2, 1, "x"))
    # Not numbers, negative zero, a missing row, another header, CRLF, a BOM.
    assert "finite" in cmp(ref, with_field(1, 5, "nan"))
    assert "finite" in cmp(ref, with_field(1, 5, "inf"))
    msg = cmp(ref, b"\n".join(ref.split(b"\n")[:-2]) + b"\n")
    assert "rows: 4 reference, 3 engine" in msg and "only ref: ('d', 'e')" in msg, msg
    assert "header" in cmp(ref, ref.replace(b"llr", b"g2"))
    assert "CRLF" in cmp(ref, ref.replace(b"\n", b"\r\n"))
    assert "BOM" in cmp(ref, b"\xef\xbb\xbf" + ref)
    # Zeros: the absolute tolerance 1e-12 applies; "-0.0" is refused.
    _, ref0, _ = run({"d.txt": "a b\nb a\n"}, DOC)       # a,b,2,0.0,1.0,0.0
    z = ref0.decode().split("\n")
    assert cmp(ref0, ref0.replace(b",0.0,1.0,0.0", b",1e-13,1.0,0")) is None
    assert cmp(ref0, ref0.replace(b",0.0,1.0,0.0", b",1e-11,1.0,0.0")) is not None
    assert "negative zero" in cmp(ref0, ref0.replace(b",0.0,1.0,0.0", b",-0.0,1.0,0.0")), z
    # Harmonic counts: compared as floats (the reference prints repr of the double).
    _, refh, _ = run({"x.txt": "p q r s"}, WIN + ["--window", "3", "--weight", "harmonic"])
    assert b"p,s,0.3333333333333333," in refh
    assert cmp(refh, refh.replace(b"p,s,0.3333333333333333,", b"p,s,0.333333333333,")) is None
    assert "count" in cmp(refh, refh.replace(b"p,s,0.3333333333333333,", b"p,s,0.333333,"))


if __name__ == "__main__":
    sys.exit(csutil.run_standalone(globals()))
