#!/bin/sh
# cli_features.sh — derived channels, centred labels and strides end to end, on a tiny model
# trained here with --features raw,diff --label-at center --stride 2 (window 6: decisions for
# a row come 3 rows later):
#   train: the flags are refused when malformed (exit 2); inspect shows the framing;
#   predict: one line per row, empty for the first seq-1-seq/2 rows and the last seq/2;
#   stream == predict byte for byte (3000 rows, and 70000 rows across predict's read chunks),
#     malformed lines keep their place in the output, end of input flushes the waiting rows;
#   export-c: same decisions as predict, probabilities within 1e-5;
#   a bidirectional top layer (1 layer labelled at the last row, 2 layers at the centre): file
#     version 3, inspect names it, stream == predict byte for byte, one window alone == inside
#     a batch;
#   a model file written by version 1 (tests/fixtures/model_v1.lsm) still predicts as it did.
# Usage: sh tests/cli_features.sh [BUILD]. Ends with "N passed, N failed".
. tests/lib_cli.sh "$@"

"$L" gen --rows 20000 --seed 1 -o "$T/train.csv" || exit 1
"$L" gen --rows 3000 --seed 2 -o "$T/test.csv" || exit 1
"$L" gen --rows 70000 --seed 3 -o "$T/long.csv" || exit 1

# ---- train flags ----
for bad in "--features raw,raw" "--features rawdiff" "--features" "--label-at middle" \
    "--stride 0" "--stride x"; do
    # shellcheck disable=SC2086
    "$L" train "$T/test.csv" -o "$T/bad.lsm" $bad --epochs 1 --quiet >/dev/null 2>"$T/err"
    rc=$?
    check "train $bad: usage error (exit 2), nothing written" \
        sh -c "test $rc -eq 2 && test ! -e '$T/bad.lsm' && grep -q 'lstmsrc: train:' '$T/err'"
done

"$L" train "$T/train.csv" -o "$T/dc.lsm" --features raw,diff --label-at center --stride 2 --directions 1 \
    --seq 6 --epochs 1 --hidden 8 --threads 1 --quiet >/dev/null
check "train --features raw,diff --label-at center --stride 2: exit 0" test $? -eq 0
"$L" inspect "$T/dc.lsm" >"$T/inspect.txt"
check "inspect: channels, labelled row and stride" \
    sh -c "grep -q 'raw + first difference per input column (2 in all)' '$T/inspect.txt' &&
           grep -q 'centre: 3 rows before' '$T/inspect.txt' &&
           grep -q 'd(reading)' '$T/inspect.txt' && grep -q 'every 2 rows' '$T/inspect.txt'"
"$L" inspect "$T/dc.lsm" --json >"$T/inspect.json"
check "inspect --json: label_at, offset, features, stride" \
    sh -c "grep -q '\"label_at\":\"center\",\"label_offset\":3,\"features\":\\[\"raw\",\"diff\"\\]' '$T/inspect.json' &&
           grep -q '\"stride\":2' '$T/inspect.json'"

# ---- predict ----
"$L" predict "$T/dc.lsm" "$T/test.csv" --proba -o "$T/p.csv"
check "predict: exit 0, one line per row plus a header" \
    sh -c "test $? -eq 0 && test $(lines "$T/p.csv") -eq 3001"
check "predict: the first seq-1-seq/2 = 2 rows are empty, the third is not" \
    sh -c "test \"\$(sed -n 2,3p '$T/p.csv' | sort -u)\" = ',,,,,' && ! sed -n 4p '$T/p.csv' | grep -q '^,'"
check "predict: the last seq/2 = 3 rows are empty, the one before is not" \
    sh -c "test \"\$(tail -n 3 '$T/p.csv' | sort -u)\" = ',,,,,' && ! tail -n 4 '$T/p.csv' | head -n 1 | grep -q '^,'"
printf 'reading\n1\n2\n3\n4\n5\n' | "$L" predict "$T/dc.lsm" - >"$T/short.csv"
check "predict: a file shorter than the window: every row empty" \
    test "$(tr '\n' '|' <"$T/short.csv")" = "src1,src2,src3|,,|,,|,,|,,|,,|"

# ---- stream ----
"$L" stream "$T/dc.lsm" --proba <"$T/test.csv" >"$T/s.csv"
check "stream: exit 0" test $? -eq 0
check "stream == predict, byte for byte (diff channel, centred label)" cmp "$T/s.csv" "$T/p.csv"
"$L" predict "$T/dc.lsm" "$T/long.csv" --proba -o "$T/pl.csv"
check "stream == predict across predict's chunk boundaries (70000 rows, diff channel)" \
    sh -c "'$L' stream '$T/dc.lsm' --proba <'$T/long.csv' | cmp - '$T/pl.csv'"
# malformed lines keep their place: drop them (and their output lines) and the rest is the
# stream of the clean input
cut -d, -f1 "$T/test.csv" | sed -n 2,40p >"$T/clean.txt"
awk 'NR == 5 { print "abc" } NR == 9 { print "" ; print "x" } { print } END { print "zz" }' \
    "$T/clean.txt" >"$T/bad.txt"
"$L" stream "$T/dc.lsm" <"$T/bad.txt" >"$T/sb.csv" 2>"$T/err"
rc=$?
check "stream: malformed lines -> exit 1, one output line per input line" \
    sh -c "test $rc -eq 1 && test $(lines "$T/sb.csv") -eq $(lines "$T/bad.txt")"
"$L" stream "$T/dc.lsm" <"$T/clean.txt" >"$T/sc.csv"
awk 'NR == FNR { if ($0 == "abc" || $0 == "" || $0 == "x" || $0 == "zz") skip[FNR] = 1; next }
     !(FNR in skip)' "$T/bad.txt" "$T/sb.csv" >"$T/sb_kept.csv"
check "stream: malformed lines get empty lines in place, the others are unchanged" \
    sh -c "cmp '$T/sb_kept.csv' '$T/sc.csv' &&
           test \"\$(awk 'NR == 5 || NR == 10 || NR == 11' '$T/sb.csv' | sort -u)\" = ',,'"
check "stream: end of input flushes the last seq/2 rows as empty lines" \
    test "$(tail -n 4 "$T/sc.csv" | head -n 1 | cut -c1)" != "," -a \
    "$(tail -n 3 "$T/sc.csv" | sort -u)" = ",,"

# ---- export-c ----
"$L" export-c "$T/dc.lsm" -o "$T/dc.h" --prefix dc >/dev/null 2>&1
check "export-c: exit 0, channels and label offset in the header" \
    sh -c "grep -q '#define dc_CHANNELS 2' '$T/dc.h' && grep -q '#define dc_LABEL_OFFSET 3' '$T/dc.h'"
cat >"$T/one.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "dc.h"

/* one line per full window, as predict --proba writes the row the window answers for */
int main(void)
{
    dc_state s;
    float x[dc_INPUTS], p[dc_OUTPUTS];
    unsigned char on[dc_OUTPUTS];
    char line[256];
    unsigned k;
    dc_init(&s);
    if (!fgets(line, sizeof line, stdin)) return 1;   /* header */
    while (fgets(line, sizeof line, stdin)) {
        x[0] = (float)strtod(line, NULL);
        if (!dc_push(&s, x, p)) continue;
        dc_decide(p, on);
        for (k = 0; k < dc_OUTPUTS; k++) printf("%s%d", k ? "," : "", on[k]);
        for (k = 0; k < dc_OUTPUTS; k++) printf(",%.6f", p[k]);
        putchar('\n');
    }
    return 0;
}
EOF
check "export-c: a diff + centre model builds with -std=c99 -Wall -Wextra -Werror -pedantic" \
    "$CCX" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I"$T" "$T/one.c" -lm -o "$T/one"
"$T/one" <"$T/test.csv" >"$T/e.csv"
# the program above leaves out the header's minimum-durations filter: compare with predict --raw
"$L" predict "$T/dc.lsm" "$T/test.csv" --proba --raw -o "$T/p_raw.csv"
grep -v '^,' "$T/p_raw.csv" | tail -n +2 >"$T/p_body.csv"
check "export-c == predict --raw: same decisions, probabilities within 1e-5" \
    $CMP -v tol=1e-5 "$T/p_body.csv" "$T/e.csv"

# ---- bidirectional top layer ----
# one layer labelled at the last row (the reverse direction reads that row alone) with the
# default raw + difference channels, and two layers labelled at the centre (the reverse
# direction reads the 3 rows after the labelled one back to it) with raw channels only
"$L" train "$T/train.csv" -o "$T/bl.lsm" --bidirectional --label-at last --seq 5 --epochs 1 --hidden 8 \
    --threads 1 --quiet >/dev/null
check "train --bidirectional: exit 0" test $? -eq 0
"$L" train "$T/train.csv" -o "$T/bc.lsm" --bidirectional --layers 2 --label-at center --seq 6 \
    --features raw --epochs 1 --hidden 8 --threads 1 --quiet >/dev/null
check "train --bidirectional --layers 2 --label-at center: exit 0" test $? -eq 0
check "bidirectional: model file version 3 with flag bit 0, one direction still version 2" \
    sh -c "test \"\$(od -An -tu4 -j8 -N4 '$T/bc.lsm' | tr -d ' ')\" = 3 &&
           test \"\$(od -An -tu4 -j24 -N4 '$T/bc.lsm' | tr -d ' ')\" = 1 &&
           test \"\$(od -An -tu4 -j8 -N4 '$T/dc.lsm' | tr -d ' ')\" = 2 &&
           test \"\$(od -An -tu4 -j24 -N4 '$T/dc.lsm' | tr -d ' ')\" = 0"
"$L" inspect "$T/bc.lsm" >"$T/bi.txt"
"$L" inspect "$T/bc.lsm" --json >"$T/bi.json"
check "inspect: the top layer is bidirectional (text and --json \"directions\":2)" \
    sh -c "grep -q 'architecture  1 input -> 2 x LSTM(8), the top one bidirectional -> dense 3' '$T/bi.txt' &&
           grep -q '\"layers\":2,\"directions\":2,' '$T/bi.json'"
"$L" train "$T/train.csv" -o "$T/cd.lsm" --label-at center --seq 6 --epochs 1 --hidden 4 \
    --threads 1 --quiet >/dev/null
"$L" inspect "$T/cd.lsm" --json >"$T/cd.json"
check "--label-at center alone: a bidirectional top layer (directions 2)" \
    grep -q '"layers":1,"directions":2,' "$T/cd.json"
check "inspect: one direction (text and --json \"directions\":1)" \
    sh -c "grep -q 'architecture  1 input -> 1 x LSTM(8) -> dense 3' '$T/inspect.txt' &&
           grep -q '\"layers\":1,\"directions\":1,' '$T/inspect.json'"
for m in bl bc; do
    "$L" predict "$T/$m.lsm" "$T/test.csv" --proba -o "$T/p_$m.csv"
    check "bidirectional ($m): stream == predict, byte for byte" \
        sh -c "'$L' stream '$T/$m.lsm' --proba <'$T/test.csv' | cmp - '$T/p_$m.csv'"
    check "bidirectional ($m): predict with 3 threads == 1 thread" \
        sh -c "'$L' predict '$T/$m.lsm' '$T/test.csv' --proba --threads 3 | cmp - '$T/p_$m.csv'"
done
# The window of data rows 1010..1015 (counting from 1) alone, a file of just those rows (one
# window, a batch of one), answers for row 1012 as it does inside the whole file's batches,
# where it is neither the first of its batch nor of its row block. With difference channels a
# window needs the row before it too, so bl gets rows 1009..1014: two windows, the second the
# one compared.
{ head -n 1 "$T/test.csv"; sed -n 1011,1016p "$T/test.csv"; } >"$T/one_bc.csv"
check "bidirectional (bc): one window alone == the same window inside a batch" \
    sh -c "'$L' predict '$T/bc.lsm' '$T/one_bc.csv' --proba --raw | tail -n +2 | grep -v '^,' >'$T/o1' &&
           '$L' predict '$T/bc.lsm' '$T/test.csv' --proba --raw | sed -n 1013p >'$T/o2' &&
           test \$(wc -l <'$T/o1') -eq 1 && cmp '$T/o1' '$T/o2'"
{ head -n 1 "$T/test.csv"; sed -n 1010,1015p "$T/test.csv"; } >"$T/one_bl.csv"
check "bidirectional (bl): a window of a short file == the same window inside a batch" \
    sh -c "'$L' predict '$T/bl.lsm' '$T/one_bl.csv' --proba --raw | tail -n 1 >'$T/o1' &&
           '$L' predict '$T/bl.lsm' '$T/test.csv' --proba --raw | sed -n 1015p >'$T/o2' &&
           grep -q '^[01],' '$T/o1' && cmp '$T/o1' '$T/o2'"
"$L" predict "$T/bl.lsm" "$T/long.csv" --proba -o "$T/pbl.csv"
check "bidirectional: stream == predict across predict's chunk boundaries (70000 rows)" \
    sh -c "'$L' stream '$T/bl.lsm' --proba <'$T/long.csv' | cmp - '$T/pbl.csv'"
check "bidirectional (bc): the first seq-1-seq/2 = 2 rows and the last 3 are empty" \
    sh -c "test \"\$(sed -n 2,3p '$T/p_bc.csv' | sort -u)\" = ',,,,,' && ! sed -n 4p '$T/p_bc.csv' | grep -q '^,' &&
           test \"\$(tail -n 3 '$T/p_bc.csv' | sort -u)\" = ',,,,,'"

# ---- version 1 model files ----
check "a version-1 model file predicts as the version-1 build did" \
    sh -c "'$L' predict tests/fixtures/model_v1.lsm tests/fixtures/model_v1_input.csv --proba |
           cmp - tests/fixtures/model_v1_predict.csv"
check "a version-1 model streams as it predicts" \
    sh -c "'$L' stream tests/fixtures/model_v1.lsm --proba <tests/fixtures/model_v1_input.csv |
           cmp - tests/fixtures/model_v1_predict.csv"

echo "cli_features: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
