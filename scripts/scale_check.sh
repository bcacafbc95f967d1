#!/bin/sh
# Scale check (not part of `make test` or CI: it writes ~0.6 GB per 50M rows and runs for
# minutes): generates ROWS rows, trains one epoch, predicts every row, and reports wall time and
# peak memory (/usr/bin/time -v, Debian package `time`) of each step next to the floor the data
# itself needs (rows x (4 bytes per input + 1 per source) for the data set, held once). Also
# trains on 1.1M rows against the 64 MB target of the performance work.
# usage: sh scripts/scale_check.sh [BUILD_DIR]   (env: ROWS=50000000 HIDDEN=16 DIR=/tmp/...)
set -eu
BUILD=${1:-build}
L="$BUILD/lstmsrc"
ROWS=${ROWS:-50000000}
HIDDEN=${HIDDEN:-16}
DIR=${DIR:-$(mktemp -d /tmp/lstmsrc_scale.XXXXXX)}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs /usr/bin/time (apt-get install time)"; exit 2; }
[ -x "$L" ] || { echo "build $L first (make)"; exit 2; }
mkdir -p "$DIR"
echo "scale check: $ROWS rows, hidden $HIDDEN, in $DIR"

# run NAME CMD...: runs CMD under time -v, prints wall time and peak RSS, keeps its stderr
run() {
    name=$1
    shift
    "$TIME" -v "$@" 2>"$DIR/$name.log" >"$DIR/$name.out" || {
        echo "$name failed:"
        tail -n 30 "$DIR/$name.log"
        exit 1
    }
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/$name.log")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DIR/$name.log")
    echo "$name: wall $wall, peak RSS $((rss / 1024)) MB"
    eval "${name}_rss=$rss"
}

run gen "$L" gen --rows "$ROWS" --sources 3 --seed 1 -o "$DIR/big.csv"
echo "  $(du -h "$DIR/big.csv" | cut -f1) of CSV"
run train "$L" train "$DIR/big.csv" -o "$DIR/big.lsm" --epochs 1 --hidden "$HIDDEN" --batch 512
grep -E '^Epoch|rows' "$DIR/train.log" | tail -n 2 | sed 's/^/  /'
run predict "$L" predict "$DIR/big.lsm" "$DIR/big.csv" -o "$DIR/pred.csv"
echo "  $(wc -l <"$DIR/pred.csv") prediction lines"
floor=$((ROWS * (4 + 3) / 1024))
echo "data held once: $((floor / 1024)) MB (rows x (4 + 3) bytes); train peak is $((train_rss / 1024)) MB ($(awk -v a="$train_rss" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')x)"
echo "predict peak: $((predict_rss / 1024)) MB (streams: independent of rows)"

# the performance target: 1.1M rows, default model, <= 64 MB
run gen_small "$L" gen --rows 1100000 --sources 3 --seed 2 -o "$DIR/small.csv"
run train_small "$L" train "$DIR/small.csv" -o "$DIR/small.lsm" --epochs 1
if [ "$train_small_rss" -le $((64 * 1024)) ]; then
    echo "1.1M rows: peak $((train_small_rss / 1024)) MB <= 64 MB: ok"
else
    echo "1.1M rows: peak $((train_small_rss / 1024)) MB > 64 MB: over the target"
fi
rm -f "$DIR/big.csv" "$DIR/pred.csv" "$DIR/small.csv"
echo "logs in $DIR"
