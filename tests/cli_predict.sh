#!/bin/sh
# cli_predict.sh — `lstmsrc predict`, `stream` and `export-c` end to end, on tiny models trained
# here (a multi-label one, and a 2-layer multi-class one with another window length):
#   predict: one line per input row, empty fields before the first full window, label-less
#     files, stdin, any thread count, a file longer than one read chunk, missing input column;
#   stream == predict byte for byte (CSV with a header, bare numbers), flushes every line,
#     malformed lines reported by line number and skipped, --strict stops;
#   export-c: two headers with different prefixes in one program built with
#     cc -std=c99 -Wall -Wextra -Werror -pedantic and nothing else, same decisions as predict and
#     probabilities within 1e-5, nothing undefined but expf (tanhf would be allowed too).
# Usage: sh tests/cli_predict.sh [BUILD]. Ends with "N passed, N failed".
. tests/lib_cli.sh "$@"

# ---- models and data (a few seconds) ----
"$L" gen --rows 20000 --seed 1 -o "$T/train.csv" || exit 1
"$L" gen --rows 3000 --seed 2 -o "$T/test.csv" || exit 1
"$L" train "$T/train.csv" -o "$T/ml.lsm" --label-at last --epochs 1 --hidden 16 --threads 1 --quiet >/dev/null ||
    exit 1
"$L" train "$T/train.csv" -o "$T/mc.lsm" --label-at last --task multiclass --epochs 1 --hidden 8 --layers 2 \
    --seq 4 --threads 1 --quiet >/dev/null || exit 1

# ---- predict ----
"$L" predict "$T/ml.lsm" "$T/test.csv" --proba -o "$T/p.csv"
check "predict: exit 0" test $? -eq 0
check "predict: one line per row plus a header" test "$(lines "$T/p.csv")" -eq 3001
check "predict: header" test "$(head -n 1 "$T/p.csv")" = "src1,src2,src3,src1_prob,src2_prob,src3_prob"
check "predict: first seq_len-1 rows have empty fields" \
    test "$(sed -n 2,5p "$T/p.csv" | sort -u)" = ",,,,,"
check "predict: a prediction from row seq_len on" \
    sh -c "sed -n '6,\$p' '$T/p.csv' | grep -qvE '^[01],[01],[01],[01]\.[0-9]{6},[01]\.[0-9]{6},[01]\.[0-9]{6}\$' && exit 1 || exit 0"
"$L" predict "$T/ml.lsm" "$T/test.csv" -o "$T/d.csv"
check "predict: without --proba, decisions only" \
    sh -c "cut -d, -f1-3 '$T/p.csv' | cmp -s - '$T/d.csv'"
cut -d, -f1 "$T/test.csv" >"$T/nolabels.csv"
check "predict: a file without label columns gives the same output" \
    sh -c "'$L' predict '$T/ml.lsm' '$T/nolabels.csv' --proba | cmp -s - '$T/p.csv'"
awk -F, 'BEGIN{OFS=","} {print $3, $1}' "$T/test.csv" >"$T/reordered.csv"
check "predict: input columns matched by name, not position" \
    sh -c "'$L' predict '$T/ml.lsm' '$T/reordered.csv' --proba | cmp -s - '$T/p.csv'"
check "predict: reads stdin" \
    sh -c "'$L' predict '$T/ml.lsm' - --proba <'$T/test.csv' | cmp -s - '$T/p.csv'"
check "predict: same output with 1 and 3 threads" \
    sh -c "'$L' predict '$T/ml.lsm' '$T/test.csv' --proba --threads 1 | cmp -s - '$T/p.csv' &&
           '$L' predict '$T/ml.lsm' '$T/test.csv' --proba --threads 3 | cmp -s - '$T/p.csv'"
printf 'meter,src1\n1.5,0\n' >"$T/wrong.csv"
"$L" predict "$T/ml.lsm" "$T/wrong.csv" >"$T/out" 2>"$T/err"
rc=$?
check "predict: a missing input column is a usage error (exit 2)" test $rc -eq 2
check "predict: ... naming the column and the file's columns" \
    grep -q 'wrong.csv:1: no column "reading" (columns: meter, src1)' "$T/err"
check "predict: ... and leaves no output file" sh -c "! ls '$T'/*.tmp.* 2>/dev/null"
printf 'reading\n1\n2\nabc\n' >"$T/badcell.csv"
"$L" predict "$T/ml.lsm" "$T/badcell.csv" -o "$T/bc.csv" 2>"$T/err"
rc=$?
check "predict: a bad cell fails with its line and column" \
    sh -c "test $rc -eq 1 && grep -q 'badcell.csv:4:1: expected a number, found \"abc\"' '$T/err' &&
           test ! -e '$T/bc.csv'"
printf 'reading\n1\n2\n' | "$L" predict "$T/ml.lsm" - >"$T/short.csv"
check "predict: a file shorter than the window: every row marked" \
    test "$(tr '\n' '|' <"$T/short.csv")" = "src1,src2,src3|,,|,,|"

# a file longer than one read chunk (65536 rows): windows across chunk boundaries
"$L" gen --rows 70000 --seed 3 -o "$T/long.csv"
"$L" predict "$T/ml.lsm" "$T/long.csv" --proba -o "$T/pl.csv"
check "stream == predict across predict's chunk boundaries (70000 rows)" \
    sh -c "'$L' stream '$T/ml.lsm' --proba <'$T/long.csv' | cmp - '$T/pl.csv'"

# ---- stream ----
"$L" stream "$T/ml.lsm" --proba <"$T/test.csv" >"$T/s.csv"
check "stream: exit 0" test $? -eq 0
check "stream == predict, byte for byte (CSV with a header, 3000 rows)" cmp "$T/s.csv" "$T/p.csv"
tail -n +2 "$T/test.csv" | cut -d, -f1 >"$T/bare.txt"
"$L" stream "$T/ml.lsm" --proba <"$T/bare.txt" >"$T/s2.csv"
check "stream == predict on bare numbers (no header line out either)" \
    sh -c "tail -n +2 '$T/p.csv' | cmp - '$T/s2.csv'"
"$L" predict "$T/mc.lsm" "$T/test.csv" --proba -o "$T/pc.csv"
check "stream == predict, multi-class 2-layer model" \
    sh -c "'$L' stream '$T/mc.lsm' --proba <'$T/test.csv' | cmp - '$T/pc.csv'"
check "predict: multi-class header and rows" \
    sh -c "head -n 1 '$T/pc.csv' | grep -q '^class,prob,none_prob,' &&
           sed -n 2,4p '$T/pc.csv' | grep -qv '^,,' && exit 1 || sed -n 5p '$T/pc.csv' | grep -qE '^[a-z0-9+]+,[01]\.[0-9]{6},'"

# malformed lines: reported with the line number, skipped, the stream goes on
printf '10\n20\nabc\n30\n\n40\n50\n60\n1,2,x\n70\n' >"$T/bad.txt"
"$L" stream "$T/ml.lsm" <"$T/bad.txt" >"$T/sb.csv" 2>"$T/err"
rc=$?
check "stream: malformed lines -> exit 1 at the end" test $rc -eq 1
check "stream: still one output line per input line" test "$(lines "$T/sb.csv")" -eq 10
check "stream: error names line 3 and the cell" \
    grep -q '<stdin>:3:1: expected a number, found "abc"' "$T/err"
check "stream: error names the blank line 5" grep -q '<stdin>:5: blank line' "$T/err"
check "stream: no error for line 9 (extra fields are ignored)" sh -c "! grep -q ':9:' '$T/err'"
grep -v -e abc -e '^$' "$T/bad.txt" | cut -d, -f1 | "$L" stream "$T/ml.lsm" >"$T/good.csv"
check "stream: a skipped line leaves the window as it was" \
    sh -c "sed '3d;5d' '$T/sb.csv' | cmp - '$T/good.csv'"
{ echo 10; head -c 1100000 /dev/zero | tr '\0' '7'; echo; echo 20; } | "$L" stream "$T/ml.lsm" \
    >"$T/sl.csv" 2>"$T/err"
check "stream: a line over 1 MiB is reported and skipped, the next line is read" \
    sh -c "grep -q '<stdin>:2: line longer than 1048576 bytes' '$T/err' && test \$(wc -l <'$T/sl.csv') -eq 3"
printf '10\n20\nabc\n30\n' | "$L" stream "$T/ml.lsm" --strict >"$T/ss.csv" 2>"$T/err"
rc=$?
check "stream --strict: stops at the first malformed line (exit 1)" \
    sh -c "test $rc -eq 1 && test \$(wc -l <'$T/ss.csv') -eq 2 && grep -q ':3:1:' '$T/err'"
printf 'meter\n1\n' | "$L" stream "$T/ml.lsm" >/dev/null 2>"$T/err"
check "stream: a header without the model's input is data (malformed line 1)" \
    grep -q '<stdin>:1:1: expected a number' "$T/err"
awk -F, 'BEGIN{OFS=","} {print $2, $1}' "$T/test.csv" | "$L" stream "$T/ml.lsm" --proba >"$T/s3.csv"
check "stream: a header line finds the input by name" cmp "$T/s3.csv" "$T/p.csv"

# a two-input model
"$L" train "$T/train.csv" -o "$T/m2.lsm" --label-at last --input reading,src1 --labels src2,src3 --epochs 1 \
    --hidden 8 --threads 1 --quiet >/dev/null
"$L" predict "$T/m2.lsm" "$T/test.csv" --proba -o "$T/p2.csv"
check "stream == predict, two inputs (header)" \
    sh -c "'$L' stream '$T/m2.lsm' --proba <'$T/test.csv' | cmp - '$T/p2.csv'"
check "stream == predict, two inputs (no header: the first two fields)" \
    sh -c "tail -n +2 '$T/test.csv' | '$L' stream '$T/m2.lsm' --proba | cmp - \"\$(tail -n +2 '$T/p2.csv' >'$T/p2b.csv'; echo '$T/p2b.csv')\""
printf 'reading,src2\n1,0\n' | "$L" stream "$T/m2.lsm" >/dev/null 2>"$T/err"
rc=$?
check "stream: a header without one of the inputs is a usage error (exit 2)" \
    sh -c "test $rc -eq 2 && grep -q 'no column \"src1\"' '$T/err'"
cut -d, -f1,3 "$T/test.csv" >"$T/miss.csv"
"$L" predict "$T/m2.lsm" "$T/miss.csv" >/dev/null 2>"$T/err"
rc=$?
check "predict: the second input missing: exit 2 naming it" \
    sh -c "test $rc -eq 2 && grep -q 'no column \"src1\"' '$T/err'"

# flushes every line: the answers are there before the input ends
if mkfifo "$T/fifo" 2>/dev/null; then
"$L" stream "$T/ml.lsm" <"$T/fifo" >"$T/live.csv" &
pid=$!
exec 3>"$T/fifo"
printf '1\n2\n3\n4\n5\n6\n' >&3
i=0
while [ "$(lines "$T/live.csv")" -lt 6 ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
check "stream: one line out per line in, before end of input" test "$(lines "$T/live.csv")" -eq 6
exec 3>&-
wait $pid
check "stream: exit 0 at end of input" test $? -eq 0
else
    echo "skipped: stream flushing (mkfifo failed)"
fi

# ---- minimum on/off durations ----
# A model with fixed durations, on readings with random spikes so that its raw decisions
# flicker and the filter changes many lines (generated data alone gives clean long runs).
noisy() { awk -F, 'BEGIN { srand(7); OFS = "," } NR == 1 { print; next }
                   { $1 = sprintf("%.1f", $1 + (rand() < 0.3 ? 3000 * rand() : 0)); print }' "$1"; }
noisy "$T/test.csv" >"$T/nz.csv"
noisy "$T/long.csv" >"$T/nzlong.csv"
"$L" train "$T/train.csv" -o "$T/dur.lsm" --label-at last --epochs 1 --hidden 16 --threads 1 --quiet \
    --min-on 4 --min-off 7 >/dev/null
"$L" inspect "$T/dur.lsm" >"$T/dur.txt"
check "durations: inspect prints min on/off and the decision delay (3 + 6 rows)" \
    sh -c "grep -qE '^  src1 .* 4 +7\$' '$T/dur.txt' && grep -q 'decision delay 9 rows' '$T/dur.txt'"
"$L" inspect "$T/dur.lsm" --json >"$T/dur.json"
check "durations: inspect --json" \
    sh -c "grep -q '\"min_on\":4,\"min_off\":7}' '$T/dur.json' && grep -q '\"decision_delay\":9' '$T/dur.json'"
"$L" predict "$T/dur.lsm" "$T/nz.csv" --proba -o "$T/pd.csv"
"$L" predict "$T/dur.lsm" "$T/nz.csv" --proba --raw -o "$T/pdr.csv"
check "durations: predict --raw differs, probabilities and line count equal" \
    sh -c "! cmp -s '$T/pd.csv' '$T/pdr.csv' && test \$(wc -l <'$T/pd.csv') -eq 3001 &&
           cut -d, -f4- '$T/pd.csv' | cmp -s - \"\$(cut -d, -f4- '$T/pdr.csv' >'$T/pdr4'; echo '$T/pdr4')\""
check "durations: no on-run shorter than 4 rows, no inner off-gap shorter than 7 (every source)" \
    awk -F, 'NR > 5 { for (k = 1; k <= 3; k++) { v = $k
                 if (v == prev[k]) { run[k]++; continue }
                 if (prev[k] == 1 && run[k] < 4) bad = 1
                 if (prev[k] == 0 && seen[k] && run[k] < 7) bad = 1
                 if (v == 1) seen[k] = 1
                 prev[k] = v; run[k] = 1 } }
             NR == 5 { for (k = 1; k <= 3; k++) prev[k] = -1 }
             END { for (k = 1; k <= 3; k++) if (prev[k] == 1 && run[k] < 4) bad = 1; exit bad }' \
        "$T/pd.csv"
check "durations: stream == predict, byte for byte" \
    sh -c "'$L' stream '$T/dur.lsm' --proba <'$T/nz.csv' | cmp - '$T/pd.csv'"
check "durations: stream --raw == predict --raw" \
    sh -c "'$L' stream '$T/dur.lsm' --proba --raw <'$T/nz.csv' | cmp - '$T/pdr.csv'"
"$L" predict "$T/dur.lsm" "$T/nzlong.csv" -o "$T/pdl.csv"
check "durations: stream == predict across predict's chunk boundaries" \
    sh -c "'$L' stream '$T/dur.lsm' <'$T/nzlong.csv' | cmp - '$T/pdl.csv'"
# malformed lines inside held-back rows keep their place
awk 'NR == 1 || NR % 50 != 0 { print; next } { print "bad"; print }' "$T/nz.csv" >"$T/tb.csv"
"$L" stream "$T/dur.lsm" --proba <"$T/tb.csv" >"$T/sdb.csv" 2>/dev/null
check "durations: stream with malformed lines: one line each, in place, rest as predict" \
    sh -c "test \$(wc -l <'$T/sdb.csv') -eq \$(wc -l <'$T/tb.csv') &&
           awk 'NR == FNR { bad[FNR] = \$0 == \"bad\"; next } !bad[FNR]' '$T/tb.csv' '$T/sdb.csv' |
           cmp - '$T/pd.csv' &&
           awk 'NR == FNR { bad[FNR] = \$0 == \"bad\"; next } bad[FNR]' '$T/tb.csv' '$T/sdb.csv' |
           grep -qv '^,,,,,\$' && exit 1 || exit 0"
# the stream writes a line once it is settled, never later than the decision delay
head -n 200 "$T/nz.csv" | cut -d, -f1 | tail -n +2 >"$T/h200.txt"
check "durations: the stream's lines trail its input by at most the delay (9 rows)" \
    sh -c "{ cat '$T/h200.txt'; sleep 2; } | '$L' stream '$T/dur.lsm' >'$T/part.csv' &
           sleep 1; n=\$(wc -l <'$T/part.csv'); wait; test \$n -ge \$((199 - 9)) ||
           { echo \"lines after 1 s: \$n\"; exit 1; }"
"$L" train "$T/train.csv" -o "$T/off.lsm" --label-at last --epochs 1 --hidden 16 --threads 1 --quiet \
    --durations off >/dev/null
check "durations: --durations off stores 1/1 and no delay" \
    sh -c "'$L' inspect '$T/off.lsm' | grep -q 'decision delay 0 rows'"
"$L" eval "$T/dur.lsm" "$T/nz.csv" --json >"$T/ed.json"
"$L" eval "$T/dur.lsm" "$T/nz.csv" --json --raw >"$T/edr.json"
check "durations: eval scores the filtered decisions, --raw the unfiltered ones" \
    sh -c "grep -q '\"durations\":\"model\"' '$T/ed.json' && grep -q '\"durations\":\"raw\"' '$T/edr.json' &&
           grep -q '\"min_on\":4,\"min_off\":7' '$T/ed.json' && grep -q '\"min_on\":1,\"min_off\":1' '$T/edr.json' &&
           ! cmp -s '$T/ed.json' '$T/edr.json'"
"$L" eval "$T/dur.lsm" "$T/test.csv" >"$T/ed.txt"
check "durations: eval text says the decisions are filtered" \
    grep -q "after the model's minimum on/off durations" "$T/ed.txt"
"$L" train "$T/train.csv" -o "$T/x.lsm" --epochs 1 --hidden 8 --threads 1 --quiet --min-on 0 \
    >/dev/null 2>"$T/err"
rc=$?
check "durations: --min-on 0 is a usage error" sh -c "test $rc -eq 2 && grep -q 'min-on' '$T/err'"
"$L" train "$T/train.csv" -o "$T/x.lsm" --task multiclass --epochs 1 --hidden 8 --threads 1 \
    --quiet --min-off 3 >/dev/null 2>"$T/err"
rc=$?
check "durations: multi-class refuses minimum durations" \
    sh -c "test $rc -eq 2 && grep -q 'multi-label sources only' '$T/err'"

# ---- export-c ----
"$L" export-c "$T/ml.lsm" -o "$T/ml.h" --prefix ml >"$T/sizes" 2>&1
check "export-c: exit 0" test $? -eq 0
check "export-c: prints flash and RAM bytes" grep -qE 'flash [0-9]+ bytes .*RAM [0-9]+ bytes' "$T/sizes"
"$L" export-c "$T/mc.lsm" --prefix mc -q >"$T/mc.h"
check "export-c: to stdout" grep -q 'mc_push' "$T/mc.h"
"$L" export-c "$T/ml.lsm" --prefix 9x -o "$T/x.h" 2>/dev/null
rc=$?
check "export-c: a prefix that is not a C identifier: exit 2" \
    sh -c "test $rc -eq 2 && test ! -e '$T/x.h'"
check "export-c: no other include than <math.h>, no malloc" \
    sh -c "! grep -v '^#include <math.h>' '$T/ml.h' | grep -qE '#include|[^a-z_]malloc *\\('"

# two exported models in one program, nothing else: outputs as `predict --proba`
cat >"$T/two.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "ml.h"
#include "mc.h"

int main(int argc, char **argv)
{
    ml_state a;
    mc_state b;
    float x[1], pa[ml_OUTPUTS], pb[mc_OUTPUTS];
    unsigned char on_a[ml_OUTPUTS], on_b[mc_OUTPUTS];
    char line[256];
    unsigned k;
    FILE *fa, *fb;
    if (argc != 3 || !(fa = fopen(argv[1], "w")) || !(fb = fopen(argv[2], "w"))) return 2;
    ml_init(&a);
    mc_init(&b);
    if (!fgets(line, sizeof line, stdin)) return 1;   /* header */
    while (fgets(line, sizeof line, stdin)) {
        x[0] = (float)strtod(line, NULL);
        if (ml_push(&a, x, pa)) {
            ml_decide(pa, on_a);
            for (k = 0; k < ml_OUTPUTS; k++) fprintf(fa, "%s%d", k ? "," : "", on_a[k]);
            for (k = 0; k < ml_OUTPUTS; k++) fprintf(fa, ",%.6f", pa[k]);
            fputc('\n', fa);
        } else {
            for (k = 1; k < 2 * ml_OUTPUTS; k++) fputc(',', fa);
            fputc('\n', fa);
        }
        if (mc_push(&b, x, pb)) {
            int c = mc_decide(pb, on_b);
            fprintf(fb, "%s,%.6f", mc_output_name((unsigned)c), pb[c]);
            for (k = 0; k < mc_OUTPUTS; k++) fprintf(fb, ",%.6f", pb[k]);
            fputc('\n', fb);
        } else {
            for (k = 1; k < 2 + mc_OUTPUTS; k++) fputc(',', fb);
            fputc('\n', fb);
        }
    }
    return fclose(fa) || fclose(fb);
}
EOF
check "export-c: two headers in one program build with -std=c99 -Wall -Wextra -Werror -pedantic" \
    "$CCX" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I"$T" "$T/two.c" -lm -o "$T/two"
"$T/two" "$T/ea.csv" "$T/eb.csv" <"$T/test.csv"
check "export-c: the program runs" test $? -eq 0
"$L" predict "$T/ml.lsm" "$T/test.csv" --proba --raw | tail -n +2 >"$T/p_body.csv"
tail -n +2 "$T/pc.csv" >"$T/pc_body.csv"
check "export-c == predict --raw, multi-label: same decisions, probabilities within 1e-5" \
    $CMP -v tol=1e-5 "$T/p_body.csv" "$T/ea.csv"
check "export-c == predict, multi-class 2 layers: same classes, probabilities within 1e-5" \
    $CMP -v tol=1e-5 "$T/pc_body.csv" "$T/eb.csv"
cat >"$T/deps.c" <<'EOF'
#include "ml.h"
#include "mc.h"
int step(const float *x, float *pa, float *pb, unsigned char *on);
int step(const float *x, float *pa, float *pb, unsigned char *on)
{
    static ml_state a;
    static mc_state b;
    return ml_push(&a, x, pa) + ml_decide(pa, on) + mc_push(&b, x, pb) + mc_decide(pb, on);
}
EOF
if command -v nm >/dev/null 2>&1; then
    "$CCX" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I"$T" -c "$T/deps.c" -o "$T/deps.o" &&
        nm -u "$T/deps.o" | awk '{print $NF}' | sort -u >"$T/undef"
    check "export-c: needs nothing from outside but expf (and tanhf)" \
        sh -c "test -s '$T/undef' && ! grep -vE '^(expf|tanhf|_GLOBAL_OFFSET_TABLE_)\$' '$T/undef'"
else
    echo "skipped: undefined symbols of an exported header (no nm)"
fi

echo "cli_predict: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
