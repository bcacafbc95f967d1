#!/bin/sh
# Where the commands meet the outside: stdout that cannot be written, byte-order marks,
# messages that must name the right thing, one rule for exit codes (1 for data and I/O, 2 for
# usage), options that contradict each other, and values that cross from one part to another
# (derived channels, thresholds, scalers, file modes, generated C names).
# usage: sh tests/cli_seams.sh BUILD_DIR
. tests/lib_cli.sh "$@"

FAST="--epochs 1 --hidden 4 --seq 3 --batch 64 --threads 1 --quiet"
"$L" gen --rows 600 --sources 2 --seed 3 -o "$T/d.csv" || exit 1
"$L" train "$T/d.csv" -o "$T/m.lsm" $FAST >/dev/null || exit 1

# ---- every command checks its stdout at the end: exit 1 and a message, never a silent 0
if [ -w /dev/full ]; then
    for c in "train $T/d.csv -o $T/full.lsm $FAST" "inspect $T/m.lsm" "eval $T/m.lsm $T/d.csv" \
        "doctor $T/d.csv" "predict $T/m.lsm $T/d.csv" "gen --rows 10 -o -" \
        "export-c $T/m.lsm -q" "--version" "--help" "train --help"; do
        # shellcheck disable=SC2086
        "$L" $c >/dev/full 2>"$T/err"
        rc=$?
        check "stdout: '${c%% *}' to /dev/full exits 1 saying so" \
            sh -c "test $rc -eq 1 && grep -qE 'cannot write to stdout|stdout: cannot write' '$T/err'"
    done
else
    echo "skipped: /dev/full is not writable here"
fi

# ---- stream reads a UTF-8 byte-order mark as predict does: a header after it, or a bare number
head -n 40 "$T/d.csv" | cut -d, -f1 >"$T/plain.csv"
printf '\357\273\277' | cat - "$T/plain.csv" >"$T/bom.csv"
"$L" predict "$T/m.lsm" "$T/plain.csv" >"$T/pred.out" 2>"$T/err"
"$L" stream "$T/m.lsm" <"$T/bom.csv" >"$T/stream.out" 2>"$T/err"
rc=$?
check "stream: a BOM before the header line: exit 0, predict's bytes" \
    sh -c "test $rc -eq 0 && cmp -s '$T/pred.out' '$T/stream.out'"
tail -n +2 "$T/plain.csv" >"$T/nohead.csv"
printf '\357\273\277' | cat - "$T/nohead.csv" | "$L" stream "$T/m.lsm" >"$T/stream.out" 2>"$T/err"
rc=$?
check "stream: a BOM before a bare first reading: exit 0, one line per reading" \
    sh -c "test $rc -eq 0 && test \$(wc -l <'$T/stream.out') -eq 39 && ! test -s '$T/err'"

# ---- a flag given as --flag=VALUE is named as --flag in its message
for f in "train $T/d.csv -o $T/x.lsm --seq=" "train $T/d.csv -o $T/x.lsm --lr=abc" \
    "train $T/d.csv -o $T/x.lsm --seed=-1" "predict $T/m.lsm $T/d.csv --threads=x"; do
    # shellcheck disable=SC2086
    "$L" $f >/dev/null 2>"$T/err"
    rc=$?
    flag=${f##* }
    flag=${flag%%=*}
    check "flags: '${f##* }' is reported as '$flag expects', exit 2" \
        sh -c "test $rc -eq 2 && grep -q -- ': $flag expects' '$T/err' && ! grep -q -- '$flag=' '$T/err'"
done

# ---- end
echo "cli_seams: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
