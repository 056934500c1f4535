"""Bad input: the exact message naming the file and the line or byte, the
counted skip, the exit code with and without --strict, and no table under a
final name when a run fails."""
import json
import os
import re
import subprocess

from csutil import count, gen_text, summary, tables, tmpdir, zstd_frames


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _good_and_bad(d, bad_bytes, name="b.txt.zst"):
    """in/a.txt (good), in/b... (bad) and a reference folder holding a only."""
    src, ref = os.path.join(d, "in"), os.path.join(d, "ref")
    os.makedirs(src)
    os.makedirs(ref)
    good = gen_text(seed=1, n_words=3000, blank_every=30).encode()
    _write(os.path.join(src, "a.txt"), good)
    _write(os.path.join(ref, "a.txt"), good)
    _write(os.path.join(src, name), bad_bytes)
    return src, ref


def _shard(n_words=20000, seed=2):
    """A multi-frame shard large enough to be counted in many chunks."""
    return zstd_frames(gen_text(seed=seed, n_words=n_words, blank_every=30).encode(), 20000)


def _check_skip(src, ref, out, pattern, opts=()):
    """Without --strict: exit 0, the message, the shard counted as skipped and
    the tables exactly those of the good inputs alone."""
    err = count([src], out, "--chunk-size", "4096", *opts)
    assert re.search(pattern, err), f"stderr {err!r} does not match {pattern!r}"
    s = summary(out)
    want = os.path.join(ref, "..", "want")
    count([ref], want, *opts)
    assert tables(out) == tables(want), "a bad shard left counts behind"
    return s


def test_truncated_zstd_counts_nothing():
    with tmpdir() as d:
        shard = _shard()
        src, ref = _good_and_bad(d, shard[:-100])
        path = os.path.join(src, "b.txt.zst")
        s = _check_skip(src, ref, os.path.join(d, "out"),
                        rf"^corpusstat: {re.escape(path)}: byte {len(shard) - 100}: zstd: "
                        r"truncated frame .*; shard skipped\n$")
        assert s["undecodable_shards"] == 1 and s["documents"] == 1
        b = [i for i in s["inputs"] if i["path"] == path][0]
        assert b["status"] == "undecodable" and b["documents"] == 0


def test_corrupt_frame_midway_is_taken_back():
    """Frames before the corrupt one were decoded and counted in chunks; the
    shard is taken back whole (doc-sep blank exercises chunk cutting)."""
    with tmpdir() as d:
        shard = bytearray(_shard(n_words=40000))
        # corrupt a byte well past the first frames
        shard[len(shard) * 3 // 4] ^= 0x5A
        src, ref = _good_and_bad(d, bytes(shard))
        path = os.path.join(src, "b.txt.zst")
        # co-occurrence too: window pairs, and document pairs both in the dense triangle
        # of a small vocabulary and through the sorted batches of a large one
        for opts in ((), ("--doc-sep", "blank"), ("--doc-sep", "line", "-T", "1"),
                     ("--doc-sep", "blank", "--window", "9", "--weight", "harmonic"),
                     ("--doc-sep", "blank", "--cooc", "doc", "--cooc-vocab", "50"),
                     ("--doc-sep", "line", "--cooc", "doc", "--cooc-vocab", "100000")):
            s = _check_skip(src, ref, os.path.join(d, "out"),
                            rf"^corpusstat: {re.escape(path)}: byte \d+: zstd: .*; shard skipped\n$",
                            opts)
            assert s["undecodable_shards"] == 1


def test_not_zstd_at_all():
    with tmpdir() as d:
        src, ref = _good_and_bad(d, b"this is not zstd\n")
        path = os.path.join(src, "b.txt.zst")
        _check_skip(src, ref, os.path.join(d, "out"),
                    rf"^corpusstat: {re.escape(path)}: byte 0: zstd: Unknown frame descriptor; shard skipped\n$")


def test_strict_stops_with_exit_1_and_no_table():
    with tmpdir() as d:
        src, _ = _good_and_bad(d, _shard()[:-7])
        out = os.path.join(d, "out")
        err = count([src], out, "--strict", rc=1)
        path = os.path.join(src, "b.txt.zst")
        assert re.fullmatch(rf"corpusstat: {re.escape(path)}: byte \d+: zstd: truncated frame .*\n", err), err
        assert not os.path.exists(out)
        assert [f for f in os.listdir(d) if f.startswith(".")] == [], "staging folder left behind"
        # previous tables stay as they were
        os.remove(path)
        count([src], out)
        before = tables(out)
        _write(path, _shard()[:-7])
        count([src], out, "--strict", rc=1)
        assert tables(out) == before


def test_bad_jsonl_records():
    with tmpdir() as d:
        lines = [
            b'{"text": "good one"}',
            b'[1, 2]',
            b'',
            b'{"text": 5}',
            b'   \t\r',
            b'{"title": "no text"}',
            b'{"text": "ok", "n": NaN}',
            b'{"text": "bad \xff byte inside is fine"}',
            b'{"text": "x", "k": "bad \xff outside"}',
            b'{"text": "good two"} extra',
            b'{"text": "good \\ud800 three"}',
        ]
        src = os.path.join(d, "a.jsonl")
        _write(src, b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
        out = os.path.join(d, "out")
        err = count([src], out)
        want = [
            f"corpusstat: {src}:2: bad record skipped: not a JSON object",
            f"corpusstat: {src}:4: bad record skipped: text field is not a string",
            f"corpusstat: {src}:6: bad record skipped: no text field",
            f"corpusstat: {src}:7: bad record skipped: invalid JSON value",
            f"corpusstat: {src}:9: bad record skipped: malformed UTF-8 outside the text field",
            f"corpusstat: {src}:10: bad record skipped: text after the JSON object",
        ]
        assert err.splitlines() == want, err
        s = summary(out)
        assert s["bad_records"] == 6 and s["documents"] == 3
        assert s["invalid_utf8"] == 2  # the raw \xff and the lone surrogate escape
        assert tables(out)["terms.csv"].startswith(b"term,count,doc_count\ngood,2,2\n")
        err = count([src], os.path.join(d, "strict"), "--strict", rc=1)
        assert err == f"corpusstat: {src}:2: bad record: not a JSON object\n", err
        assert not os.path.exists(os.path.join(d, "strict"))


def test_many_bad_records_are_summarised():
    with tmpdir() as d:
        src = os.path.join(d, "a.ndjson")
        _write(src, b"nope\n" * 250 + b'{"text":"fine"}\n')
        out = os.path.join(d, "out")
        err = count([src], out).splitlines()
        assert len(err) == 101, err[-3:]
        assert err[99] == f"corpusstat: {src}:100: bad record skipped: not a JSON object"
        assert err[100] == f"corpusstat: {src}: 150 more bad records skipped (counted in summary.json)"
        assert summary(out)["bad_records"] == 250


def test_invalid_utf8_in_text_is_counted():
    with tmpdir() as d:
        src = os.path.join(d, "a.txt")
        _write(src, b"caf\xc3\xa9 caf\xc3 x\xed\xa0\x80y \xf0\x9f\x98 end\xc0\xaf")
        out = os.path.join(d, "out")
        assert count([src], out) == ""
        s = summary(out)
        assert s["invalid_utf8"] == 1 + 3 + 1 + 2
        assert tables(out)["terms.csv"] == "term,count,doc_count\ncaf,1,1\ncafé,1,1\nend,1,1\nx,1,1\ny,1,1\n".encode()


def test_empty_and_missing_inputs():
    with tmpdir() as d:
        src = os.path.join(d, "in")
        os.makedirs(src)
        _write(os.path.join(src, "empty.txt"), b"")
        _write(os.path.join(src, "empty.txt.zst"), b"")
        _write(os.path.join(src, "empty.jsonl"), b"")
        _write(os.path.join(src, "frame-of-nothing.txt.zst"), zstd_frames(b"", 10))
        missing = os.path.join(d, "missing.txt")
        out = os.path.join(d, "out")
        err = count([src, missing], out)
        assert err == f"corpusstat: {missing}: No such file or directory; input skipped\n", err
        s = summary(out)
        # file docs: empty.txt, empty.txt.zst, frame-of-nothing; the JSONL holds none
        assert s["documents"] == 3 and s["unreadable_inputs"] == 1 and s["tokens"] == 0
        assert tables(out)["terms.csv"] == b"term,count,doc_count\n"
        err = count([src, missing], os.path.join(d, "strict"), "--strict", rc=1)
        assert err == f"corpusstat: {missing}: No such file or directory\n", err
        # line documents: an empty file holds none
        count([os.path.join(src, "empty.txt")], out, "--doc-sep", "line")
        assert summary(out)["documents"] == 0


def test_line_of_several_megabytes():
    with tmpdir() as d:
        words = 600000  # ~4 MB on one line
        line = ("alpha beta " * (words // 2)).encode()
        _write(os.path.join(d, "a.txt"), b"first line\n" + line + b"\nlast line\n")
        _write(os.path.join(d, "a.jsonl"), json.dumps({"text": line.decode()}).encode() + b"\n")
        _write(os.path.join(d, "b.txt.zst"), zstd_frames(b"first line\n" + line + b"\nlast line\n", 1 << 20))
        for name, opts, docs in (("a.txt", ["--doc-sep", "line"], 3), ("a.jsonl", [], 1),
                                 ("b.txt.zst", ["--doc-sep", "line", "--chunk-size", "65536"], 3),
                                 ("b.txt.zst", ["--doc-sep", "blank", "--chunk-size", "65536"], 1)):
            out = os.path.join(d, "out")
            assert count([os.path.join(d, name)], out, *opts) == ""
            s = summary(out)
            assert s["documents"] == docs, (name, opts, s["documents"])
            t = tables(out)["terms.csv"].decode()
            assert f"alpha,{words // 2},1\nbeta,{words // 2},1\n" in t, (name, t[:200])
            assert f"2,alpha beta,{words // 2},1\n2,beta alpha,{words // 2 - 1},1\n" in \
                tables(out)["ngrams.csv"].decode(), name


def test_stdin_errors_end_the_run():
    with tmpdir() as d:
        out = os.path.join(d, "out")
        shard = _shard()
        err = count(["-"], out, input=shard[:-5], rc=1)
        assert re.fullmatch(r"corpusstat: -: byte \d+: zstd: truncated frame .*\n", err), err
        assert not os.path.exists(out)
        count(["-"], out, "--format", "jsonl", input=b'{"text":"a b"}\nbad\n')
        assert summary(out)["bad_records"] == 1


def test_hidden_and_unreadable_entries_in_folders():
    with tmpdir() as d:
        src = os.path.join(d, "in")
        os.makedirs(os.path.join(src, ".git"))
        _write(os.path.join(src, ".git", "x.txt"), b"hidden words")
        _write(os.path.join(src, ".hidden.txt"), b"hidden words")
        _write(os.path.join(src, "a.txt"), b"visible")
        os.symlink(os.path.join(d, "nowhere"), os.path.join(src, "dangling.txt"))
        out = os.path.join(d, "out")
        err = count([src], out)
        assert err == f"corpusstat: {src}/dangling.txt: No such file or directory; input skipped\n", err
        assert tables(out)["terms.csv"] == b"term,count,doc_count\nvisible,1,1\n"


def test_full_disk_leaves_nothing_under_a_final_name():
    """A 256 KiB tmpfs fills up while terms.csv is written: exit 1, the
    message names the file, no table and no staging folder is left."""
    if os.geteuid() != 0:
        print("test_full_disk: needs root to mount a tmpfs; not run")
        return
    with tmpdir() as d:
        mnt = os.path.join(d, "tiny")
        os.makedirs(mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt], check=True)
        try:
            src = os.path.join(d, "a.txt")
            _write(src, gen_text(seed=4, n_words=200000).encode())
            out = os.path.join(mnt, "out")
            err = count([src], out, rc=1)
            assert re.fullmatch(rf"corpusstat: {re.escape(out)}/(terms|ngrams)\.csv: cannot write: "
                                r"No space left on device\n", err), err
            assert os.listdir(mnt) == [], os.listdir(mnt)
        finally:
            subprocess.run(["umount", mnt], check=True)


def test_take_back_after_a_cut_at_a_bare_cr():
    """The first pass cut right after a CR (it saw the next byte); the take-back
    must cut there too although its data stops at that byte."""
    with tmpdir() as d:
        good = os.path.join(d, "good.txt")
        _write(good, b"good text\n")
        bad = os.path.join(d, "bad.zst")
        _write(bad, zstd_frames(b"ab\rc", 100) + b"JUNKJUNK")
        mac = os.path.join(d, "mac.txt.zst")
        _write(mac, zstd_frames(gen_text(seed=8, n_words=30000).replace("\n", "\r").encode(), 1 << 16)
               + b"JUNKJUNK")
        want = os.path.join(d, "want")
        for opts in (("--doc-sep", "line", "--chunk-size", "4"), ("--doc-sep", "blank", "--chunk-size", "5"),
                     ("--doc-sep", "line",), ("--doc-sep", "blank", "-T", "1")):
            count([good], want, *opts)
            for shard in (bad, mac):
                out = os.path.join(d, "out")
                err = count([good, shard], out, *opts)
                assert "shard skipped" in err, (opts, err)
                assert tables(out) == tables(want), (opts, shard)


def test_zstd_on_stdin_from_a_file_or_a_slow_pipe():
    with tmpdir() as d:
        zst = os.path.join(d, "x.txt.zst")
        _write(zst, _shard(n_words=3000))
        ref = os.path.join(d, "ref")
        count([zst], ref)
        out = os.path.join(d, "out")
        with open(zst, "rb") as f:  # stdin is a regular file: mapped, still recognised
            p = subprocess.run([os.environ.get("CORPUSSTAT", "build/release/corpusstat"), "count", "-q",
                                "-o", out, "-"], stdin=f, stderr=subprocess.PIPE)
        assert p.returncode == 0 and tables(out) == tables(ref), p.stderr
        # the magic number arrives in two reads
        engine = os.path.abspath(os.environ.get("CORPUSSTAT", "build/release/corpusstat"))
        p = subprocess.run(["bash", "-c", f"(head -c2 {zst}; sleep 0.3; tail -c +3 {zst}) | "
                                          f"{engine} count -q -o {out} -"], stderr=subprocess.PIPE)
        assert p.returncode == 0 and tables(out) == tables(ref), p.stderr


def test_corrupt_shard_through_a_fifo_ends_the_run():
    """A pipe cannot be read again to take its counts back: exit 1, no hang."""
    with tmpdir() as d:
        fifo = os.path.join(d, "p.txt.zst")
        os.mkfifo(fifo)
        data = _shard() + b"JUNKJUNK"
        engine = os.path.abspath(os.environ.get("CORPUSSTAT", "build/release/corpusstat"))
        out = os.path.join(d, "out")
        writer = subprocess.Popen(["bash", "-c", f"cat > {fifo}"], stdin=subprocess.PIPE)
        proc = subprocess.Popen([engine, "count", "-q", "-o", out, "--doc-sep", "line", fifo],
                                stderr=subprocess.PIPE)
        writer.communicate(data, timeout=30)
        err = proc.communicate(timeout=30)[1].decode()
        assert proc.returncode == 1, (proc.returncode, err)
        assert re.fullmatch(rf"corpusstat: {re.escape(fifo)}: byte \d+: zstd: Unknown frame descriptor\n", err), err
        assert not os.path.exists(out)


def test_strict_reports_the_first_error_in_decoded_order():
    with tmpdir() as d:
        lines = [json.dumps({"text": f"record {i}"}).encode() for i in range(20)]
        lines[10] = b"not json"
        shard = os.path.join(d, "s.jsonl.zst")
        _write(shard, zstd_frames(b"\n".join(lines) + b"\n", 1 << 20) + b"JUNKJUNK")
        err = count([shard], os.path.join(d, "out"), "--strict", rc=1)
        assert err == f"corpusstat: {shard}:11: bad record: not a JSON object\n", err


def test_fifo_found_in_a_folder_is_skipped_not_opened():
    with tmpdir() as d:
        src = os.path.join(d, "in")
        os.makedirs(src)
        _write(os.path.join(src, "a.txt"), b"words here")
        os.mkfifo(os.path.join(src, "pipe.txt"))
        out = os.path.join(d, "out")
        p = subprocess.run([os.environ.get("CORPUSSTAT", "build/release/corpusstat"), "count", "-q",
                            "-o", out, src], stderr=subprocess.PIPE, timeout=30)
        assert p.returncode == 0
        assert p.stderr.decode() == f"corpusstat: {src}/pipe.txt: not a regular file; input skipped\n"
        assert summary(out)["unreadable_inputs"] == 1
