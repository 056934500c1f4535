#!/usr/bin/env python3
"""Peer for bench/run.py: NLTK's windowed BigramCollocationFinder, as a linguist counts
co-occurrences (Church and Hanks's association ratio, NLTK book chapter 5).

Tokens are re.findall(r"\\w+", line.lower()) line by line, as counter.py makes them. Pairs
do not cross a line break (corpusstat's segments end at line breaks): each line's tokens
are followed by window_size - 1 None pads, as NLTK's own from_documents pads documents,
and from_words skips None. BigramCollocationFinder.from_words(words, window_size=W + 1)
counts every ordered pair (w1, w2) with w2 1..W tokens after w1, which is the span of
corpusstat --cooc window --window W (pairs of positions j - i <= W); NLTK's window_size
counts w1 itself. Every pair is then scored with BigramAssocMeasures.pmi and
.likelihood_ratio (finder.score_ngram, which divides the count by window_size - 1) and
written, most frequent first, as "count<TAB>w1 w2<TAB>pmi<TAB>llr" lines, so it does what
corpusstat does without --top: count, score, sort, write.

Not the same table as corpusstat's: NLTK's pairs are ordered and include a term paired
with itself; corpusstat's are unordered pairs of two different terms.

Needs python3-nltk (Debian), importable only from /usr/bin/python3.
Usage: nltk_cooc.py [--window W] -o OUT FILE...
"""
import argparse
import itertools
import re


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--window", type=int, default=5,
                    help="pairs up to W tokens apart (corpusstat's --window) [5]")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    if args.window < 1:
        ap.error("--window must be >= 1")

    from nltk.collocations import BigramAssocMeasures, BigramCollocationFinder

    window_size = args.window + 1
    words = re.compile(r"\w+").findall
    pad = (None,) * (window_size - 1)

    def lines():
        for path in args.files:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    yield words(line.lower())

    stream = itertools.chain.from_iterable(itertools.chain(t, pad) for t in lines())
    finder = BigramCollocationFinder.from_words(stream, window_size=window_size)

    pmi, llr = BigramAssocMeasures.pmi, BigramAssocMeasures.likelihood_ratio
    with open(args.output, "w", encoding="utf-8") as out:
        for (w1, w2), n in finder.ngram_fd.most_common():
            out.write(f"{n}\t{w1} {w2}\t{finder.score_ngram(pmi, w1, w2):.6g}\t"
                      f"{finder.score_ngram(llr, w1, w2):.6g}\n")


if __name__ == "__main__":
    main()
