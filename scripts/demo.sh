#!/bin/sh
# make demo: generate seed-like meter data (a training file and a later test file with another
# seed), train on the first, evaluate on the second next to the trivial baselines.
set -eu
LSTMSRC=${1:-build/lstmsrc}
DIR=${DEMO_DIR:-build/demo}
mkdir -p "$DIR"
echo "== generating seed-like data: 3 sources on one meter"
"$LSTMSRC" gen --rows 100000 --sources 3 --seed 1 -o "$DIR/train.csv"
"$LSTMSRC" gen --rows 20000 --sources 3 --seed 2 -o "$DIR/test.csv"
head -n 4 "$DIR/train.csv"
echo "== training (defaults: window 5 labelled at its centre, bidirectional top layer, reading + first difference, LSTM 64, 20 epochs, Adam, pos_weight auto, tuned thresholds)"
"$LSTMSRC" train "$DIR/train.csv" -o "$DIR/model.lsm"
echo "== evaluating on the later file"
"$LSTMSRC" eval "$DIR/model.lsm" "$DIR/test.csv"
