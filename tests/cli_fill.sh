#!/bin/sh
# --fill hold|linear --fill-max N: short holes (missing cells, invalid readings) are bridged
# instead of splitting the segment, the same way in the loader (doctor, train, eval, plot) and
# in the chunked reader (predict): predicting a file with holes and --fill equals predicting the
# file with those cells written in by hand; longer holes and holes at a time gap still split.
. tests/lib_cli.sh "$@"

"$L" gen --rows 3000 --sources 2 --seed 4 -o "$T/g.csv" 2>/dev/null
"$L" train "$T/g.csv" -o "$T/m.lsm" --epochs 1 --hidden 8 --seq 7 --threads 1 --quiet \
    >/dev/null 2>&1
# holes in the reading: 2 rows (empty), 3 rows (NA), 8 rows (NA: longer than the default 5)
awk -F, 'NR == 1 { print; next } NR <= 2400 {
             if (NR == 1000 || NR == 1001) $1 = ""
             if (NR >= 1500 && NR <= 1502) $1 = "NA"
             if (NR >= 1800 && NR <= 1807) $1 = "NA"
             print }' OFS=, "$T/g.csv" >"$T/holes.csv"
# the same holes written in by hand: each row of a hole of 5 or fewer rows takes the row before
# (hold: reading and labels) or the line between the rows on either side (linear: the reading;
# the labels of the row before)
fillby() { # MODE
    awk -F, -v mode="$1" 'NR == 1 { print; next }
        { if ($1 == "" || $1 == "NA") { n++; held[n] = $0; next }
          if (n) {
              for (i = 1; i <= n; i++) {
                  if (n > 5) { print held[i]; continue }
                  v = mode == "hold" ? last : sprintf("%.9g", last + ($1 - last) * i / (n + 1))
                  print v lastlab
              }
              n = 0
          }
          print; last = $1; lastlab = substr($0, index($0, ",")) }
        END { for (i = 1; i <= n; i++) print held[i] }' "$T/holes.csv"
}
fillby hold >"$T/hand_hold.csv"
fillby linear >"$T/hand_linear.csv"
check "the hand-filled files keep every row" test "$(lines "$T/hand_hold.csv")" -eq "$(lines "$T/holes.csv")"

for mode in hold linear; do
    "$L" predict "$T/m.lsm" "$T/holes.csv" --fill "$mode" -o "$T/p_$mode.csv" 2>"$T/p_$mode.err"
    "$L" predict "$T/m.lsm" "$T/hand_$mode.csv" -o "$T/h_$mode.csv" 2>/dev/null
    check "predict --fill $mode = predict on the cells written in by hand" \
        cmp "$T/p_$mode.csv" "$T/h_$mode.csv"
    check "predict --fill $mode says what it bridged" \
        grep -q '13 of 2399 rows missing (13 missing cells, 0 invalid readings), 2 segments; 5 bridged by --fill, the others. lines empty' "$T/p_$mode.err"
    "$L" eval "$T/m.lsm" "$T/holes.csv" --fill "$mode" --json >"$T/e_$mode.json" 2>/dev/null
    "$L" eval "$T/m.lsm" "$T/hand_$mode.csv" --json >"$T/eh_$mode.json" 2>/dev/null
    check "eval --fill $mode (the loader) = eval on the hand-filled file (its name apart)" \
        sh -c "sed 's/\"data\":\"[^\"]*\"//' '$T/e_$mode.json' >'$T/a.json' &&
               sed 's/\"data\":\"[^\"]*\"//' '$T/eh_$mode.json' >'$T/b.json' &&
               grep -q macro_f1 '$T/a.json' && cmp '$T/a.json' '$T/b.json'"
done
"$L" predict "$T/m.lsm" "$T/holes.csv" -o "$T/p_none.csv" 2>/dev/null
check "without --fill the holes split (other lines)" sh -c "! cmp -s '$T/p_none.csv' '$T/p_hold.csv'"
check "the 8-row hole is not bridged (its lines stay empty)" \
    sh -c "sed -n 1800,1807p '$T/p_hold.csv' | grep -qv '^,*\$' && exit 1; exit 0"
"$L" predict "$T/m.lsm" "$T/holes.csv" --fill hold --fill-max 8 -o "$T/p_8.csv" 2>/dev/null
check "--fill-max 8 bridges it" sh -c "sed -n 1800,1807p '$T/p_8.csv' | grep -q '^[01]'"
"$L" predict "$T/m.lsm" "$T/holes.csv" --fill hold --fill-max 2 -o "$T/p_2.csv" 2>"$T/p_2.err"
check "--fill-max 2 bridges the 2-row hole only" \
    grep -q '2 bridged by --fill' "$T/p_2.err"
"$L" doctor "$T/holes.csv" --fill linear 2>"$T/d.err" >/dev/null
check "doctor --fill says what it bridged" \
    grep -q '13 of 2399 rows missing (13 missing cells, 0 invalid readings), 2 segments; 5 of the missing rows bridged by --fill' "$T/d.err"

# predict reads in chunks of 65536 rows: a hole across a chunk's end is bridged the same
"$L" gen --rows 70000 --sources 2 --seed 5 -o "$T/big.csv" 2>/dev/null
awk -F, 'NR == 1 { print; next } { if (NR >= 65536 && NR <= 65539) $1 = "NA"; print }' OFS=, \
    "$T/big.csv" >"$T/big_holes.csv"
awk -F, 'NR == 1 { print; next } { if (NR >= 65536 && NR <= 65539) $1 = last; else last = $1; print }' \
    OFS=, "$T/big.csv" >"$T/big_hand.csv"
"$L" predict "$T/m.lsm" "$T/big_holes.csv" --fill hold -o "$T/pb.csv" 2>/dev/null
"$L" predict "$T/m.lsm" "$T/big_hand.csv" -o "$T/pbh.csv" 2>/dev/null
check "a hole across predict's chunk boundary is bridged as any other" cmp "$T/pb.csv" "$T/pbh.csv"

# a time gap is no hole: rows are absent there, and --fill does not bridge a hole at one
awk -F, 'NR == 1 { print "Time," $0; next } NR <= 600 {
             t = 1409529600 + 60 * (NR - 2); if (NR >= 300) t += 600
             if (NR == 298 || NR == 299) $1 = "NA"
             print t "," $0 }' OFS=, "$T/g.csv" >"$T/tgap.csv"
"$L" predict "$T/m.lsm" "$T/tgap.csv" --fill hold -o "$T/pt.csv" 2>/dev/null
"$L" predict "$T/m.lsm" "$T/tgap.csv" -o "$T/pt0.csv" 2>/dev/null
check "predict: a hole before a time gap stays a hole" cmp "$T/pt.csv" "$T/pt0.csv"
"$L" doctor "$T/tgap.csv" --fill hold 2>"$T/dt.err" >/dev/null
check "doctor: the same (nothing bridged)" sh -c "! grep -q 'bridged' '$T/dt.err'"

# flags
"$L" predict "$T/m.lsm" "$T/holes.csv" --fill zero -o "$T/x.csv" 2>"$T/u1.err"
rc=$?
check "--fill zero: usage error, exit 2" sh -c "test $rc -eq 2 && grep -q -- '--fill expects hold or linear, found \"zero\"' '$T/u1.err'"
"$L" predict "$T/m.lsm" "$T/holes.csv" --fill hold --fill-max 0 -o "$T/x.csv" 2>"$T/u2.err"
rc=$?
check "--fill-max 0: usage error, exit 2" sh -c "test $rc -eq 2 && grep -q -- '--fill-max' '$T/u2.err'"
"$L" doctor "$T/holes.csv" --fill-max 3 >/dev/null 2>"$T/u3.err"
rc=$?
check "--fill-max without --fill: exit 2, one line" \
    sh -c "test $rc -eq 2 && grep -q -- '--fill-max 3 without --fill (hold or linear)' '$T/u3.err'"
echo 1 | "$L" stream "$T/m.lsm" --fill hold >/dev/null 2>"$T/u4.err"
rc=$?
check "stream --fill: refused, exit 2 (a stream has not read the row after a hole)" \
    sh -c "test $rc -eq 2 && grep -q 'which a stream has not read yet' '$T/u4.err'"
# the other reading flags a stream has no use for are refused too, not silently dropped
echo 1 | "$L" stream "$T/m.lsm" --decimal , >/dev/null 2>"$T/u5.err"
rc=$?
check "stream --decimal: refused, exit 2" \
    sh -c "test $rc -eq 2 && grep -q 'cannot where they are split by commas' '$T/u5.err'"
echo 1 | "$L" stream "$T/m.lsm" --on-above 5 >/dev/null 2>"$T/u6.err"
rc=$?
check "stream --on-above: refused, exit 2 (a stream reads no label columns)" \
    sh -c "test $rc -eq 2 && grep -q 'reads no label columns' '$T/u6.err'"

echo "cli_fill: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
