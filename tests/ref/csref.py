#!/usr/bin/env python3
"""csref: a slow, obviously-right reference for `corpusstat count`.

Written from the counting contract (spec v1, "What `corpusstat count` counts"), never from
the engine's C code, so that the two can be compared on generated and real corpora by
tests/py/test_reference.py.  Python standard library only.

Usage:
    python3 tests/ref/csref.py [OPTIONS] -o DIR INPUT...

INPUT: plain text files, `*.jsonl` / `*.ndjson` files, `*.zst` of either (decoded with the
`zstd -dc` CLI), directories (walked recursively, hidden entries skipped, bytewise-sorted
paths), `@LIST` (a file naming one input per line) or `-` (stdin).
Writes DIR/terms.csv, DIR/ngrams.csv (only when the n-gram range reaches 2), DIR/cooc.csv
(only when --cooc is not none) and DIR/summary.json.

Co-occurrence (spec "Tables", "Output", "Precisions"):
    --cooc none|window|doc   default: COOC_DEFAULT below (see there)
    --window W               window scope: 1..32, default 5
    --weight none|harmonic   window scope: +1, or +1/(j-i), per pair of positions
    --cooc-vocab K           doc scope: the K terms of highest doc_count (default 5000)
    --cooc-terms FILE        doc scope: the terms listed in FILE instead
Library: cooc_rows(counts) gives the cooc.csv rows with exact counts (int or Fraction);
compare_cooc_csv(ref_bytes, eng_bytes) compares two cooc.csv files (keys and integer
counts exactly, harmonic counts and measures with a tolerance).

DESIGN: everything is as plain as possible and nothing is fast.  A document is decoded to a
Python str first (a malformed UTF-8 sequence becomes one U+FFFD per maximal subpart, which
is a separator just like a genuine U+FFFD, and is counted by a codec error handler), then
tokenized by a loop that looks at one code point at a time with its two neighbours.  Counts
live in collections.Counter; rows are sorted on UTF-8 bytes at the end.
"""
import argparse
import codecs
import collections
import csv
import decimal
import functools
import io
import itertools
import json
import math
import os
import re
import subprocess
import sys
import unicodedata
from fractions import Fraction

# ---------------------------------------------------------------------------------------
# Character classes (spec: "Tokens", "Segments")
# ---------------------------------------------------------------------------------------
JOINERS = {"'", "\u2019", "-", "\u2010", "."}          # kept between two word characters
COMMA = ","                                             # kept only between two Nd digits
ASCII_FORM = {"\u2019": "'", "\u2010": "-"}             # how a kept joiner is written
TERMINATORS = {".", "!", "?", "\u2026", "\u3002", "\uff01", "\uff1f"}
LINE_BREAK_CHARS = {"\n", "\r"}   # LF, CR; a CRLF is two ends in a row, which is one end
BLANK_LINE_CHARS = set(" \t\x0b\x0c")                   # plain text: space, tab, VT, FF
JSONL_BLANK_BYTES = set(b" \t\r")                        # JSONL: spaces, tabs, CR
JSON_WS = set(b" \t\n\r")                                # RFC 8259 whitespace
UTF8_BOM = b"\xef\xbb\xbf"
EXCLUDED = None     # marker for a stopword / too-short token inside a segment

# The reference's --cooc default: the contract's.
COOC_DEFAULT = "window"
COOC_WINDOW_DEFAULT = 5
COOC_WINDOW_MAX = 32
COOC_VOCAB_DEFAULT = 5000


def is_word(c):
    """Word characters: general categories L*, M*, N*."""
    return unicodedata.category(c)[0] in "LMN"


def is_digit(c):
    return unicodedata.category(c) == "Nd"


# ---------------------------------------------------------------------------------------
# UTF-8 decoding with malformed sequences counted in maximal subparts
# ---------------------------------------------------------------------------------------
# Python's UTF-8 decoder calls the error handler once per maximal subpart (Unicode ch. 3,
# "U+FFFD substitution of maximal subparts"): that is exactly what 'replace' turns into
# one U+FFFD each.  Our handler does the same replacement and counts the calls, so the
# count cannot disagree with the replacement.  The U+FFFD it leaves is a separator, as a
# genuine U+FFFD in the input is, so the tokenizer needs no special case.
_decode_errors = [0]


def _count_and_replace(exc):
    _decode_errors[0] += 1
    return ("\ufffd", exc.end)


codecs.register_error("csref-count-replace", _count_and_replace)


def decode_utf8(raw):
    """-> (text, number of maximal subparts of malformed UTF-8 in raw)."""
    _decode_errors[0] = 0
    text = raw.decode("utf-8", "csref-count-replace")
    n_bad = _decode_errors[0]
    # Cross-check with a second, independent way: every U+FFFD in the output is either a
    # replacement or a genuine EF BF BD in the input (EF is a lead byte, so it is never
    # swallowed into a maximal subpart, and EF BF BD always decodes to U+FFFD).
    assert text.count("\ufffd") == n_bad + raw.count(b"\xef\xbf\xbd")
    return text, n_bad


# ---------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------
class Options:
    def __init__(self):
        self.format = None          # None: by file name
        self.text_field = "text"
        self.doc_sep = "file"
        self.case = "fold"
        self.normalize = "none"
        self.max_len = 64
        self.min_len = 1
        self.stopwords = frozenset()
        self.join_lines = False
        self.ngram_lo = 1
        self.ngram_hi = 2
        self.min_count = None
        self.top = None
        self.bom = False
        self.quiet = False
        self.cooc = COOC_DEFAULT        # none | window | doc
        self.window = COOC_WINDOW_DEFAULT
        self.weight = "none"            # none | harmonic (window scope)
        self.cooc_vocab = COOC_VOCAB_DEFAULT
        self.cooc_terms = None          # doc scope: frozenset of terms, or None (top K)


def finish_term(raw_term, opts):
    """Joiners are already ASCII.  Normalize (if asked), then fold (unless --case keep)."""
    t = raw_term
    if opts.normalize != "none":
        t = unicodedata.normalize(opts.normalize.upper(), t)
    if opts.case == "fold":
        t = t.casefold()     # full case folding, CaseFolding.txt status C + F
    return t


def load_stopwords(path, opts):
    """One term a line, trimmed, empty lines ignored; the whole line goes through the
    joiner-ASCII, normalize and fold steps (it is not tokenized)."""
    with open(path, "rb") as f:
        text, _ = decode_utf8(f.read())
    words = set()
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        line = "".join(ASCII_FORM.get(c, c) for c in line)
        words.add(finish_term(line, opts))
    return frozenset(words)


# ---------------------------------------------------------------------------------------
# Tokenizer: one document (a str) -> segments
# ---------------------------------------------------------------------------------------
class Stats:
    def __init__(self):
        self.documents = 0
        self.segments = 0
        self.tokens = 0
        self.bad_records = 0
        self.invalid_utf8 = 0
        self.long_tokens_dropped = 0
        self.excluded_tokens = 0
        self.undecodable_shards = 0
        self.unreadable_inputs = 0


def segment_document(text, opts, stats):
    """Returns the document's segments: lists whose items are terms (str) or EXCLUDED.
    Only segments holding at least one counted or excluded token are returned."""
    segments = []
    current = []          # the segment being built
    token_chars = []      # the token being built (joiners already in ASCII form)

    def end_segment():
        nonlocal current
        if current:
            segments.append(current)
        current = []

    def end_token():
        if not token_chars:
            return
        term = finish_term("".join(token_chars), opts)
        token_chars.clear()
        if len(term.encode("utf-8")) > opts.max_len:
            # Checked first: dropped, counted, and it ends the segment.
            stats.long_tokens_dropped += 1
            end_segment()
        elif len(term) < opts.min_len or term in opts.stopwords:
            # Keeps its position (breaks n-grams), but is not counted.
            stats.excluded_tokens += 1
            current.append(EXCLUDED)
        else:
            stats.tokens += 1
            current.append(term)

    n = len(text)
    for i, c in enumerate(text):
        if is_word(c):
            token_chars.append(c)
            continue
        prev_c = text[i - 1] if i > 0 else None
        next_c = text[i + 1] if i + 1 < n else None
        if c in JOINERS:
            if prev_c is not None and next_c is not None and is_word(prev_c) and is_word(next_c):
                token_chars.append(ASCII_FORM.get(c, c))
                continue
        elif c == COMMA:
            if prev_c is not None and next_c is not None and is_digit(prev_c) and is_digit(next_c):
                token_chars.append(c)
                continue
        # Anything else (and a joiner that is not kept) separates tokens.
        end_token()
        if c in TERMINATORS or (c in LINE_BREAK_CHARS and not opts.join_lines):
            end_segment()
    end_token()
    end_segment()          # the end of the document
    stats.segments += len(segments)
    return segments


# ---------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------
class Counts:
    def __init__(self, opts):
        self.opts = opts
        self.stats = Stats()
        self.term_count = collections.Counter()
        self.term_docs = collections.Counter()
        self.ngram_ns = list(range(max(opts.ngram_lo, 2), opts.ngram_hi + 1))
        self.ngram_count = {n: collections.Counter() for n in self.ngram_ns}
        self.ngram_docs = {n: collections.Counter() for n in self.ngram_ns}
        # Window scope: {(term_a, term_b): int or Fraction}, counted as documents come.
        self.cooc_window = collections.Counter()
        # Doc scope: every document's term set (empty ones too); the pairs are counted at
        # the end, when the vocabulary (top K by doc_count over ALL documents) is known.
        self.doc_term_sets = []

    def add_document(self, text, n_invalid):
        """text: decoded document (malformed parts already U+FFFD); n_invalid: how many."""
        self.stats.documents += 1
        self.stats.invalid_utf8 += n_invalid
        segments = segment_document(text, self.opts, self.stats)
        doc_terms = set()
        doc_ngrams = {n: set() for n in self.ngram_ns}
        for seg in segments:
            for t in seg:
                if t is not EXCLUDED:
                    self.term_count[t] += 1
                    doc_terms.add(t)
            for n in self.ngram_ns:
                for start in range(0, len(seg) - n + 1):
                    gram = tuple(seg[start:start + n])
                    if EXCLUDED in gram:
                        continue
                    self.ngram_count[n][gram] += 1
                    doc_ngrams[n].add(gram)
        for t in doc_terms:
            self.term_docs[t] += 1
        for n in self.ngram_ns:
            for g in doc_ngrams[n]:
                self.ngram_docs[n][g] += 1
        if self.opts.cooc == "window":
            for seg in segments:
                add_window_pairs(seg, self.opts, self.cooc_window)
        elif self.opts.cooc == "doc":
            self.doc_term_sets.append(frozenset(doc_terms))


# ---------------------------------------------------------------------------------------
# Co-occurrence (spec: "Tables", "Output", "Precisions")
# ---------------------------------------------------------------------------------------
def utf8(s):
    return s.encode("utf-8")


def pair_key(x, y):
    """The unordered pair {x, y} (x != y) as (term_a, term_b) with term_a < term_b
    comparing UTF-8 bytes, as the contract says.  (For valid Unicode, UTF-8 byte order is
    code point order, which is how Python compares str, so the two agree; bytes are
    compared because that is the contract's wording.  UTF-16 order, as in Java or
    JavaScript, would differ: there U+10428 sorts before U+FF46.)"""
    bx, by = utf8(x), utf8(y)
    assert bx != by
    return (x, y) if bx < by else (y, x)


def add_window_pairs(seg, opts, counter):
    """Window scope, one segment: positions i < j with j - i <= W holding two DIFFERENT
    terms add 1 (harmonic: exactly 1/(j-i)) to their unordered pair.

    Positions are the items of the segment as segment_document built it, so the rules for
    n-grams carry over unchanged:
      - an excluded token (stopword, --min-len) is an item EXCLUDED: it occupies a position
        (it counts in j - i) but holds no term, so it is in no pair;
      - a token dropped by --max-len is no item at all and ends the segment, so no pair
        spans it (the next segment starts counting positions from 0);
      - '.', '!', ... and line breaks (unless --join-lines) end segments.
    Every pair of positions counts: in 'a b a', positions (0,1) and (1,2) both give {a,b},
    so its count is 2; positions (0,2) hold the same term twice and count nothing."""
    W = opts.window
    for i in range(len(seg)):
        a = seg[i]
        if a is EXCLUDED:
            continue
        for j in range(i + 1, min(len(seg), i + W + 1)):
            b = seg[j]
            if b is EXCLUDED or b == a:
                continue
            counter[pair_key(a, b)] += Fraction(1, j - i) if opts.weight == "harmonic" else 1


def cooc_vocabulary(counts):
    """Doc scope: the terms whose pairs are counted."""
    opts = counts.opts
    if opts.cooc_terms is not None:
        return opts.cooc_terms
    # The K terms of highest doc_count over all documents, before any pruning; ties by
    # term bytes ascending.
    ranked_terms = sorted((t for t, d in counts.term_docs.items() if d > 0),
                          key=lambda t: (-counts.term_docs[t], utf8(t)))
    return frozenset(ranked_terms[:opts.cooc_vocab])


def cooc_counts(counts):
    """-> {(term_a, term_b): count}, every pair with a count > 0, before pruning."""
    if counts.opts.cooc == "window":
        return {k: c for k, c in counts.cooc_window.items() if c > 0}
    if counts.opts.cooc == "doc":
        vocab = cooc_vocabulary(counts)
        pairs = collections.Counter()
        for terms in counts.doc_term_sets:
            present = sorted(terms & vocab, key=utf8)        # distinct, so a < b bytewise
            for a, b in itertools.combinations(present, 2):
                pairs[(a, b)] += 1
        return dict(pairs)
    return {}


# Logarithms.  The measures are computed from the exact counts (int or Fraction) with
# 50-digit decimal logarithms, far more precise than a double, so that the reference is
# the truth the engine's doubles are compared with.  A logarithm of a ratio of exact
# numbers is the sum of the logarithms of their integer numerators and denominators,
# each computed once (cached): the same value as ln(x / y) directly, only cheaper.
_DEC = decimal.Context(prec=50)


@functools.lru_cache(maxsize=None)
def _ln_int(n):
    assert n > 0
    return _DEC.ln(decimal.Decimal(n))


def _ln(q):
    """ln of an exact positive number (int or Fraction), as a 50-digit Decimal."""
    if type(q) is int:
        return _ln_int(q)
    return _DEC.subtract(_ln_int(q.numerator), _ln_int(q.denominator))


def _ln_ratio(nums, dens):
    """ln(prod(nums) / prod(dens)) for exact positive numbers; exactly 0 when the ratio
    is exactly 1 (so that an exact 0 never comes out as +-1e-50)."""
    if math.prod(nums) == math.prod(dens):
        return decimal.Decimal(0)
    s = decimal.Decimal(0)
    for x in nums:
        s = _DEC.add(s, _ln(x))
    for x in dens:
        s = _DEC.subtract(s, _ln(x))
    return s


_LN2 = _DEC.ln(decimal.Decimal(2))


def _dec(q):
    """An exact number (int or Fraction) as a 50-digit Decimal."""
    if type(q) is int:
        return decimal.Decimal(q)
    return _DEC.divide(decimal.Decimal(q.numerator), decimal.Decimal(q.denominator))


def _to_float(d):
    x = float(d)
    assert math.isfinite(x), d
    return x + 0.0 if x != 0 else 0.0      # never -0


def dunning_g2(k11, k12, k21, k22):
    """Dunning's G^2 = 2 * sum k * ln(k / E) over the four cells, E = row * column / N
    from the table's own margins; a cell with k = 0 adds 0 (0 * ln 0 = 0)."""
    cells = [[k11, k12], [k21, k22]]         # int, or Fraction under --weight harmonic
    for row in cells:
        for k in row:
            assert k >= 0, cells
    rows = [cells[0][0] + cells[0][1], cells[1][0] + cells[1][1]]
    cols = [cells[0][0] + cells[1][0], cells[0][1] + cells[1][1]]
    n = rows[0] + rows[1]
    total = decimal.Decimal(0)
    for i in range(2):
        for j in range(2):
            k = cells[i][j]
            if k == 0:
                continue
            # k / E = k * N / (row_i * col_j); k > 0 implies row_i, col_j > 0.
            term = _DEC.multiply(_dec(k), _ln_ratio([k, n], [rows[i], cols[j]]))
            total = _DEC.add(total, term)
    g2 = _DEC.multiply(2, total)
    # G^2 >= 0 always (it is 2 * N * a Kullback-Leibler divergence), and it is 0 exactly
    # when every k == E, where each term above is an exact 0.  A negative value would mean
    # the 50 digits were not enough: fail loudly rather than print it.
    assert g2 >= 0, (cells, g2)
    return g2


def cooc_measures(c, m_a, m_b, n, unit=1):
    """(pmi, npmi, llr) as floats, for count c of a pair whose terms have margins m_a, m_b
    in a total n (exact numbers: int or Fraction).  Window scope: margins m = sum of c over
    all pairs of the term, n = T = sum of all m.  Doc scope: margins doc_count, n = D
    documents.  Contract:
      pmi  = log2(c * n / (m_a * m_b))
      npmi = pmi / -log2(c / n), and 1 when c = n (doc scope: every document holds both
             terms, so pmi = log2(D*D/(D*D)) = 0 and the formula would be 0/0)
      llr  = G^2 on k11 = c, k12 = m_a - c, k21 = m_b - c, k22 = n - m_a - m_b + c.
    unit: the numbers are given in units of 1/unit (harmonic counts times lcm(1..W), all
    integers, which is much faster than Fractions).  pmi and npmi only use ratios of
    them, so they do not change; G^2 is proportional to the scale of the table (every
    k / E is unchanged, every k is multiplied), so it is divided by unit at the end."""
    assert 0 < c <= min(m_a, m_b) and m_a <= n and m_b <= n
    ln_pmi = _ln_ratio([c, n], [m_a, m_b])
    if c == n:
        npmi = decimal.Decimal(1)
    else:
        npmi = _DEC.divide(ln_pmi, _ln_ratio([n], [c]))    # -log2(c/n) = log2(n/c) > 0
    pmi = _DEC.divide(ln_pmi, _LN2)
    llr = _DEC.divide(dunning_g2(c, m_a - c, m_b - c, n - m_a - m_b + c), unit)
    return _to_float(pmi), _to_float(npmi), _to_float(llr)


def cooc_rows(counts, prune=True):
    """cooc.csv rows [(term_a, term_b, count, pmi, npmi, llr)]: count exact (int, or
    Fraction under --weight harmonic), measures floats; sorted by count descending, then
    term_a, then term_b, comparing UTF-8 bytes; then --min-count, then --top (unless
    prune is False).  The margins are taken before any pruning."""
    opts = counts.opts
    pairs = cooc_counts(counts)
    counts.cooc_pairs = len(pairs)          # distinct pairs before pruning (summary.json)
    unit = 1
    if opts.cooc == "window":
        # Harmonic counts are Fractions whose denominators divide lcm(1..W): the measures
        # are computed on the integers c * unit (see cooc_measures).
        if opts.weight == "harmonic":
            unit = math.lcm(*range(1, opts.window + 1))
        units = {}
        for k, c in pairs.items():
            u = Fraction(c) * unit
            assert u.denominator == 1, (k, c, unit)
            units[k] = int(u)
        margin = collections.Counter()
        for (a, b), u in units.items():
            margin[a] += u
            margin[b] += u
        n = sum(margin.values())                        # T = 2 * sum of all c
    else:
        units = pairs
        margin = counts.term_docs                       # df = doc_count
        n = counts.stats.documents                      # D, empty documents included
    keys = sorted(pairs, key=lambda k: (-pairs[k], utf8(k[0]), utf8(k[1])))
    if prune:
        if opts.min_count is not None:
            keys = [k for k in keys if pairs[k] >= opts.min_count]   # exact, also Fractions
        if opts.top is not None:
            keys = keys[:opts.top]
    # Measures of the rows kept only (they depend on the unpruned margins, not on pruning).
    return [(a, b, pairs[(a, b)]) + cooc_measures(units[(a, b)], margin[a], margin[b], n, unit)
            for a, b in keys]


def format_number(x):
    """Integers plainly; a Fraction (harmonic count) or a float as repr(float(x)).
    (The contract asks for decimals with at least 6 significant digits and never -0,
    NaN or inf; repr gives the shortest string that reads back as the same double.)"""
    if isinstance(x, int):
        return str(x)
    f = float(x)
    assert math.isfinite(f), x
    return repr(f + 0.0 if f != 0 else 0.0)


# ---------------------------------------------------------------------------------------
# Comparing two cooc.csv files (reference vs engine)
# ---------------------------------------------------------------------------------------
COOC_HEADER = ["term_a", "term_b", "count", "pmi", "npmi", "llr"]
_INT_FIELD = re.compile(r"-?[0-9]+")
_NUMBER_FIELD = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")   # no nan, inf


def compare_cooc_csv(ref, eng, rel_tol=1e-9, abs_tol=1e-12, max_report=10):
    """ref, eng: the bytes of two cooc.csv files (None: the file is missing).  Returns
    None when they agree, else a readable account of the first mismatches.

    Agree means: same BOM or none, same header, same number of rows, and row by row the
    same term_a and term_b (exactly), the same count (exactly when the reference's count is
    an integer, i.e. unweighted; else as a float within the tolerance), and pmi, npmi, llr
    within the tolerance: |x - y| <= max(rel_tol * max(|x|, |y|), abs_tol) (math.isclose).
    A field that is not a plain decimal number (nan, inf, spaces, '+', '.5'), or a zero
    written with a minus sign, is a mismatch."""
    if ref is None or eng is None:
        if ref is None and eng is None:
            return None
        return (f"cooc.csv: reference {'missing' if ref is None else 'present'}, "
                f"engine {'missing' if eng is None else 'present'}")
    problems = []
    if ref.startswith(UTF8_BOM) != eng.startswith(UTF8_BOM):
        problems.append(f"BOM: reference {'has one' if ref.startswith(UTF8_BOM) else 'none'}, "
                        f"engine {'has one' if eng.startswith(UTF8_BOM) else 'none'}")

    def parse(data, who):
        if data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM):]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{who}: not UTF-8 ({e})")
        if text and not text.endswith("\n"):
            raise ValueError(f"{who}: last line does not end with LF")
        if "\r\n" in text:
            raise ValueError(f"{who}: CRLF line ends (want LF)")
        return list(csv.reader(io.StringIO(text, newline="")))

    try:
        rr, er = parse(ref, "reference"), parse(eng, "engine")
    except ValueError as e:
        return "cooc.csv: " + str(e)
    if not er or er[0] != COOC_HEADER:
        problems.append(f"header: engine {er[0] if er else None}, want {COOC_HEADER}")
    assert rr and rr[0] == COOC_HEADER, rr[:1]
    rr, er = rr[1:], er[1:]
    if len(rr) != len(er):
        problems.append(f"rows: {len(rr)} reference, {len(er)} engine")

    def number(s):
        if not _NUMBER_FIELD.fullmatch(s):
            return None
        x = float(s)
        return x if math.isfinite(x) else None     # 1e999 reads as inf

    def field_problem(name, r, e, exact):
        if exact:
            return None if r == e else f"{name} {e!r}, want {r!r} (exact)"
        x, y = number(r), number(e)
        if y is None:
            return f"{name} {e!r}: not a finite decimal number (want {r!r})"
        if y == 0 and e.lstrip().startswith("-"):
            return f"{name} {e!r}: negative zero"
        if not math.isclose(x, y, rel_tol=rel_tol, abs_tol=abs_tol):
            return f"{name} {e!r}, want {r!r} (differs by {abs(x - y):.3g})"
        return None

    mismatches = 0
    for i in range(min(len(rr), len(er))):
        r, e = rr[i], er[i]
        if len(e) != 6:
            why = [f"{len(e)} fields"]
        else:
            why = []
            if r[:2] != e[:2]:
                why.append(f"key ({e[0]!r}, {e[1]!r}), want ({r[0]!r}, {r[1]!r})")
            for k, name in enumerate(COOC_HEADER[2:], 2):
                exact = name == "count" and _INT_FIELD.fullmatch(r[k]) is not None
                p = field_problem(name, r[k], e[k], exact)
                if p:
                    why.append(p)
        if why:
            mismatches += 1
            if mismatches <= max_report:
                problems.append(f"line {i + 2}: " + "; ".join(why) +
                                f"\n    ref: {','.join(r)}\n    eng: {','.join(e)}")
    if mismatches > max_report:
        problems.append(f"... {mismatches - max_report} more rows differ")
    if len(rr) != len(er):
        rk = {tuple(r[:2]) for r in rr}
        ek = {tuple(e[:2]) for e in er}
        only_r, only_e = sorted(rk - ek), sorted(ek - rk)
        problems.append(f"keys: {len(only_r)} only in reference, {len(only_e)} only in engine")
        problems += [f"    only ref: {k}" for k in only_r[:max_report]]
        problems += [f"    only eng: {k}" for k in only_e[:max_report]]
    if not problems:
        return None
    return "cooc.csv: reference and engine differ:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------------------
# Plain text documents
# ---------------------------------------------------------------------------------------
def add_plain_text(raw, opts, counts):
    """Plain text, split into documents on raw bytes, each document decoded alone.
    LF (0x0A) and CR (0x0D) never occur inside a UTF-8 sequence nor inside a maximal
    subpart of a malformed one, so splitting bytes first is the same as decoding first."""
    if opts.doc_sep == "file":
        counts.add_document(*decode_utf8(raw))
        return
    parts = re.split(rb"(\r\n|\r|\n)", raw)
    lines = [(parts[k], parts[k + 1] if k + 1 < len(parts) else b"")
             for k in range(0, len(parts), 2)]

    def blank(line):
        return all(b in b" \t\x0b\x0c" for b in line)   # also true for b""

    if opts.doc_sep == "line":
        for line, _ in lines:
            if not blank(line):
                counts.add_document(*decode_utf8(line))
    else:  # blank: documents are maximal runs of non-blank lines
        doc = []
        for line, brk in lines + [(b"", b"")]:
            if blank(line):
                if doc:
                    counts.add_document(*decode_utf8(b"".join(doc)))
                    doc = []
            else:
                doc.append(line + brk)


# ---------------------------------------------------------------------------------------
# JSONL: a small strict RFC 8259 scanner over bytes
# ---------------------------------------------------------------------------------------
class BadRecord(Exception):
    pass


class JStr:
    """A decoded JSON string.  text: str with U+FFFD for every malformed part;
    n_invalid: malformed UTF-8 maximal subparts + lone surrogate escapes;
    malformed_utf8: raw malformed bytes were present."""
    __slots__ = ("text", "n_invalid", "malformed_utf8")

    def __init__(self, text, n_invalid, malformed_utf8):
        self.text = text
        self.n_invalid = n_invalid
        self.malformed_utf8 = malformed_utf8


_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEX = set(b"0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = {ord('"'): '"', ord("\\"): "\\", ord("/"): "/", ord("b"): "\b",
                   ord("f"): "\f", ord("n"): "\n", ord("r"): "\r", ord("t"): "\t"}
_MAX_DEPTH = 10000     # far deeper than any test input; keeps the recursion bounded


class JsonScanner:
    def __init__(self, data):
        self.b = data
        self.i = 0
        self.strings = []      # every JStr seen (keys and values), in order

    def fail(self, why):
        raise BadRecord(f"{why} at byte {self.i}")

    def ws(self):
        while self.i < len(self.b) and self.b[self.i] in JSON_WS:
            self.i += 1

    def peek(self):
        if self.i >= len(self.b):
            self.fail("unexpected end")
        return self.b[self.i]

    def value(self, depth):
        if depth > _MAX_DEPTH:
            self.fail("too deep")
        self.ws()
        c = self.peek()
        if c == ord("{"):
            return self.object(depth)
        if c == ord("["):
            return self.array(depth)
        if c == ord('"'):
            return self.string()
        for word, val in ((b"true", True), (b"false", False), (b"null", None)):
            if self.b.startswith(word, self.i):
                self.i += len(word)
                return val
        m = _NUMBER.match(self.b, self.i)
        if m and m.end() > self.i:
            self.i = m.end()
            return float(m.group()) if any(x in m.group() for x in b".eE") else int(m.group())
        self.fail("not a JSON value")

    def object(self, depth):
        self.i += 1                       # {
        members = {}
        self.ws()
        if self.peek() == ord("}"):
            self.i += 1
            return members
        while True:
            self.ws()
            if self.peek() != ord('"'):
                self.fail("object key must be a string")
            key = self.string()
            self.ws()
            if self.peek() != ord(":"):
                self.fail("expected ':'")
            self.i += 1
            val = self.value(depth + 1)
            members[key.text] = val       # the last of duplicate keys wins
            self.ws()
            c = self.peek()
            self.i += 1
            if c == ord(","):
                continue
            if c == ord("}"):
                return members
            self.i -= 1
            self.fail("expected ',' or '}'")

    def array(self, depth):
        self.i += 1                       # [
        items = []
        self.ws()
        if self.peek() == ord("]"):
            self.i += 1
            return items
        while True:
            items.append(self.value(depth + 1))
            self.ws()
            c = self.peek()
            self.i += 1
            if c == ord(","):
                continue
            if c == ord("]"):
                return items
            self.i -= 1
            self.fail("expected ',' or ']'")

    def string(self):
        self.i += 1                       # opening quote
        pieces = []     # str (decoded raw bytes or simple escapes) or int (a \u code unit)
        n_invalid = 0
        malformed = False
        raw_start = self.i

        def flush_raw():
            nonlocal n_invalid, malformed
            # Raw runs end at an ASCII byte (quote or backslash), which cannot be part of
            # a maximal subpart, so decoding run by run equals decoding all at once.
            if raw_start == self.i:
                return     # nothing between two escapes: adds no piece, so that the
                           # two halves of an escaped surrogate pair stay adjacent
            text, bad = decode_utf8(self.b[raw_start:self.i])
            if bad:
                malformed = True
                n_invalid += bad
            pieces.append(text)

        while True:
            c = self.peek()
            if c == ord('"'):
                flush_raw()
                self.i += 1
                break
            if c < 0x20:
                self.fail("raw control character in string")
            if c == ord("\\"):
                flush_raw()
                self.i += 1
                e = self.peek()
                if e in _SIMPLE_ESCAPES:
                    pieces.append(_SIMPLE_ESCAPES[e])
                    self.i += 1
                elif e == ord("u"):
                    hex4 = self.b[self.i + 1:self.i + 5]
                    if len(hex4) != 4 or any(h not in _HEX for h in hex4):
                        self.fail("bad \\u escape")
                    pieces.append(int(hex4, 16))
                    self.i += 5
                else:
                    self.fail("bad escape")
                raw_start = self.i
                continue
            self.i += 1
        # Join pieces; \u escapes: a high surrogate directly followed by a low surrogate
        # escape is one character; any other surrogate is lone: one separator, counted.
        out = []
        k = 0
        while k < len(pieces):
            p = pieces[k]
            if isinstance(p, str):
                out.append(p)
            elif 0xD800 <= p <= 0xDBFF and k + 1 < len(pieces) and isinstance(pieces[k + 1], int) \
                    and 0xDC00 <= pieces[k + 1] <= 0xDFFF:
                out.append(chr(0x10000 + ((p - 0xD800) << 10) + (pieces[k + 1] - 0xDC00)))
                k += 1
            elif 0xD800 <= p <= 0xDFFF:
                out.append("\ufffd")
                n_invalid += 1
            else:
                out.append(chr(p))
            k += 1
        s = JStr("".join(out), n_invalid, malformed)
        self.strings.append(s)
        return s


def parse_jsonl_record(line, field):
    """-> (text, n_invalid) of a good record; raises BadRecord otherwise."""
    sc = JsonScanner(line)
    if sys.getrecursionlimit() < 3 * _MAX_DEPTH + 100:
        sys.setrecursionlimit(3 * _MAX_DEPTH + 100)    # value -> array/object -> value
    sc.ws()
    if sc.i >= len(line) or line[sc.i] != ord("{"):
        raise BadRecord("not an object")
    obj = sc.value(0)
    sc.ws()
    if sc.i != len(line):
        sc.fail("trailing characters")
    text = obj.get(field)
    if not isinstance(text, JStr):
        raise BadRecord(f"no string field {field!r}")
    for s in sc.strings:
        if s is not text and s.malformed_utf8:
            raise BadRecord("malformed UTF-8 outside the text string")
    return text.text, text.n_invalid


def add_jsonl(raw, name, opts, counts):
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM):]
    for lineno, line in enumerate(raw.split(b"\n"), 1):
        if all(b in JSONL_BLANK_BYTES for b in line):
            continue
        try:
            text, n_invalid = parse_jsonl_record(line, opts.text_field)
        except BadRecord as e:
            counts.stats.bad_records += 1
            if not opts.quiet:
                print(f"csref: {name}:{lineno}: bad record: {e}", file=sys.stderr)
            continue
        counts.add_document(text, n_invalid)


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------
def walk_dir(path, skip_dir=None):
    """Files under path, hidden entries skipped, in bytewise-sorted path order.
    skip_dir (the output folder) is never walked into."""
    found = []

    def rec(d):
        for name in os.listdir(d):
            if name.startswith("."):
                continue
            p = os.path.join(d, name)
            if os.path.isdir(p):
                if skip_dir is not None and os.path.realpath(p) == skip_dir:
                    continue
                rec(p)
            elif os.path.isfile(p):
                found.append(p)

    rec(path)
    return sorted(found, key=os.fsencode)


def expand_inputs(inputs, skip_dir=None):
    out = []
    for inp in inputs:
        if inp == "-":
            out.append(inp)
        elif inp.startswith("@") and len(inp) > 1:
            with open(inp[1:], "rb") as f:
                names = [l.rstrip(b"\r") for l in f.read().split(b"\n")]
            out.extend(expand_inputs([os.fsdecode(n) for n in names if n], skip_dir))
        elif os.path.isdir(inp):
            out.extend(walk_dir(inp, skip_dir))
        else:
            out.append(inp)
    return out


def format_of(name, opts):
    if opts.format:
        return opts.format
    base = name[:-4] if name.endswith(".zst") else name
    return "jsonl" if base.endswith((".jsonl", ".ndjson")) else "text"


def read_input(path, counts):
    """-> bytes, or None when the input is skipped (counted)."""
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        counts.stats.unreadable_inputs += 1
        print(f"csref: {path}: {e}", file=sys.stderr)
        return None
    if path.endswith(".zst"):
        if not raw:
            return b""          # a 0-byte .zst is empty content
        proc = subprocess.run(["zstd", "-dc", "-q", "--no-progress"], input=raw,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            counts.stats.undecodable_shards += 1
            print(f"csref: {path}: zstd: {proc.stderr.decode(errors='replace').strip()}",
                  file=sys.stderr)
            return None
        return proc.stdout
    return raw


def count_inputs(inputs, opts, outdir=None):
    counts = Counts(opts)
    skip = os.path.realpath(outdir) if outdir else None
    for path in expand_inputs(inputs, skip):
        raw = read_input(path, counts)
        if raw is None:
            continue
        if format_of(path, opts) == "jsonl":
            add_jsonl(raw, path, opts, counts)
        else:
            add_plain_text(raw, opts, counts)
    return counts


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------
def csv_field(s):
    if any(ch in s for ch in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def ranked(counter, docs, key_bytes, opts):
    """Rows (key, count, doc_count): count descending, then key ascending on UTF-8 bytes;
    then --min-count, then --top."""
    rows = [(k, c, docs[k]) for k, c in counter.items() if c > 0]
    rows.sort(key=lambda r: (-r[1], key_bytes(r[0])))
    if opts.min_count is not None:
        rows = [r for r in rows if r[1] >= opts.min_count]
    if opts.top is not None:
        rows = rows[:opts.top]
    return rows


def gram_text(gram):
    return " ".join(gram)


def gram_sort_key(gram):
    # The key is the n-gram as written (tokens joined by one space), compared on bytes.
    # Tie-break on the token list only matters when an NFKC term holds a space.
    return (gram_text(gram).encode("utf-8"), [t.encode("utf-8") for t in gram])


def write_outputs(counts, outdir):
    opts = counts.opts
    os.makedirs(outdir, exist_ok=True)
    bom = UTF8_BOM if opts.bom else b""

    lines = ["term,count,doc_count"]
    for term, c, d in ranked(counts.term_count, counts.term_docs,
                             lambda t: t.encode("utf-8"), opts):
        lines.append(f"{csv_field(term)},{c},{d}")
    with open(os.path.join(outdir, "terms.csv"), "wb") as f:
        f.write(bom + "".join(l + "\n" for l in lines).encode("utf-8"))

    ngram_path = os.path.join(outdir, "ngrams.csv")
    if counts.ngram_ns:
        lines = ["n,ngram,count,doc_count"]
        for n in counts.ngram_ns:
            for gram, c, d in ranked(counts.ngram_count[n], counts.ngram_docs[n],
                                     gram_sort_key, opts):
                lines.append(f"{n},{csv_field(gram_text(gram))},{c},{d}")
        with open(ngram_path, "wb") as f:
            f.write(bom + "".join(l + "\n" for l in lines).encode("utf-8"))
    elif os.path.exists(ngram_path):
        os.remove(ngram_path)

    cooc_path = os.path.join(outdir, "cooc.csv")
    if opts.cooc != "none":
        lines = [",".join(COOC_HEADER)]
        for row in cooc_rows(counts):
            lines.append(",".join([csv_field(row[0]), csv_field(row[1])] +
                                  [format_number(x) for x in row[2:]]))
        with open(cooc_path, "wb") as f:
            f.write(bom + "".join(l + "\n" for l in lines).encode("utf-8"))
    elif os.path.exists(cooc_path):
        os.remove(cooc_path)     # cooc.csv exists only when --cooc is not none

    st = counts.stats
    summary = {
        "documents": st.documents,
        "segments": st.segments,
        "tokens": st.tokens,
        "types": sum(1 for c in counts.term_count.values() if c > 0),
        "bad_records": st.bad_records,
        "invalid_utf8": st.invalid_utf8,
        "long_tokens_dropped": st.long_tokens_dropped,
        "excluded_tokens": st.excluded_tokens,
        "undecodable_shards": st.undecodable_shards,
        "unreadable_inputs": st.unreadable_inputs,
        "ngram_types": {str(n): sum(1 for c in counts.ngram_count[n].values() if c > 0)
                        for n in counts.ngram_ns},
        "version": "csref-1",
        **({"cooc_pairs": counts.cooc_pairs} if opts.cooc != "none" else {}),
        "unicode_version": unicodedata.unidata_version,
    }
    with open(os.path.join(outdir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return summary


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------
def parse_ngrams(s):
    m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", s)
    if not m:
        raise argparse.ArgumentTypeError(f"bad --ngrams {s!r}")
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) is not None else lo
    if lo < 1 or hi < lo:
        raise argparse.ArgumentTypeError(f"bad --ngrams {s!r}")
    return lo, hi


def nonneg_int(s):
    v = int(s)
    if v < 0:
        raise argparse.ArgumentTypeError(f"negative value {s!r}")
    return v


def window_size(s):
    v = int(s) if re.fullmatch(r"[0-9]+", s) else -1
    if not 1 <= v <= COOC_WINDOW_MAX:
        raise argparse.ArgumentTypeError(f"--window {s!r}: want 1 to {COOC_WINDOW_MAX}")
    return v


def build_parser():
    p = argparse.ArgumentParser(prog="csref", description=__doc__.split("\n")[0])
    p.add_argument("-o", dest="outdir", default="corpusstat-out")
    p.add_argument("--format", choices=["text", "jsonl"])
    p.add_argument("--text-field", default="text")
    p.add_argument("--doc-sep", choices=["file", "line", "blank"], default="file")
    p.add_argument("--case", choices=["fold", "keep"], default="fold")
    p.add_argument("--normalize", choices=["none", "nfc", "nfkc"], default="none")
    p.add_argument("--max-len", type=nonneg_int, default=64)
    p.add_argument("--min-len", type=nonneg_int, default=1)
    p.add_argument("--stopwords")
    p.add_argument("--join-lines", action="store_true")
    p.add_argument("--ngrams", type=parse_ngrams, default=(1, 2))
    p.add_argument("--min-count", type=nonneg_int)
    p.add_argument("--top", type=nonneg_int)
    p.add_argument("--bom", action="store_true")
    p.add_argument("--cooc", choices=["none", "window", "doc"], default=COOC_DEFAULT)
    p.add_argument("--window", type=window_size, default=COOC_WINDOW_DEFAULT)
    p.add_argument("--weight", choices=["none", "harmonic"], default="none")
    p.add_argument("--cooc-vocab", type=nonneg_int)
    p.add_argument("--cooc-terms")
    p.add_argument("-T", dest="threads", type=int, default=1)   # accepted, ignored
    p.add_argument("-q", dest="quiet", action="store_true")
    p.add_argument("inputs", nargs="+")
    return p


def options_from_args(a):
    opts = Options()
    opts.format = a.format
    opts.text_field = a.text_field
    opts.doc_sep = a.doc_sep
    opts.case = a.case
    opts.normalize = a.normalize
    opts.max_len = a.max_len
    opts.min_len = a.min_len
    opts.join_lines = a.join_lines
    opts.ngram_lo, opts.ngram_hi = a.ngrams
    opts.min_count = a.min_count
    opts.top = a.top
    opts.bom = a.bom
    opts.quiet = a.quiet
    if a.stopwords:
        opts.stopwords = load_stopwords(a.stopwords, opts)
    opts.cooc = a.cooc
    opts.window = a.window
    opts.weight = a.weight
    if a.cooc_vocab is not None:
        opts.cooc_vocab = a.cooc_vocab
    if a.cooc_terms is not None:
        # Same steps as a stopword file: one term a line, trimmed, empty lines skipped,
        # joiners in ASCII form, normalized, folded; never tokenized.
        opts.cooc_terms = load_stopwords(a.cooc_terms, opts)
    return opts


def check_args(parser, a):
    """Usage errors (exit 2) beyond what argparse checks by itself."""
    if a.cooc != "doc":
        for name, v in (("--cooc-vocab", a.cooc_vocab), ("--cooc-terms", a.cooc_terms)):
            if v is not None:
                parser.error(f"{name} is for --cooc doc only")
    if a.cooc_vocab is not None and a.cooc_terms is not None:
        parser.error("--cooc-vocab and --cooc-terms exclude each other")


def main(argv=None):
    parser = build_parser()
    a = parser.parse_args(argv)
    check_args(parser, a)
    opts = options_from_args(a)
    counts = count_inputs(a.inputs, opts, a.outdir)
    return write_outputs(counts, a.outdir)


if __name__ == "__main__":
    main()
    sys.exit(0)
