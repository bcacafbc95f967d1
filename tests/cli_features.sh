#!/bin/sh
# cli_features.sh — derived channels, centred labels and strides end to end, on a tiny model
# trained here with --features raw,diff --label-at center --stride 2 (window 6: decisions for
# a row come 3 rows later):
#   train: the flags are refused when malformed (exit 2); inspect shows the framing;
#   predict: one line per row, empty for the first seq-1-seq/2 rows and the last seq/2;
#   stream == predict byte for byte (3000 rows, and 70000 rows across predict's read chunks),
#     malformed lines keep their place in the output, end of input flushes the waiting rows;
#   export-c: same decisions as predict, probabilities within 1e-5;
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

"$L" train "$T/train.csv" -o "$T/dc.lsm" --features raw,diff --label-at center --stride 2 \
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
    sh -c "grep -q '#define DC_CHANNELS 2' '$T/dc.h' && grep -q '#define DC_LABEL_OFFSET 3' '$T/dc.h'"
cat >"$T/one.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "dc.h"

/* one line per full window, as predict --proba writes the row the window answers for */
int main(void)
{
    dc_state s;
    float x[DC_INPUTS], p[DC_OUTPUTS];
    unsigned char on[DC_OUTPUTS];
    char line[256];
    unsigned k;
    dc_init(&s);
    if (!fgets(line, sizeof line, stdin)) return 1;   /* header */
    while (fgets(line, sizeof line, stdin)) {
        x[0] = (float)strtod(line, NULL);
        if (!dc_push(&s, x, p)) continue;
        dc_decide(p, on);
        for (k = 0; k < DC_OUTPUTS; k++) printf("%s%d", k ? "," : "", on[k]);
        for (k = 0; k < DC_OUTPUTS; k++) printf(",%.6f", p[k]);
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

# ---- version 1 model files ----
check "a version-1 model file predicts as the version-1 build did" \
    sh -c "'$L' predict tests/fixtures/model_v1.lsm tests/fixtures/model_v1_input.csv --proba |
           cmp - tests/fixtures/model_v1_predict.csv"
check "a version-1 model streams as it predicts" \
    sh -c "'$L' stream tests/fixtures/model_v1.lsm --proba <tests/fixtures/model_v1_input.csv |
           cmp - tests/fixtures/model_v1_predict.csv"

echo "cli_features: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
