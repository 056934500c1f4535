#!/usr/bin/env bash
# Regenerates tests/golden/*/expected/ with the current engine. Review the
# diff (git diff tests/golden) line by line before committing: a golden file
# is a claim about what users get.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CORPUSSTAT:-build/release/corpusstat}
for case in tests/golden/*/; do
    case=${case%/}
    mapfile -t args < "$case/args"
    rm -rf "$case/expected"
    mkdir -p "$case/.tmp"
    (cd "$case" && "$OLDPWD/$bin" count -q -T 1 -o .tmp/expected "${args[@]}" input 2> .tmp/stderr.txt)
    mv "$case/.tmp/expected" "$case/expected"
    mv "$case/.tmp/stderr.txt" "$case/expected/stderr.txt"
    rmdir "$case/.tmp"
    rm -f "$case/expected/summary.json"
    echo "updated $case"
done
