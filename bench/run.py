#!/usr/bin/env python3
"""Throughput benchmark of corpusstat: `make bench` runs it through bench/run.sh.

Measures, on the same shards in one run, the floor (zstd decompression, reading the plain
text), corpusstat at several n-gram orders and thread counts, corpusstat's co-occurrence
tables (--cooc window --window 5 and 10, --cooc doc --cooc-vocab 5000, each with unigrams;
window 5 against issue 4's target: at least 1/3 of the speed of --ngrams 1 alone at the
same thread count in the same run), 1-3 grams (with --top and without) and window pairs under
--memory a quarter of the text's size (issue 5: spilled runs, beside the same rows
unbounded), 1-3 grams with
--state (issue 5: a first night into an empty state, and a night that adds one shard,
against the full recount), and the tools a
user would otherwise reach for
(sort | uniq -c, collections.Counter, scikit-learn's CountVectorizer, NLTK's windowed
BigramCollocationFinder); then corpusstat's throughput and peak RSS as the corpus grows 16x
and as threads are added.
Last, the floor of each counting stage on one core (bench/stages.c: zstd, + tokenize,
+ hash, + table lookups), which says which stage holds a target back.
Prints one table and writes it to bench/results/latest.{md,csv} (and a dated copy that
later runs keep; the stage floors also as latest-stages.csv), with plots of the two
scalings.

DESIGN. Every contender is one command line, run BENCH_RUNS times round-robin (run 1 of
each, then run 2 of each, ...) so that a slow drift of the machine (thermal, page cache,
another tenant) spreads over all contenders instead of favouring whichever ran first. Wall
time is time.monotonic() around the subprocess, peak RSS is GNU time's %M (for a pipeline:
its largest process); a contender's MB/s is its input's uncompressed text bytes over its
median wall time. The shards are decompressed once into bench/work/ (for the `cat` floor
and the peers, which read plain text); smaller corpora are prefixes of every shard cut at a
document boundary, so they hold the first documents in generation order. Peers too slow
for the full corpus run on such a prefix, and so does corpusstat, so that their ratio
compares the same bytes. A failing command is reported with its stderr tail; nothing here
asserts a time. To keep `make bench` near 10 minutes on 2 cores, the slowest new rows run
fewer times than BENCH_RUNS: the NLTK peer (about 3 s per MB) once, the window-10 and
doc-scope rows at most twice (the window-5 rows, which carry the target, run BENCH_RUNS
times), and doc scope runs only at the largest thread count.

Settings (environment):
  BENCH_SIZE=SIZE     corpus size of text, in MiB or with a suffix: 1024, 512M, 4G [128]
  BENCH_CORPUS=DIR    corpus folder with text/*.txt.zst [bench/work/gen-$BENCH_SIZE]
  BENCH_GEN="cmd"     shell command that makes $BENCH_CORPUS (run from the repo root, with
                      BENCH_SIZE and BENCH_CORPUS exported)
                      [build/release/corpusgen (seed 1, 8 shards, zstd -3); not run when
                      BENCH_CORPUS is given and BENCH_GEN is not]
  BENCH_THREADS="1 N" corpusstat thread counts [1 and nproc]
  BENCH_RUNS=3        runs of each command; the median is reported
  BENCH_PEER_MB=16    MiB of text (a prefix) for the peers and corpusstat beside them
  BENCH_COOC_RUNS=2   runs of the --window 10 and --cooc doc rows (at most BENCH_RUNS)
  BENCH_NLTK_RUNS=1   runs of the NLTK co-occurrence peer (at most BENCH_RUNS)
  BENCH_TIMEOUT=1800  seconds before one command is killed and reported as failed
  BENCH_CS=PATH       corpusstat binary [build/release/corpusstat]
  e.g. BENCH_CORPUS=bench/work/gen-256 BENCH_GEN='rm -rf "$BENCH_CORPUS" &&
       build/release/corpusgen -S "${BENCH_SIZE}M" -n 8 -f text -o "$BENCH_CORPUS"'
Usage: bench/run.py [--dry-run]     (--dry-run: print the commands, run nothing)
"""
import csv
import datetime
import html
import io
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
RESULTS = BENCH / "results"
GNU_TIME = "/usr/bin/time"
# Debian's python: the one that imports python3-sklearn; the peers run on it.
PEER_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
MB = 1e6           # MB/s as corpusstat's summary.json reports it: 10^6 bytes per second
MIB = 1 << 20      # corpus sizes are MiB of text, as corpusgen -S and make-big.sh count them
# 256 MiB: with 3 runs the whole `make bench` took 11.0 and 12.6 minutes on the 2-core
# VM it was written on (bench/results/), half of it corpusstat --ngrams 1-3; a power of
# two so the 1/16 scaling prefix is also the peers' 16 MiB prefix.
DEFAULT_SIZE = 128
# --top for the pruned runs: large enough to keep every unigram of a few GB of text,
# small enough that the bigram and trigram tables written stay ~40 MB each.
TOP = 1000000
# Peers run on a prefix of this many MiB: sklearn takes ~10 s per 16 MiB here, and 3 runs
# of each peer then fit in about a minute.
DEFAULT_PEER_MB = 16
# Co-occurrence rows (issue 4). The window-5 rows run BENCH_RUNS times; these run fewer:
# the NLTK peer takes ~52 s per 16 MiB here (3.1 s per MB, 1.5 GB peak RSS), so once;
# --window 10 and --cooc doc (two passes; ~28,000 vocabulary pairs per document of the
# generated corpus) at most twice, doc scope only at the largest thread count.
COOC_WINDOWS = (5, 10)
COOC_VOCAB = 5000
TARGET_COOC_RATIO = 1 / 3   # window 5 (+ unigrams) over unigrams alone, same T, same run
DEFAULT_COOC_RUNS = 2
DEFAULT_NLTK_RUNS = 1
STDERR_TAIL = 600  # characters of stderr kept in the report of a failed command


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def env_size_mb(name, default):
    """A size in MiB: plain MiB (1024) or with a suffix (512M, 4G)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    m = re.fullmatch(r"([0-9]+)([mMgG]?)(i?B)?", raw)
    if not m or int(m.group(1)) < 1:
        sys.exit(f"bench: {name} must be a size such as 1024, 512M or 4G, not '{raw}'")
    return int(m.group(1)) * (1024 if m.group(2) in ("g", "G") else 1)


def env_int(name, default, minimum=1):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) < minimum:
        sys.exit(f"bench: {name} must be an integer >= {minimum}, not '{raw}'")
    return int(raw)


def rel(path):
    """A path as shown in commands: relative to the repo root when inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def sh(cmd):
    return " ".join(shlex.quote(str(a)) for a in cmd)


def capture(cmd, **kw):
    """stdout of a small informational command, or '' when it cannot run."""
    try:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60,
                              **kw).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# ---------------------------------------------------------------------------- settings

class Settings:
    def __init__(self):
        self.size_mb = env_size_mb("BENCH_SIZE", DEFAULT_SIZE)
        given = os.environ.get("BENCH_CORPUS", "").strip()
        self.corpus = Path(given or ROOT / "bench" / "work" / f"gen-{self.size_mb}")
        if not self.corpus.is_absolute():
            self.corpus = (ROOT / self.corpus).resolve()
        gen = os.environ.get("BENCH_GEN", "").strip()
        if gen:
            self.gen = gen
        elif given:
            self.gen = None  # a corpus given without a command is used as it is
        else:
            # the seeded C generator; the same bytes every time, so made once
            self.gen = ('test -f "$BENCH_CORPUS/.done" || { rm -rf "$BENCH_CORPUS" && '
                        'build/release/corpusgen -q -s 1 -S "${BENCH_SIZE}M" -n 8 -f text '
                        '-o "$BENCH_CORPUS" && touch "$BENCH_CORPUS/.done"; }')
        self.nproc = os.cpu_count() or 1
        raw = os.environ.get("BENCH_THREADS", "").strip()
        if raw:
            if not re.fullmatch(r"[0-9 ,]+", raw):
                sys.exit(f"bench: BENCH_THREADS must be thread counts, not '{raw}'")
            self.threads = sorted({int(t) for t in re.split(r"[ ,]+", raw) if t})
            if not self.threads or min(self.threads) < 1:
                sys.exit("bench: BENCH_THREADS needs counts >= 1")
        else:
            self.threads = sorted({1, self.nproc})
        self.tmax = max(self.threads)
        self.runs = env_int("BENCH_RUNS", 3)
        self.peer_mb = env_int("BENCH_PEER_MB", DEFAULT_PEER_MB)
        self.cooc_runs = min(self.runs, env_int("BENCH_COOC_RUNS", DEFAULT_COOC_RUNS))
        self.nltk_runs = min(self.runs, env_int("BENCH_NLTK_RUNS", DEFAULT_NLTK_RUNS))
        self.timeout = env_int("BENCH_TIMEOUT", 1800)
        cs = os.environ.get("BENCH_CS", "").strip()
        self.cs = Path(cs) if cs else ROOT / "build" / "release" / "corpusstat"
        self.time_ok = os.access(GNU_TIME, os.X_OK)


# ------------------------------------------------------------------------------ corpus

def make_corpus(st, dry):
    if st.gen is None:
        return None
    env = dict(os.environ, BENCH_SIZE=str(st.size_mb), BENCH_CORPUS=str(st.corpus))
    shown = st.gen
    for name, value in (("BENCH_SIZE", str(st.size_mb)), ("BENCH_CORPUS", rel(st.corpus))):
        for form in (f'"${name}"', f'"${{{name}}}"', f"${{{name}}}", f"${name}"):
            shown = shown.replace(form, shlex.quote(value) if form[0] == '"' else value)
    if dry:
        return shown
    log(f"corpus: {shown}")
    t0 = time.monotonic()
    p = subprocess.run(["bash", "-c", st.gen], cwd=ROOT, env=env)
    if p.returncode != 0:
        sys.exit(f"bench: the corpus command failed (exit {p.returncode}): {st.gen}")
    log(f"corpus: ready in {time.monotonic() - t0:.1f} s")
    return shown


def find_shards(corpus):
    folder = corpus / "text" if (corpus / "text").is_dir() else corpus
    shards = sorted(folder.glob("*.txt.zst"))
    if not shards:
        sys.exit(f"bench: no *.txt.zst shards in {folder}")
    return folder, shards


def signature(paths):
    return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in paths]


def up_to_date(stamp, sig):
    try:
        return json.loads(stamp.read_text()) == sig
    except (OSError, ValueError):
        return False


def decompress(shards, dest):
    """Plain copies of the shards in dest (skipped when already made from these shards)."""
    sig = {"from": signature(shards)}
    stamp = dest / ".stamp"
    plain = [dest / s.name[:-len(".zst")] for s in shards]
    if up_to_date(stamp, sig) and all(p.exists() for p in plain):
        return plain
    log(f"decompressing {len(shards)} shards into {rel(dest)}")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for s, p in zip(shards, plain):
        with open(p, "wb") as out:
            subprocess.run(["zstd", "-dcq", str(s)], stdout=out, check=True)
    stamp.write_text(json.dumps(sig))
    return plain


def cut_prefix(src, n_bytes):
    """The first documents of a plain-text shard: at least n_bytes, up to a blank line."""
    with open(src, "rb") as f:
        data = f.read(n_bytes)
        if len(data) < n_bytes:
            return data
        tail = b""
        while True:
            block = f.read(1 << 16)
            if not block:
                return data + tail
            tail += block
            cut = (data[-1:] + tail).find(b"\n\n")
            if cut >= 0:
                return data + tail[:cut + 1]  # ends after the blank line's first "\n"


def make_prefix(plain, n_bytes, dest):
    """Prefix corpus of about n_bytes of text in dest: plain `text/` and zstd `zst/`
    shards, one per full shard, each the first documents of its shard."""
    sig = {"from": signature(plain), "bytes": n_bytes}
    stamp = dest / ".stamp"
    if up_to_date(stamp, sig):
        return sorted((dest / "text").glob("*.txt")), sorted((dest / "zst").glob("*.zst"))
    log(f"making a {n_bytes / MIB:.1f} MiB prefix in {rel(dest)}")
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "text").mkdir(parents=True)
    (dest / "zst").mkdir()
    per_shard = -(-n_bytes // len(plain))
    for p in plain:
        data = cut_prefix(p, per_shard)
        if data and not data.endswith(b"\n\n"):
            data += b"\n" if data.endswith(b"\n") else b"\n\n"
        (dest / "text" / p.name).write_bytes(data)
        zst = dest / "zst" / (p.name + ".zst")
        subprocess.run(["zstd", "-q", "-3", "-f", str(dest / "text" / p.name), "-o", str(zst)],
                       check=True)
    stamp.write_text(json.dumps(sig))
    return sorted((dest / "text").glob("*.txt")), sorted((dest / "zst").glob("*.zst"))


def decoded_size(shard):
    """Uncompressed bytes of a zstd shard, by decompressing it (for --dry-run)."""
    n = 0
    with subprocess.Popen(["zstd", "-dcq", str(shard)], stdout=subprocess.PIPE) as p:
        for block in iter(lambda: p.stdout.read(1 << 20), b""):
            n += len(block)
    return n


def total_bytes(paths):
    return sum(p.stat().st_size for p in paths)


def balance(paths, k):
    """Shards split into k disjoint lists of about equal bytes (largest first)."""
    bins = [[0, []] for _ in range(k)]
    for p in sorted(paths, key=lambda q: -q.stat().st_size):
        b = min(bins, key=lambda x: x[0])
        b[0] += p.stat().st_size
        b[1].append(p)
    return [sorted(b[1]) for b in bins if b[1]]


# ------------------------------------------------------------------------- contenders

class Contender:
    def __init__(self, cid, group, what, argv, n_bytes, input_desc, threads=None,
                 summary=None, out_file=None, note="", runs=None):
        self.id = cid
        self.group = group
        self.what = what
        self.argv = argv              # run as is from the repo root
        self.n_bytes = n_bytes        # uncompressed text bytes the command reads
        self.input = input_desc
        self.threads = threads
        self.summary_path = summary   # corpusstat's summary.json
        self.out_file = out_file      # a peer's output table (its lines are counted)
        self.note = note
        self.runs = runs              # runs when fewer than BENCH_RUNS (None: BENCH_RUNS)
        self.walls, self.rss_kb, self.summaries = [], [], []
        self.error = None
        # filled when the table is made
        self.cs_ref = None            # (T1 contender, TN contender) beside a peer
        self.cs_ref_what = None       # what the cs_ref rows count, as the ratio names it
        self.floor_ref = None         # zstd floor at the same thread count
        self.uni_ref = None           # co-occurrence row: --ngrams 1 alone, same T and run
        self.target = None            # that ratio's target (window 5), or None
        self.mem_ref = None           # --memory row: the same command without a budget
        self.budget_mb = None         # --memory row: the budget, in MB
        self.inc_ref = None           # --state row: the full recount without a state
        self.prepare = None           # argv run, untimed, before each timed run

    @property
    def shown(self):
        if self.argv[:2] == ["bash", "-c"]:
            return self.argv[2]
        return sh(self.argv)

    @property
    def wall(self):
        return statistics.median(self.walls) if self.walls and not self.error else None

    @property
    def mb_s(self):
        w = self.wall
        return self.n_bytes / MB / w if w else None

    @property
    def peak_rss_mb(self):
        return max(self.rss_kb) * 1024 / MB if self.rss_kb else None

    def median_summary(self):
        if not self.summaries or self.error:
            return None
        order = sorted(range(len(self.walls)), key=lambda i: self.walls[i])
        return self.summaries[order[len(order) // 2]]


def cs_argv(st, threads, ngrams, top, out, inputs, cooc=("--cooc", "none")):
    argv = [rel(st.cs), "count", "-T", str(threads), "--ngrams", ngrams]
    if top:
        argv += ["--top", str(top)]
    return argv + ["--doc-sep", "blank", *cooc, "-q", "-o", rel(out)] + \
        [rel(i) for i in inputs]


def cooc_args(scope):
    """corpusstat's co-occurrence options for a scope: 5 or 10 (window), 'doc'."""
    if scope == "doc":
        return ("--cooc", "doc", "--cooc-vocab", str(COOC_VOCAB))
    return ("--cooc", "window", "--window", str(scope))


def cooc_what(scope):
    return " ".join(cooc_args(scope))


def plan(st, shards_dir, shards, plain, text_bytes, prefixes, peer_prefix):
    out = WORK / "out"
    # corpusstat is given the shards' folder when it holds nothing else (it walks folders
    # and skips hidden entries), else the shards one by one.
    held = sorted(p for p in shards_dir.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(shards_dir).parts))
    cs_in = [shards_dir] if held == sorted(shards) else shards
    floors, main, unpruned, cooc, budget, peers, beside, scaling = [], [], [], [], [], [], [], []
    size_desc = f"full {text_bytes / MIB:.3g} MiB"

    # 1. floor
    for k in st.threads:
        parts = balance(shards, k)
        if len(parts) == 1:
            script = "zstd -dcq " + " ".join(rel(p) for p in parts[0]) + " >/dev/null"
        else:
            script = "".join(
                f"zstd -dcq {' '.join(rel(p) for p in part)} >/dev/null & p{i}=$!; "
                for i, part in enumerate(parts))
            script += "rc=0; " + "".join(f"wait $p{i} || rc=1; " for i in range(len(parts)))
            script += "exit $rc"
        floors.append(Contender(
            f"floor-zstd-{k}", "floor",
            "zstd -dc, " + ("1 process" if len(parts) == 1 else
                            f"{len(parts)} processes over disjoint shards"),
            ["bash", "-c", script], text_bytes, size_desc + " zst", threads=len(parts)))
    floors.append(Contender(
        "floor-cat", "floor", "cat of the decompressed text (page cache)",
        ["bash", "-c", f"cat {rel(plain[0].parent)}/*.txt >/dev/null"], text_bytes,
        size_desc + " plain", threads=1))

    # 2. corpusstat on the full corpus
    for t in st.threads:
        for ng in ("1", "1-2", "1-3"):
            cid = f"cs-T{t}-{ng}-top"
            main.append(Contender(
                cid, "corpusstat", f"corpusstat --ngrams {ng} --top {TOP}",
                cs_argv(st, t, ng, TOP, out / cid, cs_in), text_bytes,
                size_desc + " zst", threads=t, summary=out / cid / "summary.json"))
    for ng in ("1", "1-2", "1-3"):
        cid = f"cs-T{st.tmax}-{ng}-all"
        unpruned.append(Contender(
            cid, "corpusstat", f"corpusstat --ngrams {ng} (unpruned)",
            cs_argv(st, st.tmax, ng, None, out / cid, cs_in), text_bytes,
            size_desc + " zst", threads=st.tmax, summary=out / cid / "summary.json"))

    # 2b. co-occurrence (issue 4): unigrams + pairs, --top as the unigram rows above, whose
    # MB/s at the same T is the reference of the target (window 5: at least 1/3 of it).
    # Doc scope (two passes) only at the largest thread count; window 10 and doc scope
    # run at most BENCH_COOC_RUNS times.
    uni_by_t = {c.threads: c for c in main if c.id.endswith("-1-top")}
    for t in st.threads:
        for scope in COOC_WINDOWS + ("doc",):
            if scope == "doc" and t != st.tmax:
                continue
            name = f"w{scope}" if scope != "doc" else f"doc{COOC_VOCAB}"
            cid = f"cs-T{t}-1-{name}-top"
            runs = None if scope == COOC_WINDOWS[0] else st.cooc_runs
            c = Contender(
                cid, "corpusstat co-occurrence",
                f"corpusstat --ngrams 1 --top {TOP} {cooc_what(scope)}"
                + (f" ({runs} run{'s' if runs > 1 else ''})" if runs and runs < st.runs else ""),
                cs_argv(st, t, "1", TOP, out / cid, cs_in, cooc_args(scope)), text_bytes,
                size_desc + " zst", threads=t, summary=out / cid / "summary.json",
                runs=runs)
            c.uni_ref = uni_by_t.get(t)
            c.target = TARGET_COOC_RATIO if scope == COOC_WINDOWS[0] else None
            cooc.append(c)

    # 2c. memory budget (issue 5): 1-3 grams, and window pairs, at the largest thread
    # count with --memory a quarter of the text, so that the runs exceed it and spill;
    # beside the same rows without a budget (their MB/s is the ratio's reference).
    budget_mib = max(1, int(text_bytes / MIB / 4))
    (WORK / "tmp").mkdir(parents=True, exist_ok=True)
    unbounded = {c.id: c for c in main + cooc + unpruned}
    for ng, scope, ref_id, top in (
            ("1-3", None, f"cs-T{st.tmax}-1-3-top", TOP),
            ("1", COOC_WINDOWS[0], f"cs-T{st.tmax}-1-w{COOC_WINDOWS[0]}-top", TOP),
            ("1-3", None, f"cs-T{st.tmax}-1-3-all", None)):  # no --top: every row
        cid = (f"cs-T{st.tmax}-{ng}{'-w' + str(scope) if scope else ''}"
               f"-{'top' if top else 'all'}-mem{budget_mib}M")
        argv = cs_argv(st, st.tmax, ng, top, out / cid, cs_in,
                       cooc_args(scope) if scope else ("--cooc", "none"))
        argv[2:2] = ["--memory", f"{budget_mib}M", "--tmp", rel(WORK / "tmp")]
        c = Contender(
            cid, "corpusstat under --memory",
            f"corpusstat --ngrams {ng} " + (f"--top {top}" if top else "(unpruned)")
            + (f" {cooc_what(scope)}" if scope else "") + f" --memory {budget_mib}M",
            argv, text_bytes, size_desc + " zst", threads=st.tmax,
            summary=out / cid / "summary.json")
        c.mem_ref = unbounded.get(ref_id)
        c.budget_mb = budget_mib * MIB / MB
        budget.append(c)

    # 2d. nightly runs (issue 5): 1-3 grams with --state. "first night": the whole corpus
    # into an empty state (the cost of keeping one, against the same run without); "one
    # new shard": the state already holds every shard but the last, made before each
    # timed run (untimed). Both against the full recount without a state.
    full_ref = unbounded.get(f"cs-T{st.tmax}-1-3-top")
    if len(shards) >= 2:
        cs = rel(st.cs)
        for name, held in (("first", []), ("add1", shards[:-1])):
            cid = f"cs-T{st.tmax}-1-3-top-state-{name}"
            state = WORK / "state" / cid
            argv = cs_argv(st, st.tmax, "1-3", TOP, out / cid, cs_in)
            argv[2:2] = ["--state", rel(state)]
            prep = f"mkdir -p {rel(state.parent)} && rm -rf {rel(state)}"
            if held:
                prep += (f" && {cs} count -q -T {st.tmax} --ngrams 1-3 --doc-sep blank "
                         f"--cooc none --state {rel(state)} -o {rel(out / (cid + '-prep'))} "
                         + " ".join(rel(p) for p in held))
            c = Contender(
                cid, "corpusstat --state",
                f"corpusstat --ngrams 1-3 --top {TOP} --state: "
                + ("the whole corpus into an empty state" if not held else
                   f"one new shard ({shards[-1].name}) added to a state of the other "
                   f"{len(held)}"),
                argv, text_bytes, size_desc + " zst", threads=st.tmax,
                summary=out / cid / "summary.json")
            c.prepare = ["bash", "-c", prep]
            c.inc_ref = full_ref
            budget.append(c)

    # 3. peers, and corpusstat beside them on the same prefix
    ptext, pbytes = peer_prefix
    pdesc = f"prefix {pbytes / MIB:.3g} MiB plain" if pbytes < text_bytes else size_desc + " plain"
    pdir = rel(ptext[0].parent)
    pid = f"{pbytes / MIB:.3g}M"
    for t in sorted({1, st.tmax}):
        for ng in ("1", "1-2"):
            cid = f"cs-T{t}-{ng}-all-{pid}"
            beside.append(Contender(
                cid, "corpusstat beside peers", f"corpusstat --ngrams {ng} (unpruned)",
                cs_argv(st, t, ng, None, out / cid, [ptext[0].parent]), pbytes, pdesc,
                threads=t, summary=out / cid / "summary.json"))
    w = COOC_WINDOWS[0]
    for t in sorted({1, st.tmax}):
        cid = f"cs-T{t}-1-w{w}-all-{pid}"
        beside.append(Contender(
            cid, "corpusstat beside peers",
            f"corpusstat --ngrams 1 {cooc_what(w)} (unpruned)",
            cs_argv(st, t, "1", None, out / cid, [ptext[0].parent], cooc_args(w)), pbytes,
            pdesc, threads=t, summary=out / cid / "summary.json"))
    ref = {ng: tuple(next(c for c in beside if c.threads == t
                          and c.id.startswith(f"cs-T{t}-{ng}-all-")) for t in (1, st.tmax))
           for ng in ("1", "1-2", f"1-w{w}")}
    o = out / "peers"
    peers.append(Contender(
        "peer-sort-uniq", "peer", "tr | tr | sort | uniq -c (LC_ALL=C): unigrams",
        ["bash", "-c", "export LC_ALL=C; set -o pipefail; "
         f"cat {pdir}/*.txt | tr -cs '[:alnum:]' '\\n' | tr '[:upper:]' '[:lower:]' "
         f"| sort | uniq -c >{rel(o / 'sort-uniq.txt')}"],
        pbytes, pdesc, threads=None, out_file=o / "sort-uniq.txt"))
    peers[-1].cs_ref = ref["1"]
    peers[-1].cs_ref_what = "--ngrams 1"
    for ng, what in (("1", "unigrams"), ("2", "unigrams + bigrams")):
        f = o / f"counter-{ng}.txt"
        c = Contender(
            f"peer-counter-{ng}", "peer", f"Python Counter, re.findall(r'\\w+'): {what}",
            ["bash", "-c", f"{PEER_PYTHON} {rel(BENCH / 'peers' / 'counter.py')} "
             f"--ngrams {ng} -o {rel(f)} {pdir}/*.txt"], pbytes, pdesc, threads=1, out_file=f)
        c.cs_ref = ref["1" if ng == "1" else "1-2"]
        c.cs_ref_what = "--ngrams 1" if ng == "1" else "--ngrams 1-2"
        peers.append(c)
    f = o / "countvectorizer.txt"
    c = Contender(
        "peer-sklearn", "peer", "sklearn CountVectorizer(ngram_range=(1,2)) over documents",
        ["bash", "-c", f"{PEER_PYTHON} {rel(BENCH / 'peers' / 'countvectorizer.py')} "
         f"-o {rel(f)} {pdir}/*.txt"], pbytes, pdesc, threads=1, out_file=f)
    c.cs_ref = ref["1-2"]
    c.cs_ref_what = "--ngrams 1-2"
    peers.append(c)
    f = o / "nltk-cooc.txt"
    c = Contender(
        "peer-nltk-cooc", "peer",
        f"NLTK BigramCollocationFinder.from_words(window_size={w + 1}) per line, "
        f"pmi + likelihood_ratio: pairs up to {w} apart"
        + (f" ({st.nltk_runs} run{'s' if st.nltk_runs > 1 else ''})"
           if st.nltk_runs < st.runs else ""),
        ["bash", "-c", f"{PEER_PYTHON} {rel(BENCH / 'peers' / 'nltk_cooc.py')} "
         f"--window {w} -o {rel(f)} {pdir}/*.txt"], pbytes, pdesc, threads=1, out_file=f,
        runs=st.nltk_runs)
    c.cs_ref = ref[f"1-w{w}"]
    c.cs_ref_what = f"--ngrams 1 {cooc_what(w)}"
    peers.append(c)

    # 5. scaling: size at -T max, threads 1..max at full size (reusing rows run above)
    for zst, n in prefixes:
        cid = f"scale-{n / MIB:.3g}M-T{st.tmax}-1-2-top"
        scaling.append(Contender(
            cid, "scaling", f"corpusstat --ngrams 1-2 --top {TOP}",
            cs_argv(st, st.tmax, "1-2", TOP, out / cid, [zst[0].parent]), n,
            f"prefix {n / MIB:.3g} MiB zst", threads=st.tmax,
            summary=out / cid / "summary.json"))
    for t in range(1, st.tmax + 1):
        if t not in st.threads:
            cid = f"cs-T{t}-1-2-top"
            scaling.append(Contender(
                cid, "scaling", f"corpusstat --ngrams 1-2 --top {TOP}",
                cs_argv(st, t, "1-2", TOP, out / cid, cs_in), text_bytes,
                size_desc + " zst", threads=t, summary=out / cid / "summary.json"))

    contenders = floors + main + unpruned + cooc + budget + peers + beside + scaling
    floor_by_t = {c.threads: c for c in floors if c.id.startswith("floor-zstd")}
    for c in contenders:  # only the rows reading the zstd shards, as the floor does
        if c.group in ("corpusstat", "corpusstat co-occurrence", "scaling") \
                and c.threads in floor_by_t:
            c.floor_ref = floor_by_t[c.threads]
    return contenders


# ---------------------------------------------------------------------------- running

def run_once(st, c):
    """One timed run of c: appends its wall time and peak RSS, or sets c.error."""
    if c.summary_path and c.summary_path.exists():
        c.summary_path.unlink()  # a stale summary must not pass for this run's
    if c.out_file:
        c.out_file.parent.mkdir(parents=True, exist_ok=True)
    if c.prepare:
        p = subprocess.run(c.prepare, cwd=ROOT, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode:
            c.error = f"prepare: exit {p.returncode}: {p.stderr.decode(errors='replace')[-300:]}"
            return
    os.sync()  # earlier runs' output written back now, not during this run's timing
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        argv = ([GNU_TIME, "-f", "%M", "-o", rss.name] if st.time_ok else []) + c.argv
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err,
                                 start_new_session=True)
        except OSError as e:
            c.error = f"cannot start: {e}"
            return
        try:
            rc = p.wait(timeout=st.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            c.error = f"killed after {st.timeout} s (BENCH_TIMEOUT)"
            return
        except KeyboardInterrupt:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        wall = time.monotonic() - t0
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip()[-STDERR_TAIL:]
        if rc != 0:
            c.error = f"exit {rc}: {tail or '(no stderr)'}"
            return
        c.walls.append(wall)
        kb = [ln for ln in rss.read().split("\n") if ln.strip().isdigit()]
        if kb:
            c.rss_kb.append(int(kb[-1]))
    if c.summary_path:
        try:
            c.summaries.append(json.loads(c.summary_path.read_text()))
        except (OSError, ValueError) as e:
            c.summaries.append(None)
            log(f"{c.id}: no summary.json ({e})")


def warm_cache(paths):
    """Reads every input once so that no contender pays for the first read from disk."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def run_all(st, contenders):
    for r in range(st.runs):
        for c in contenders:
            n = c.runs or st.runs
            if c.error or r >= n:
                continue
            run_once(st, c)
            if c.error:
                log(f"run {r + 1}/{n} {c.id}: FAILED {c.error.splitlines()[0][:200]}")
            else:
                rss = f", {c.rss_kb[-1] * 1024 / MB:.0f} MB peak RSS" if c.rss_kb else ""
                log(f"run {r + 1}/{n} {c.id}: {c.walls[-1]:.2f} s"
                    f" ({c.n_bytes / MB / c.walls[-1]:.1f} MB/s{rss})")


# ----------------------------------------------------------------------------- report

def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / (1 << 20):.1f} GiB RAM"
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model or platform.processor() or '?'}, {ram}, " \
           f"Linux {platform.release()}"


def commit():
    head = capture(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    # Tracked files only (as `git describe --dirty`): results of earlier runs and scratch
    # files are untracked and do not change what is measured.
    dirty = capture(["git", "status", "--porcelain", "--untracked-files=no"])
    return head + ("-dirty" if dirty else "")


def versions(st):
    cs = capture([str(st.cs), "--version"]).splitlines()
    zs = capture(["zstd", "--version"])
    m = re.search(r"v(\d+\.\d+\.\d+)", zs)
    core = capture(["sort", "--version"]).splitlines()
    py = capture([PEER_PYTHON, "-c", "import sys; print(sys.version.split()[0])"])
    sk = capture([PEER_PYTHON, "-c", "import sklearn; print(sklearn.__version__)"])
    nl = capture([PEER_PYTHON, "-c", "import nltk; print(nltk.__version__)"])
    return ", ".join([
        cs[0] if cs else "corpusstat ?",
        f"zstd {m.group(1) if m else '?'}",
        core[0].replace("sort (GNU coreutils)", "coreutils") if core else "coreutils ?",
        f"{PEER_PYTHON} {py or '?'}",
        f"scikit-learn {sk or 'not installed'}",
        f"NLTK {nl or 'not installed'}",
    ])


def fmt(x, digits=1):
    if x is None:
        return ""
    if digits == 0 or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def ratio_text(c, st):
    """What the ratio column says for c (and the numbers for the CSV)."""
    if c.inc_ref is not None:
        # --state row: wall time against the full recount without a state; the state's
        # size, and the inputs the run read
        s = c.median_summary() or {}
        sta = s.get("state") or {}
        if not (c.wall and c.inc_ref.wall):
            return "", {}
        nums = {"wall_vs_full_recount": c.wall / c.inc_ref.wall,
                "state_MB": (sta.get("bytes") or 0) / MB,
                "inputs_read": len(s.get("inputs") or [])}
        return (f"{nums['wall_vs_full_recount']:.2f}x the wall time of a full recount "
                f"without a state ({c.inc_ref.wall:.1f} s); read {nums['inputs_read']} "
                f"input(s); state {nums['state_MB']:,.0f} MB"), nums
    if c.mem_ref is not None:
        # --memory row: MB/s against the same command unbounded, what went to disk, and
        # the peak RSS against the budget
        s = c.median_summary() or {}
        sp = s.get("spill") or {}
        if not (c.mb_s and c.mem_ref.mb_s):
            return "", {}
        nums = {"vs_unbounded": c.mb_s / c.mem_ref.mb_s,
                "spills": sp.get("spills"), "spill_disk_MB": (sp.get("bytes_disk") or 0) / MB,
                "spill_raw_MB": (sp.get("bytes_raw") or 0) / MB,
                "rss_vs_budget": (c.peak_rss_mb or 0) / c.budget_mb}
        text = (f"{nums['vs_unbounded']:.2f}x the MB/s unbounded; {sp.get('spills', 0)} spills, "
                f"{nums['spill_disk_MB']:,.0f} MB on disk ({nums['spill_raw_MB']:,.0f} MB "
                f"packed); peak RSS {nums['rss_vs_budget']:.1f}x the budget")
        if c.mem_ref.peak_rss_mb:
            text += f" ({c.peak_rss_mb / c.mem_ref.peak_rss_mb:.2f}x unbounded)"
        return text, nums
    if c.uni_ref is not None:
        # co-occurrence row: its MB/s over --ngrams 1 alone at the same T, same run
        if not (c.mb_s and c.uni_ref.mb_s):
            return "", {}
        r = c.mb_s / c.uni_ref.mb_s
        nums = {"vs_ngrams1_same_T": r}
        if c.floor_ref is not None and c.floor_ref.mb_s:
            nums["vs_zstd_floor"] = c.mb_s / c.floor_ref.mb_s
        text = f"{r:.2f}x the MB/s of --ngrams 1 (T{c.threads})"
        if c.target is not None:
            nums["target_vs_ngrams1"] = c.target
            text += (f"; target >= {c.target:.2f}: "
                     + ("met" if r >= c.target else "MISSED"))
        return text, nums
    if c.floor_ref is not None and c.mb_s and c.floor_ref.mb_s:
        r = c.mb_s / c.floor_ref.mb_s
        pct = f"{100 * r:.1f}" if r < 0.1 else f"{100 * r:.0f}"
        return f"{pct}% of zstd floor ({c.floor_ref.threads}p)", {"vs_zstd_floor": r}
    if c.cs_ref and c.mb_s:
        parts, nums = [], {}
        for ref, key in zip(c.cs_ref, ("cs_T1_over_peer", f"cs_T{st.tmax}_over_peer")):
            if ref.mb_s:
                nums[key] = ref.mb_s / c.mb_s
                parts.append(f"{nums[key]:.1f}x (T{ref.threads})")
        return (f"corpusstat {c.cs_ref_what} is " + ", ".join(parts)) if parts else "", nums
    return "", {}


def output_rows(c):
    """Distinct entries a contender counted: corpusstat's types plus n-gram types plus
    co-occurrence pairs (before --top), a peer's output lines."""
    s = c.median_summary()
    if s:
        return s.get("types", 0) + sum((s.get("ngram_types") or {}).values()) + \
            (s.get("cooc_pairs") or 0)
    if c.out_file and c.out_file.exists() and not c.error:
        with open(c.out_file, "rb") as f:
            return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
    return None


COLUMNS = ["id", "group", "contender", "input", "threads", "runs", "wall_s_median",
           "MB_per_s", "peak_rss_MB", "ratio", "entries_counted", "count_s", "merge_s",
           "write_s", "status"]


def table_rows(st, contenders):
    rows = []
    for c in contenders:
        ratio, nums = ratio_text(c, st)
        s = c.median_summary() or {}
        secs = s.get("seconds") or {}
        rows.append({
            "id": c.id, "group": c.group, "contender": c.what, "input": c.input,
            "threads": c.threads if c.threads else "",
            "runs": len(c.walls), "wall_s_median": c.wall, "MB_per_s": c.mb_s,
            "peak_rss_MB": c.peak_rss_mb, "ratio": ratio,
            "entries_counted": output_rows(c),
            "count_s": secs.get("count"), "merge_s": secs.get("merge"),
            "write_s": secs.get("write"),
            "status": ("FAILED: " + c.error) if c.error else "ok",
            "_nums": nums, "_c": c,
        })
    return rows


def fewer_runs(st):
    """The rows run fewer than BENCH_RUNS times, as the method line says it."""
    fewer = [f"{what} {n}" for what, n in (("the NLTK peer", st.nltk_runs),
                                            ("--window 10 and --cooc doc", st.cooc_runs))
             if n < st.runs]
    return f" (fewer runs: {', '.join(fewer)})" if fewer else ""


def header_lines(st, meta):
    return [
        f"date: {meta['date']}",
        f"commit: {meta['commit']}",
        f"machine: {meta['machine']}",
        f"corpus: {meta['corpus']}",
        f"tools: {meta['versions']}",
        f"method: {st.runs} run{'s' if st.runs > 1 else ''} of each command"
        + fewer_runs(st) + ", round-robin; median wall time "
        f"(time.monotonic around the subprocess); MB/s = uncompressed text bytes / 10^6 / "
        f"median wall s; peak RSS = GNU time %M (the largest process of a pipeline), "
        f"max over runs; inputs read once before timing (page cache warm); `sync` before "
        f"every run",
        f"bench took: {meta['elapsed']}",
    ]


NOTES = [
    "corpusstat rows: ratio = its MB/s as a share of the zstd floor's at the same number "
    "of processes (100% would be as fast as decompressing alone). `min-max s` is the spread "
    "of the runs: on a shared VM it can be wide, so read medians with it.",
    "--memory rows (issue 5): the same command as the unbounded row of the same id without "
    "`-mem...`, with --memory a quarter of the text's size and --tmp under bench/work; "
    "ratio = MB/s over that row's, the spills and the disk they took (zstd; `packed`: the "
    "runs' own varint bytes), and the peak RSS over the budget. This version bounds the "
    "n-gram and pair runs that counting holds; under --top the merged tables (a lean merge "
    "keeps only the keys that can be rows), and without it none (what the merge sums is "
    "written out and made into runs of sorted rows after: the `-all-mem` row); the term "
    "tables while counting, the n-gram and pair merges' scratch (partitions merged in "
    "slices), the merged terms (on disk but for their first two bytes) and the rows "
    "(written out as sorted runs past their share); the map of term ids is counted beside "
    "the merges, not made smaller. At this size the counting's buffers and the lean "
    "merge's top of 1 M keys pass a 32M budget on their own, so the peak RSS is above it.",
    "--state rows (issue 5): `first`: the whole corpus counted into an empty --state folder; "
    "`add1`: the last shard added to a state of the others, made before each timed run "
    "(untimed); ratio = wall time over the full recount without a state (row "
    "`cs-T*-1-3-top`). MB/s: the whole corpus's text over the wall time (the tables "
    "cover it all).",
    "peer rows: ratio = corpusstat's MB/s on the same prefix (rows `cs-T*-all-*`, "
    "unpruned, same n-gram orders: unigrams for sort and Counter-1, 1-2 for Counter-2 and "
    "sklearn) over the peer's; >1 means corpusstat is faster.",
    "The peers run on a prefix (the first documents of every shard) because sklearn and the "
    "Python bigram Counter take minutes per 256 MiB; their MB/s is per MB of that prefix. "
    "corpusstat reads the same plain-text prefix files beside them.",
    "The peers do not tokenize alike: `tr` in LC_ALL=C keeps ASCII letters and digits only "
    "(the Cyrillic words of the corpus become separators) and sort is GNU sort's default "
    "(multi-threaded); Counter uses Python's `\\w+` (Unicode, with `_`) and str.lower(), "
    "pairs within a line; CountVectorizer keeps tokens of 2+ word characters and makes "
    "bigrams within a document, across lines; corpusstat folds case fully (Unicode) and "
    "its n-grams stop at line breaks. `entries` is what each counted (corpusstat: types + "
    "n-gram types before --top; peers: lines written).",
    "co-occurrence rows (issue 4): corpusstat --ngrams 1 --top 1000000 with --cooc window "
    "--window 5 or 10, or --cooc doc --cooc-vocab 5000 (pairs of the 5,000 terms of highest "
    "doc_count, per document; a second pass over the shards); ratio = their MB/s over "
    "`cs-T*-1-top` (unigrams alone, same --top, same thread count, same run); issue 4's "
    "target is window 5 at >= 1/3 of it. Doc scope runs only at the largest thread count; "
    "window 10 and doc scope run BENCH_COOC_RUNS times (default 2), the NLTK peer "
    "BENCH_NLTK_RUNS times (default 1: ~3 s per MB), to keep `make bench` near 10 minutes. "
    "`entries` adds summary.json's cooc_pairs (distinct pairs before --top).",
    "NLTK peer: BigramCollocationFinder.from_words(window_size=6) counts ordered pairs "
    "(w1, w2) with w2 1..5 tokens after w1, the span of corpusstat --window 5 (NLTK's "
    "window_size counts w1 itself); tokens as Counter's, lines padded with None so that "
    "no pair crosses a line break (NLTK's from_documents padding); every pair is scored "
    "with pmi and likelihood_ratio and written. Its pairs are ordered and include a term "
    "with itself, corpusstat's are unordered pairs of two different terms, so its "
    "`entries` are more; its ratio compares corpusstat --ngrams 1 --cooc window --window 5 "
    "(unpruned, rows `cs-T*-1-w5-all-*`) on the same prefix.",
    "Every peer and corpusstat writes its whole table (corpusstat: its CSVs, --top rows per "
    "table when given) under bench/work/out/; the write is part of the time.",
]


def spread(c):
    if len(c.walls) < 2 or c.error:
        return ""
    return f"{min(c.walls):.2f}-{max(c.walls):.2f}"


def run_stages(st, shards):
    """bench/stages.c on the shards, one core: the floor of each counting stage for
    --ngrams 1, 1-2 and 1-3. Returns [(ngrams, [row dict])], or [] when it cannot run."""
    exe = st.cs.parent / "stages"
    if not exe.exists():
        log(f"{rel(exe)} missing (run `make`): no stage floors")
        return []
    out = []
    for ngrams in ("1", "1-2", "1-3"):
        argv = [str(exe), "-r", str(st.runs), "-n", ngrams] + [str(s) for s in shards]
        log(f"stage floors, --ngrams {ngrams}: {sh([rel(exe)] + argv[1:5])} SHARDS")
        try:
            p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                               timeout=st.timeout)
        except subprocess.TimeoutExpired:
            log(f"stages --ngrams {ngrams}: timed out")
            continue
        if p.returncode != 0:
            log(f"stages --ngrams {ngrams} failed: {p.stderr.strip()}")
            continue
        lines = p.stdout.strip().splitlines()
        head = lines[0].split("\t")
        out.append((ngrams, [dict(zip(head, line.split("\t"))) for line in lines[1:]]))
    return out


def stages_markdown(stages):
    if not stages:
        return []
    out = ["", "Stage floors, one core (`build/release/stages`, median of BENCH_RUNS): each row "
           "adds one stage to the one above; the difference is that stage's cost. `touch` "
           "follows `hash` instead: one random increment per key occurrence in a plain "
           "array twice the distinct keys, no key kept, the floor of any hash counter.", "",
           "| --ngrams | stage | s | MB/s | ns/token | stage alone ns/token |",
           "|---|---|--:|--:|--:|--:|"]
    for ngrams, rows in stages:
        prev, ns_of = 0.0, {}
        for r in rows:
            ns = float(r["ns_per_token"])
            ns_of[r["stage"]] = ns
            if r["stage"] == "touch":
                prev = ns_of.get("hash", 0.0)
            out.append(f"| {ngrams} | {r['stage']} | {float(r['seconds']):.2f} | "
                       f"{float(r['mb_per_s']):.0f} | {ns:.1f} | {ns - prev:.1f} |")
            prev = ns
    return out


def write_stages_csv(path, stages):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ngrams", "stage", "seconds", "mb_per_s", "ns_per_token", "bytes", "tokens"])
    for ngrams, rows in stages:
        for r in rows:
            w.writerow([ngrams, r["stage"], r["seconds"], r["mb_per_s"], r["ns_per_token"],
                        r["bytes"], r["tokens"]])
    path.write_text(buf.getvalue())


def markdown(st, meta, rows, commands, plots, stages=()):
    out = ["# corpusstat benchmark", ""]
    out += [f"- {line}" for line in header_lines(st, meta)]
    out += ["", "| id | contender | input | T | wall s | min-max s | MB/s | peak RSS MB | ratio |"
            " entries | count/merge/write s | status |",
            "|---|---|---|--:|--:|--:|--:|--:|---|--:|---|---|"]
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            out.append(f"| **{group}** | | | | | | | | | | | |")
        cmw = "/".join(fmt(r[k], 2) for k in ("count_s", "merge_s", "write_s")) \
            if r["count_s"] is not None else ""
        status = r["status"].replace("|", "\\|").replace("\n", " ")
        out.append(
            f"| {r['id']} | {r['contender'].replace('|', chr(92) + '|')} | {r['input']} | "
            f"{r['threads']} | {fmt(r['wall_s_median'], 2)} | {spread(r['_c'])} | "
            f"{fmt(r['MB_per_s'])} | "
            f"{fmt(r['peak_rss_MB'], 0)} | {r['ratio']} | {fmt(r['entries_counted'], 0)} | "
            f"{cmw} | {status if status != 'ok' else 'ok'} |")
    out += stages_markdown(stages)
    out += ["", "Notes:", ""] + [f"- {n}" for n in NOTES]
    if plots:
        out += ["", "Scaling (corpusstat --ngrams 1-2 --top 1000000):", ""]
        out += [f"![{name}]({name})" for name in plots]
    out += ["", "Commands (run from the repository root):", "", "```"]
    out += [f"# corpus\n{meta['gen']}" if meta["gen"] else "# corpus: given, not made"]
    out += [f"# {cid}\n{cmd}" for cid, cmd in commands]
    out += ["```", ""]
    return "\n".join(out)


def write_csv(path, st, meta, rows, commands):
    buf = io.StringIO()
    for line in header_lines(st, meta):
        buf.write(f"# {line}\n")
    cols = COLUMNS + ["vs_zstd_floor", "cs_T1_over_peer", f"cs_T{st.tmax}_over_peer",
                      "vs_ngrams1_same_T", "target_vs_ngrams1", "walls_s", "command"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    cmd = dict(commands)
    for r in rows:
        c = r["_c"]
        vals = []
        for k in cols:
            if k in r:
                v = r[k]
            elif k in r["_nums"]:
                v = r["_nums"][k]
            elif k == "walls_s":
                v = ";".join(f"{x:.3f}" for x in c.walls)
            elif k == "command":
                v = cmd[c.id]
            else:
                v = ""
            vals.append(f"{v:.4g}" if isinstance(v, float) else ("" if v is None else v))
        w.writerow(vals)
    path.write_text(buf.getvalue())


# ------------------------------------------------------------------------------ plots

def plot_series(st, contenders):
    """(title, x label, log x?, [(x, MB/s, RSS MB)]) for the size and thread scalings."""
    by_id = {c.id: c for c in contenders}
    full = by_id.get(f"cs-T{st.tmax}-1-2-top")
    size = [(c.n_bytes / MIB, c.mb_s, c.peak_rss_mb) for c in contenders
            if c.id.startswith("scale-") and c.mb_s]
    if full and full.mb_s:
        size.append((full.n_bytes / MIB, full.mb_s, full.peak_rss_mb))
    threads = [(t, by_id[f"cs-T{t}-1-2-top"].mb_s, by_id[f"cs-T{t}-1-2-top"].peak_rss_mb)
               for t in range(1, st.tmax + 1)
               if f"cs-T{t}-1-2-top" in by_id and by_id[f"cs-T{t}-1-2-top"].mb_s]
    return [("scaling-size", f"corpus size, MiB of text (-T {st.tmax})", True, sorted(size)),
            ("scaling-threads", "threads (full corpus)", False, threads)]


def plot_png(path, xlabel, logx, pts, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    xs = [p[0] for p in pts]
    for ax, idx, ylabel in ((axes[0], 1, "MB/s"), (axes[1], 2, "peak RSS, MB")):
        ys = [p[idx] or 0 for p in pts]
        ax.plot(xs, ys, marker="o")
        if logx:
            ax.set_xscale("log", base=2)
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{x:.3g}" for x in xs])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_svg(path, xlabel, logx, pts, title):
    """The same two panels as plot_png, drawn by hand when matplotlib is missing."""
    import math
    w, h, pad = 420, 300, 55
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{h}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{2 * w}" height="{h}" fill="white"/>']
    xs = [math.log2(p[0]) if logx else p[0] for p in pts]
    x0, x1 = min(xs), max(xs)
    for panel, (idx, ylabel) in enumerate(((1, "MB/s"), (2, "peak RSS, MB"))):
        ox = panel * w
        ys = [p[idx] or 0 for p in pts]
        y1 = max(ys) * 1.1 or 1

        def px(x):
            return ox + pad + (x - x0) / ((x1 - x0) or 1) * (w - 2 * pad)

        def py(y):
            return h - pad - y / y1 * (h - 2 * pad)
        parts.append(f'<line x1="{ox + pad}" y1="{h - pad}" x2="{ox + w - pad}" '
                     f'y2="{h - pad}" stroke="black"/>')
        parts.append(f'<line x1="{ox + pad}" y1="{pad}" x2="{ox + pad}" y2="{h - pad}" '
                     f'stroke="black"/>')
        for i in range(5):
            yv = y1 * i / 4
            parts.append(f'<text x="{ox + pad - 5}" y="{py(yv) + 4:.1f}" '
                         f'text-anchor="end">{yv:,.0f}</text>')
        for x, p in zip(xs, pts):
            parts.append(f'<text x="{px(x):.1f}" y="{h - pad + 15}" '
                         f'text-anchor="middle">{p[0]:.3g}</text>')
        line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys))
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1f77b4" '
                     f'stroke-width="2"/>')
        parts += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="#1f77b4"/>'
                  for x, y in zip(xs, ys)]
        parts.append(f'<text x="{ox + w / 2}" y="{h - 15}" text-anchor="middle">'
                     f'{xlabel}</text>')
        parts.append(f'<text x="{ox + 15}" y="{h / 2}" text-anchor="middle" '
                     f'transform="rotate(-90 {ox + 15} {h / 2})">{ylabel}</text>')
    for i, line in enumerate(title.split("\n")):
        parts.append(f'<text x="{w}" y="{16 + 14 * i}" text-anchor="middle" font-size="12">'
                     f'{html.escape(line)}</text>')
    parts.append('</svg>')
    path.write_text("\n".join(parts) + "\n")


def make_plots(st, contenders, stem):
    """Plots under bench/results/; returns {latest name: dated name}."""
    try:
        import matplotlib  # noqa: F401
        ext, draw = "png", plot_png
    except ImportError:
        ext, draw = "svg", plot_svg
    made = {}
    # Every figure names the machine and the commit, as the tables do.
    title = f"corpusstat count --ngrams 1-2 --top 1000000\n{machine()}; commit {commit()}"
    for name, xlabel, logx, pts in plot_series(st, contenders):
        if len(pts) < 2:
            log(f"plot {name}: fewer than 2 points, not drawn")
            for old in RESULTS.glob(f"latest-{name}.*"):
                old.unlink()  # a plot of an earlier run must not pass for this one's
            continue
        latest = RESULTS / f"latest-{name}.{ext}"
        try:
            draw(latest, xlabel, logx, pts, title)
        except Exception as e:  # a plot must not lose the table
            log(f"plot {name} failed: {e}")
            continue
        dated = RESULTS / f"{stem}-{name}.{ext}"
        shutil.copyfile(latest, dated)
        made[latest.name] = dated.name
    return made


# ------------------------------------------------------------------------------- main

def main():
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__)
        return 0
    dry = "--dry-run" in sys.argv[1:]
    unknown = [a for a in sys.argv[1:] if a != "--dry-run"]
    if unknown:
        sys.exit(f"bench: unknown argument {unknown[0]} (try --help)")
    t_start = time.monotonic()
    st = Settings()
    if not st.time_ok:
        log(f"{GNU_TIME} missing (Debian package `time`): peak RSS not measured")
    if not st.cs.exists():
        log(f"{rel(st.cs)} missing (run `make`): the corpusstat rows will fail")
    gen_shown = make_corpus(st, dry)
    if dry and not st.corpus.exists():
        print(f"# corpus\n{gen_shown}\n# (the rest needs the corpus: run it first)")
        return 0
    shards_dir, shards = find_shards(st.corpus)
    work = WORK / f"{st.corpus.name}-scratch"  # plain copies and prefixes of this corpus
    if work.resolve() in (st.corpus, *st.corpus.parents) or st.corpus in work.resolve().parents:
        sys.exit(f"bench: the corpus {st.corpus} overlaps the scratch folder {rel(work)}")
    plain = decompress(shards, work / "text") if not dry else \
        [work / "text" / s.name[:-4] for s in shards]
    text_bytes = total_bytes(plain) if not dry else sum(decoded_size(s) for s in shards)
    prefixes, peer_prefix = [], None
    for div in (16, 4):
        n = text_bytes // div
        if dry:
            prefixes.append(([work / f"prefix-{n}" / "zst" / "x.zst"], n))
            continue
        ptext, pzst = make_prefix(plain, n, work / f"prefix-{n}")
        prefixes.append((pzst, total_bytes(ptext)))
    peer_bytes = min(st.peer_mb * MIB, text_bytes)
    near = [n for n in (text_bytes // 16, text_bytes // 4)
            if abs(n - peer_bytes) <= peer_bytes // 100]  # reuse a scaling prefix
    peer_bytes = near[0] if near else peer_bytes
    if peer_bytes >= text_bytes * 0.95:  # a prefix of almost all: the corpus itself
        peer_prefix = (plain, text_bytes)
    elif dry:
        peer_prefix = ([work / f"prefix-{peer_bytes}" / "text" / "x.txt"], peer_bytes)
    else:
        ptext, _ = make_prefix(plain, peer_bytes, work / f"prefix-{peer_bytes}")
        peer_prefix = (ptext, total_bytes(ptext))

    contenders = plan(st, shards_dir, shards, plain, text_bytes, prefixes, peer_prefix)
    commands = [(c.id, c.shown) for c in contenders]
    if dry:
        print(f"# corpus\n{gen_shown or '(given)'}")
        for cid, cmd in commands:
            print(f"# {cid}\n{cmd}")
        return 0

    inputs = set(shards) | set(plain) | set(peer_prefix[0])
    for zst, _ in prefixes:
        inputs |= set(zst)
    warm_cache(sorted(inputs))
    est = st.runs * len(contenders)
    log(f"{len(contenders)} commands x {st.runs} runs = {est} timed runs, round-robin")
    run_all(st, contenders)
    stages = run_stages(st, shards)

    now = datetime.datetime.now(datetime.timezone.utc)
    shards_z = total_bytes(shards)
    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "machine": machine(),
        "corpus": f"{rel(st.corpus)}: {len(shards)} shards {rel(shards_dir)}/*.txt.zst, "
                  f"{text_bytes:,} bytes of text ({text_bytes / MIB:.1f} MiB), "
                  f"{shards_z:,} bytes as zstd; made by "
                  + (f"`{gen_shown}`" if gen_shown else "(given as BENCH_CORPUS)"),
        "versions": versions(st),
        "elapsed": f"{(time.monotonic() - t_start) / 60:.1f} min (this run, "
                   f"corpus generation included when it ran)",
        "gen": gen_shown,
    }
    rows = table_rows(st, contenders)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = now.strftime("%Y-%m-%dT%H%M") + "-" + meta["commit"]
    plots = make_plots(st, contenders, stem)
    md_latest = markdown(st, meta, rows, commands, list(plots), stages)
    md_dated = markdown(st, meta, rows, commands, list(plots.values()), stages)
    if stages:
        write_stages_csv(RESULTS / "latest-stages.csv", stages)
        shutil.copyfile(RESULTS / "latest-stages.csv", RESULTS / f"{stem}-stages.csv")
    (RESULTS / "latest.md").write_text(md_latest)
    (RESULTS / f"{stem}.md").write_text(md_dated)
    write_csv(RESULTS / "latest.csv", st, meta, rows, commands)
    shutil.copyfile(RESULTS / "latest.csv", RESULTS / f"{stem}.csv")
    shutil.rmtree(WORK / "out", ignore_errors=True)  # up to GBs of CSVs; nobody reads them
    print(md_latest)
    log(f"wrote {rel(RESULTS / 'latest.md')}, latest.csv, {stem}.{{md,csv}}"
        + (", " + ", ".join(plots) if plots else ""))
    failed = [c.id for c in contenders if c.error]
    if failed:
        log(f"failed (reported in the table): {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (subprocess.CalledProcessError, OSError) as e:
        sys.exit(f"bench: preparing the inputs failed: {e}")
