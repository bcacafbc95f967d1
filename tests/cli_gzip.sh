#!/bin/sh
# gzip-compressed CSV through the CLI: --version says whether zlib is in. With it, doctor (text
# and JSON), train, eval and predict read a .csv.gz exactly as the plain file (the same output but
# for the name, the same model bytes), from stdin too, and whatever the file is called (the magic
# bytes decide); a truncated, a corrupt and an empty gz fail with one line. Without it, a gz fails
# with the one line that says so and the rest is skipped with the reason.
# Usage: sh tests/cli_gzip.sh [BUILD]. Ends with "N passed, N failed, N skipped".
. tests/lib_cli.sh "$@"

ver=$("$L" --version)
says_gzip() { echo "$ver" | grep -q 'gzip input: \(zlib [0-9]\|no, built without zlib\)'; }
check "--version says whether gzip input is in ($ver)" says_gzip

# one line on stderr, nothing on stdout, exit 1, the line containing $3
fails_with() {
    "$L" $1 "$2" >"$T/o" 2>"$T/e"
    rc=$?
    [ $rc -eq 1 ] && [ ! -s "$T/o" ] && [ "$(lines "$T/e")" -eq 1 ] && grep -qF -- "$3" "$T/e" || {
        echo "exit $rc"
        cat "$T/e"
        return 1
    }
}

"$L" gen --rows 4000 --sources 2 --seed 3 -o "$T/d.csv" >/dev/null
# the gz as `gzip -n` writes it, made here without the gzip tool: the CLI's own test needs none
printf '\037\213\010\000\000\000\000\000\002\003\113\324\111\342\062\324\061\340\002\000\371\145\241\070\010\000\000\000' \
    >"$T/tiny.csv.gz"

if echo "$ver" | grep -q 'gzip input: no'; then
    check "without zlib: doctor refuses a gz with one line" \
        fails_with doctor "$T/tiny.csv.gz" \
        "lstmsrc: doctor: $T/tiny.csv.gz: gzip-compressed; this lstmsrc was built without zlib"
    skip "gzip input" "built without zlib (ZLIB=0)"
    echo "cli_gzip: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
fi
if ! command -v gzip >/dev/null 2>&1; then
    skip "gzip input" "no gzip tool here to compress the test data"
    echo "cli_gzip: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
fi

gzip -n -c "$T/d.csv" >"$T/d.csv.gz"
cp "$T/d.csv.gz" "$T/named_plain.csv"
# the output about the plain file, its name swapped for the gz's
same_as_plain() { # NAME ARGS... (the data file is $T/d.csv / $T/d.csv.gz / $3 when given)
    "$L" $1 "$T/d.csv" >"$T/p.out" 2>&1
    "$L" $1 "$2" >"$T/g.out" 2>&1
    sed "s#$T/d.csv#$2#g" "$T/p.out" | cmp -s - "$T/g.out" || {
        diff "$T/p.out" "$T/g.out" | head
        return 1
    }
}
check "doctor reads a .csv.gz as the plain file" same_as_plain doctor "$T/d.csv.gz"
check "doctor --json the same" sh -c "
    '$L' doctor --json '$T/d.csv' | sed 's#$T/d.csv#$T/d.csv.gz#g' >'$T/pj'
    '$L' doctor --json '$T/d.csv.gz' | cmp -s - '$T/pj'"
check "a gz called .csv is read as gzip (magic bytes, not the name)" \
    same_as_plain doctor "$T/named_plain.csv"
check "doctor reads gzip from stdin" sh -c "
    '$L' doctor - <'$T/d.csv' >'$T/ps'; '$L' doctor - <'$T/d.csv.gz' | cmp -s - '$T/ps'"

OPTS="--epochs 1 --hidden 8 --batch 64 --threads 1 --seed 4 --quiet"
"$L" train "$T/d.csv" -o "$T/p.lsm" $OPTS >/dev/null 2>&1
check "train accepts a .csv.gz: the same model bytes as from the plain file" sh -c "
    '$L' train '$T/d.csv.gz' -o '$T/g.lsm' $OPTS >/dev/null && cmp '$T/p.lsm' '$T/g.lsm'"
check "eval reads a .csv.gz as the plain file" sh -c "
    '$L' eval '$T/p.lsm' '$T/d.csv' | sed 's#$T/d.csv#$T/d.csv.gz#g' >'$T/pe'
    '$L' eval '$T/p.lsm' '$T/d.csv.gz' | cmp -s - '$T/pe'"
check "predict (the chunked rows reader) reads a .csv.gz as the plain file" sh -c "
    '$L' predict '$T/p.lsm' '$T/d.csv' -o '$T/p.pred' &&
    '$L' predict '$T/p.lsm' '$T/d.csv.gz' -o '$T/g.pred' && cmp '$T/p.pred' '$T/g.pred'"

size=$(wc -c <"$T/d.csv.gz" | tr -d ' ')
head -c $((size / 2)) "$T/d.csv.gz" >"$T/cut.csv.gz"
check "a truncated gz fails with one located line" \
    fails_with doctor "$T/cut.csv.gz" "truncated gzip data: the file ends inside the compressed stream"
check "a truncated gz: train fails with one line too" \
    fails_with "train -o $T/cut.lsm $OPTS" "$T/cut.csv.gz" "$T/cut.csv.gz:"
{ head -c 10 "$T/d.csv.gz"; printf 'this is not deflate data at all\n'; } >"$T/bad.csv.gz"
check "a corrupt gz fails with one located line" \
    fails_with doctor "$T/bad.csv.gz" "$T/bad.csv.gz:1: corrupt gzip data"
{ cat "$T/d.csv.gz"; printf 'junk'; } >"$T/tail.csv.gz"
check "bytes after the gzip stream fail with one line" \
    fails_with doctor "$T/tail.csv.gz" "$T/tail.csv.gz:4002: corrupt gzip data: bytes that are not gzip"
: | gzip -n -c >"$T/empty.csv.gz"
check "a gz of an empty file is an empty file" \
    fails_with doctor "$T/empty.csv.gz" "lstmsrc: doctor: $T/empty.csv.gz: empty file, expected a header line"
check "the tiny gz written by hand reads" sh -c "'$L' doctor '$T/tiny.csv.gz' | grep -q '1 rows\\|1 row'"

echo "cli_gzip: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
