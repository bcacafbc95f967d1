#!/bin/sh
# scripts/check_format.sh [ROOT] — the C sources of ROOT (include/, src/, tests/, examples/,
# bench/, fuzz/) are as clang-format formats them with ROOT/.clang-format (LLVM based, 4 spaces,
# 100 columns). Prints each file that differs with its first differing lines and exits 1; exits
# 0 when all are formatted. `make format` formats them in place.
# clang-format's major version is 14 (Debian bookworm's): another version formats some
# constructs differently, so with another one (or none) the check says so and exits 77 (skip).
ROOT=${1:-.}
CF=${CLANG_FORMAT:-clang-format}
command -v "$CF" >/dev/null 2>&1 || { echo "$CF not installed"; exit 77; }
major=$("$CF" --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
[ "$major" = 14 ] || { echo "$CF is version $major, the tree is formatted with 14"; exit 77; }
cd "$ROOT" || exit 2
bad=0
for f in include/*.h src/*/*.c src/*/*.h tests/*.c tests/*.h examples/*.c bench/*.c fuzz/*.c; do
    [ -f "$f" ] || continue
    if ! "$CF" --style=file "$f" | cmp -s - "$f"; then
        echo "$f: not formatted (make format); first differences:"
        "$CF" --style=file "$f" | diff "$f" - | sed -n 1,6p
        bad=1
    fi
done
exit $bad
