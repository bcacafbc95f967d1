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

# ---- export-c: headers whose prefixes differ share one program (kettle and Kettle; m and
# m_state), each keeps its own names and gives the same answers; m_filter and a 65-character
# prefix are refused, saying why
for p in kettle Kettle m m_state; do
    "$L" export-c "$T/m.lsm" -o "$T/$p.h" --prefix "$p" -q
done
gen_main() { # HEADER... : a program that pushes 30 readings through each model
    for h in "$@"; do echo "#include \"$h.h\""; done
    echo '#include <stdio.h>'
    echo 'int main(void) {'
    echo '    int i; unsigned k; float x[1];'
    for h in "$@"; do
        echo "    static ${h}_state s_$h; static ${h}_filter f_$h;"
        echo "    float p_$h[${h}_OUTPUTS]; unsigned char on_$h[${h}_OUTPUTS];"
        echo "    ${h}_init(&s_$h); ${h}_filter_init(&f_$h);"
    done
    echo '    for (i = 0; i < 30; i++) {'
    echo '        x[0] = 200.0f + (float)((i * 37) % 11) * 60.0f;'
    for h in "$@"; do
        echo "        if (${h}_push(&s_$h, x, p_$h)) {"
        echo "            ${h}_decide(p_$h, on_$h); ${h}_filter_push(&f_$h, on_$h);"
        echo "            while (${h}_filter_pop(&f_$h, on_$h)) {"
        echo "                printf(\"$h\"); for (k = 0; k < ${h}_OUTPUTS; k++) printf(\" %d %.6f\", on_$h[k], p_$h[k]);"
        echo '                putchar(10); } }'
    done
    echo '    }'
    echo '    return 0;'
    echo '}'
}
same_answers() { # OUT: every model's lines equal once the prefix is cut off
    first=$(head -n 1 "$1" | cut -d' ' -f1)
    grep "^$first " "$1" | cut -d' ' -f2- >"$1.ref"
    test -s "$1.ref" || return 1
    for h in $(cut -d' ' -f1 "$1" | sort -u); do
        grep "^$h " "$1" | cut -d' ' -f2- | cmp -s - "$1.ref" || return 1
    done
}
gen_main kettle Kettle >"$T/two.c"
gen_main Kettle m m_state >"$T/three.c"
for n in two three; do
    $CCX -std=c99 -Wall -Wextra -Werror -pedantic -I"$T" "$T/$n.c" -lm -o "$T/$n" 2>"$T/cc.err"
    rc=$?
    check "export-c: $n headers in one translation unit compile cleanly" \
        sh -c "test $rc -eq 0 || { head -n 5 '$T/cc.err'; false; }"
    "$T/$n" >"$T/$n.out" 2>/dev/null
    check "export-c: $n headers in one program give the same answers" same_answers "$T/$n.out"
done
check "export-c: kettle and Kettle keep their case in macros and the include guard" \
    sh -c "grep -q '^#define Kettle_INPUTS 1' '$T/Kettle.h' && grep -q 'LSTMSRC_EXPORT_Kettle_H' '$T/Kettle.h' && ! grep -q 'KETTLE' '$T/kettle.h' '$T/Kettle.h'"
"$L" export-c "$T/m.lsm" -o "$T/mf.h" --prefix m_filter 2>"$T/err"
rc=$?
check "export-c: prefix m_filter is refused (it would share m_filter_init with m), exit 2" \
    sh -c "test $rc -eq 2 && grep -q 'clash with those of prefix \"m\"' '$T/err' && test ! -e '$T/mf.h'"
long=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
"$L" export-c "$T/m.lsm" -o "$T/long.h" --prefix "$long" 2>"$T/err"
rc=$?
check "export-c: a 65-character prefix is reported with its length, not cut to 64" \
    sh -c "test $rc -eq 2 && grep -q 'has 65 characters; a prefix has 1 to 64' '$T/err'"

# ---- one rule for exit codes: a file too short for the window is a data problem (1) in every
# command, as a bad cell is; a bad option is a usage problem (2)
head -n 3 "$T/d.csv" >"$T/short.csv"
"$L" train "$T/short.csv" -o "$T/x.lsm" $FAST 2>"$T/err.train"
rc_train=$?
"$L" eval "$T/m.lsm" "$T/short.csv" >/dev/null 2>"$T/err.eval"
rc_eval=$?
"$L" plot "$T/m.lsm" "$T/short.csv" -o "$T/x.svg" 2>"$T/err.plot"
rc_plot=$?
check "exit codes: fewer rows than the window is exit 1 in train, eval and plot" \
    sh -c "test $rc_train -eq 1 && test $rc_eval -eq 1 && test $rc_plot -eq 1 && grep -q 'too few for one window' '$T/err.train' && grep -q 'fewer than the model' '$T/err.eval'"

# ---- --val 0 with options that need a validation part: refused naming them (exit 2), never
# silently dropped; --val 0 alone trains and does not suggest --durations tune
for o in "--durations tune" "--select f1" "--patience 2" "--durations tune --select f1 --patience 2"; do
    # shellcheck disable=SC2086
    "$L" train "$T/d.csv" -o "$T/v0.lsm" $FAST --val 0 $o >/dev/null 2>"$T/err"
    rc=$?
    first=${o%% [0-9]*}
    first=${first%% --*}
    check "--val 0 $o: usage error naming the conflict, no model" \
        sh -c "test $rc -eq 2 && grep -q -- '--val 0 leaves no validation part, which $first' '$T/err' && test ! -e '$T/v0.lsm'"
done
"$L" train "$T/d.csv" -o "$T/v0.lsm" $FAST --val 0 >"$T/out" 2>"$T/err"
rc=$?
check "--val 0 alone: trains, and the summary does not suggest --durations tune" \
    sh -c "test $rc -eq 0 && test -s '$T/v0.lsm' && ! grep -q 'durations tune' '$T/out'"

# ---- two columns sharing the input's name: an error naming both positions (exit 1), never
# the first one silently
awk -F, 'NR == 1 { print $1 ",src1,src2," $1; next } { print $1 "," $2 "," $3 "," $1 + 5 }' \
    "$T/d.csv" >"$T/dup.csv"
"$L" predict "$T/m.lsm" "$T/dup.csv" >/dev/null 2>"$T/err.predict"
rc_p=$?
"$L" stream "$T/m.lsm" <"$T/dup.csv" >/dev/null 2>"$T/err.stream"
rc_s=$?
"$L" eval "$T/m.lsm" "$T/dup.csv" >/dev/null 2>"$T/err.eval"
rc_e=$?
"$L" train "$T/dup.csv" -o "$T/dup.lsm" $FAST --labels src1,src2 >/dev/null 2>"$T/err.train"
rc_t=$?
for c in predict stream eval train; do
    eval "rc=\$rc_$(echo $c | cut -c1)"
    check "duplicate input name: $c exits 1 naming columns 1 and 4" \
        sh -c "test $rc -eq 1 && grep -q 'duplicate column name \"reading\" (columns 1 and 4)' '$T/err.$c'"
done

# ---- a file replaced by a save keeps its permissions: a read-only model stays read-only
cp "$T/m.lsm" "$T/ro.lsm"
chmod 0444 "$T/ro.lsm"
"$L" train "$T/d.csv" -o "$T/ro.lsm" $FAST --seed 7 >/dev/null 2>"$T/err"
rc=$?
check "save: a read-only model replaced by train is still 0444" \
    sh -c "test $rc -eq 0 && test \"\$(stat -c %a '$T/ro.lsm')\" = 444 && ! cmp -s '$T/m.lsm' '$T/ro.lsm'"
"$L" gen --rows 10 -o "$T/g.csv" && chmod 0640 "$T/g.csv"
"$L" gen --rows 20 -o "$T/g.csv"
check "save: gen over a 0640 file keeps 0640" sh -c "test \"\$(stat -c %a '$T/g.csv')\" = 640"

# ---- finite readings whose first difference overflows (3.4e38 then -3.4e38): train names the
# line before any epoch (exit 1, no model), the doctor flags it, eval and stream refuse it
{
    echo "reading,src1,src2"
    sed -n '2,30p' "$T/d.csv"
    echo "3.4e38,0,0"
    echo "-3.4e38,0,0"
    sed -n '31,200p' "$T/d.csv"
} >"$T/ovf.csv"
"$L" train "$T/ovf.csv" -o "$T/ovf.lsm" --epochs 2 --hidden 4 --seq 3 --threads 1 >/dev/null 2>"$T/err"
rc=$?
check "overflow: train exits 1 naming line 32 before any epoch, no model" \
    sh -c "test $rc -eq 1 && grep -q 'ovf.csv:32:1: the step from 3.4e+38 to -3.4e+38 overflows a float' '$T/err' && ! grep -q 'Epoch' '$T/err' && test ! -e '$T/ovf.lsm'"
"$L" doctor "$T/ovf.csv" >"$T/out" 2>&1
check "overflow: the doctor flags it as a problem at row 31 (line 32)" \
    sh -c "grep -q 'PROBLEM  overflow' '$T/out' && grep -q 'at row 31 (line 32)' '$T/out'"
"$L" eval "$T/m.lsm" "$T/ovf.csv" >/dev/null 2>"$T/err"
rc=$?
check "overflow: eval with a first-difference model exits 1 naming the line" \
    sh -c "test $rc -eq 1 && grep -q 'ovf.csv:32:1: the step' '$T/err'"
"$L" predict "$T/m.lsm" "$T/ovf.csv" >"$T/out" 2>"$T/err"
rc=$?
check "overflow: predict with a first-difference model exits 1 naming the line" \
    sh -c "test $rc -eq 1 && grep -q 'ovf.csv:32:1: the step from 3.4e+38 to -3.4e+38' '$T/err'"
"$L" plot "$T/m.lsm" "$T/ovf.csv" -o "$T/ovf.svg" 2>"$T/err"
rc=$?
check "overflow: plot exits 1 naming the line" \
    sh -c "test $rc -eq 1 && grep -q 'ovf.csv:32:1: the step' '$T/err' && test ! -e '$T/ovf.svg'"
cut -d, -f1 "$T/ovf.csv" | "$L" stream "$T/m.lsm" >"$T/out" 2>"$T/err"
rc=$?
check "overflow: stream refuses that line (exit 1), one output line per input line" \
    sh -c "test $rc -eq 1 && grep -q '<stdin>:32: reading 1 of the row: the step' '$T/err' && test \$(wc -l <'$T/out') -eq \$(wc -l <'$T/ovf.csv')"

# ---- end
echo "cli_seams: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
