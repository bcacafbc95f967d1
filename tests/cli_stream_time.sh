#!/bin/sh
# stream with a time column: the time leads each output line as in predict's output, a step
# longer than the gap limit starts a new segment, time going back is a located error on that
# line, --from/--until leave lines out; on the same file stream and predict write the same bytes.
. tests/lib_cli.sh "$@"

"$L" gen --rows 3000 --sources 2 --seed 4 -o "$T/g.csv" 2>/dev/null
# one row a minute from 2014-09-01 00:00:00 UTC (Unix seconds), a 10-minute hole after row 1500
awk -F, 'NR == 1 { print "Time," $0; next }
         { t = 1409529600 + 60 * (NR - 2); if (NR > 1500) t += 600; print t "," $0 }' \
    "$T/g.csv" >"$T/train.csv"
"$L" train "$T/train.csv" -o "$T/m.lsm" --epochs 1 --hidden 8 --seq 7 --threads 1 --quiet \
    >/dev/null 2>&1
check "a model trained with a time column keeps its period" \
    sh -c "'$L' inspect '$T/m.lsm' | grep -q 'Time'"
# new data: the rows around the hole, one missing cell, the readings only
awk -F, 'NR == 1 { print "Time,reading"; next }
         NR > 1400 && NR <= 1700 { v = $2; if (NR == 1600) v = "NA"; print $1 "," v }' \
    "$T/train.csv" >"$T/new.csv"
# the same with ISO 8601 times (UTC)
awk -F, 'function iso(t,  d, y, m, s, md, days) {
             d = int(t / 86400); s = t - d * 86400; y = 1970
             while (1) { days = (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365
                         if (d < days) break; d -= days; y++ }
             split("31 28 31 30 31 30 31 31 30 31 30 31", md, " ")
             if (days == 366) md[2] = 29
             for (m = 1; d >= md[m]; m++) d -= md[m]
             return sprintf("%04d-%02d-%02d %02d:%02d:%02d", y, m, d + 1, int(s / 3600),
                            int(s % 3600 / 60), s % 60) }
         NR == 1 { print; next } { print iso($1) "," $2 }' "$T/new.csv" >"$T/new_iso.csv"
check "the ISO file starts at 2014-09-01 23:19:00" \
    sh -c "sed -n 2p '$T/new_iso.csv' | grep -q '^2014-09-01 23:19:00,'"

for f in new new_iso; do
    "$L" predict "$T/m.lsm" "$T/$f.csv" -o "$T/p_$f.csv" 2>"$T/p_$f.err"
    "$L" stream "$T/m.lsm" <"$T/$f.csv" >"$T/s_$f.csv" 2>"$T/s_$f.err"
    check "$f: stream = predict, byte for byte (time column, a gap, a missing cell)" \
        cmp "$T/p_$f.csv" "$T/s_$f.csv"
    "$L" predict "$T/m.lsm" "$T/$f.csv" --proba -o "$T/pp_$f.csv" 2>/dev/null
    "$L" stream "$T/m.lsm" --proba <"$T/$f.csv" >"$T/sp_$f.csv" 2>/dev/null
    check "$f: the same with --proba" cmp "$T/pp_$f.csv" "$T/sp_$f.csv"
done
check "the output leads with the time column" sh -c "head -1 '$T/s_new.csv' | grep -q '^Time,src1,src2'"
check "ISO times are written back as ISO times" \
    sh -c "sed -n 2p '$T/s_new_iso.csv' | grep -q '^2014-09-01 23:19:00,'"
check "one output line per input line" test "$(lines "$T/s_new.csv")" -eq "$(lines "$T/new.csv")"
check "stream says it started a segment at the time gap" \
    grep -q '1 time gap (a step longer than 90 s): each started a segment' "$T/s_new.err"
# the window restarts after the gap: with window 7 and the centred label, the 3 rows before
# the gap and the 3 after it have empty lines, as at a file's end and start; the 4th has one
g=$((1409529600 + 60 * 1499 + 600)) # the first row after the hole
check "around the gap the window ends and fills again (empty lines)" \
    sh -c "awk -F, -v g=$g 'NR > 1 && \$1 >= g - 180 && \$1 < g + 180 && \$2 != \"\" { bad = 1 }
                            NR > 1 && (\$1 == g - 240 || \$1 == g + 180) && \$2 == \"\" { bad = 1 }
                            END { exit bad }' '$T/s_new.csv'"
# without the gap rule (--max-gap larger than the hole) the window runs through: lines differ
"$L" stream "$T/m.lsm" --max-gap 1h <"$T/new.csv" >"$T/s_nogap.csv" 2>/dev/null
check "--max-gap 1h bridges the hole (different lines there)" sh -c "! cmp -s '$T/s_new.csv' '$T/s_nogap.csv'"
"$L" predict "$T/m.lsm" "$T/new.csv" --max-gap 1h -o "$T/p_nogap.csv" 2>/dev/null
check "--max-gap 1h: stream = predict" cmp "$T/p_nogap.csv" "$T/s_nogap.csv"

# time going back: that line is an error, skipped, exit status 1
awk -F, 'NR == 51 { print "1409600000," $2; next } { print }' "$T/new.csv" >"$T/back.csv"
"$L" stream "$T/m.lsm" <"$T/back.csv" >"$T/s_back.csv" 2>"$T/s_back.err"
rc=$?
check "time going back: exit status 1" test "$rc" -eq 1
check "time going back: a located one-line error" \
    grep -q '^lstmsrc: stream: <stdin>:51:1: time goes back from 2014-09-02 00:07:00 to 2014-09-01 19:33:20; rows must be in time order$' "$T/s_back.err"
check "time going back: every line still has its output line" \
    test "$(lines "$T/s_back.csv")" -eq "$(lines "$T/back.csv")"
printf 'Time,reading\nyesterday,230\n' | "$L" stream "$T/m.lsm" >/dev/null 2>"$T/s_bad.err"
check "a bad time cell: a located error" \
    grep -q '<stdin>:2:1: expected a date-time like 2014-09-01 00:00:00 (or Unix seconds), found "yesterday"' "$T/s_bad.err"

# --from/--until leave lines out, as predict does
"$L" predict "$T/m.lsm" "$T/new_iso.csv" --from "2014-09-02 00:00:00" --until "2014-09-02 02:00:00" \
    -o "$T/p_range.csv" 2>/dev/null
"$L" stream "$T/m.lsm" --from "2014-09-02 00:00:00" --until "2014-09-02 02:00:00" \
    <"$T/new_iso.csv" >"$T/s_range.csv" 2>/dev/null
check "--from/--until: stream = predict" cmp "$T/p_range.csv" "$T/s_range.csv"
check "--from/--until: 111 rows (a 10-minute hole inside) and the header" test "$(lines "$T/s_range.csv")" -eq 112
printf '230\n231\n' | "$L" stream "$T/m.lsm" --from 2014-09-02 >/dev/null 2>"$T/s_nt.err"
rc=$?
check "--from without a time column: usage error, exit 2" \
    sh -c "test $rc -eq 2 && grep -q 'need a time column' '$T/s_nt.err'"
# --no-time: the time column is ignored (no time in the output)
"$L" stream "$T/m.lsm" --no-time <"$T/new.csv" >"$T/s_notime.csv" 2>/dev/null
check "--no-time: no time column in the output" sh -c "head -1 '$T/s_notime.csv' | grep -q '^src1,src2$'"

# plot: with a time column the timeline's x axis is clock time, else rows
"$L" plot "$T/m.lsm" "$T/new_iso.csv" -o "$T/t.svg" >/dev/null 2>&1
check "plot with a time column: valid SVG" xmllint --noout "$T/t.svg"
check "plot with a time column: clock-time ticks and the range in the axis title" \
    sh -c "grep -q '>00:08<' '$T/t.svg' && grep -q 'time (UTC), 2014-09-01 23:19 to 2014-09-02 04:28' '$T/t.svg' && ! grep -q '>row<' '$T/t.svg'"
"$L" plot "$T/m.lsm" "$T/new_iso.csv" --no-time -o "$T/r.svg" >/dev/null 2>&1
check "plot --no-time: the axis counts rows" sh -c "grep -q '>row<' '$T/r.svg' && ! grep -q 'time (UTC)' '$T/r.svg'"
# plot breaks the reading line where a segment ends: the 10-minute gap (a dashed line) and the
# missing cell's row (shaded, left out): three pieces of line
check "plot: the reading line is three pieces around the gap and the missing row" \
    test "$(grep -c '<polyline' "$T/t.svg")" -eq 3
check "plot: the gap drawn and named, the missing row shaded and named" \
    sh -c "grep -q '>gap<' '$T/t.svg' && grep -q '>missing rows<' '$T/t.svg' && test \$(grep -c 'fill=\"#ececec\"' '$T/t.svg') -eq 2"
"$L" plot "$T/m.lsm" "$T/g.csv" --rows 500 --figure timeline -o "$T/clean.svg" >/dev/null 2>&1
check "plot of a clean file: one line, no gap or missing legend" \
    sh -c "test \$(grep -c '<polyline' '$T/clean.svg') -eq 1 && ! grep -q '>gap<\\|>missing rows<' '$T/clean.svg'"
# plot --from TIME: the rows of that range, as every command reads them
"$L" plot "$T/m.lsm" "$T/new_iso.csv" --from "2014-09-02 00:00:00" --until "2014-09-02 02:00:00" \
    -o "$T/range.svg" 2>"$T/range.err"
check "plot --from TIME --until TIME: the 111 rows predict keeps" grep -q 'rows 1-111 (' "$T/range.err"
check "plot --from TIME: the axis starts at that time" \
    grep -q 'time (UTC), 2014-09-02 00:00 to 2014-09-02 02:00' "$T/range.svg"
"$L" plot "$T/m.lsm" "$T/new_iso.csv" --from 100 --rows 50 -o "$T/row.svg" 2>"$T/row.err"
check "plot --from ROW (a whole number) is still a row" grep -q 'rows 100-149' "$T/row.err"
"$L" plot "$T/m.lsm" "$T/new.csv" --from 2014-09-0x -o "$T/bad.svg" 2>"$T/bad.err"
rc=$?
check "plot --from with a bad time: exit 2, one located line" \
    sh -c "test $rc -eq 2 && test \$(wc -l <'$T/bad.err') -eq 1 && grep -q 'expected a time' '$T/bad.err'"
"$L" plot "$T/m.lsm" "$T/g.csv" --from 2014-09-02 -o "$T/nt.svg" 2>"$T/nt.err"
rc=$?
check "plot --from TIME without a time column: exit 2" \
    sh -c "test $rc -eq 2 && grep -q 'need a time column' '$T/nt.err'"

echo "cli_stream_time: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
