"""The second real corpus, datasets/cyrillic.sh (Russian fortunes, Ukrainian man pages):
its converter, datasets/cyrillic_convert.py, run without network on the excerpt in
tests/data/cyrillic/, then the engine on the shards it makes, beside the reference
(tests/ref/csref.py).

Checked: the shard files and their document counts; every JSONL line is UTF-8 with the
fields id, date, source, text; the plain-text shards hold the same documents; no roff or
fortune markup is left (exact text of one page, no escapes, no macro lines, no markup
words among the engine's terms); same bytes on a second run; the engine gives the same
tables for jsonl/ and text/ (--doc-sep blank), equal to the reference's.
"""
import contextlib
import io
import json
import os
import re
import subprocess
import sys

from csutil import ROOT, count, summary, tables, tmpdir

CONVERT = os.path.join(ROOT, "datasets", "cyrillic_convert.py")
FIXTURE = os.path.join(ROOT, "tests", "data", "cyrillic")
sys.path.insert(0, os.path.join(ROOT, "tests", "ref"))
import csref  # noqa: E402

PARTS = {"fortunes-ru": 44, "manpages-uk": 4}   # documents in the excerpt
SHARDS = 4
FIELDS = ["id", "date", "source", "text"]

CHVT = """\
НАЗВА
chvt - змінює передній план віртуального терміналу
КОРОТКИЙ ОПИС
chvt [параметр...] N
ОПИС
Команда chvt N виводить термінал /dev/ttyN на передній план. (Якщо відповідного екрану \
не існує, то він створюється. Щоб позбутися невикористовуваних віртуальних терміналів \
використовуйте deallocvt(1).) Комбінація клавіш (Ctrl-)LeftAlt-FN (де N між 1-12) має \
той самий ефект.
ПАРАМЕТРИ
-V, --version
виводить версію програми і виходить.
-h, --help
показує цей текст і виходить.
ПЕРЕКЛАД
Український переклад цієї сторінки посібника виконано Andrij Mizyk <andmizyk@gmail.com>
Цей переклад є безкоштовною документацією; будь ласка, ознайомтеся з умовами GNU General \
Public License Version 3 <https://www.gnu.org/licenses/gpl-3.0.html>. НЕ НАДАЄТЬСЯ \
ЖОДНИХ ГАРАНТІЙ.
Якщо ви знайшли помилки у перекладі цієї сторінки підручника, будь ласка, надішліть \
електронний лист до списку листування перекладачів: <trans-uk@lists.fedoraproject.org>."""

# What would show that roff was not stripped: escapes, request lines, tbl's T{ T}.
ROFF_LEFT = re.compile(r"\\[fs(*&\-\"eE]|^[.'][A-Za-z]{1,3}(\s|$)|T\{|T\}|^\s*%\s*$", re.M)
# Words that only roff markup would bring into the term table.
MARKUP_TERMS = {"fb", "fi", "fp", "fr", "tp", "pp", "sh", "ss", "bl", "el", "xr", "fl",
                "ar", "op", "nm", "nd", "ip", "br", "sp", "ds", "ie", "nf", "th", "ts",
                "te", "rs", "re", "ux", "ns", "sm", "ql", "dq", "sq", "pa", "cm", "mt",
                "ur", "ue", "lq", "rq", "bu", "aq", "it", "pq", "ic", "sx", "dd", "dt", "os"}


def convert(out):
    """Runs the converter on the excerpt; returns its report (stderr)."""
    p = subprocess.run([sys.executable, CONVERT, "shards", os.path.join(FIXTURE, "fortunes-ru"),
                        os.path.join(FIXTURE, "manpages-uk"), out],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, f"cyrillic_convert.py: exit {p.returncode}\n{err[-3000:]}"
    return err


def read_jsonl(out, part):
    """Documents of a part, in shard order, checked line by line."""
    docs = []
    for k in range(SHARDS):
        with open(os.path.join(out, "jsonl", f"{part}-{k:02d}.jsonl"), "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")                 # strict: fails on invalid UTF-8
        assert text.endswith("\n") and "\r" not in text
        for line in text.splitlines():
            d = json.loads(line)
            assert list(d) == FIELDS, d.keys()
            assert all(isinstance(d[f], str) and d[f] for f in FIELDS), d
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", d["date"]), d["date"]
            docs.append(d)
    return docs


def read_text(out, part):
    docs = []
    for k in range(SHARDS):
        with open(os.path.join(out, "text", f"{part}-{k:02d}.txt"), "rb") as f:
            text = f.read().decode("utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n")
        docs += text[:-1].split("\n\n")
    return docs


def test_dataset2_converter_shards():
    with tmpdir() as d:
        out = os.path.join(d, "out")
        report = convert(out)
        assert "fortunes-ru: 44 documents" in report and "manpages-uk: 4 documents" in report
        assert "dropped without a rule" not in report, report     # every request known
        want = sorted(f"{p}-{k:02d}.{ext}" for p in PARTS for k in range(SHARDS)
                      for ext in ("jsonl", "txt"))
        got = sorted(os.listdir(os.path.join(out, "jsonl")) + os.listdir(os.path.join(out, "text")))
        assert got == want, got
        ids = set()
        for part, n in PARTS.items():
            docs = read_jsonl(out, part)
            assert len(docs) == n, (part, len(docs))
            # documents are spread evenly over the shards, in order
            assert read_text(out, part) == [x["text"] for x in docs]
            for x in docs:
                assert x["id"] not in ids
                ids.add(x["id"])
                t = x["text"]
                assert t == t.strip() and "\n\n" not in t and "\t" not in t, x["id"]
                assert all(line == line.strip() for line in t.split("\n")), x["id"]
                m = ROFF_LEFT.search(t)
                assert m is None, f"{x['id']}: markup left: {m.group(0)!r} in ...{t[max(0, m.start() - 60):m.end() + 60]!r}"
                assert re.search("[а-яіїєґё]", t, re.I), x["id"]      # Cyrillic prose
        by_id = {}
        for part in PARTS:
            by_id.update({x["id"]: x for x in read_jsonl(out, part)})

        # fortunes: one per document, CRLF gone, indentation and attributions kept as text
        f = by_id["fortunes-ru:armenian:0001"]
        assert f["source"] == "fortunes-ru/armenian" and f["date"] == "2007-02-15"
        assert f["text"] == ("- Какой ток называется переменным?\n"
                             "- Это такой ток, который нет-нет да ка-а-к долбанет!"), f["text"]
        assert by_id["fortunes-ru:2001.03:0001"]["text"].endswith("\n-- Евгений Кащеев")
        assert by_id["fortunes-ru:haiku:0001"]["text"].startswith("Хлопчик Андрейка")
        assert sum(1 for i in by_id if i.startswith("fortunes-ru:amur:")) == 12

        # man pages: exact text of a whole page; a tbl row; mdoc rendering; grep's preamble
        chvt = by_id["manpages-uk:chvt.1"]
        assert chvt["source"] == "manpages-uk/man1" and chvt["date"] == "2023-04-08"
        assert chvt["text"] == CHVT, chvt["text"]
        uuid = by_id["manpages-uk:uuidparse.1"]["text"].split("\n")
        assert "NCS Ідентифікатор мережевої обчислювальної системи (Network Computing " \
               "System). Це були початкові UUID." in uuid
        assert "name-based Хеш md5sum RFC 4122." in uuid
        assert "Sami Kerola <kerolasa@iki.fi>" in uuid                       # .MTO
        scp = by_id["manpages-uk:scp.1"]["text"].split("\n")
        assert scp[1] == "scp — захищене OpenSSH копіювання файлів", scp[1]
        assert scp[3].startswith("scp [-346ABCOpqRrsTv] [-c шифрування] [-D "), scp[3]
        assert "Уможливлює переспрямування ssh-agent(1) на віддалену систему. Типовою " \
               "поведінкою є робота без переспрямовування агента розпізнавання." in scp
        grep = by_id["manpages-uk:grep.1"]["text"]
        assert grep.startswith("НАЗВА\ngrep, egrep, fgrep, rgrep - друкують рядки"), grep[:80]
        assert "Time-stamp" not in grep and "an-ext.tmac" not in grep

        again = os.path.join(d, "again")
        convert(again)
        for sub in ("jsonl", "text"):
            for name in os.listdir(os.path.join(out, sub)):
                with open(os.path.join(out, sub, name), "rb") as a, \
                        open(os.path.join(again, sub, name), "rb") as b:
                    assert a.read() == b.read(), name


def test_dataset2_engine_on_shards():
    with tmpdir() as d:
        out = os.path.join(d, "out")
        convert(out)
        # compressed as datasets/cyrillic.sh does (level aside): *.jsonl.zst, *.txt.zst
        for sub in ("jsonl", "text"):
            names = sorted(os.listdir(os.path.join(out, sub)))
            subprocess.run(["zstd", "-q", "-3", "--rm", "--", *names],
                           cwd=os.path.join(out, sub), check=True)
            assert all(n.endswith(".zst") for n in os.listdir(os.path.join(out, sub)))
        j, t = os.path.join(d, "j"), os.path.join(d, "t")
        count([os.path.join(out, "jsonl")], j, "-T", "2")
        count([os.path.join(out, "text")], t, "-T", "1", "--doc-sep", "blank")
        assert tables(j) == tables(t)
        sj, st = summary(j), summary(t)
        for k in ("documents", "segments", "tokens", "types", "ngram_types"):
            assert sj[k] == st[k], (k, sj[k], st[k])
        assert sj["documents"] == sum(PARTS.values())
        assert sj["bad_records"] == 0 and sj["invalid_utf8"] == 0

        # the reference, on the same JSONL shards
        r = os.path.join(d, "r")
        with contextlib.redirect_stderr(io.StringIO()):
            csref.main(["-q", "-o", r, os.path.join(out, "jsonl")])
        tr, tj = tables(r), tables(j)
        assert csref.compare_cooc_csv(tr.pop("cooc.csv"), tj.pop("cooc.csv")) is None
        assert tr == tj, "engine and reference tables differ"
        sr = summary(r)
        for k in ("documents", "segments", "tokens", "types"):
            assert sr[k] == sj[k], (k, sr[k], sj[k])

        terms = {}
        for line in tables(j)["terms.csv"].decode("utf-8").splitlines()[1:]:
            term, c, dc = line.rsplit(",", 2)
            terms[term] = (int(c), int(dc))
        assert not MARKUP_TERMS & set(terms), sorted(MARKUP_TERMS & set(terms))
        assert terms["кащеев"] == (10, 10)         # every fortune of 2001.03 is signed
        assert terms["trans-uk"] == (4, 4)         # the translators' list, on every page
        assert terms["з'єднання"][1] >= 1          # ASCII apostrophe: a joiner
        assert terms["ssh-agent"] == (1, 1)
