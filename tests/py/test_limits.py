"""Limits that hold: a document of one line and a JSONL record larger than
the budget, decompression bombs, zstd frames that declare a huge size, deep and long
JSON values, tens of thousands of tiny files under a low limit of open
files, and paths with spaces and bytes that are not UTF-8 (exact in
summary.json, through Python's surrogateescape)."""
import json
import os
import resource
import signal
import struct
import subprocess
import time

from csutil import ENGINE, count, run, summary, tables, tmpdir, zstd_frames

W = b"word other thing "


def _peak_mib(out):
    """The run's peak, less what an ASan build adds of its own (its shadow
    memory and quarantine: about 40 MiB on these runs)."""
    asan = "/asan/" in os.path.abspath(ENGINE)
    return summary(out)["peak_rss_bytes"] / (1 << 20) - (48 if asan else 0)


def test_one_line_larger_than_the_budget():
    """A 96 MiB document of a single line is streamed, not loaded (its end
    is searched with its pages given back): the peak stays under half the
    line's size under --memory 32M (15 MiB here), the counts exact."""
    with tmpdir() as d:
        src = os.path.join(d, "line.txt")
        n = 96 * (1 << 20) // len(W)
        with open(src, "wb") as f:
            f.write(W * n)
        out = os.path.join(d, "out")
        count([src], out, "-T", "2", "--doc-sep", "line", "--memory", "32M", "--tmp", d,
              "--ngrams", "1-2", "--cooc", "window")
        assert tables(out)["terms.csv"] == (f"term,count,doc_count\nother,{n},1\nthing,{n},1\n"
                                            f"word,{n},1\n").encode()
        ngrams = tables(out)["ngrams.csv"].decode().splitlines()
        assert ngrams[1:] == [f"2,other thing,{n},1", f"2,word other,{n},1",
                              f"2,thing word,{n - 1},1"], ngrams
        assert _peak_mib(out) < 48, _peak_mib(out)


def test_jsonl_record_larger_than_the_budget():
    """A 96 MiB JSONL record with escapes in its text, in a plain file, is
    checked and read a piece at a time, never held whole (under half its
    size at the peak); so is it from a zstd shard and from stdin, through
    a file in --tmp; the same record bad at its very end counts nothing."""
    with tmpdir() as d:
        piece = b"word other caf\\u00e9 \\n"
        n = 96 * (1 << 20) // len(piece)
        good, bad = os.path.join(d, "good.jsonl"), os.path.join(d, "bad.jsonl")
        with open(good, "wb") as f:
            f.write(b'{"id": 1, "text": "' + piece * n + b'"}\n{"text": "small one"}\n')
        with open(bad, "wb") as f:
            f.write(b'{"id": 1, "text": "' + piece * n + b'", }\n{"text": "small one"}\n')
        out = os.path.join(d, "out")
        count([good], out, "-T", "2", "--memory", "32M", "--tmp", d, "--ngrams", "1",
              "--cooc", "none")
        assert tables(out)["terms.csv"] == (f"term,count,doc_count\ncafé,{n},1\nother,{n},1\n"
                                            f"word,{n},1\none,1,1\nsmall,1,1\n").encode()
        assert _peak_mib(out) < 48, _peak_mib(out)
        assert summary(out)["documents"] == 2, summary(out)["documents"]
        want = tables(out)
        tmp = os.path.join(d, "tmp")
        os.mkdir(tmp)
        with open(good, "rb") as f:
            text = f.read()
        subprocess.run(["zstd", "-q", "-f", good], check=True)
        for inputs, stdin in (([good + ".zst"], None), (["-"], text)):
            count(inputs, out, "-T", "2", "--memory", "32M", "--tmp", tmp, "--ngrams", "1",
                  "--cooc", "none", "--format", "jsonl", input=stdin)
            assert tables(out) == want, inputs
            assert _peak_mib(out) < 48, (inputs, _peak_mib(out))
            assert summary(out)["spill"]["bytes_disk"] >= 96 << 20, summary(out)["spill"]
            assert os.listdir(tmp) == []
        err = count([bad], out, "--ngrams", "1", "--cooc", "none")
        assert err == f"corpusstat: {bad}:1: bad record skipped: expected a member name\n", err
        assert tables(out)["terms.csv"] == b"term,count,doc_count\none,1,1\nsmall,1,1\n"
        assert summary(out)["documents"] == 1 and summary(out)["bad_records"] == 1
        # long, its text empty: still a document; long blanks between members are read too
        empty = os.path.join(d, "empty.jsonl")
        with open(empty, "wb") as f:
            f.write(b'{"pad": "' + b"x" * (6 << 20) + b'",' + b" " * (6 << 20) +
                    b'"n": ' + b"1" * (6 << 20) + b', "text": ""}\n')
        count([empty], out, "--ngrams", "1", "--cooc", "none")
        assert tables(out)["terms.csv"] == b"term,count,doc_count\n"
        assert summary(out)["documents"] == 1 and summary(out)["bad_records"] == 0


def _long_records(n):
    """JSONL with records of n pieces (over 8 MiB at n = 320000, twice the
    4 MiB past which a record is spooled) among short ones: good, bad at its
    very end, a long member before a short text, and a last one cut short
    with no line end."""
    piece = b"word \\u00e9t\\u00e9 caf\xc3\xa9\\n "
    return (b'{"text": "first one"}\n'
            b'{"id": 1, "text": "' + piece * n + b'"}\n'
            b'{"text": "small one"}\n   \n'
            b'{"id": 2, "text": "' + piece * n + b'", }\n'
            b'{"pad": "' + b"x" * (24 * n) + b'", "text": "after the pad"}\n'
            b'{"text": "other one"}\n'
            b'{"text": "' + piece * n)


def test_long_records_of_shards_and_stdin_as_of_files():
    """JSONL records over 4 MiB from a zstd shard (one frame, or frames
    that cut the records) and from stdin (plain, or zstd) go through a file
    in --tmp: the tables, summary counts and messages are those of the same
    records in a plain file, at 1 and 2 threads and with a chunk of 7 bytes;
    the file is gone at the end."""
    with tmpdir() as d:
        data = _long_records(320000)
        src = os.path.join(d, "long.jsonl")
        with open(src, "wb") as f:
            f.write(data)
        out, tmp = os.path.join(d, "out"), os.path.join(d, "tmp")
        os.mkdir(tmp)
        opts = ["--ngrams", "1-2", "--cooc", "window", "--tmp", tmp, "--format", "jsonl"]
        err = count([src], out, *opts)
        assert err == (f"corpusstat: {src}:5: bad record skipped: expected a member name\n"
                       f"corpusstat: {src}:8: bad record skipped: unterminated string\n"), err
        want, s = tables(out), summary(out)
        assert (s["documents"], s["bad_records"]) == (5, 2), s
        terms = want["terms.csv"].decode().splitlines()
        assert "word,320000,1" in terms and "été,320000,1" in terms, terms[:8]
        one = subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE,
                             check=True).stdout
        shards = {"one.jsonl.zst": one, "frames.jsonl.zst": zstd_frames(data, 1 << 20)}
        for name, z in shards.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(z)
        cases = [([os.path.join(d, n)], None) for n in shards] + [(["-"], data), (["-"], one)]
        for inputs, stdin in cases:
            for extra in (["-T", "1"], ["-T", "2"], ["-T", "2", "--chunk-size", "7"]):
                got = count(inputs, out, *opts, *extra, input=stdin)
                assert tables(out) == want, (inputs, extra)
                assert got == err.replace(src, inputs[0]), (inputs, extra, got)
                g = summary(out)
                assert (g["documents"], g["bad_records"]) == (5, 2), (inputs, extra)
                assert g["spill"]["files"] == 1 and g["spill"]["bytes_disk"] >= 8 << 20, \
                    (inputs, extra, g["spill"])
                assert os.listdir(tmp) == [], (inputs, extra)
        # --strict stops at the first bad record, long or not, where it is
        for inputs, stdin in [([src], None)] + cases:
            p = run(["count", "-q", "-o", out, "--strict", *opts, *inputs], input=stdin)
            assert p.returncode == 1, (inputs, p.returncode)
            assert f"{inputs[0]}:5: bad record: expected a member name".encode() in p.stderr, \
                (inputs, p.stderr)
            assert tables(out) == want and os.listdir(tmp) == []


def test_long_record_in_a_shard_cut_short_is_taken_back():
    """A shard cut short while a long record is being written to --tmp, or
    after it was counted from there: the shard is skipped and everything it
    counted taken back, at 1 and 2 threads and in chunks of 7 bytes (the
    buffer grown for a long record, then back to 7 bytes); the tables are
    those without it."""
    with tmpdir() as d:
        other = os.path.join(d, "other.jsonl")
        with open(other, "wb") as f:
            f.write(b'{"text": "the other input"}\n')
        out, want, tmp = os.path.join(d, "out"), os.path.join(d, "want"), os.path.join(d, "tmp")
        os.mkdir(tmp)
        opts = ["--ngrams", "1-3", "--cooc", "window", "--tmp", tmp]
        count([other], want, *opts)
        z = zstd_frames(_long_records(320000), 1 << 20)
        shard = os.path.join(d, "cut.jsonl.zst")
        for frac in (0.1, 0.3, 0.5, 0.7, 0.9, 0.999):
            with open(shard, "wb") as f:
                f.write(z[:int(len(z) * frac)])
            for extra in (["-T", "1"], ["-T", "2"], ["-T", "2", "--chunk-size", "7"]):
                err = count([other, shard], out, *extra, *opts)
                assert "shard skipped" in err, (frac, err)
                assert tables(out) == tables(want), (frac, extra)
                s = summary(out)
                assert (s["documents"], s["undecodable_shards"]) == (1, 1), (frac, extra, s)
                assert s["bad_records"] == 0 and os.listdir(tmp) == [], (frac, extra, s)


def test_long_record_without_room_in_tmp():
    """A long record from a shard that --tmp has no room for (a file size
    limit standing in for a full disk): exit 1, the folder named, no table
    written, nothing left in --tmp. A signal while such a record is being
    written removes the file too."""
    with tmpdir() as d:
        src = os.path.join(d, "long.jsonl")
        with open(src, "wb") as f:
            f.write(_long_records(320000))
        subprocess.run(["zstd", "-q", src], check=True)
        out, tmp = os.path.join(d, "out"), os.path.join(d, "tmp")
        os.mkdir(tmp)
        count([src], out, "--ngrams", "1")
        before = tables(out)

        def limit():  # (SIGXFSZ as Python's subprocess leaves it: the default, a kill)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))
        p = subprocess.run([ENGINE, "count", "-q", "-o", out, "--tmp", tmp, "--ngrams", "1-2",
                            src + ".zst"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=limit)
        err = p.stderr.decode()
        assert p.returncode == 1, (p.returncode, err)
        assert f"cannot write to the temporary folder {tmp}/corpusstat-" in err, err
        assert "File too large" in err and f"{src}.zst, line 2)" in err, err
        assert os.listdir(tmp) == [] and tables(out) == before
        # a record on stdin, half sent: SIGINT and SIGTERM remove its file
        for sig in (signal.SIGINT, signal.SIGTERM):
            p = subprocess.Popen([ENGINE, "count", "-q", "-o", out, "--tmp", tmp, "--format",
                                  "jsonl", "-"], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            p.stdin.write(b'{"text": "' + b"word " * (2 << 20))
            p.stdin.flush()
            spooled, deadline = False, time.time() + 60
            while not spooled and time.time() < deadline:
                for root, _, files in os.walk(tmp):
                    spooled = spooled or any(n.endswith("-record") for n in files)
                time.sleep(0.01)
            assert spooled and p.poll() is None
            p.send_signal(sig)
            p.wait(timeout=60)
            assert p.returncode == -sig, (sig, p.returncode, p.stderr.read())
            p.stdin.close()
            p.stderr.close()
            assert os.listdir(tmp) == [] and tables(out) == before


def test_decompression_bomb_is_counted_as_text():
    """200 MiB of text in a 18 KB zstd frame (about 10,000x): counted like
    any text, in memory that does not grow with the expansion."""
    with tmpdir() as d:
        src = os.path.join(d, "bomb.txt")
        n = 200 * (1 << 20) // len(W)
        bomb = subprocess.run(["zstd", "-q", "-19", "-c"], input=W * n, stdout=subprocess.PIPE,
                              check=True).stdout
        assert len(bomb) * 1000 < len(W) * n
        with open(src + ".zst", "wb") as f:
            f.write(bomb)
        out = os.path.join(d, "out")
        count([src + ".zst"], out, "--ngrams", "1", "--cooc", "none")
        assert tables(out)["terms.csv"] == (f"term,count,doc_count\nother,{n},1\nthing,{n},1\n"
                                            f"word,{n},1\n").encode()
        s = summary(out)
        assert s["inputs"][0]["bytes_decompressed"] == len(W) * n
        assert _peak_mib(out) < 64, _peak_mib(out)


def _frame(fhd, window, size_field, content):
    """A zstd frame by hand: one raw block, a declared content size."""
    head = b"\x28\xb5\x2f\xfd" + bytes([fhd]) + window + size_field
    return head + struct.pack("<I", (len(content) << 3) | 1)[:3] + content


def test_frames_declaring_a_huge_size():
    """A frame declaring 2^62 bytes and holding 12 (its window small, or
    the declared size its window): the shard is skipped as undecodable,
    reported with its offset; nothing is allocated for the size."""
    with tmpdir() as d:
        good = os.path.join(d, "good.txt")
        with open(good, "wb") as f:
            f.write(b"the good text\n")
        huge = struct.pack("<Q", 1 << 62)
        shards = {
            "windowed.txt.zst": _frame(0xC0, b"\x50", huge, b"hello world\n"),
            "single.txt.zst": _frame(0xE0, b"", huge, b"hello world\n"),
        }
        for name, data in shards.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        out, want = os.path.join(d, "out"), os.path.join(d, "want")
        count([good], want)
        err = count([good, *(os.path.join(d, n) for n in sorted(shards))], out)
        assert tables(out) == tables(want)
        path = {n: os.path.join(d, n) for n in shards}
        assert err == (f"corpusstat: {path['single.txt.zst']}: byte 0: zstd: Frame requires too "
                       "much memory for decoding; shard skipped\n"
                       f"corpusstat: {path['windowed.txt.zst']}: byte 0: zstd: Data corruption "
                       "detected; shard skipped\n"), err
        assert summary(out)["undecodable_shards"] == 2
        assert _peak_mib(out) < 64, _peak_mib(out)


def test_deep_and_long_json_values():
    """A text field after a million nested arrays is found; a million
    unclosed ones make a bad record, not a crash; a 20 MiB text value and a
    20 MiB value beside it are read whole."""
    with tmpdir() as d:
        deep = 1000000
        n = 20 * (1 << 20) // len(W)
        lines = [b'{"a": ' + b"[" * deep + b"]" * deep + b', "text": "deep"}',
                 b'{"a": ' + b"[" * deep + b', "text": "unclosed"}',
                 b'{"text": "' + W * n + b'"}',
                 b'{"other": "' + b"x" * (20 << 20) + b'", "text": "beside"}']
        src = os.path.join(d, "deep.jsonl")
        with open(src, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        out = os.path.join(d, "out")
        err = count([src], out, "--ngrams", "1", "--cooc", "none")
        assert err == f"corpusstat: {src}:2: bad record skipped: invalid JSON value\n", err
        assert tables(out)["terms.csv"] == (f"term,count,doc_count\nother,{n},1\nthing,{n},1\n"
                                            f"word,{n},1\nbeside,1,1\ndeep,1,1\n").encode()


def test_tens_of_thousands_of_tiny_files_under_64_open_files():
    """20,000 files of one line in 100 folders, the run allowed 64 open
    files: every file counted, none left open."""
    with tmpdir() as d:
        src = os.path.join(d, "in")
        for i in range(20000):
            sub = os.path.join(src, f"f{i % 100:02d}")
            if i < 100:
                os.makedirs(sub)
            with open(os.path.join(sub, f"{i:05d}.txt"), "w") as f:
                f.write(f"doc n{i}\n")
        out = os.path.join(d, "out")

        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

        p = subprocess.run([ENGINE, "count", "-q", "-T", "2", "--ngrams", "1", "--cooc", "none",
                            "-o", out, src], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=low_limit)
        assert p.returncode == 0, p.stderr.decode()
        terms = tables(out)["terms.csv"].decode().splitlines()
        assert terms[1] == "doc,20000,20000" and len(terms) == 20002, terms[:3]
        assert len(summary(out)["inputs"]) == 20000


def test_paths_with_spaces_and_bytes_not_utf8():
    """Input names with spaces, a quote, a backslash and bytes that are not
    UTF-8: summary.json stays valid JSON (strict UTF-8), and each path reads
    back as the exact bytes through surrogateescape (\\udcXX); messages on
    stderr carry the bytes as they are."""
    with tmpdir() as d:
        top = os.path.join(d.encode(), b"in put")
        os.makedirs(top)
        names = [b"a b.txt", b"caf\xc3\xa9 \xff\xfe.txt", b'q"uote\\back.txt', b"bad \xe9.txt.zst"]
        for name in names:
            with open(os.path.join(top, name), "wb") as f:
                f.write(b"not zstd\n" if name.endswith(b".zst") else b"hello world\n")
        out = os.path.join(d, "out")
        p = subprocess.run([ENGINE, "count", "-q", "-o", out, top], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        assert p.returncode == 0, p.stderr
        assert os.path.join(top, b"bad \xe9.txt.zst") in p.stderr, p.stderr
        with open(os.path.join(out, "summary.json"), "rb") as f:
            raw = f.read()
        raw.decode("utf-8")  # strict: valid UTF-8
        s = json.loads(raw)
        got = sorted(os.fsencode(i["path"]) for i in s["inputs"])
        assert got == sorted(os.path.join(top, n) for n in names), got


def test_every_file_is_utf8_whatever_the_input():
    """Latin-1 mail, binary bytes, NUL, lone surrogates and overlong forms,
    as text and as JSONL, under a name that is not UTF-8: every table and
    summary.json decode as strict UTF-8, and no text field starts as a
    spreadsheet formula would."""
    import random
    rng = random.Random(6)
    with tmpdir() as d:
        top = os.path.join(d.encode(), b"in")
        os.makedirs(top)
        latin1 = "Caf\u00e9 \u00e0 Z\u00fcrich: \u00abd\u00e9j\u00e0 vu\u00bb -5 +1 =A1 @x\n".encode("latin-1")
        junk = bytes(rng.randrange(256) for _ in range(200000))
        odd = b"\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 \x00 =cmd|' /C calc'!A0\n"
        with open(os.path.join(top, b"mail \xe9.txt"), "wb") as f:
            f.write((latin1 + odd) * 50 + junk)
        with open(os.path.join(top, b"recs.jsonl"), "wb") as f:
            f.write(b'{"text": "\\ud800 \\udfff x\\u0000y ' + latin1.replace(b"\n", b" ") + b'"}\n')
            f.write(b'{"text": "' + odd.replace(b"\n", b" ").replace(b"\x00", b"") + b'"}\n')
        out = os.path.join(d, "out")
        subprocess.run([ENGINE, "count", "-q", "--ngrams", "1-3", "--cooc", "window", "-o", out,
                        top], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name), "rb") as f:
                data = f.read()
            data.decode("utf-8")  # strict
            if name.endswith(".csv"):
                import csv
                import io
                for row in csv.reader(io.StringIO(data.decode())):
                    for field in row:
                        assert not field[:1] in ("=", "+", "@", "\t", "\r") and \
                            not (field.startswith("-") and not field[1:2].isdigit()), (name, row)
