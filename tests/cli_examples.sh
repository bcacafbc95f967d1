#!/bin/sh
# cli_examples.sh — runs the programs in examples/ that `make test` builds (BUILD/examples) on a
# later data file and checks them against `lstmsrc predict --proba` on the same rows:
#   stream_library (the library API, one row at a time, minimum durations filter included): the
#   same lines;
#   exported_model (nothing but the header `export-c` wrote, built as strict C99, its own
#   minimum durations filter included): the same decisions, probabilities within 1e-5; also
#   rebuilt from the header of a model whose durations change many decisions.
# Usage: sh tests/cli_examples.sh [BUILD]. Ends with "N passed, N failed".
. tests/lib_cli.sh "$@"
EX=$BUILD/examples

for f in "$EX/stream_library" "$EX/exported_model" "$EX/model.lsm"; do
    if [ ! -e "$f" ]; then
        echo "FAIL $f is missing: run make test (or make examples)"
        echo "cli_examples: 0 passed, 1 failed"
        exit 1
    fi
done

"$L" gen --rows 5000 --seed 4 -o "$T/test.csv" || exit 1
# the example model, with minimum durations set so the filter changes decisions
"$L" train "$EX/train.csv" -o "$T/dur.lsm" --epochs 1 --hidden 16 --threads 1 --quiet \
    --min-on 4 --min-off 6 >/dev/null || exit 1
"$L" predict "$EX/model.lsm" "$T/test.csv" --proba -o "$T/p.csv" || exit 1
"$L" predict "$EX/model.lsm" "$T/test.csv" --proba --raw -o "$T/praw.csv" || exit 1
"$L" predict "$T/dur.lsm" "$T/test.csv" --proba -o "$T/pdur.csv" || exit 1
"$L" predict "$T/dur.lsm" "$T/test.csv" --proba --raw -o "$T/pdurraw.csv" || exit 1
tail -n +2 "$T/p.csv" >"$T/p_body.csv"
tail -n +2 "$T/pdur.csv" >"$T/pdur_body.csv"

"$EX/stream_library" "$EX/model.lsm" <"$T/test.csv" >"$T/lib.csv"
check "examples/stream_library runs" test $? -eq 0
check "examples/stream_library == predict (decisions equal, probabilities to 6 decimals)" \
    awk -v tol=1.5e-6 -f tests/compare_pred.awk "$T/p_body.csv" "$T/lib.csv"
check "the filtered model's decisions differ from its raw ones" \
    sh -c "! cmp -s '$T/pdur.csv' '$T/pdurraw.csv'"
"$EX/stream_library" "$T/dur.lsm" <"$T/test.csv" >"$T/libdur.csv"
check "examples/stream_library == predict with minimum durations (min on 4, off 6)" \
    awk -v tol=1.5e-6 -f tests/compare_pred.awk "$T/pdur_body.csv" "$T/libdur.csv"
printf 'reading\n1\noops\n' | "$EX/stream_library" "$EX/model.lsm" >/dev/null 2>"$T/err"
check "examples/stream_library reports a bad line" \
    sh -c "test $? -ne 0 && grep -q 'line 3' '$T/err'"

"$EX/exported_model" <"$T/test.csv" >"$T/exp.csv"
check "examples/exported_model runs" test $? -eq 0
check "examples/exported_model == predict (same decisions, probabilities within 1e-5)" \
    awk -v tol=1e-5 -f tests/compare_pred.awk "$T/p.csv" "$T/exp.csv"
"$L" export-c "$T/dur.lsm" -o "$T/model.h" --quiet || exit 1
check "examples/exported_model builds from a header with minimum durations (-std=c99 -Werror)" \
    "$CCX" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I"$T" examples/exported_model.c -lm \
    -o "$T/expdur"
"$T/expdur" <"$T/test.csv" >"$T/expdur.csv"
check "examples/exported_model with minimum durations == predict (min on 4, off 6)" \
    awk -v tol=1e-5 -f tests/compare_pred.awk "$T/pdur.csv" "$T/expdur.csv"
check "... and differs from predict --raw" \
    sh -c "! awk -v tol=1e-5 -f tests/compare_pred.awk '$T/pdurraw.csv' '$T/expdur.csv'"

echo "cli_examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
