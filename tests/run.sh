#!/bin/sh
# Run from the repository root (paths in tests are relative to it). Runs every test binary in $BUILD/tests and the CLI tests, then prints the total as
# "N passed, N failed, N skipped" (the last line; a test skipped is one that cannot run on this
# machine, e.g. for an instruction set it lacks, and says why) and exits non-zero if anything
# failed.
BUILD=${BUILD:-build}
passed=0
failed=0
skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$BUILD"/tests/test_* tests/cli_*.sh; do
    [ -e "$t" ] || continue
    case "$t" in
        *.sh) sh "$t" "$BUILD" >"$log" 2>&1 ;;
        *) "$t" >"$log" 2>&1 ;;
    esac
    rc=$?
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo " $line" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) passed, [0-9][0-9]* failed.*/\1/p')
    f=$(echo " $line" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) failed.*/\1/p')
    s=$(echo " $line" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) skipped.*/\1/p')
    [ -n "$s" ] || s=0
    [ -n "$p" ] || p=0
    [ -n "$f" ] || f=0
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or failed without a count
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
        echo "FAILED: $t (exit $rc)"
        grep -E 'FAIL|not ok|ERROR|error|Sanitizer|runtime error' "$log" | head -n 40
        tail -n 5 "$log"
    else
        echo "$line  [$t]"
    fi
    grep -E '^ *SKIP ' "$log" | sed 's/^ */  /'
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
