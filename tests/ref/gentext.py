#!/usr/bin/env python3
"""gentext: seeded generator of small adversarial corpora for corpusstat tests.

Same seed, same bytes (random.Random(seed), no other source of randomness).

Library:
    gen_text(seed, n_bytes, malformed=True) -> bytes         plain text
    gen_jsonl(seed, n_records, field="text") -> bytes        JSONL, good and bad records
    write_corpus(dirpath, seed, n_files=5, file_bytes=6000, jsonl_records=60)
        writes a folder of plain files, a .jsonl file, an empty file, and hidden
        entries (which a reader must skip); returns the list of files written.
    STOPWORDS_FILE_TEXT: a stopword file exercising trimming, folding and joiners.
    zstd_raw_frames(data, rng) -> bytes: data as many tiny zstd frames (raw blocks,
        hand-built) with skippable frames between them.
CLI:
    gentext.py --seed N [--bytes B | --jsonl RECORDS] -o FILE
    gentext.py --seed N --corpus DIR

Every non-ASCII character comes from the explicit lists below, all assigned in Unicode
14.0 (checked at import), so Python 3.11's unicodedata and a Unicode 15.0 engine agree.
"""
import argparse
import os
import random
import struct
import sys
import unicodedata

# ---------------------------------------------------------------------------------------
# Material
# ---------------------------------------------------------------------------------------
LATIN = ("the and of to in a is that for it as was with be by on not he I this are or his "
         "from at which but have an they you were her she there been one all we their has "
         "would when if so no out up more said what its about into them can only other new "
         "some could time these two may then do first any my now such like our over man me "
         "even most made after also did many before must through back years where much your "
         "way well down should because each just those people Mr how too little state good "
         "very make world still own see men work long get here between both life being under "
         "never day same another know while last might us great old year off come since "
         "against go came right used take three Galymzhan Zhakiyanov Almaty Pavlodar "
         "Kazakstan DCK embassy French opposition leader governor region").split()
LATIN_ODD = ["café", "cafe\u0301", "naïve", "nai\u0308ve", "Straße", "STRASSE", "strasse",
             "GROẞ", "groß", "İstanbul", "ISTANBUL", "ıstanbul", "ﬁnance", "ﬂow", "oﬀice",
             "ﬃ", "ﬆop", "ŉ", "Ǆemal", "ǅemal", "ǆemal", "ǰ", "ſtar", "µm", "K\u212a",
             "\u212bngstrom", "Ω\u2126", "ª", "ᵃbc", "ℌilbert", "ℍ", "ｆｕｌｌ", "ＷＩＤＥ",
             "e\u0301\u0301", "n\u0303o", "\u0301lead", "Ǆ", "ǈ", "ﬅ"]
RUSSIAN = ("и в не на что он с как это по но они к у из за то же от так было для все его мы "
           "она вы только уже бы ее если или когда Москва Россия Казахстан Алматы оппозиция "
           "посольство лидер ёлка Ёж ЁЛКА Партия ПРАВИТЕЛЬСТВО").split()
KAZAKH = ("қазақ өлең үй ұлт іні теңіз ғылым әке Қазақстан Өскемен Үкімет Ұлттық Ілияс Ңң "
          "Ғалымжан Әлем халық бақыт көңіл ҚАЗАҚ ӨЛЕҢ ҮЙ ҰЛТ").split()
GREEK = ("και το της ΟΔΟΣ Οδός οδός σοφία ΣΟΦΙΑ λόγος ΛΌΓΟΣ λόγοσ ψυχή ΐ ΰ Σίσυφος "
         "άνθρωπος ΆΝΘΡΩΠΟΣ").split()
OTHER_SCRIPTS = ["中文", "東京", "日本語", "한국어", "ｶﾀｶﾅ", "カタカナ", "العربية", "שלום",
                 "हिन्दी", "ภาษาไทย", "Հայերեն", "ՀԱՅԵՐԵՆ", "ꭰꭱꭲ", "ᎠᎡᎢ", "𐐀𐐁", "𐐨𐐩",
                 "𞤀𞤁", "𞤢𞤣", "\ufdfa", "\ufdfb", "ㄱㄴ", "\u1100\u1161\u11a8", "각",
                 "ⅸ", "Ⅻ", "ⅻ", "〇", "ᲐᲑ", "აბ",
                 # NFKC turns these into text holding , . ( ) or a space
                 "\U0001f102", "\u2488", "\u2474", "\u037a", "\ufe70", "\u2189",
                 "x\U0001f101y"]
NUMBERS = ["1994", "1994-1997", "3.5", "1,000", "12,345,678", "0", "007", "٣٤٥", "١,٢٣٤",
           "۱۲۳", "१२३", "１２３", "𝟏𝟐", "²", "x²", "½", "①", "3,5.7", "1,٢", "2019",
           "1.000,50", "v1.2.3", "3.14159", "10-20", "1‐2"]
JOINER_CASES = ["ex-governor", "Ex-Governor", "x--y", "rock-'n'-roll", "U.S.", "u.s", "3.5",
                "1,000", "a,b", "Zhakiyanov’s", "Zhakiyanov's", "co‐operate", "co-operate",
                "-lead", "trail-", "'quoted'", "’tis", "a.b.c", "e.g.", "1,a", "a,1",
                "1, 000", "1.,2", "..", "...", "x-\u0301y", "ab'", "'-", "a'''b",
                "A.-B", "well-known", "mother-in-law", "don't", "DON’T", "l'homme",
                "a.\u0301", "²,3", "x,\u0663", "1‚000", "1\u066c000", "1\u066b5",
                "a‐‐b", "a\u2011b", "a\u2212b", "12.5%", "I.B.M.", "e.g.,", "P.S.—",
                "a’’b", "it’s’", "-’-", "5-", "-5", ".5", "5.", "a-", "'a", "a'b'c",
                "Қазақ-орыс", "ΟΔΟΣ.Β", "x.y.z.", "U.S.A", "١٫٥", "co\u00adoperate",
                "snake_case", "a·b", "hy\u200dphen", "3,50", "1,5a", "a1,5"]
SHORT = ["a", "I", "x", "я", "ü", "ß", "ǆ", "ﬁ", "ab", "ok", "İ", "ŉ", "e\u0301", "٣"]
SEPARATORS = [" "] * 30 + ["  ", "\t", "\u00a0", "\u2003", "\u3000", "\u200b", "\u00ad",
              "\u200d", "\ufeff", ", ", ",", "; ", ": ", " (", ") ", " \"", "\" ", " «",
              "» ", " — ", " – ", "/", "\\", " & ", " $", "% ", "*", "+", "=", "_", "@",
              "#", "\u2028", "\u0085", "\x0b", "\x0c", " 😀 ", "😀", "👍🏽", " 🇰🇿 ",
              "\u200e", "·", "\ufffd", " ' ", " - ", " \u2019 ", "'", "-", "\u2019",
              "\u2010", "\u2011", "\u00b4", "\u02bc", "\u3001", "\uff0c", "\uff0e", "\x7f",
              "\x01", "\x1f", "‚", "‘", "“", "”"]
TERMINATORS = [". ", "! ", "? ", "…", "。", "！", "？", "?!", "...", " . ", ".", "!", "?",
               "….", "。\n"]
LINE_BREAKS = ["\n"] * 6 + ["\r\n"] * 3 + ["\r", "\n\n", "\n  \n", "\n\t\n", "\n\x0b\n",
                                          "\n\x0c\n", "\r\n\r\n", "\n \t\x0b\x0c \n\n",
                                          "\r\r", "\n\u00a0\n", "\n\r\n", "\r\n \r\n"]
MALFORMED = [b"\x80", b"\xbf", b"\x80\x80", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98",
             b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf",
             b"\xf4\x90\x80\x80", b"\xf5", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff",
             b"\xc3\x28", b"\xe2\x28\xa1", b"\xf0\x28\x8c\x28", b"\xe1\x80\xe2\x82",
             b"\xf0\x90\x80", b"\xc2"]
STOP_CANDIDATES = ["the", "THE", "The", "and", "of", "и", "в", "Straße", "strasse",
                   "Zhakiyanov’s", "ﬁ", "co‐operate", "new york"]

# A stopword file: trimming (spaces, tab, CR), empty and whitespace-only lines, case,
# full folding (ß, ﬁ), U+2019 and U+2010 written in ASCII, a line with a space.
STOPWORDS_FILE_TEXT = ("the\nAND\n  of  \n\n\t\nи\r\nВ\nSTRASSE\nzhakiyanov’s\nﬁ\n"
                       "co‐operate\nnew york\nΟΔΟΣ\n")

WORD_POOLS = [(LATIN, 40), (RUSSIAN, 10), (KAZAKH, 8), (GREEK, 6), (LATIN_ODD, 8),
              (OTHER_SCRIPTS, 5), (NUMBERS, 5), (JOINER_CASES, 10), (SHORT, 4),
              (STOP_CANDIDATES, 4)]


def _check_assigned():
    pools = [LATIN, LATIN_ODD, RUSSIAN, KAZAKH, GREEK, OTHER_SCRIPTS, NUMBERS, JOINER_CASES,
             SHORT, SEPARATORS, TERMINATORS, LINE_BREAKS, STOP_CANDIDATES,
             [STOPWORDS_FILE_TEXT]]
    for pool in pools:
        for s in pool:
            for c in s:
                # Cn would be a code point unassigned in 14.0 (maybe assigned in 15.0).
                assert unicodedata.category(c) != "Cn", (s, hex(ord(c)))
                assert not 0xD800 <= ord(c) <= 0xDFFF


_check_assigned()


# ---------------------------------------------------------------------------------------
# Plain text
# ---------------------------------------------------------------------------------------
def _case_variant(rng, w):
    r = rng.random()
    if r < 0.12:
        return w.upper()
    if r < 0.25:
        return w[:1].upper() + w[1:]
    return w


def _long_token(rng):
    kind = rng.randrange(8)
    if kind == 0:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(65, 90)))
    if kind == 1:
        return "b" * 64                      # exactly at the default limit: kept
    if kind == 2:
        return "İ" * 22                      # 44 bytes, 66 after folding
    if kind == 3:
        return "ж" * rng.choice([32, 33])    # 64 / 66 bytes
    if kind == 4:
        return "ß" * rng.choice([32, 33])    # 64 / 66 bytes, folds to ss..: 64 / 66
    if kind == 5:
        return "a" * 40 + "-" + "b" * 30     # joined, 71 bytes
    if kind == 6:
        return "ﬃ" * 22                      # 66 bytes raw, ffi*22 = 66 after folding
    return "Σ" * 31 + "ς"                    # 64 bytes


def gen_pieces(rng, n_bytes, malformed=True, line_breaks=True):
    """A list of pieces: str (text) or bytes (malformed UTF-8), about n_bytes long."""
    pieces = []
    size = 0
    pools = [p for p, _ in WORD_POOLS]
    weights = [w for _, w in WORD_POOLS]
    while size < n_bytes:
        r = rng.random()
        if r < 0.70:
            pool = rng.choices(pools, weights)[0]
            p = _case_variant(rng, rng.choice(pool))
        elif r < 0.80:
            p = rng.choice(SEPARATORS)
        elif r < 0.88:
            p = rng.choice(TERMINATORS)
        elif r < 0.94:
            p = rng.choice(LINE_BREAKS) if line_breaks else " "
        elif r < 0.97 and malformed:
            m = rng.choice(MALFORMED)
            # Sometimes inside a word or between a joiner and a word.
            ctx = rng.randrange(4)
            if ctx == 0:
                pieces += ["ab", m, "cd"]
            elif ctx == 1:
                pieces += ["a-", m, "b"]
            elif ctx == 2:
                pieces += ["1,", m, "000"]
            else:
                pieces.append(m)
            size += 8
            continue
        elif r < 0.985:
            p = _long_token(rng)
        else:
            p = "".join(rng.choice(JOINER_CASES) for _ in range(3))   # glued joiner cases
        pieces.append(p)
        size += len(p.encode("utf-8"))
        # Words mostly need a separator after them.
        if rng.random() < 0.8:
            pieces.append(" " if rng.random() < 0.85 else rng.choice(SEPARATORS))
            size += 1
    return pieces


def pieces_to_bytes(pieces):
    return b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in pieces)


def gen_text(seed, n_bytes, malformed=True):
    rng = random.Random(seed)
    out = pieces_to_bytes(gen_pieces(rng, n_bytes, malformed))
    # A truncated sequence or a lone CR right at the end of the file, sometimes.
    tail = rng.randrange(6)
    if tail == 0 and malformed:
        out += b"\xe2\x82"
    elif tail == 1:
        out += b"\r"
    elif tail == 2:
        out += b"\n"
    return out


# ---------------------------------------------------------------------------------------
# JSONL
# ---------------------------------------------------------------------------------------
def _json_escape_char(rng, c):
    o = ord(c)
    if c == '"':
        return '\\"'
    if c == "\\":
        return "\\\\"
    if o < 0x20:
        short = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
        if c in short and rng.random() < 0.7:
            return short[c]
        return "\\u%04x" % o
    if c == "/" and rng.random() < 0.5:
        return "\\/"
    if rng.random() < 0.08:
        if o > 0xFFFF:
            v = o - 0x10000
            hi, lo = 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)
            fmt = "\\u%04x\\u%04x" if rng.random() < 0.5 else "\\u%04X\\u%04X"
            return fmt % (hi, lo)
        return ("\\u%04x" if rng.random() < 0.5 else "\\u%04X") % o
    return c


LONE_SURROGATES = ["\\ud800", "\\udc00", "\\udbff\\ud800", "\\ude00\\ud83d", "\\uD83D",
                   "\\ud83dx", "\\ud83d\\u0041", "a\\udfffb"]


def json_string(rng, pieces, lone_surrogates=False):
    """JSON string literal (bytes) for text pieces; bytes pieces go in raw (malformed)."""
    out = [b'"']
    for p in pieces:
        if isinstance(p, bytes):
            out.append(p)
            continue
        out.append("".join(_json_escape_char(rng, c) for c in p).encode("utf-8"))
        if lone_surrogates and rng.random() < 0.03:
            out.append(rng.choice(LONE_SURROGATES).encode("ascii"))
    out.append(b'"')
    return b"".join(out)


def _plain_json_string(rng, s):
    return json_string(rng, [s])


def _other_value(rng, depth=0):
    r = rng.randrange(9 if depth < 2 else 6)
    if r == 0:
        return rng.choice([b"0", b"-1", b"12", b"-0.5", b"1.5e3", b"2E-2", b"1e+2", b"-0"])
    if r == 1:
        return rng.choice([b"true", b"false", b"null"])
    if r in (2, 3, 4):
        return _plain_json_string(rng, rng.choice(LATIN + RUSSIAN + OTHER_SCRIPTS + ["", "a\"b", "x/y", "😀"]))
    if r == 5:
        return b'"\\u00e9t\\u00E9 \\ud83d\\ude00"'
    if r == 6:
        return b"[" + b", ".join(_other_value(rng, depth + 1) for _ in range(rng.randrange(3))) + b"]"
    if r == 7:
        return (b'{"text": ' + _other_value(rng, depth + 1) + b', "k": '
                + _other_value(rng, depth + 1) + b"}")
    return b'{"text":"inner text is not the document"}'


def _ws(rng):
    return rng.choice([b"", b"", b"", b" ", b"  ", b"\t", b"\r", b" \r\t "])


def _object(rng, members):
    parts = []
    for k, v in members:
        parts.append(_ws(rng) + k + _ws(rng) + b":" + _ws(rng) + v + _ws(rng))
    return _ws(rng) + b"{" + b",".join(parts) + b"}" + _ws(rng)


def _key(rng, name):
    if name == "text" and rng.random() < 0.05:
        return b'"te\\u0078t"'          # the same key, written with an escape
    return b'"' + name.encode() + b'"'


BAD_RECORDS = [
    b"[1, 2, 3]", b'"just a string"', b"42", b"null", b"{}", b'{"id": 1}',
    b'{"text": 5}', b'{"text": null}', b'{"text": ["a", "b"]}', b'{"text": {"text": "x"}}',
    b'{"text": "ok", "n": NaN}', b'{"text": "ok", "n": Infinity}', b'{"text": "ok", "n": -Infinity}',
    b'{"text": "ok"} garbage', b'{"text": "ok"}}', b'{"text": "ok"},', b'{"text": "ok",}',
    b'{"text": "raw \x01 control"}', b'{"text": "raw \x1f control"}', b'{"text": "tab\there"}',
    b'{"text": "ok", "x": "\xff"}', b'{"text": "ok", "x\xc3": 1}', b'{"text": "ok", "x": ["\xed\xa0\x80"]}',
    b"{'text': 'single quotes'}", b'{"text": "ok" // comment', b'{"text": "ok" /* c */}',
    b'{"text": "bad \\x escape"}', b'{"text": "bad \\u12 escape"}', b'{"text": "bad \\U0041"}',
    b'{"text": "ok", "n": 01}', b'{"text": "ok", "n": 1.}', b'{"text": "ok", "n": .5}',
    b'{"text": "ok", "n": +1}', b'{"text": "ok", "n": 0x10}', b'{"text": "ok", "n": 1e}',
    b'{"text": "unterminated}', b'{"text" "no colon"}', b'{text: "unquoted key"}',
    b'{"text": "ok"}{"text": "two"}', b'{"text": "ok", "b": True}', b'{"text": "ok", "b": nul}',
    b'\x0b{"text": "vertical tab is not JSON whitespace"}', b'\x0c', b'\xef\xbb\xbf{"text": "BOM not at file start"}',
    b'{"text": "a", "text": 5}', b'{"text": "ok", "a": [1, 2,]}', b'{"text": "ok", "a": [1 2]}',
    b'{"text": \'x\'}', b'{"text": "ok"', b'{', b'}', b'{"text": "\xc3"}x',
    b'\xa0{"text": "nbsp before"}', b'{"body": "only a body"}',
]


def gen_jsonl(seed, n_records, field="text", bom=None):
    """JSONL bytes: mostly good records (escapes, malformed UTF-8 and lone surrogates in
    the text string, duplicate keys, extra fields), blank lines, and bad records."""
    rng = random.Random(seed)
    lines = []
    for i in range(n_records):
        r = rng.random()
        if r < 0.06:
            lines.append(rng.choice([b"", b"  ", b"\t", b" \t \r", b"\r"]))
            continue
        if r < 0.28:
            lines.append(rng.choice(BAD_RECORDS))
            continue
        pieces = gen_pieces(rng, rng.randint(0, 400), malformed=rng.random() < 0.4)
        text = json_string(rng, pieces, lone_surrogates=True)
        if rng.random() < 0.05:
            text = b'""'
        others = [(b'"id"', str(i).encode())]
        if rng.random() < 0.5:
            others.append((b'"meta"', _other_value(rng)))
        if rng.random() < 0.3:
            others.append((b'"body"' if field == "text" else b'"text"',
                           json_string(rng, gen_pieces(rng, 60, malformed=False))))
        if rng.random() < 0.3:
            others.append((b'"extra"', _other_value(rng)))
        kind = rng.random()
        if kind < 0.06:      # duplicate key: a non-string first, the string last (good)
            textish = [(_key(rng, field), _other_value(rng)), (_key(rng, field), text)]
        elif kind < 0.12:    # duplicate key: two strings, the last wins
            first = _plain_json_string(rng, "first loses " + rng.choice(LATIN))
            textish = [(_key(rng, field), first), (_key(rng, field), text)]
        else:
            textish = [(_key(rng, field), text)]
        rng.shuffle(others)
        k = rng.randrange(len(others) + 1)
        ordered = others[:k] + textish + others[k:]
        line = _object(rng, ordered)
        if rng.random() < 0.1:
            line += b"\r"              # CRLF line end: the CR is JSON whitespace
        lines.append(line)
    if bom is None:
        bom = rng.random() < 0.3
    data = b"\n".join(lines)
    if rng.random() < 0.7:
        data += b"\n"
    return (b"\xef\xbb\xbf" if bom else b"") + data


# ---------------------------------------------------------------------------------------
# Corpus folders
# ---------------------------------------------------------------------------------------
def write_corpus(dirpath, seed, n_files=5, file_bytes=6000, jsonl_records=60):
    """A folder of generated inputs; returns the paths written (hidden ones included)."""
    rng = random.Random(seed)
    os.makedirs(dirpath, exist_ok=True)
    written = []

    def put(rel, data):
        p = os.path.join(dirpath, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        written.append(p)

    for k in range(n_files):
        sub = "sub/" if k % 2 else ""
        put(f"{sub}doc{k:02d}.txt", gen_text(rng.randrange(1 << 30), rng.randint(file_bytes // 2, file_bytes)))
    put("empty.txt", b"")
    put("blank-only.txt", b"  \n\t\n\x0b\x0c\n")
    put("records.jsonl", gen_jsonl(rng.randrange(1 << 30), jsonl_records))
    put(".hidden.txt", b"hidden file must be skipped skipped skipped\n")
    put(".hiddendir/inside.txt", b"hidden folder must be skipped\n")
    return written


# ---------------------------------------------------------------------------------------
# zstd frames by hand (raw blocks) and skippable frames
# ---------------------------------------------------------------------------------------
def zstd_raw_frame(data):
    """One zstd frame holding data (<= 255 bytes) in a single raw block.
    Frame_Header_Descriptor 0x20: Single_Segment_flag set, FCS_flag 0, so the
    Frame_Content_Size field is 1 byte and there is no Window_Descriptor."""
    assert len(data) <= 255
    block_header = 1 | (0 << 1) | (len(data) << 3)          # last block, raw, size
    return (struct.pack("<I", 0xFD2FB528) + bytes([0x20, len(data)])
            + struct.pack("<I", block_header)[:3] + data)


def zstd_skippable_frame(rng):
    payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12)))
    return struct.pack("<II", 0x184D2A50 + rng.randrange(16), len(payload)) + payload


def zstd_raw_frames(data, rng, max_piece=17):
    """data cut into pieces of 1..max_piece bytes (some empty), one frame each, with
    skippable frames scattered between them.  Empty data gives zero bytes."""
    out = []
    i = 0
    while i < len(data):
        n = rng.randint(1, max_piece)
        if rng.random() < 0.05:
            out.append(zstd_raw_frame(b""))
        if rng.random() < 0.05:
            out.append(zstd_skippable_frame(rng))
        out.append(zstd_raw_frame(data[i:i + n]))
        i += n
    return b"".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description="seeded adversarial corpus generator")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bytes", type=int, default=20000)
    p.add_argument("--jsonl", type=int, metavar="RECORDS")
    p.add_argument("--corpus", metavar="DIR")
    p.add_argument("-o", dest="out")
    a = p.parse_args(argv)
    if a.corpus:
        for path in write_corpus(a.corpus, a.seed):
            print(path)
        return
    data = gen_jsonl(a.seed, a.jsonl) if a.jsonl else gen_text(a.seed, a.bytes)
    if a.out:
        with open(a.out, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)


if __name__ == "__main__":
    main()
