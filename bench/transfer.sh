#!/bin/sh
# bench/transfer.sh — a house the model never saw: train on REFIT house 2 and IDEAL house 65,
# score on IDEAL house 175, on the two appliances the three houses share (WashingMachine,
# Dishwasher), straight from the raw monthly exports (time stamps, outages, watts).
#
#   sh bench/transfer.sh [RAW_DIR] [LSTMSRC]     (default ../shared/data/raw, build/lstmsrc)
#
# A second table: the raw,diff model fine-tuned (train --init) on the first week of house 175,
# scored on the rest of it (see bench/TRANSFER.md).
#
# Every model is trained the same way (window 60, 8 epochs, 2 threads, seed 1); the variants
# differ in the channels: the reading and its first difference (the default), or the first
# difference alone, which does not see a house's base load. Each is scored on its own
# validation part (the last 10 % of every training file) and on the unseen house, next to
# the threshold rule fitted on the training houses. Prints one table in Markdown.
set -eu
RAW=${1:-../shared/data/raw}
L=${2:-build/lstmsrc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TRAIN="$RAW/REFIT_House2_2014-06.csv.gz $RAW/REFIT_House2_2014-07.csv.gz $RAW/REFIT_House2_2014-08.csv.gz $RAW/REFIT_House2_2014-09.csv.gz $RAW/IDEAL_House65_2017-06.csv.gz $RAW/IDEAL_House65_2018-02.csv.gz $RAW/IDEAL_House65_2018-04.csv.gz"
UNSEEN="$RAW/IDEAL_House175_2018-01.csv.gz"
FLAGS="--labels WashingMachine,Dishwasher --on-above WashingMachine=20,Dishwasher=15 --invalid-below 1"
echo "| channels | val macro F1 | unseen macro F1 | WashingMachine F1 | Dishwasher F1 | rule macro F1 | s/epoch |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
# each channel set with the global scaler (the default) and with --scaler per-file (every file
# standardised by its own statistics, the unseen house by its own readings)
for variant in raw,diff:global diff:global raw,diff:per-file diff:per-file; do
    feat=${variant%:*}
    scaler=${variant#*:}
    start=$(date +%s)
    # shellcheck disable=SC2086
    $L train $TRAIN -o "$T/m.lsm" $FLAGS --features $feat --seq 60 --epochs 8 --threads 2 \
        --seed 1 --scaler $scaler --quiet >/dev/null 2>"$T/train.err"
    secs=$(( $(date +%s) - start ))
    $L eval "$T/m.lsm" "$UNSEEN" --json >"$T/e.json" 2>/dev/null
    val=$($L inspect --json "$T/m.lsm" | sed 's/.*"val_macro_f1":\([-0-9.e]*\).*/\1/')
    python3 - "$T/e.json" "$feat, $scaler scaler" "$val" "$secs" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
f1 = {s["name"]: s["f1"] for s in e["sources"]}
rule = e["baselines"]["threshold"]["macro_f1"]
print(f"| {sys.argv[2]} | {float(sys.argv[3]):.3f} | {e['macro_f1']:.3f} | {f1['WashingMachine']:.3f} | "
      f"{f1['Dishwasher']:.3f} | {rule:.3f} | {int(sys.argv[4]) / 8:.0f} |")
PY
done

# Fine-tuning on the unseen house's first week (train --init): the raw,diff (and the diff) model of the two
# houses, fine-tuned for 8 epochs on house 175 up to 2018-01-07 (its first 7 days), scaler kept
# or refitted, next to the same model without fine-tuning and a fresh model trained on that
# week alone, all scored on the rest of house 175 (from 2018-01-08 on).
WEEK="--until 2018-01-07T23:59:59"
REST="--from 2018-01-08T00:00:00"
echo
echo "| on the rest of house 175 | macro F1 | WashingMachine F1 | Dishwasher F1 | rule macro F1 |"
echo "| --- | ---: | ---: | ---: | ---: |"
row() { # name, model
    $L eval "$2" "$UNSEEN" $REST --json >"$T/e.json" 2>/dev/null
    python3 - "$T/e.json" "$1" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
f1 = {s["name"]: s["f1"] for s in e["sources"]}
print(f"| {sys.argv[2]} | {e['macro_f1']:.3f} | {f1['WashingMachine']:.3f} | "
      f"{f1['Dishwasher']:.3f} | {e['baselines']['threshold']['macro_f1']:.3f} |")
PY
}
for feat in raw,diff diff; do
    # shellcheck disable=SC2086
    $L train $TRAIN -o "$T/base.lsm" $FLAGS --features $feat --seq 60 --epochs 8 --threads 2 \
        --seed 1 --quiet >/dev/null 2>"$T/train.err"
    row "$feat: two houses, not fine-tuned" "$T/base.lsm"
    scalers=keep
    [ "$feat" = raw,diff ] && scalers="keep refit"
    for sc in $scalers; do
        # shellcheck disable=SC2086
        $L train "$UNSEEN" -o "$T/ft.lsm" $FLAGS $WEEK --init "$T/base.lsm" --init-scaler $sc \
            --epochs 8 --threads 2 --seed 1 --quiet >/dev/null 2>"$T/train.err"
        row "$feat: two houses + first week (--init, scaler $sc)" "$T/ft.lsm"
    done
    # shellcheck disable=SC2086
    $L train "$UNSEEN" -o "$T/week.lsm" $FLAGS $WEEK --features $feat --seq 60 --epochs 8 \
        --threads 2 --seed 1 --quiet >/dev/null 2>"$T/train.err"
    row "$feat: first week alone (fresh)" "$T/week.lsm"
done
