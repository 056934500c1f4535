#!/usr/bin/env python3
"""Peer for bench/run.py: scikit-learn's CountVectorizer, as a data scientist counts terms.

Documents are the blank-line separated blocks of the plain-text files (as corpusstat
--doc-sep blank). CountVectorizer(ngram_range=(1, 2)) with its defaults: lowercase, tokens
of 2+ word characters (token_pattern r"(?u)\\b\\w\\w+\\b"), bigrams within a document (they
cross line breaks). The document-term matrix is summed over documents and every term is
written, most frequent first, as "count<TAB>term" lines.

Needs python3-sklearn (Debian), importable only from /usr/bin/python3.
Usage: countvectorizer.py -o OUT FILE...
"""
import argparse


def documents(paths):
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for doc in f.read().split("\n\n"):
                if doc.strip():
                    yield doc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(ngram_range=(1, 2))
    matrix = vectorizer.fit_transform(documents(args.files))
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    terms = vectorizer.get_feature_names_out()
    order = np.argsort(-counts, kind="stable")
    with open(args.output, "w", encoding="utf-8") as out:
        for i in order:
            out.write(f"{counts[i]}\t{terms[i]}\n")


if __name__ == "__main__":
    main()
