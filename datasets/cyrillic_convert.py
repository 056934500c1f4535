#!/usr/bin/env python3
"""Turns two Debian packages of Cyrillic text into JSONL and plain-text shards.

Inputs are the extracted packages (`dpkg-deb -x`), each a folder holding `usr/`:
  fortunes-ru  usr/share/games/fortunes/ru/NAME   fortune files: UTF-8 texts separated by
               lines holding only `%`; NAME.dat (strfile index) and NAME.u8 (a symlink)
               are skipped. One document per fortune.
  manpages-uk  usr/share/man/uk/manN/PAGE.N.gz    roff man pages (man(7), a few mdoc(7)),
               gzipped or not; symlinks (aliases of other pages) are skipped. One document
               per page.

What is stripped:
  fortunes: the `%` separator lines; CR of CRLF line ends (two files have them); spaces
    and tabs at both ends of every line (attributions are indented `\\t\\t-- Author`);
    empty lines inside a fortune; empty fortunes. Nothing else: the text is the
    fortune as printed.
  man pages: everything that is roff rather than text:
    - comments (`.\\"`, `\\"` to the end of a line, `\\#`); macro definitions
      (`.de` / `.am` / `.ig` up to `..`); conditional requests (`.if`, `.ie`, `.el`,
      `.while`, with their `\\{ ... \\}` blocks): in these pages they only set up strings
      and fonts for different formatters;
    - every request and macro that does not print text (`.TH`, `.PP`, `.sp`, `.br`,
      `.RS`, `.nf`, `.ds`, `.nr`, `.ad`, `.IX` index entries, `.Bl`, `.Pp`, ...);
      macros that print their arguments keep them without the macro name: headings
      `.SH`/`.SS`/`.Sh`/`.Ss`, fonts `.B .I .BR .IR .RB .RI .BI .IB .SM .SB`, `.IP` tags,
      links `.UR`/`.MT` (the address is kept as `<address>`, as man(1) shows it),
      `.URL`/`.MTO` (`text <address>`, or the address alone), bash's `.FN` (a file
      name); mdoc's `.Ex`/`.Rv` boilerplate is not generated;
    - mdoc(7) (7 pages): macro names are dropped, their arguments kept, rendered the way
      mandoc does for the common ones: `Fl x` -> `-x`, `Xr ssh 1` -> `ssh(1)`, `Op` ->
      `[...]`, `Dq`/`Sq`/`Ql`/`Qq`/`Pq`/`Aq` -> quotes or brackets, `Nm` -> the page's
      name, `Ns` -> no space, `Ux` -> `UNIX`;
    - tbl(1) tables (`.TS` ... `.TE`): the format lines; a row becomes one line with its
      cells separated by a space (`T{`/`T}` text blocks joined in), rule rows dropped;
    - escapes: fonts `\\fB`, `\\f(CW`, `\\f[..]`; sizes `\\s-1`; `\\&`, `\\%`, `\\c`, `\\:`,
      `\\|`, `\\^`, `\\)`, `\\,`, `\\/`, `\\d`, `\\u`, `\\z`, `\\k`; motions and drawing
      (`\\h'..'`, `\\v'..'`, `\\w'..'`, `\\l`, `\\L`, `\\D`, `\\o`, `\\X` ...); registers
      `\\n(xx`. Escapes that stand for characters become the character: `\\-` `-`,
      `\\e` and `\\\\` a backslash, `\\ ` `\\~` `\\0` `\\t` a space, `\\(em` and `\\[em]`
      (groff_char names, table below), `\\[u0444]`, `\\*(lq` and other strings (the
      page's own top-level `.ds`, else the table below); an unknown name is dropped.
    Filled text (the default) is joined into one line per paragraph, as a formatter
    would; no-fill text (`.nf`, `.EX`, `.Vb`, `.Bd -literal`) keeps its lines. A heading,
    a `.TP` tag, a table row is a line of its own. Empty lines are dropped.
  In both: a document never holds an empty line, so the plain-text shards can separate
  documents by one blank line and both forms hold the same text.

Output (uncompressed; the calling script compresses):
  OUT/jsonl/PART-NN.jsonl   {"id", "date", "source", "text"} per line, ensure_ascii off
  OUT/text/PART-NN.txt      the same documents in the same order, joined by one blank
                            line ("\\n\\n"); the file ends with "\\n"
  PART is fortunes-ru or manpages-uk; each part's documents (in the order below) are cut
  into SHARDS contiguous shards of (almost) equal document counts. Order: fortune files
  by name, fortunes in file order; man pages by section folder, then file name.
  id:     fortunes-ru:FILE:NNNN (1-based number of the fortune in FILE, empty ones not
          counted), manpages-uk:PAGE.N
  source: fortunes-ru/FILE, manpages-uk/manN
  date:   not known per document. A stable placeholder: the date of the pinned release
          (fortunes-ru upstream 1.52, 2007-02-15; manpages-l10n 4.18.1-1's Debian
          upload, 2023-04-08). It is not the date the text was written.

Usage:
  cyrillic_convert.py shards FORTUNES_ROOT MANPAGES_ROOT OUT
  cyrillic_convert.py sample FORTUNES_ROOT MANPAGES_ROOT DIR   the test excerpt (below)
  cyrillic_convert.py text PAGE                                one man page to stdout
Same input, same bytes out. Python standard library only.
"""
import gzip
import json
import os
import re
import sys

SHARDS = 4
PARTS = {
    "fortunes-ru": {"date": "2007-02-15"},
    "manpages-uk": {"date": "2023-04-08"},
}
FORTUNE_DIR = "usr/share/games/fortunes/ru"
MAN_DIR = "usr/share/man/uk"

# ---------------------------------------------------------------------------------------
# fortunes
# ---------------------------------------------------------------------------------------
SEPARATOR = re.compile(r"^%[ \t]*$")


def fortune_files(root):
    d = os.path.join(root, FORTUNE_DIR)
    names = []
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if name.endswith((".dat", ".u8")) or os.path.islink(p) or not os.path.isfile(p):
            continue
        names.append(name)
    if not names:
        sys.exit(f"cyrillic_convert: no fortune files in {d}")
    return d, names


def split_fortunes(raw):
    """The text of one fortune file -> list of fortunes (stripped lines, no empty ones)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    out, cur = [], []
    for line in text.split("\n") + ["%"]:
        if SEPARATOR.match(line):
            if cur:
                out.append("\n".join(cur))
            cur = []
            continue
        line = line.strip(" \t")
        if line:
            cur.append(line)
    return out


def fortune_docs(root):
    d, names = fortune_files(root)
    docs = []
    for name in names:
        with open(os.path.join(d, name), "rb") as f:
            raw = f.read().decode("utf-8")   # every file is UTF-8 since 1.51: fail loudly
        for i, text in enumerate(split_fortunes(raw), 1):
            docs.append({"id": f"fortunes-ru:{name}:{i:04d}",
                         "date": PARTS["fortunes-ru"]["date"],
                         "source": f"fortunes-ru/{name}", "text": text})
    return docs


# ---------------------------------------------------------------------------------------
# roff
# ---------------------------------------------------------------------------------------
GREEK = dict(zip("abgdezyhiklmnxoprsvtufcqw",
                 "αβγδεζηθικλμνξοπρστυφχψω"))
CHARS = {
    "aq": "'", "dq": '"', "bu": "•", "co": "©", "rg": "®", "tm": "™", "at": "@",
    "rs": "\\", "sl": "/", "en": "–", "em": "—", "hy": "-", "mi": "-", "lq": "“",
    "rq": "”", "oq": "‘", "cq": "’", "Fo": "«", "Fc": "»", "fo": "‹", "fc": "›",
    "la": "⟨", "ra": "⟩", ">=": "≥", "<=": "≤", "+-": "±", "mu": "×", "di": "÷",
    "de": "°", "ga": "`", "aa": "´", "ti": "~", "ha": "^", "bv": "|", "ba": "|",
    "or": "|", "br": "│", "lA": "⇐", "rA": "⇒", "<-": "←", "->": "→", "ua": "↑",
    "da": "↓", "pd": "∂", "mc": "µ", "md": "⋅", "pc": "·", "sc": "§", "ps": "¶",
    "dg": "†", "ct": "¢", "Po": "£", "Eu": "€", "eu": "€", "Ye": "¥", "==": "≡",
    "!=": "≠", "~~": "≈", "if": "∞", "ul": "_", "ru": "_", "lB": "[", "rB": "]",
    "lC": "{", "rC": "}", "pl": "+", "eq": "=", "ss": "ß", "sq": "□", "OK": "✓",
    "12": "½", "14": "¼", "34": "¾", "no": "¬", "fm": "′", "sd": "″", "de": "°",
    "'e": "é", "`e": "è", ":a": "ä", ":o": "ö", ":u": "ü", ":A": "Ä", ":O": "Ö",
    ":U": "Ü", "'a": "á", "'o": "ó", ",c": "ç", "~n": "ñ", "-D": "Đ", "Sd": "ð",
    **{"*" + k: v for k, v in GREEK.items()},
    **{"*" + k.upper(): v.upper() for k, v in GREEK.items()},
}
# Strings (\*x, \*(xx, \*[name]) these pages use without defining them at top level.
STRINGS = {
    "lq": "“", "rq": "”", "la": "<", "ra": ">", "Aq": "'", "C`": '"', "C'": '"',
    'L"': "“", 'R"': "”", "Gt": ">", "Lt": "<", "Am": "&", "--": "—", "PI": "π",
    "C+": "C++", "Ge": "≥", "Le": "≤", "Tm": "™", "R": "®", "S": "", "Ba": "|",
}
NOARG_ESC = set("&%c:|^),/duzpaErt{}") | {"!"}
DELIM_ESC = set("hvwlLDoXbxSHRZABNVbCY")   # \h'...' and friends: argument in delimiters


class Unknown:
    """Counts what was dropped without a rule, for the report at the end."""
    names = {}

    @classmethod
    def add(cls, what):
        cls.names[what] = cls.names.get(what, 0) + 1


def _name_arg(s, i):
    """Argument of \\X-style escapes at s[i]: 'x', '(xx' or '[name]'; -> (name, next i)."""
    if i >= len(s):
        return "", i
    if s[i] == "(":
        return s[i + 1:i + 3], i + 3
    if s[i] == "[":
        j = s.find("]", i)
        if j < 0:
            return s[i + 1:], len(s)
        return s[i + 1:j], j + 1
    return s[i], i + 1


def char_named(name):
    if name in CHARS:
        return CHARS[name]
    m = re.fullmatch(r"u([0-9A-Fa-f]{4,6})((?:_[0-9A-Fa-f]{4,6})*)", name)
    if m:
        return "".join(chr(int(h, 16)) for h in name[1:].split("_"))
    m = re.fullmatch(r"char(\d+)", name)
    if m:
        return chr(int(m.group(1)))
    if len(name) == 1:
        return name
    Unknown.add("\\[" + name + "]")
    return ""


def unescape(s, strings, depth=0):
    """roff text with escapes -> plain text. A comment ends the text."""
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:          # a lone backslash at the end (continuation): nothing
            break
        e = s[i + 1]
        i += 2
        if e in "\"#":
            break
        if e in "\\e":
            out.append("\\")
        elif e in "-":
            out.append("-")
        elif e in " ~0\t":
            out.append(" ")
        elif e == "t":
            out.append(" ")
        elif e == "'":
            out.append("´")
        elif e == "`":
            out.append("`")
        elif e == ".":
            out.append(".")
        elif e in NOARG_ESC:
            pass
        elif e == "f" or e == "F" or e == "m" or e == "M":
            _, i = _name_arg(s, i)
        elif e == "n":
            if i < n and s[i] in "+-":
                i += 1
            _, i = _name_arg(s, i)
        elif e == "g" or e == "k" or e == "O" or e == "$":
            _, i = _name_arg(s, i)
        elif e == "s":
            if i < n and s[i] in "+-":
                i += 1
            if i < n and s[i] in "([":
                _, i = _name_arg(s, i)
            elif i < n and s[i] == "'":
                j = s.find("'", i + 1)
                i = n if j < 0 else j + 1
            elif i < n and s[i].isdigit():
                i += 1                 # \sN takes one digit; \s(NN and \s[N] above
        elif e == "(" or e == "[":
            name, i = _name_arg(s, i - 1)
            out.append(char_named(name))
        elif e == "*":
            name, i = _name_arg(s, i)
            if name in strings and depth < 8:
                out.append(unescape(strings[name], strings, depth + 1))
            elif name in STRINGS:
                out.append(STRINGS[name])
            else:
                Unknown.add("\\*[" + name + "]")
        elif e == "C":
            if i < n:
                d = s[i]
                j = s.find(d, i + 1)
                j = n if j < 0 else j
                out.append(char_named(s[i + 1:j]))
                i = j + 1
        elif e in DELIM_ESC:
            if i < n:
                d = s[i]
                j = s.find(d, i + 1)
                i = n if j < 0 else j + 1
        else:
            Unknown.add("\\" + e)
    return "".join(out)


def split_args(s):
    """Arguments of a macro line (after the name): spaces separate, "..." quotes, ""
    inside quotes is a quote; escapes are kept raw."""
    args, i, n = [], 0, len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            break
        cur = []
        if s[i] == '"':
            i += 1
            while i < n:
                if s[i] == '"':
                    if i + 1 < n and s[i + 1] == '"':
                        cur.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                if s[i] == "\\" and i + 1 < n:
                    if s[i + 1] == '"':     # a comment starts inside the quotes
                        i = n
                        break
                    cur.append(s[i:i + 2])
                    i += 2
                    continue
                cur.append(s[i])
                i += 1
        else:
            while i < n and s[i] not in " \t":
                if s[i] == "\\" and i + 1 < n:
                    if s[i + 1] == '"':
                        i = n
                        break
                    cur.append(s[i:i + 2])
                    i += 2
                    continue
                cur.append(s[i])
                i += 1
        args.append("".join(cur))
    return args


# Requests and macros that break the line (end a filled paragraph) and print nothing.
BREAKS = {"PP", "LP", "P", "sp", "br", "HP", "RS", "RE", "in", "ti", "ne", "bp", "TH",
          "Pp", "Lp", "Bl", "El", "Bd", "Ed", "Rs", "Re", "Dd", "Dt", "Os", "Sp", "PD"}
# Requests that print nothing and do not break: dropped (and not reported as unknown).
SILENT = {"ll", "nh", "hy", "ad", "na", "als", "ss", "fam", "IX", "nr", "rm", "rr", "ta",
          "it", "ft", "ps", "ce", "ul", "DT", "zZ", "zY", "dT", "mso", "so", "tr", "tm",
          "do", "di", "ev", "LINKSTYLE", "cs", "lf", "pc", "ns", "rs", "Ex", "Rv", "Sm",
          "Bk", "Ek", "Ed"}
NOFILL_ON = {"nf", "EX", "Vb"}
NOFILL_OFF = {"fi", "EE", "Ve"}
SPACED = {"B", "I", "SM", "SB", "FN"}   # FN: bash's file-name macro
ALTERNATING = {"BR", "BI", "IB", "IR", "RB", "RI"}
# mdoc
MDOC_ENCLOSE = {"Op": ("[", "]"), "Dq": ("“", "”"), "Sq": ("‘", "’"), "Ql": ("‘", "’"),
                "Qq": ('"', '"'), "Pq": ("(", ")"), "Aq": ("⟨", "⟩"), "Bq": ("[", "]"),
                "Brq": ("{", "}")}
MDOC_OPEN = {"Oo": "[", "Do": "“", "So": "‘", "Qo": '"', "Po": "(", "Ao": "⟨", "Bo": "["}
MDOC_CLOSE = {"Oc": "]", "Dc": "”", "Sc": "’", "Qc": '"', "Pc": ")", "Ac": "⟩", "Bc": "]"}
MDOC_DROP_NAME = {"Cm", "Ar", "Pa", "Ev", "Dv", "Em", "Sy", "Li", "Va", "Er", "Fn", "Fa",
                  "Ft", "Cd", "Lk", "Mt", "Sx", "Tn", "An", "No", "Ic", "Xc", "Xo", "Nd",
                  "It", "D1", "Dl", "Sh", "Ss", "Pf", "Ad", "Ms", "Ot", "Bk", "Ek", "Ta",
                  "%A", "%B", "%C", "%D", "%I", "%J", "%N", "%O", "%P", "%Q", "%R", "%T",
                  "%U", "%V", "Cx", "Fx", "Ox", "Nx", "Bsx", "Dx", "At", "St", "Lb", "In",
                  "Fd", "Vt"}
MDOC_LITERALS = {"Ux": "UNIX", "Bx": "BSD", "Fx": "FreeBSD", "Ox": "OpenBSD",
                 "Nx": "NetBSD", "Bsx": "BSD/OS", "Dx": "DragonFly"}
MDOC_PUNCT = {".", ",", ";", ":", "?", "!", ")", "]"}
MDOC_CALLABLE = (set(MDOC_ENCLOSE) | set(MDOC_OPEN) | set(MDOC_CLOSE) | MDOC_DROP_NAME |
                 set(MDOC_LITERALS) | {"Fl", "Xr", "Nm", "Ns", "Sm"})


class Page:
    """State of one man page being turned into lines of text."""

    def __init__(self):
        self.lines = []        # finished output lines
        self.para = []         # pieces of the filled paragraph being built
        self.glue = False      # next piece joins the last without a space (\c, Ns)
        self.nofill = False
        self.tag_pending = False
        self.strings = {}
        self.name = ""         # mdoc .Nm
        self.link = None       # the address of an open .UR / .MT
        self.smoff = False     # mdoc .Sm off: no spaces between words
        self.xo = False        # mdoc .It ... Xo: the item line goes on until .Xc

    def add(self, text):
        """Adds text in the current mode."""
        text = text.strip()
        if not text:
            return
        if self.nofill and not self.tag_pending:
            if self.glue and self.lines:
                self.lines[-1] += text
            else:
                self.flush()
                self.lines.append(text)
            return
        if self.glue and self.para:
            self.para[-1] += text
        else:
            self.para.append(text)
        if self.tag_pending:
            self.tag_pending = False
            self.flush()

    def flush(self):
        if self.para:
            self.lines.append(" ".join(self.para))
            self.para = []

    def text(self):
        self.flush()
        out = []
        for line in self.lines:
            line = re.sub(r"[ \t]+", " ", line).strip()
            if line:
                out.append(line)
        return "\n".join(out)


def mdoc_render(page, name, args):
    """One mdoc macro line -> text (macro names dropped, the common ones rendered)."""
    words = []             # (text, glue_before)
    closers = []
    toks = [name] + args
    i = 0
    glue_next = False
    fl_pending = False

    def put(t, glue=False):
        nonlocal glue_next, fl_pending
        if fl_pending:
            t = "-" + t
            fl_pending = False
        words.append((t, glue or glue_next or page.smoff))
        glue_next = False

    while i < len(toks):
        t = toks[i]
        if t in MDOC_CALLABLE:
            if t == "Fl":
                if fl_pending:
                    put("")
                fl_pending = True
            elif t == "Ns":
                glue_next = True
            elif t == "Sm":
                if i + 1 < len(toks) and toks[i + 1] in ("on", "off"):
                    page.smoff = toks[i + 1] == "off"
                    i += 1
            elif t == "Xr":
                if i + 1 < len(toks):
                    sec = toks[i + 2] if i + 2 < len(toks) else ""
                    put(unescape(toks[i + 1], page.strings) + (f"({sec})" if sec else ""))
                    i += 2 if sec else 1
            elif t == "Nm":
                if i + 1 < len(toks) and toks[i + 1] not in MDOC_CALLABLE \
                        and toks[i + 1] not in MDOC_PUNCT:
                    if not page.name:
                        page.name = unescape(toks[i + 1], page.strings)
                elif page.name:
                    put(page.name)
            elif t in MDOC_ENCLOSE:
                o, c = MDOC_ENCLOSE[t]
                put(o)
                glue_next = True
                closers.append(c)
            elif t in MDOC_OPEN:
                put(MDOC_OPEN[t])
                glue_next = True
            elif t in MDOC_CLOSE:
                put(MDOC_CLOSE[t], glue=True)
            elif t in MDOC_LITERALS:
                put(MDOC_LITERALS[t])
            # other names (Cm, Ar, Pa, ...): dropped, their arguments follow
        elif t in MDOC_PUNCT and i > 0:
            if fl_pending:
                put("")
            # trailing punctuation goes after the enclosure's closer
            if closers and all(x in MDOC_PUNCT for x in toks[i:]):
                while closers:
                    put(closers.pop(), glue=True)
            put(t, glue=True)
        else:
            put(unescape(t, page.strings))
        i += 1
    if fl_pending:
        put("")
    while closers:
        put(closers.pop(), glue=True)
    out = ""
    for t, g in words:
        if out and not g:
            out += " "
        out += t
    return out


def roff_lines(src):
    """Physical lines -> logical lines (a trailing odd backslash continues the line)."""
    lines = src.replace("\r\n", "\n").split("\n")
    out, cur = [], None
    for line in lines:
        if cur is not None:
            line = cur + line
            cur = None
        m = re.search(r"(\\+)$", line)
        if m and len(m.group(1)) % 2 == 1:
            cur = line[:-1]
            continue
        out.append(line)
    if cur is not None:
        out.append(cur)
    return out


def table_cells(page, table, cells):
    """Cells of a tbl data line; a last cell `T{` opens a text block (the row goes on)."""
    for k, c in enumerate(cells):
        if k == len(cells) - 1 and c.strip() == "T{":
            table["block"] = []
            return
        table["row"].append(unescape(c, page.strings))
    table_row_end(page, table)


def table_row_end(page, table):
    cells = [c.strip() for c in table["row"]]
    page.add(" ".join(c for c in cells if c and c not in ("_", "=")))
    page.flush()
    table["row"] = []


def roff_to_text(src):
    """A man page's roff source -> its text (see the module's doc)."""
    page = Page()
    lines = roff_lines(src)
    mdoc = any(re.match(r"\.\s*Dd\b", l) for l in lines[:200])
    i, n = 0, len(lines)
    table = None            # None, or {"tab": char, "format": bool, "block": [...]}
    while i < n:
        line = lines[i]
        i += 1
        if table is not None:
            if re.match(r"[.']\s*TE\b", line):
                if table["row"]:
                    table_row_end(page, table)
                table = None
                continue
            if table["format"]:
                if ";" in line and not table["seen_opts"] and "tab(" in line:
                    m = re.search(r"tab\s*\((.)\)", line)
                    if m:
                        table["tab"] = m.group(1)
                table["seen_opts"] = True
                if line.rstrip().endswith("."):
                    table["format"] = False
                continue
            if re.match(r"[.']\s*T&", line):
                table["format"] = True
                continue
            if table["block"] is not None:          # inside T{ ... T}
                if line.startswith("T}"):
                    table["row"].append(" ".join(table["block"]))
                    table["block"] = None
                    rest = line[2:]
                    if rest.strip():
                        table_cells(page, table, rest.split(table["tab"])[1:])
                    else:
                        table_row_end(page, table)
                elif not line.startswith((".", "'")):
                    table["block"].append(unescape(line, page.strings))
                continue
            if line.startswith((".", "'")) or line.strip() in ("_", "=", ""):
                continue
            table_cells(page, table, line.split(table["tab"]))
            continue

        if not line.startswith((".", "'")):
            # a text line
            if line.strip() == "":
                page.flush()
                continue
            glue_after = bool(re.search(r"(?<!\\)(\\\\)*\\c\s*$", line))
            page.add(unescape(line, page.strings))
            page.glue = glue_after
            continue

        body = line[1:].lstrip(" \t")
        if body.startswith('\\"') or body.startswith("\\#") or body == "":
            continue
        m = re.match(r"(\S+)(.*)", body)
        name, rest = m.group(1), m.group(2)
        if "\\" in name and not name.startswith("\\"):
            # `.B\fI...`? treat up to the escape as the name
            k = name.index("\\")
            name, rest = name[:k], name[k:] + rest
        if name.startswith("\\}") or name.startswith("\\{"):
            continue
        if name in ("de", "de1", "am", "am1", "ig", "dei", "ami"):
            a = split_args(rest)
            end = "." + (a[1] if len(a) > 1 else ".") if name != "ig" else \
                  "." + (a[0] if a else ".")
            while i < n and lines[i].strip() != end and \
                    not re.match(re.escape(end) + r"(\s|$)", lines[i].strip()):
                i += 1
            i += 1
            continue
        if name in ("if", "ie", "el", "while"):
            depth = rest.count("\\{") - rest.count("\\}")
            while depth > 0 and i < n:
                depth += lines[i].count("\\{") - lines[i].count("\\}")
                i += 1
            continue
        if name == "ds" or name == "ds1":
            a = rest.lstrip().split(None, 1)
            if a:
                v = a[1] if len(a) > 1 else ""
                page.strings[a[0]] = v[1:] if v.startswith('"') else v
            continue
        if name == "TS":
            page.flush()
            table = {"tab": "\t", "format": True, "seen_opts": False, "block": None,
                     "row": []}
            continue
        if name in NOFILL_ON:
            page.flush()
            page.nofill = True
            continue
        if name in NOFILL_OFF:
            page.flush()
            page.nofill = False
            continue
        if mdoc and name in MDOC_CALLABLE:
            args = split_args(rest)
            if name in ("Sh", "Ss", "It", "D1", "Dl"):
                page.flush()
            if name == "Sm":
                page.smoff = bool(args) and args[0] == "off"
                continue
            text = mdoc_render(page, name, args)
            if name == "Nd":
                text = "— " + text
            page.add(text)
            page.glue = False
            if name == "It" and "Xo" in args:
                page.xo = True           # the item goes on until .Xc
            elif name in ("Sh", "Ss", "It", "D1", "Dl") or page.xo and "Xc" in [name] + args:
                page.xo = False
                page.flush()
            continue
        if mdoc and name == "Bd":
            page.flush()
            page.nofill = "-literal" in rest or "-unfilled" in rest
            continue
        if mdoc and name == "Ed":
            page.flush()
            page.nofill = False
            continue
        if name in BREAKS:
            page.flush()
            continue
        if name in ("SH", "SS"):
            page.flush()
            args = split_args(rest)
            if args:
                page.add(" ".join(unescape(a, page.strings) for a in args))
                page.flush()
            else:
                page.tag_pending = True      # the heading is the next line
            continue
        if name == "TP":
            page.flush()
            page.tag_pending = True
            continue
        if name == "IP":
            page.flush()
            args = split_args(rest)
            if args:
                page.add(unescape(args[0], page.strings))
            continue
        if name in SPACED:
            args = split_args(rest)
            if args:
                page.add(" ".join(unescape(a, page.strings) for a in args))
                page.glue = False
            continue
        if name in ALTERNATING:
            args = split_args(rest)
            glue_after = bool(args) and bool(re.search(r"(?<!\\)(\\\\)*\\c$", args[-1]))
            page.add("".join(unescape(a, page.strings) for a in args))
            page.glue = glue_after
            continue
        if name in ("UR", "MT"):
            args = split_args(rest)
            page.link = unescape(args[0], page.strings) if args else ""
            continue
        if name in ("UE", "ME", "Me"):      # Me: po4a's closing of mdoc .Mt
            if page.link:
                page.add("<" + page.link + ">")
            args = split_args(rest)
            if args:
                page.glue = True
                page.add("".join(unescape(a, page.strings) for a in args))
            page.glue = False
            page.link = None
            continue
        if name in ("URL", "MTO"):
            args = [unescape(a, page.strings) for a in split_args(rest)]
            if args:
                text = args[1].strip() if len(args) > 1 else ""
                page.add(f"{text} <{args[0]}>" if text else args[0])
                if len(args) > 2 and args[2]:
                    page.glue = True
                    page.add(args[2])
                    page.glue = False
            continue
        if name not in SILENT:
            Unknown.add("." + name)
    return page.text()


def read_page(path):
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def man_pages(root):
    d = os.path.join(root, MAN_DIR)
    pages = []
    for sec in sorted(os.listdir(d)):
        sd = os.path.join(d, sec)
        if not sec.startswith("man") or not os.path.isdir(sd):
            continue
        for name in sorted(os.listdir(sd)):
            p = os.path.join(sd, name)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            pages.append((sec, name, p))
    if not pages:
        sys.exit(f"cyrillic_convert: no man pages in {d}")
    return pages


def man_docs(root):
    docs = []
    for sec, name, path in man_pages(root):
        text = roff_to_text(read_page(path))
        if not text:
            continue
        page = name[:-3] if name.endswith(".gz") else name
        docs.append({"id": f"manpages-uk:{page}", "date": PARTS["manpages-uk"]["date"],
                     "source": f"manpages-uk/{sec}", "text": text})
    return docs


# ---------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_shards(fortunes_root, man_root, out):
    total = {}
    for part, docs in (("fortunes-ru", fortune_docs(fortunes_root)),
                       ("manpages-uk", man_docs(man_root))):
        for d in docs:
            assert "\n\n" not in d["text"] and d["text"] == d["text"].strip(), d["id"]
        for k in range(SHARDS):
            chunk = docs[k * len(docs) // SHARDS:(k + 1) * len(docs) // SHARDS]
            write(os.path.join(out, "jsonl", f"{part}-{k:02d}.jsonl"),
                  "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in chunk))
            write(os.path.join(out, "text", f"{part}-{k:02d}.txt"),
                  "\n\n".join(d["text"] for d in chunk) + "\n")
        total[part] = (len(docs), sum(len(d["text"].encode()) for d in docs))
    for part, (nd, nb) in total.items():
        print(f"cyrillic_convert: {part}: {nd} documents, {nb} bytes of text",
              file=sys.stderr)
    if Unknown.names:
        top = sorted(Unknown.names.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
        print("cyrillic_convert: dropped without a rule: " +
              ", ".join(f"{k} x{v}" for k, v in top), file=sys.stderr)


# The test excerpt (tests/data/cyrillic/): fortune files cut to their first fortunes (amur
# has CRLF line ends, haiku indented lines, 2001.03 attributions), short man pages whole
# (chvt: man(7) basics, .UR/.MT; uuidparse: a tbl table with T{ blocks, .URL/.MTO) and
# two pages cut (grep: the preamble's .de/.if/.ds blocks; scp: mdoc), each cut at a
# paragraph or item start after at most N lines and followed by the page's last section.
SAMPLE_FORTUNES = {"2001.03": 10, "amur": 12, "armenian": 12, "haiku": 10}
SAMPLE_PAGES = {"man1/chvt.1": None, "man1/uuidparse.1": None, "man1/grep.1": 200,
                "man1/scp.1": 120}
CUT_AT = re.compile(r"[.'](PP|Pp|TP|It|SH|SS|Sh|Ss)\b")


def cut_page(src, limit):
    lines = src.split("\n")
    if limit is None or len(lines) <= limit:
        return src
    k = max(i for i in range(limit + 1) if CUT_AT.match(lines[i]))
    last = max(i for i, l in enumerate(lines) if re.match(r"\.S[Hh]\b", l))
    return "\n".join(lines[:k] + lines[last:])


def copyright_excerpt(text, pages):
    """debian/copyright cut to its header, `Files: *`, the paragraphs naming the sample
    pages' translations (their Files: field cut to those pages) and standalone licences."""
    keep = []
    wanted = [f"po/uk/{p}.po" for p in pages]
    for k, para in enumerate(text.strip("\n").split("\n\n")):
        if k < 2 or para.startswith("License:"):
            keep.append(para)
            continue
        names = [w for w in wanted if w in para.split()]
        if names and para.startswith("Files:"):
            rest = para[para.index("\nCopyright:"):]
            keep.append("Files: " + " ".join(names) + rest)
    return "\n\n".join(keep) + "\n"


def write_sample(fortunes_root, man_root, out):
    d = os.path.join(out, "fortunes-ru", FORTUNE_DIR)
    os.makedirs(d, exist_ok=True)
    for name, count in SAMPLE_FORTUNES.items():
        with open(os.path.join(fortunes_root, FORTUNE_DIR, name), "rb") as f:
            raw = f.read()
        sep = b"%\r\n" if b"\r\n" in raw else b"%\n"
        parts = raw.split(sep)
        with open(os.path.join(d, name), "wb") as f:
            f.write(sep.join(parts[:count]) + sep)
    for page, limit in SAMPLE_PAGES.items():
        src = os.path.join(man_root, MAN_DIR, page + ".gz")
        dst = os.path.join(out, "manpages-uk", MAN_DIR, page)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w", encoding="utf-8", newline="") as f:
            f.write(cut_page(read_page(src), limit))
    for pkg, root in (("fortunes-ru", fortunes_root), ("manpages-uk", man_root)):
        with open(os.path.join(root, "usr/share/doc", pkg, "copyright"),
                  encoding="utf-8") as f:
            text = f.read()
        if pkg == "manpages-uk":
            text = copyright_excerpt(text, SAMPLE_PAGES)
        with open(os.path.join(out, pkg, "copyright"), "w", encoding="utf-8") as g:
            g.write(text)


def main(argv):
    if len(argv) == 3 and argv[1] == "text":
        sys.stdout.write(roff_to_text(read_page(argv[2])) + "\n")
        return
    if len(argv) != 5 or argv[1] not in ("shards", "sample"):
        sys.exit(__doc__.split("Usage:")[1].split("Same input")[0].rstrip())
    (write_shards if argv[1] == "shards" else write_sample)(argv[2], argv[3], argv[4])


if __name__ == "__main__":
    main(sys.argv)
