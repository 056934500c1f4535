/*
 * main.c - the corpusstat command: argv -> cs_options -> cs_count; prints
 * the library's diagnostics and errors and chooses the exit code:
 *   0  the run finished (every skipped record or input reported and counted)
 *   1  the run stopped (--strict, stdin failed, output not writable)
 *   2  usage error
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpusstat.h"

static const char USAGE[] =
    "Usage: corpusstat count [OPTIONS] INPUT...    (with --state: INPUT... optional)\n"
    "       corpusstat merge [-o DIR] [--state DIR] [--top K] [--min-count C] STATE...\n"
    "       corpusstat --help | --version\n"
    "\n"
    "Counts terms and n-grams of plain-text or JSONL corpora (optionally zstd-\n"
    "compressed: *.zst) exactly, and writes terms.csv, ngrams.csv, cooc.csv\n"
    "(co-occurrence with PMI, NPMI and G^2) and summary.json.\n"
    "INPUT: a file, a folder (walked recursively, hidden entries skipped),\n"
    "@LIST (a file naming one input per line) or - (stdin).\n"
    "\n"
    "Run:\n"
    "  -o, --output DIR      output folder, replaced as a whole [corpusstat-out]\n"
    "  -T, --threads N       worker threads, 0 = all cores [0]\n"
    "  -q, --quiet           no progress line\n"
    "      --memory SIZE     memory budget: n-gram and pair runs past it go to disk,\n"
    "                        e.g. 512M, 8G [half of physical memory]\n"
    "      --tmp DIR         where a fresh folder for those runs (and for JSONL records\n"
    "                        over 4 MiB of shards and pipes) is made [$TMPDIR, else\n"
    "                        /tmp]; removed at the end\n"
    "      --strict          stop at the first bad record, shard or input (exit 1)\n"
    "      --state DIR       keep the exact counts in DIR and add to them: only inputs\n"
    "                        not counted before are read; the tables are those of all\n"
    "                        (a file that changed or vanished since is an error)\n"
    "      --retract FILE    take FILE's counts out of the --state (it is counted again,\n"
    "                        negated): its bytes must be those the state counted; a copy\n"
    "                        of a file changed or gone since will do (repeatable)\n"
    "Inputs and documents:\n"
    "      --format F        text|jsonl [by name: *.jsonl, *.ndjson are JSONL]\n"
    "      --text-field NAME JSONL field holding the document [text]\n"
    "      --doc-sep S       plain text: file|line|blank [file]\n"
    "Tokens and segments:\n"
    "      --case C          fold|keep [fold: Unicode full case folding]\n"
    "      --normalize N     none|nfc|nfkc [none]\n"
    "      --max-len N       drop tokens longer than N bytes [64]\n"
    "      --min-len N       exclude tokens shorter than N characters [1]\n"
    "      --stopwords FILE  exclude these terms (one a line)\n"
    "      --join-lines      line breaks do not end segments\n"
    "Tables:\n"
    "      --ngrams A-B      n-gram orders, or N for N-N [1-2]\n"
    "      --cooc S          co-occurrence: window|doc|none [window]\n"
    "      --window W        window scope: pairs at most W positions apart, 1-32 [5]\n"
    "      --weight X        window scope: none|harmonic (a pair d apart adds 1/d) [none]\n"
    "      --cooc-vocab K    doc scope: pairs among the K terms of highest doc_count [5000]\n"
    "      --cooc-terms FILE doc scope: pairs among these terms (one a line) instead\n"
    "      --min-count C     drop rows counted fewer than C times\n"
    "      --top K           keep the first K rows of each table (of each n)\n"
    "      --bom             start CSV files with a UTF-8 byte-order mark\n"
    "Testing:\n"
    "      --chunk-size N    bytes per work chunk [1048576]\n"
    "\n"
    "merge: the tables of states counted apart (other machines, days), the same\n"
    "as one run over all their inputs; with --state DIR, their combined state.\n"
    "The states must be counted alike, with no input in common.\n"
    "\n"
    "The counting rules: docs/counting.md. Exit: 0 done (skips reported),\n"
    "1 stopped by an error, 2 usage error.\n";

static int quiet, progress_shown;

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "corpusstat: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'corpusstat --help'.\n");
    va_end(ap);
    exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t max)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+')
        usage_error("%s '%s': want a whole number", opt, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        usage_error("%s '%s': want a whole number in range", opt, s);
    return (uint64_t)v;
}

/* A size: digits, then K, M, G or T (binary: 512M is 512 MiB) or none
 * (bytes); at least 64 KiB. */
static uint64_t parse_size(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    if (!*s || *s < '0' || *s > '9')
        usage_error("%s '%s': want a size such as 512M or 8G", opt, s);
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (errno || *end || v > (UINT64_MAX >> shift))
        usage_error("%s '%s': want a size such as 512M or 8G", opt, s);
    const uint64_t bytes = (uint64_t)v << shift;
    if (bytes < ((uint64_t)64 << 10))
        usage_error("%s '%s': want at least 64K", opt, s);
    return bytes;
}

static int pick(const char *opt, const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    usage_error("%s '%s': not one of the accepted values (see --help)", opt, s);
}

static void on_signal(int sig)
{
    cs_remove_temp_files();
    signal(sig, SIG_DFL);
    raise(sig); /* the exit status still says which signal */
}

/* Writes s to stderr from a signal handler (write(2) only). */
static void say(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    while (n) {
        ssize_t k = write(2, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* A read past the end of a mapped input: the file was cut short (or
 * replaced in place) while it was being read. What was counted of it is
 * not its content any more, so the run ends, as a failed run does: exit
 * 1, temporary files and the staging folder removed, the previous tables
 * left. Any other SIGBUS is a crash, as before. */
static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    const char *path = cs_mapped_input_at(si->si_addr);
    if (!path) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    /* Threads reading the same file fault together: one says it. */
    static int said;
    if (__atomic_exchange_n(&said, 1, __ATOMIC_ACQ_REL))
        for (;;)
            pause();
    cs_remove_temp_files();
    if (progress_shown)
        say("\r\033[K");
    say("corpusstat: ");
    say(path);
    say(": the file became shorter while it was read (changed during the run); "
        "no table written\n");
    _exit(1);
}

static void clear_progress(void)
{
    if (progress_shown) {
        fprintf(stderr, "\r\033[K");
        progress_shown = 0;
    }
}

static void on_progress(void *user, uint64_t done, uint64_t total, double seconds)
{
    (void)user;
    double mb = (double)done / 1e6, rate = seconds > 0 ? mb / seconds : 0;
    if (total && done <= total && rate > 0) {
        double eta = ((double)total / 1e6 - mb) / rate;
        fprintf(stderr, "\rcorpusstat: %.1f / %.1f MB  %.1f MB/s  ETA %d:%02d\033[K", mb,
                (double)total / 1e6, rate, (int)eta / 60, (int)eta % 60);
    } else {
        fprintf(stderr, "\rcorpusstat: %.1f MB  %.1f MB/s\033[K", mb, rate);
    }
    progress_shown = 1;
}

static void on_diag(void *user, const cs_diag *d)
{
    (void)user;
    clear_progress();
    switch (d->kind) {
    case CS_DIAG_BAD_RECORD:
        fprintf(stderr, "corpusstat: %s:%" PRIu64 ": bad record skipped: %s\n", d->path, d->line,
                d->message);
        break;
    case CS_DIAG_UNDECODABLE:
        fprintf(stderr, "corpusstat: %s: byte %" PRIu64 ": %s; shard skipped\n", d->path,
                d->offset, d->message);
        break;
    case CS_DIAG_UNREADABLE:
        fprintf(stderr, "corpusstat: %s: %s; input skipped\n", d->path, d->message);
        break;
    case CS_DIAG_SUPPRESSED:
        fprintf(stderr, "corpusstat: %s: %" PRIu64 " more bad records skipped (counted in summary.json)\n",
                d->path, d->line);
        break;
    }
}

static void print_error(const cs_error *e)
{
    clear_progress();
    fprintf(stderr, "corpusstat: ");
    if (e->path[0]) {
        fprintf(stderr, "%s", e->path);
        if (e->line)
            fprintf(stderr, ":%" PRIu64, e->line);
        else if (e->has_offset)
            fprintf(stderr, ": byte %" PRIu64, e->offset);
        fprintf(stderr, ": ");
    }
    fprintf(stderr, "%s\n", e->message);
}

/* "--name=value" or "--name value": returns the value or NULL if arg is
 * not this option. */
static const char *value_of(const char *name, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != 0)
        return NULL;
    if (*i + 1 >= argc)
        usage_error("%s needs a value", name);
    return argv[++*i];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("corpusstat %s (Unicode %s)\n", CS_VERSION_STRING, cs_unicode_version());
        return 0;
    }
    const int merge = strcmp(argv[1], "merge") == 0;
    if (strcmp(argv[1], "count") != 0 && !merge)
        usage_error("unknown command '%s'", argv[1]);
    /* What a merge may be told: the rest comes from its states. */
    static const char *const merge_opts[] = {"-o",      "--output",    "-T",    "--threads",
                                             "-q",      "--quiet",     "--top", "--min-count",
                                             "--bom",   "--memory",    "--tmp", "--state",
                                             "-h",      "--help",      "--"};

    cs_options o;
    cs_options_init(&o);
    const char **inputs = calloc((size_t)argc, sizeof *inputs);
    const char **retract = calloc((size_t)argc, sizeof *retract);
    size_t n_inputs = 0;
    int only_inputs = 0, vocab_given = 0;
    static const char *const formats[] = {"text", "jsonl"};
    static const char *const docseps[] = {"file", "line", "blank"};
    static const char *const cases[] = {"fold", "keep"};
    static const char *const norms[] = {"none", "nfc", "nfkc"};
    static const char *const coocs[] = {"none", "window", "doc"};
    static const char *const weights[] = {"none", "harmonic"};
    const char *v;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (merge && !only_inputs && a[0] == '-' && a[1]) {
            size_t k = 0, n = sizeof merge_opts / sizeof *merge_opts;
            while (k < n && strcmp(a, merge_opts[k]) != 0)
                k++;
            if (k == n)
                usage_error("merge %s: a merge takes the counting options from its states", a);
        }
        if (only_inputs || a[0] != '-' || strcmp(a, "-") == 0) {
            inputs[n_inputs++] = a;
        } else if (strcmp(a, "--") == 0) {
            only_inputs = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--strict") == 0) {
            o.strict = 1;
        } else if (strcmp(a, "--join-lines") == 0) {
            o.join_lines = 1;
        } else if (strcmp(a, "--bom") == 0) {
            o.bom = 1;
        } else if ((v = value_of("-o", argc, argv, &i)) || (v = value_of("--output", argc, argv, &i))) {
            o.out_dir = v;
        } else if ((v = value_of("-T", argc, argv, &i)) || (v = value_of("--threads", argc, argv, &i))) {
            o.threads = (int)parse_u64("-T", v, 1024);
        } else if ((v = value_of("--format", argc, argv, &i))) {
            o.format = pick(a, v, formats, 2) == 0 ? CS_FORMAT_TEXT : CS_FORMAT_JSONL;
        } else if ((v = value_of("--text-field", argc, argv, &i))) {
            o.text_field = v;
        } else if ((v = value_of("--doc-sep", argc, argv, &i))) {
            o.doc_sep = (cs_docsep)pick("--doc-sep", v, docseps, 3);
        } else if ((v = value_of("--case", argc, argv, &i))) {
            o.fold_case = pick("--case", v, cases, 2) == 0;
        } else if ((v = value_of("--normalize", argc, argv, &i))) {
            o.normalize = (cs_norm)pick("--normalize", v, norms, 3);
        } else if ((v = value_of("--max-len", argc, argv, &i))) {
            o.max_len = (uint32_t)parse_u64("--max-len", v, 1u << 20);
        } else if ((v = value_of("--min-len", argc, argv, &i))) {
            o.min_len = (uint32_t)parse_u64("--min-len", v, 1u << 20);
        } else if ((v = value_of("--stopwords", argc, argv, &i))) {
            o.stopwords_path = v;
        } else if ((v = value_of("--ngrams", argc, argv, &i))) {
            const char *dash = strchr(v, '-');
            char lo[32];
            if (dash && (size_t)(dash - v) < sizeof lo) {
                memcpy(lo, v, (size_t)(dash - v));
                lo[dash - v] = 0;
                o.ngram_min = (int)parse_u64("--ngrams", lo, 1000);
                o.ngram_max = (int)parse_u64("--ngrams", dash + 1, 1000);
            } else {
                o.ngram_min = o.ngram_max = (int)parse_u64("--ngrams", v, 1000);
            }
            if (o.ngram_min < 1 || o.ngram_max < o.ngram_min || o.ngram_max > CS_NGRAM_MAX) {
                usage_error("--ngrams '%s': want A-B with 1 <= A <= B <= %d", v, CS_NGRAM_MAX);
            }
        } else if ((v = value_of("--cooc", argc, argv, &i))) {
            o.cooc = (cs_cooc)pick("--cooc", v, coocs, 3);
        } else if ((v = value_of("--window", argc, argv, &i))) {
            o.window = (int)parse_u64("--window", v, 1000);
            if (o.window < 1 || o.window > CS_WINDOW_MAX)
                usage_error("--window '%s': want 1 to %d", v, CS_WINDOW_MAX);
        } else if ((v = value_of("--weight", argc, argv, &i))) {
            o.weight = (cs_weight)pick("--weight", v, weights, 2);
        } else if ((v = value_of("--cooc-vocab", argc, argv, &i))) {
            o.cooc_vocab = parse_u64("--cooc-vocab", v, UINT32_MAX);
            vocab_given = 1;
        } else if ((v = value_of("--cooc-terms", argc, argv, &i))) {
            o.cooc_terms_path = v;
        } else if ((v = value_of("--min-count", argc, argv, &i))) {
            o.min_count = parse_u64("--min-count", v, INT64_MAX);
        } else if ((v = value_of("--top", argc, argv, &i))) {
            o.top = parse_u64("--top", v, UINT64_MAX - 1);
        } else if ((v = value_of("--memory", argc, argv, &i))) {
            o.memory = parse_size("--memory", v);
        } else if ((v = value_of("--state", argc, argv, &i))) {
            if (!*v)
                usage_error("--state: want a folder");
            o.state_dir = v;
        } else if ((v = value_of("--retract", argc, argv, &i))) {
            retract[o.n_retract++] = v;
        } else if ((v = value_of("--tmp", argc, argv, &i))) {
            if (!*v)
                usage_error("--tmp: want a folder");
            o.tmp_dir = v;
        } else if ((v = value_of("--chunk-size", argc, argv, &i))) {
            o.chunk_size = (size_t)parse_u64("--chunk-size", v, (uint64_t)1 << 40);
            if (o.chunk_size < 1)
                usage_error("--chunk-size '%s': want at least 1", v);
        } else {
            usage_error("unknown option '%s'", a);
        }
    }
    if (n_inputs == 0 && (merge || !o.state_dir)) /* a state alone: its tables */
        usage_error(merge ? "merge: no STATE given (a --state folder of an earlier run)"
                          : "count: no INPUT given (a file, a folder, @LIST or -)");
    o.retract = retract;
    if (o.n_retract && !o.state_dir)
        usage_error("--retract takes inputs out of a state: it needs --state DIR");
    if (merge) { /* the states are its inputs */
        o.merge = inputs;
        o.n_merge = n_inputs;
        n_inputs = 0;
    }
    if (o.cooc != CS_COOC_DOC && (vocab_given || o.cooc_terms_path))
        usage_error("%s is for --cooc doc only", vocab_given ? "--cooc-vocab" : "--cooc-terms");
    if (vocab_given && o.cooc_terms_path)
        usage_error("--cooc-vocab and --cooc-terms exclude each other");

    /* Interrupted or killed: the runs spilled so far are removed (the
     * tables in the output folder are replaced only by a finished run). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = NULL;
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    /* A file size limit (ulimit -f) met by a temporary file or a table is
     * then a write error (EFBIG), reported with the file and cleaned up,
     * not a kill that leaves the temporary files behind. */
    signal(SIGXFSZ, SIG_IGN);
    o.on_diag = on_diag;
    if (!quiet && isatty(2))
        o.on_progress = on_progress;
    /* A budget given is a bound the user wants: large blocks (1 MiB and
     * up: runs, buffers, tables) are then mapped on their own and go back
     * to the system when freed, where glibc would keep them in its heap
     * for reuse. At 128 MiB, 1-3 grams, --memory 96M: 20% less at the
     * peak for 10% more time (bench/NOTES.md, 30). */
    if (o.memory)
        mallopt(M_MMAP_THRESHOLD, 1 << 20);
    cs_error err;
    cs_status st = cs_count(&o, inputs, n_inputs, &err);
    clear_progress();
    free(inputs);
    free(retract);
    if (st == CS_OK)
        return 0;
    print_error(&err);
    return st == CS_ERR_USAGE ? 2 : 1;
}
