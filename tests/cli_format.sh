#!/bin/sh
# The C sources are clang-format clean (scripts/check_format.sh), and the check fails, naming
# the file, on a copy with a line past 100 columns. Skipped without clang-format 14.
. tests/lib_cli.sh "$@"
sh scripts/check_format.sh . >"$T/why" 2>&1
rc=$?
if [ $rc -eq 77 ]; then
    skip "clang-format" "$(cat "$T/why")"
else
    check "include/, src/, tests/, examples/, bench/, fuzz/ are clang-format clean" test $rc -eq 0
    [ $rc -eq 0 ] || sed -n 1,20p "$T/why"
    mkdir -p "$T/tree/src/base"
    cp .clang-format "$T/tree/"
    printf 'int f(int a, int b) { return a + b + a + b + a + b + a + b + a + b + a + b + a + b + a + b + a + b + a; }\n' \
        >"$T/tree/src/base/long.c"
    check "a line past the column limit fails, naming its file" sh -c "
        ! sh scripts/check_format.sh '$T/tree' >'$T/out' 2>&1 && grep -q 'src/base/long.c: not formatted' '$T/out'"
fi
echo "cli_format: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
