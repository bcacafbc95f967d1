#!/bin/sh
# cli_examples.sh — runs the programs in examples/ that `make test` builds (BUILD/examples) on a
# later data file and checks them against `lstmsrc predict --proba` on the same rows:
#   stream_library (the library API, one row at a time, minimum durations filter included): the
#   same lines;
#   exported_model (nothing but the header `export-c` wrote, built as strict C99, its own
#   minimum durations filter included): the same decisions, probabilities within 1e-5; built by
#   make from the example model, and rebuilt here from the header of every model below.
# Models: the example model (as the Makefile trains it), and a model labelled at the window's
# last row and one labelled at its centre (bidirectional top layer, predictions 2 rows late),
# each without and with minimum durations that change many decisions. Every program must give
# one line per input row, aligned with predict's, empty lines at the start and the end included.
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
train() {   # train ID OPTIONS...: a small model on the example's training file
    id=$1
    shift
    "$L" train "$EX/train.csv" -o "$T/$id.lsm" --epochs 1 --hidden 16 --threads 1 --quiet \
        "$@" >/dev/null || exit 1
}
train last --label-at last
train lastdur --label-at last --min-on 4 --min-off 6
train ctr --label-at center
train ctrdur --label-at center --min-on 4 --min-off 6

check "the centred models are labelled 2 rows before the window's last row" \
    sh -c "'$L' inspect '$T/ctr.lsm' | grep -q 'labelled row  centre: 2 rows before' &&
           '$L' inspect '$T/ctrdur.lsm' | grep -q 'labelled row  centre: 2 rows before'"

# both examples on MODEL against predict; the exported one rebuilt from MODEL's header
check_examples() {   # check_examples NAME MODEL WHAT
    id=$1 model=$2 what=$3   # (not $name: check sets it)
    "$L" predict "$model" "$T/test.csv" --proba -o "$T/$id.p.csv" || exit 1
    tail -n +2 "$T/$id.p.csv" >"$T/$id.pbody.csv"
    "$EX/stream_library" "$model" <"$T/test.csv" >"$T/$id.lib.csv"
    check "examples/stream_library runs ($what)" test $? -eq 0
    check "examples/stream_library == predict, $what (same lines, probabilities to 6 decimals)" \
        awk -v tol=1.5e-6 -f tests/compare_pred.awk "$T/$id.pbody.csv" "$T/$id.lib.csv"
    mkdir -p "$T/$id" && "$L" export-c "$model" -o "$T/$id/model.h" --quiet || exit 1
    check "examples/exported_model builds from the header ($what, -std=c99 -Werror)" \
        "$CCX" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I"$T/$id" \
        examples/exported_model.c -lm -o "$T/$id/exported_model"
    "$T/$id/exported_model" <"$T/test.csv" >"$T/$id.exp.csv"
    check "examples/exported_model runs ($what)" test $? -eq 0
    check "examples/exported_model == predict, $what (same decisions, probabilities within 1e-5)" \
        awk -v tol=1e-5 -f tests/compare_pred.awk "$T/$id.p.csv" "$T/$id.exp.csv"
}

check_examples example "$EX/model.lsm" "the example model"
"$EX/exported_model" <"$T/test.csv" >"$T/example.make.csv"
check "examples/exported_model as make built it == predict" \
    awk -v tol=1e-5 -f tests/compare_pred.awk "$T/example.p.csv" "$T/example.make.csv"

check_examples last "$T/last.lsm" "label at the last row"
check_examples lastdur "$T/lastdur.lsm" "label at the last row, min on 4, off 6"
check_examples ctr "$T/ctr.lsm" "centred label, bidirectional"
check_examples ctrdur "$T/ctrdur.lsm" "centred label, bidirectional, min on 4, off 6"

# the checks above see a misaligned row: predict's lines (a header, then one per row) for a
# last-row model start with seq_len - 1 = 4 empty ones; for a centred model with
# seq_len - 1 - 2 = 2 and end with 2; and minimum durations change decisions
shape() {   # shape FILE HEAD TAIL: FILE's lines after its header: HEAD empty, full ones, TAIL empty
    awk -v h="$2" -v t="$3" 'NR > 1 { e[NR] = $0 ~ /^,*$/ } END {
        for (i = 2; i <= NR; i++) if (e[i] != (i <= h + 1 || i > NR - t)) exit 1 }' "$1"
}
check "predict: the last-row model's first 4 lines empty, no other" shape "$T/last.p.csv" 4 0
check "predict: the centred model's first 2 and last 2 lines empty, no other" \
    shape "$T/ctr.p.csv" 2 2
for id in lastdur ctrdur; do
    "$L" predict "$T/$id.lsm" "$T/test.csv" --proba --raw -o "$T/$id.praw.csv" || exit 1
    check "$id: predict's filtered decisions differ from its raw ones" \
        sh -c "! cmp -s '$T/$id.p.csv' '$T/$id.praw.csv'"
    check "$id: examples/exported_model differs from predict --raw" \
        sh -c "! awk -v tol=1e-5 -f tests/compare_pred.awk '$T/$id.praw.csv' '$T/$id.exp.csv'"
done

# inputs shorter than the window: every line empty, as many as rows, as `lstmsrc stream` gives
for n in 1 3; do
    sed -n "2,$((n + 1))p" "$T/test.csv" >"$T/short.csv"
    "$L" stream "$T/ctrdur.lsm" --proba <"$T/short.csv" >"$T/short.s.csv"
    "$EX/stream_library" "$T/ctrdur.lsm" <"$T/short.csv" >"$T/short.lib.csv"
    "$T/ctrdur/exported_model" <"$T/short.csv" | tail -n +2 >"$T/short.exp.csv"
    check "$n row(s), centred model: both examples give stream's $n empty line(s)" \
        sh -c "test \$(wc -l <'$T/short.s.csv') -eq $n && cmp '$T/short.s.csv' '$T/short.lib.csv' &&
               cmp '$T/short.s.csv' '$T/short.exp.csv'"
done

printf 'reading\n1\noops\n' | "$EX/stream_library" "$EX/model.lsm" >/dev/null 2>"$T/err"
check "examples/stream_library reports a bad line" \
    sh -c "test $? -ne 0 && grep -q 'line 3' '$T/err'"

echo "cli_examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
