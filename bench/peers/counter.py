#!/usr/bin/env python3
"""Peer for bench/run.py: what a Python user writes to count words (and word pairs).

Tokens are re.findall(r"\\w+", line.lower()) line by line, counted with
collections.Counter; with --ngrams 2 also the pairs of adjacent tokens of a line (pairs do
not cross a line break, as corpusstat's segments end at line breaks). Writes every entry,
most frequent first, as "count<TAB>term" lines (a pair as "w1 w2"), so it does what
corpusstat does without --top: count, sort, write.

Usage: counter.py [--ngrams 1|2] -o OUT FILE...
"""
import argparse
import collections
import re


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ngrams", type=int, choices=(1, 2), default=1)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    words = re.compile(r"\w+").findall
    unigrams, bigrams = collections.Counter(), collections.Counter()
    for path in args.files:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                tokens = words(line.lower())
                unigrams.update(tokens)
                if args.ngrams == 2:
                    bigrams.update(zip(tokens, tokens[1:]))

    with open(args.output, "w", encoding="utf-8") as out:
        for term, n in unigrams.most_common():
            out.write(f"{n}\t{term}\n")
        for pair, n in bigrams.most_common():
            out.write(f"{n}\t{pair[0]} {pair[1]}\n")


if __name__ == "__main__":
    main()
