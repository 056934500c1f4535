#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into tests/fuzz/<target>/.

Seeds are small, hand-picked inputs that reach each target's main paths;
libFuzzer grows the corpus from them, and `make test` replays the folders
(the seeds plus what fuzzing found and kept, see tests/fuzz/README.md).
Run from anywhere after `make` (state seeds are states the engine writes):
    python3 tests/fuzz/seeds.py
Seeds are named seed-*; the script rewrites those only.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests", "fuzz")
ENGINE = os.environ.get("CORPUSSTAT", os.path.join(ROOT, "build", "release", "corpusstat"))


def read(rel, n):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read(n)


ENGLISH = read("tests/data/brown-press/ca01.txt", 1500)
ARTICLE = read("tests/golden/news-en/input/article.txt", 1500)
RUSSIAN = read("tests/data/cyrillic/fortunes-ru/usr/share/games/fortunes/ru/haiku", 1500)
TRICKY = ("don't co-op U.S.A. 3.14 e-mail \u01c5emal \ufb01ne \u0130stanbul \u03a3\u0391\u03a3 stra\u00dfe "
          "hy-\nphen \u0441\u043b\u043e\u0432\u043e-\u0441\u043b\u043e\u0432\u043e "
          "\U0001F468\u200d\U0001F469 e\u0301t\u00e9 \u2163 \uff21\uff22 \u00a0nbsp\r\n\r\n\n"
          "  \t\nlast line\r").encode() + b" bad \xff\xfe \xc3 \xe2\x82 nul \x00 end\n"
JSONL = read("tests/golden/jsonl-escapes/input/records.jsonl", 4000)


def write(target, name, data):
    d = os.path.join(FUZZ, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def clear(target):
    d = os.path.join(FUZZ, target)
    os.makedirs(d, exist_ok=True)
    for n in os.listdir(d):
        if n.startswith("seed-"):
            os.remove(os.path.join(d, n))


TEXTS = {"en": ENGLISH, "article": ARTICLE, "ru": RUSSIAN, "tricky": TRICKY}


def tokenize():
    # a: fold, normalize (x2), docs (x8), join (x32); b: max-len (x1),
    # min-len (x8), stopwords (x32); then the pieces' seed.
    settings = [(0x01, 0x06, 7), (0x00, 0x26, 1), (0x0B, 0x2E, 200), (0x35, 0x0D, 33),
                (0x13, 0x20, 90)]
    for name, text in TEXTS.items():
        for i, (a, b, seed) in enumerate(settings):
            write("tokenize", f"{name}-{i}", bytes([a, b, seed]) + text)


def jsonl():
    lines = JSONL.split(b"\n") + [
        b'{"text": ""}', b'{"text": "a\\u0000b"}', b'{"t": "short field", "text": 1}',
        b'{"body": [1, {"text": "nested, not top level"}], "text": "top"}',
        b'{"text": "\\ud83d\\ude00\\udbff\\udfff\\ud800x"}', b'  \t\r', b'[1,2,3]',
        b'{"text": "' + b"x" * 300 + b'"}', b'{' * 64 + b'}' * 64,
        b'{"a\\"b": "quoted key", "\xd1\x82": "cyrillic key"}', b'{"text": "bad \xff utf-8"}',
        b'{"text":-0.5e+10,"x":true,"y":null}', b'{"text" : "spaces" , "z" : [ ] }',
    ]
    for i, line in enumerate(lines):
        write("jsonl", f"{i:02d}", bytes([i % 7]) + line)


def reader():
    # flags: 1 made by the harness, x2 cut mode (line, blank, jsonl, none),
    # 8 cut short (made) / read as zstd (raw), x16 where the frames split,
    # 32 streamed, 64 checksums, 128 no declared size; then the buffer size.
    flags = [0x01, 0x03, 0x05, 0x07, 0x11, 0x23, 0x43, 0x83, 0x31, 0x09, 0x4B, 0x02, 0x00]
    for name, text in TEXTS.items():
        for f in flags:
            write("reader", f"{name}-{f:02x}", bytes([f, (f * 7) % 256]) + text)
    write("reader", "jsonl-05", bytes([0x05, 3]) + JSONL)
    z = subprocess.run(["zstd", "-q", "-c", "--no-check"], input=ENGLISH, capture_output=True,
                       check=True).stdout
    write("reader", "zstd-file", bytes([0x08, 5]) + z)
    write("reader", "zstd-file-cut", bytes([0x08, 5]) + z[:-3])


SEC_GRAMS, SEC_PAIRS, N_PARTS = 6, 7, 64


def structured(state):
    """A state file as fuzz_state.c's structured input (sections' raw bytes)."""
    out = bytearray([0])
    at, end = 16, len(state) - 16

    def unzstd(frame):
        return subprocess.run(["zstd", "-q", "-d", "-c"], input=frame, capture_output=True,
                              check=True).stdout

    while at < end:
        kind, part, raw_n, comp_n = struct.unpack_from("<IIQQ", state, at)
        at += 24
        body = state[at:at + comp_n]
        at += comp_n
        if kind in (SEC_GRAMS, SEC_PAIRS):
            off = 20 * N_PARTS
            for p in range(N_PARTS):
                n, raw, comp = struct.unpack_from("<IQQ", body, 20 * p)
                if raw:
                    data = unzstd(body[off:off + comp])
                    assert n < 256 and len(data) < 65534, "a seed's partition too large"
                    rec = bytes([p, n]) + data
                    out += struct.pack("<BBH", kind, part, len(rec)) + rec
                off += comp
        else:
            data = unzstd(body) if raw_n else b""
            assert len(data) < 65536 and part < 256, "a seed's section too large"
            out += struct.pack("<BBH", kind, part, len(data)) + data
    return bytes(out)


def state():
    runs = {
        "window": ["--ngrams", "1-2", "--cooc", "window", "--window", "3"],
        "harmonic": ["--ngrams", "1", "--cooc", "window", "--weight", "harmonic"],
        "grams": ["--ngrams", "1-3", "--cooc", "none"],
        "doc": ["--ngrams", "2", "--cooc", "doc", "--cooc-terms", "TERMS"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "in.txt")
        with open(corpus, "wb") as f:
            f.write(b"the cat sat on the mat\n\nthe dog sat\n\n\xd0\xba\xd0\xbe\xd1\x82 cat\n")
        terms = os.path.join(tmp, "terms.txt")
        with open(terms, "wb") as f:
            f.write(b"cat\nsat\nthe\n")
        for name, args in runs.items():
            args = [terms if a == "TERMS" else a for a in args]
            sd = os.path.join(tmp, "state-" + name)
            subprocess.run([ENGINE, "count", "-q", "--doc-sep", "blank", "--state", sd,
                            "-o", os.path.join(tmp, "out-" + name), *args, corpus], check=True)
            with open(os.path.join(sd, "state.cst"), "rb") as f:
                st = f.read()
            write("state", name, structured(st))
            write("state", name + "-raw", b"\x01" + st[:-16])


def pipeline():
    # a: JSONL, zstd, docs (x4), strict (x16); b: ngrams, cooc (x4),
    # harmonic (x16); c: window (x1), top (x8), min-count (x16),
    # normalize (x32), join (x128); d: the second run's chunk size.
    settings = [(0x00, 0x05, 0x04, 3), (0x04, 0x06, 0x8C, 10), (0x08, 0x16, 0x31, 1),
                (0x02, 0x09, 0x00, 40), (0x0A, 0x07, 0x52, 7)]
    for name, text in TEXTS.items():
        for i, (a, b, c, d) in enumerate(settings):
            write("pipeline", f"{name}-{i}", bytes([a, b, c, d]) + text[:600])
    for i, (a, b, c, d) in enumerate([(0x01, 0x05, 0x04, 5), (0x03, 0x09, 0x0B, 2),
                                      (0x11, 0x01, 0x00, 9)]):
        write("pipeline", f"jsonl-{i}", bytes([a, b, c, d]) + JSONL[:1200])


def main():
    if not os.access(ENGINE, os.X_OK):
        sys.exit(f"seeds.py: {ENGINE} is not built (run make)")
    for t, fn in (("tokenize", tokenize), ("jsonl", jsonl), ("reader", reader),
                  ("state", state), ("pipeline", pipeline)):
        clear(t)
        fn()


if __name__ == "__main__":
    main()
