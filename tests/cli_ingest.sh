#!/bin/sh
# cli_ingest.sh — real recordings through the CLI: missing cells and invalid readings cut a file
# into segments, and predict on a file with a hole gives, line for line, what predict gives on
# the two sides as separate files (plus the empty line of the missing row); power columns become
# labels with --on-above, the thresholds and the invalid-reading rule travel in the model, so
# eval and predict read a later file the same way without flags; every command says how many
# rows it left out; bad values get a located one-line error and the documented exit code.
. tests/lib_cli.sh "$@"

$L gen --rows 4000 --seed 3 -o "$T/g.csv" >/dev/null 2>&1

# ---- a hole in a file = its two sides as separate files
# row 2001 (line 2002) loses its reading; the sides are lines 2..2001 and 2003..4001
awk -F, 'NR == 2002 { $1 = "NA" } { print }' OFS=, "$T/g.csv" >"$T/hole.csv"
head -n 2001 "$T/g.csv" >"$T/side1.csv"
{ head -n 1 "$T/g.csv"; tail -n +2003 "$T/g.csv"; } >"$T/side2.csv"
# a centred window, tuned minimum durations and the first-difference channel: every part of
# prediction that looks across rows
$L train "$T/g.csv" -o "$T/m.lsm" --epochs 2 --seq 12 --threads 1 --durations tune \
    >/dev/null 2>&1
side_by_side() { # MODEL FILE: predict on the hole file equals side 1 + an empty line + side 2
    $L predict "$1" "$T/$2" --proba -o "$T/all.out" 2>"$T/all.err" &&
        $L predict "$1" "$T/side1.csv" --proba -o "$T/s1.out" 2>/dev/null &&
        $L predict "$1" "$T/side2.csv" --proba -o "$T/s2.out" 2>/dev/null &&
        empty=$(sed -n 2p "$T/s1.out") &&
        { cat "$T/s1.out"; echo "$empty"; tail -n +2 "$T/s2.out"; } >"$T/want.out" &&
        cmp "$T/all.out" "$T/want.out" &&
        test "$(lines "$T/all.out")" -eq 4001
}
check "predict with a missing cell = the two sides as files, line for line" side_by_side "$T/m.lsm" hole.csv
check "predict says how many rows it left out" \
    grep -q "predict: $T/hole.csv: 1 of 4000 rows missing (1 missing cell, 0 invalid readings), 2 segments; their lines are empty" "$T/all.err"
check "stream with a missing cell = predict, line for line (the segment ends there)" \
    sh -c "$L stream '$T/m.lsm' --proba <'$T/hole.csv' >'$T/st.out' 2>'$T/st.err' && cmp '$T/st.out' '$T/all.out' &&
           grep -q 'stream: 1 missing row (a missing cell or an invalid reading): each ended a segment' '$T/st.err'"
# the same hole as an outage logged as 0: --invalid-below
awk -F, 'NR == 2002 { $1 = "0" } { print }' OFS=, "$T/g.csv" >"$T/zero.csv"
side_zero() {
    $L predict "$T/m.lsm" "$T/zero.csv" --proba --invalid-below 1 -o "$T/z.out" 2>/dev/null &&
        cmp "$T/z.out" "$T/want.out"
}
check "predict --invalid-below 1: a zero reading is a hole" side_zero
check "stream --invalid-below 1 = predict --invalid-below 1" \
    sh -c "$L stream '$T/m.lsm' --proba --invalid-below 1 <'$T/zero.csv' 2>/dev/null | cmp - '$T/want.out'"
check "predict without --invalid-below reads the zero as a reading" \
    sh -c "$L predict '$T/m.lsm' '$T/zero.csv' --proba -o '$T/z2.out' 2>/dev/null && ! cmp -s '$T/z2.out' '$T/want.out'"
# a raw model (no difference channel), labelled at the last row
$L train "$T/g.csv" -o "$T/r.lsm" --epochs 1 --seq 7 --threads 1 --features raw --label-at last \
    >/dev/null 2>&1
check "predict, raw channel, last-row label: hole = two files" side_by_side "$T/r.lsm" hole.csv
# --missing replaces the default spellings
awk -F, 'NR == 2002 { $1 = "-" } { print }' OFS=, "$T/g.csv" >"$T/dash.csv"
check "--missing -: a dash is a hole" \
    sh -c "$L predict '$T/m.lsm' '$T/hole.csv' --proba -o '$T/ref.out' 2>/dev/null && $L predict '$T/m.lsm' '$T/dash.csv' --proba --missing - -o '$T/d.out' 2>/dev/null && cmp '$T/d.out' '$T/ref.out'"
check "without --missing a dash is a bad number (exit 1, located)" \
    sh -c "$L predict '$T/m.lsm' '$T/dash.csv' -o '$T/d2.out' 2>'$T/err'; test \$? -eq 1 && grep -q 'dash.csv:2002:1: expected a number, found \"-\"' '$T/err'"

# ---- training and eval over segments
check "train reports the missing rows and segments" \
    sh -c "$L train '$T/hole.csv' -o '$T/h.lsm' --epochs 1 --seq 12 --threads 1 2>'$T/err' >/dev/null && grep -q 'train: $T/hole.csv: 1 of 4000 rows missing (1 missing cell, 0 invalid readings), 2 segments' '$T/err'"
eval_count() { # eval scores the windows of both segments and no window across the hole
    $L eval "$T/m.lsm" "$T/hole.csv" --json >"$T/ev.json" 2>"$T/ev.err" &&
        grep -q '"windows":3977' "$T/ev.json" &&
        grep -q 'eval: .*hole.csv: 1 of 4000 rows missing' "$T/ev.err"
}
check "eval: 3977 windows (2 segments of 2000 and 1999 rows, window 12)" eval_count

check "plot over a hole: the windows of both segments, none across" \
    sh -c "$L plot '$T/m.lsm' '$T/hole.csv' -o '$T/hole.svg' 2>/dev/null && grep -q 'every window of hole.csv (3977 windows)' '$T/hole.svg'"

# ---- power columns as labels
# each source's state becomes a power: 0-3 W of standby when off, 100-1100 W when on
awk -F, 'BEGIN { srand(5) } NR == 1 { print; next }
    { printf "%s", $1; for (i = 2; i <= NF; i++) printf ",%.1f", ($i == 1 ? 100 + 1000 * rand() : 3 * rand()); print "" }' \
    "$T/g.csv" >"$T/watts.csv"
check "train on watts without --on-above: a hint names the flag (exit 1)" \
    sh -c "$L train '$T/watts.csv' -o '$T/w.lsm' --epochs 1 2>'$T/err'; test \$? -eq 1 && grep -q 'watts.csv:2:2: expected 0 or 1, found \"[0-9.]*\"; if the column holds power, give --on-above W' '$T/err'"
check "train --on-above 50 = train on the 0/1 labels, byte for byte (but the stored thresholds)" \
    sh -c "$L train '$T/watts.csv' -o '$T/w.lsm' --epochs 1 --seq 8 --threads 1 --on-above 50 >/dev/null 2>&1 &&
           $L train '$T/g.csv' -o '$T/b.lsm' --epochs 1 --seq 8 --threads 1 >/dev/null 2>&1 &&
           $L predict '$T/w.lsm' '$T/g.csv' --proba -o '$T/w.out' 2>/dev/null &&
           $L predict '$T/b.lsm' '$T/g.csv' --proba -o '$T/b.out' 2>/dev/null && cmp '$T/w.out' '$T/b.out'"
check "inspect shows the power thresholds" \
    sh -c "$L inspect '$T/w.lsm' | grep -q 'power labels  ON above src1 50, src2 50, src3 50' && $L inspect --json '$T/w.lsm' | grep -q '\"on_above\":\[50,50,50\]'"
check "eval reads the watts with the model's thresholds, no flags: the numbers of 0/1 labels" \
    sh -c "$L eval '$T/w.lsm' '$T/watts.csv' --json >'$T/e1' && $L eval '$T/b.lsm' '$T/g.csv' --json >'$T/e2' &&
           sed 's/,\"model\":.*//' '$T/e1' >'$T/e1s' && sed 's/,\"model\":.*//' '$T/e2' >'$T/e2s' && cmp '$T/e1s' '$T/e2s'"
check "--on-above auto: each power column split where its distribution splits, said and kept" \
    sh -c "$L train '$T/watts.csv' -o '$T/wa.lsm' --epochs 1 --seq 8 --threads 1 --on-above auto >/dev/null 2>'$T/err' &&
           grep -q 'train: \"src1\" holds power: ON above [0-9.]* W, where its distribution splits in two (--on-above src1=W to choose)' '$T/err' &&
           $L predict '$T/wa.lsm' '$T/g.csv' --proba -o '$T/wa.out' 2>/dev/null &&
           $L predict '$T/w.lsm' '$T/g.csv' --proba -o '$T/w.out' 2>/dev/null && cmp '$T/wa.out' '$T/w.out' &&
           $L inspect '$T/wa.lsm' | grep -q 'power labels  ON above src1'"
check "--on-above auto leaves a 0/1 column as it is" \
    sh -c "$L train '$T/g.csv' -o '$T/ga.lsm' --epochs 1 --seq 8 --threads 1 --on-above auto >/dev/null 2>'$T/err' &&
           ! grep -q 'holds power' '$T/err' && $L predict '$T/ga.lsm' '$T/g.csv' --proba -o '$T/ga.out' 2>/dev/null &&
           $L predict '$T/b.lsm' '$T/g.csv' --proba -o '$T/b.out' 2>/dev/null && cmp '$T/ga.out' '$T/b.out'"
check "doctor on a file of watts proposes the split without flags" \
    sh -c "$L doctor '$T/watts.csv' >/dev/null 2>'$T/err' && grep -q 'doctor: \"src2\" holds power: ON above' '$T/err'"
check "--on-above NAME=W per column" \
    sh -c "$L train '$T/watts.csv' -o '$T/w2.lsm' --epochs 1 --seq 8 --on-above src1=50,src2=500,src3=5 >/dev/null 2>&1 && $L inspect '$T/w2.lsm' | grep -q 'ON above src1 50, src2 500, src3 5'"
check "--on-above naming no label column: exit 2, the labels listed" \
    sh -c "$L train '$T/watts.csv' -o '$T/x.lsm' --on-above kettle=50 2>'$T/err'; test \$? -eq 2 && grep -q 'watts.csv:1: --on-above names \"kettle\", which is not a label column (labels: src1, src2, src3)' '$T/err'"
check "--on-above with a bad number: exit 2" \
    sh -c "$L train '$T/watts.csv' -o '$T/x.lsm' --on-above src1=lots 2>'$T/err'; test \$? -eq 2 && grep -q 'expected W or NAME=W' '$T/err'"
awk -F, 'NR == 40 { $3 = "-12.5" } { print }' OFS=, "$T/watts.csv" >"$T/neg.csv"
check "a negative power: exit 1, located" \
    sh -c "$L train '$T/neg.csv' -o '$T/x.lsm' --on-above 50 2>'$T/err'; test \$? -eq 1 && grep -q 'neg.csv:40:3: expected a power of 0 or more (the column has --on-above), found \"-12.5\"' '$T/err'"
check "--invalid-below with no number: exit 2" \
    sh -c "$L train '$T/g.csv' -o '$T/x.lsm' --invalid-below abc 2>'$T/err'; test \$? -eq 2 && grep -q 'invalid-below' '$T/err'"
check "--on-above on a class column: exit 2" \
    sh -c "$L train '$T/watts.csv' -o '$T/x.lsm' --class-column src1 --input reading --on-above 5 2>'$T/err'; test \$? -eq 2 && grep -q 'a class column has no threshold' '$T/err'"
# the model's invalid-reading rule travels too
check "a model trained with --invalid-below applies it in predict without the flag" \
    sh -c "$L train '$T/g.csv' -o '$T/i.lsm' --epochs 1 --seq 12 --threads 1 --invalid-below 1 >/dev/null 2>&1 &&
           $L predict '$T/i.lsm' '$T/zero.csv' -o '$T/i1.out' 2>'$T/err' && grep -q '1 invalid reading' '$T/err' &&
           $L predict '$T/i.lsm' '$T/hole.csv' -o '$T/i2.out' 2>/dev/null && cmp '$T/i1.out' '$T/i2.out'"

# ---- several files: windows never cross from one into the next; each file is validated
head -n 2001 "$T/g.csv" >"$T/ga.csv"
{ head -n 1 "$T/g.csv"; tail -n +2002 "$T/g.csv"; } >"$T/gb.csv"
check "train A B: 10 % of each file validated, no window across the files" \
    sh -c "$L train '$T/ga.csv' '$T/gb.csv' -o '$T/ab.lsm' --epochs 1 --seq 12 --threads 1 >'$T/out' 2>&1 &&
           $L inspect '$T/ab.lsm' | grep -q 'rows          3600 train, 400 validation' &&
           $L inspect '$T/ab.lsm' | grep -q 'windows       3578 train, 378 validation' &&
           grep -q 'ga.csv and 1 more file: 4000 rows' '$T/out'"
check "eval MODEL A B = the windows of both files, none across" \
    sh -c "$L eval '$T/ab.lsm' '$T/ga.csv' '$T/gb.csv' --json | grep -q '\"windows\":3978'"
# columns are matched by name: the second file's label columns in another order
awk -F, '{ print $1 "," $4 "," $2 "," $3 }' OFS=, "$T/gb.csv" >"$T/gb_swapped.csv"
check "eval A B with B's columns in another order: the same numbers" \
    sh -c "$L eval '$T/ab.lsm' '$T/ga.csv' '$T/gb.csv' --json | sed 's/,\"model\".*//' >'$T/e1' &&
           $L eval '$T/ab.lsm' '$T/ga.csv' '$T/gb_swapped.csv' --json | sed 's/,\"model\".*//' >'$T/e2' && cmp '$T/e1' '$T/e2'"
check "a second file without a label column: exit 2, named" \
    sh -c "cut -d, -f1,2 '$T/gb.csv' >'$T/gb_short.csv'; $L train '$T/ga.csv' '$T/gb_short.csv' -o '$T/x.lsm' 2>'$T/err'; test \$? -eq 2 && grep -q 'gb_short.csv:1: no column \"src2\"' '$T/err'"
mkdir -p "$T/outdir"
check "predict MODEL A B -o DIR: one output per file, each = predict on it alone" \
    sh -c "$L predict '$T/ab.lsm' '$T/ga.csv' '$T/gb.csv' -o '$T/outdir' --proba 2>/dev/null &&
           $L predict '$T/ab.lsm' '$T/ga.csv' --proba -o '$T/pa.out' 2>/dev/null &&
           $L predict '$T/ab.lsm' '$T/gb.csv' --proba -o '$T/pb.out' 2>/dev/null &&
           cmp '$T/outdir/ga.csv' '$T/pa.out' && cmp '$T/outdir/gb.csv' '$T/pb.out'"
check "predict MODEL A B without -o DIR: exit 2" \
    sh -c "$L predict '$T/ab.lsm' '$T/ga.csv' '$T/gb.csv' -o '$T/pa.out' 2>'$T/err'; test \$? -eq 2 && grep -q '2 data files need -o DIR' '$T/err'"
check "predict into the inputs' own directory: refused before anything is written" \
    sh -c "cp '$T/ga.csv' '$T/outdir/ga.csv'; $L predict '$T/ab.lsm' '$T/outdir/ga.csv' '$T/gb.csv' -o '$T/outdir' 2>'$T/err'; test \$? -eq 2 && grep -q 'written over its own input' '$T/err' && cmp '$T/outdir/ga.csv' '$T/ga.csv'"
check "doctor A B reads both" \
    sh -c "$L doctor '$T/ga.csv' '$T/gb.csv' | head -n 1 | grep -q 'ga.csv and 1 more file: 4000 rows'"

# ---- a time column: found by itself, a jump in time is a gap, predict carries the time
# one row a minute from 2014-09-01 00:00 UTC (1409529600); row 2001 is left out of the file
awk -F, 'NR == 1 { print "Time," $0; next } { print 1409529540 + 60 * (NR - 1) "," $0 }' OFS=, \
    "$T/g.csv" >"$T/unix.csv"
awk -F, 'NR != 2002' "$T/unix.csv" >"$T/jump.csv"
head -n 2001 "$T/unix.csv" >"$T/tside1.csv"
{ head -n 1 "$T/unix.csv"; tail -n +2003 "$T/unix.csv"; } >"$T/tside2.csv"
check "train finds a Unix-seconds time column, says the period and the gap" \
    sh -c "$L train '$T/jump.csv' -o '$T/t.lsm' --epochs 1 --seq 12 --threads 1 2>'$T/err' >/dev/null &&
           grep -q 'jump.csv: time column \"Time\", a row every 60 s (1 irregular step, 1 gap)' '$T/err' &&
           grep -q 'jump.csv: 0 of 3999 rows missing (0 missing cells, 0 invalid readings), 2 segments' '$T/err' &&
           $L inspect '$T/t.lsm' | grep -q 'time          column Time, a row every 60 s; a step over 90 s starts a new segment'"
time_sides() {
    $L predict "$T/t.lsm" "$T/jump.csv" --proba -o "$T/j.out" 2>/dev/null &&
        $L predict "$T/t.lsm" "$T/tside1.csv" --proba -o "$T/j1.out" 2>/dev/null &&
        $L predict "$T/t.lsm" "$T/tside2.csv" --proba -o "$T/j2.out" 2>/dev/null &&
        { cat "$T/j1.out"; tail -n +2 "$T/j2.out"; } >"$T/jwant.out" &&
        cmp "$T/j.out" "$T/jwant.out" && head -n 1 "$T/j.out" | grep -q '^Time,src1,src2,src3,' &&
        sed -n 2002p "$T/j.out" | grep -q '^1409649660,'
}
check "predict across a jump in time = the two sides as files; the time column leads" time_sides
check "train A B --until before B: B is left out and said so, A trains alone" \
    sh -c "$L train '$T/tside1.csv' '$T/tside2.csv' -o '$T/ts.lsm' --epochs 1 --seq 12 --threads 1 --until 1409600000 2>'$T/err' >/dev/null &&
           grep -q '1 file wholly outside left out' '$T/err' && $L inspect '$T/ts.lsm' | grep -q 'rows          1057 train, 117 validation'"
check "every file outside --from/--until: exit 1, said" \
    sh -c "$L train '$T/tside1.csv' '$T/tside2.csv' -o '$T/ts.lsm' --from 2000000000 2>'$T/err'; test \$? -eq 1 && grep -q 'no data rows between --from and --until' '$T/err'"
# ISO 8601 times, as REFIT and IDEAL write them
awk -F, 'NR == 1 { print; next } { t = $1; $1 = strftime("%Y-%m-%d %H:%M:%S", t, 1); print }' OFS=, \
    "$T/jump.csv" >"$T/iso.csv" 2>/dev/null
if [ "$(sed -n 2p "$T/iso.csv" | cut -d, -f1)" = "2014-09-01 00:00:00" ]; then
    check "ISO 8601 times: the same predictions, the times as written" \
        sh -c "$L predict '$T/t.lsm' '$T/iso.csv' --proba -o '$T/iso.out' 2>/dev/null &&
               cut -d, -f2- '$T/iso.out' >'$T/a' && cut -d, -f2- '$T/j.out' >'$T/b' && cmp '$T/a' '$T/b' &&
               sed -n 2p '$T/iso.out' | grep -q '^2014-09-01 00:00:00,'"
    check "--from/--until keep their rows, both ends included" \
        sh -c "$L predict '$T/t.lsm' '$T/iso.csv' -o '$T/ft.out' --from '2014-09-01 01:00' --until '2014-09-01 02:00:00' 2>/dev/null &&
               test \$(wc -l <'$T/ft.out') -eq 62 && sed -n 2p '$T/ft.out' | grep -q '^2014-09-01 01:00:00,' &&
               tail -n 1 '$T/ft.out' | grep -q '^2014-09-01 02:00:00,'"
else
    skip "ISO 8601 times" "this awk has no strftime"
    skip "--from/--until" "this awk has no strftime"
fi
awk -F, 'NR == 50 { $1 = "yesterday" } { print }' OFS=, "$T/unix.csv" >"$T/badtime.csv"
check "a bad time cell: exit 1, located" \
    sh -c "$L train '$T/badtime.csv' -o '$T/x.lsm' 2>'$T/err'; test \$? -eq 1 && grep -q 'badtime.csv:50:1: expected a time in Unix seconds, found \"yesterday\"' '$T/err'"
awk -F, 'NR == 50 { $1 = 1409529600 } { print }' OFS=, "$T/unix.csv" >"$T/back.csv"
check "time going back: exit 1, located, both times named" \
    sh -c "$L predict '$T/t.lsm' '$T/back.csv' -o '$T/x.out' 2>'$T/err'; test \$? -eq 1 && grep -q 'back.csv:50:1: time goes back from 2014-09-01 00:47:00 to 2014-09-01 00:00:00; rows must be in time order' '$T/err'"
check "--time naming no column: exit 2" \
    sh -c "$L train '$T/unix.csv' -o '$T/x.lsm' --time When 2>'$T/err'; test \$? -eq 2 && grep -q 'no column \"When\"' '$T/err'"
check "--until before --from: exit 2" \
    sh -c "$L train '$T/unix.csv' -o '$T/x.lsm' --from 1409600000 --until 1409500000 2>'$T/err'; test \$? -eq 2 && grep -q 'from is after --until' '$T/err'"
check "--period with a bad duration: exit 2" \
    sh -c "$L train '$T/unix.csv' -o '$T/x.lsm' --period fast 2>'$T/err'; test \$? -eq 2 && grep -q 'period expects a duration' '$T/err'"
check "--no-time reads the time column as a number input" \
    sh -c "$L doctor '$T/unix.csv' --no-time --labels src1,src2,src3 >'$T/dr' && grep -q '^Time  ' '$T/dr'"

# ---- decimal commas: read by themselves in a ';' file, with --decimal , in a ',' file
cut -d, -f1-3 "$T/g.csv" >"$T/g3.csv"
{ echo 'reading;src1;src2'; sed 1d "$T/g3.csv" | awk -F, '{ r = $1; sub(/\./, ",", r); print r ";" $2 ";" $3 }'; } >"$T/semi.csv"
$L train "$T/g3.csv" -o "$T/g3.lsm" --epochs 1 --seq 8 --threads 1 >/dev/null 2>&1
$L predict "$T/g3.lsm" "$T/g3.csv" --proba -o "$T/g3.out" 2>/dev/null
check "a ';' file with decimal commas reads as the same numbers with points (predict)" \
    sh -c "$L predict '$T/g3.lsm' '$T/semi.csv' --proba -o '$T/semi.out' && cmp '$T/semi.out' '$T/g3.out'"
check "... and in stream (with its header line)" \
    sh -c "$L stream '$T/g3.lsm' --proba <'$T/semi.csv' | cmp - '$T/g3.out'"
check "--decimal . refuses a decimal comma (exit 1, located)" \
    sh -c "$L predict '$T/g3.lsm' '$T/semi.csv' --decimal . -o '$T/x.out' 2>'$T/err'; test \$? -eq 1 && grep -q 'semi.csv:2:1: expected a number, found \"222,0\"' '$T/err'"
{ echo 'reading,src1,src2'; sed 1d "$T/g3.csv" | awk -F, '{ r = $1; sub(/\./, ",", r); print "\"" r "\"," $2 "," $3 }'; } >"$T/quoted.csv"
check "a quoted decimal comma in a ',' file: a hint naming --decimal , (exit 1)" \
    sh -c "$L eval '$T/g3.lsm' '$T/quoted.csv' 2>'$T/err'; test \$? -eq 1 && grep -q 'quoted.csv:2:1: expected a number, found \"222,0\"; a decimal comma? give --decimal ,' '$T/err'"
check "--decimal , reads it: the same numbers" \
    sh -c "$L predict '$T/g3.lsm' '$T/quoted.csv' --decimal , --proba -o '$T/q.out' 2>/dev/null && cmp '$T/q.out' '$T/g3.out'"
check "--decimal x: exit 2" \
    sh -c "$L predict '$T/g3.lsm' '$T/g3.csv' --decimal x 2>'$T/err'; test \$? -eq 2 && grep -q 'decimal expects . or ,' '$T/err'"

# ---- the examples of docs/RECORDINGS.md, on the raw REFIT months in data/raw
if $L --version | grep -q 'gzip input: zlib'; then
    R=data/raw/REFIT_House2_2014-
    W=Kettle=200,Dishwasher=15,WashingMachine=20,Microwave=200
    doc_doctor() {
        $L doctor ${R}09.csv.gz --on-above $W --invalid-below 1 >"$T/d.out" 2>"$T/d.err" &&
            cat "$T/d.err" "$T/d.out" | head -n 3 >"$T/d3" &&
            awk '/^```$/ { n++; next } n == 2 && c < 3 { print; c++ }' docs/RECORDINGS.md >"$T/dwant" &&
            cmp "$T/d3" "$T/dwant"
    }
    check "docs/RECORDINGS.md: the doctor example's lines" doc_doctor
    doc_train() {
        $L train ${R}08.csv.gz ${R}09.csv.gz -o "$T/refit.lsm" --on-above $W --invalid-below 1 \
            --seq 30 --hidden 16 --epochs 1 --threads 1 >/dev/null 2>"$T/t.err" &&
            head -n 2 "$T/t.err" >"$T/t2" &&
            awk '/^```$/ { n++; next } n == 5 && c < 2 { print; c++ }' docs/RECORDINGS.md >"$T/twant" &&
            cmp "$T/t2" "$T/twant"
    }
    check "docs/RECORDINGS.md: the several-files example's lines" doc_train
    check "docs/RECORDINGS.md: the predict example, 6 hours of minutes and the header" \
        sh -c "$L predict '$T/refit.lsm' ${R}09.csv.gz --from '2014-09-01 12:00' --until '2014-09-01 18:00' -o '$T/afternoon.csv' 2>/dev/null &&
               test \$(wc -l <'$T/afternoon.csv') -eq 362 && head -n 1 '$T/afternoon.csv' | grep -q '^Time,Kettle,Dishwasher,WashingMachine,Microwave$'"
else
    skip "docs/RECORDINGS.md examples" "built without zlib: the raw exports are gzip-compressed"
fi

echo "cli_ingest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
