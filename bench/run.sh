#!/bin/sh
# bench/run.sh BUILD — `make bench`: builds bench/bench_lstm.c against BUILD/liblstmsrc-internal.a, runs
# lstmsrc and (when /usr/bin/python3 can import torch) PyTorch on the same generated data and
# configuration in this one run, prints a table and writes bench/RESULTS.md.
#
# Reference configuration: window 5, 1 input, LSTM H = 64 (and 16), 3 sigmoid outputs, batch
# 512, Adam, 976,000 rows = 878,396 training windows (10% validation). Times are medians over
# epochs / repeats. Knobs (environment): BENCH_EPOCHS (lstmsrc epochs per configuration, 3),
# TORCH_EPOCHS (2), TORCH_BATCHES_2T (batches timed per PyTorch 2-thread epoch, 300),
# BENCH_ROWS (976000), BENCH_NO_TORCH=1. On an AVX-512 CPU the kernels in use are AVX-512 and
# the training step, 1-thread epochs and inference are also run with LSTMSRC_ISA=avx2 (keys
# avx2_*) in the same run. Not a test: nothing fails on slowness.
set -eu
BUILD=${1:-build}
LIB="$BUILD/liblstmsrc-internal.a" # it reaches internal functions (src/*.h)
CLI="$BUILD/lstmsrc"
OUT="$BUILD/bench"
EPOCHS=${BENCH_EPOCHS:-3}
TEPOCHS=${TORCH_EPOCHS:-2}
TBATCH2=${TORCH_BATCHES_2T:-300}
ROWS=${BENCH_ROWS:-976000}
PY=/usr/bin/python3
mkdir -p "$OUT"

# OpenBLAS's sgemm, timed next to the own kernels at the LSTM's shapes when it is installed (a
# reference only: the library links no BLAS)
BLASFLAGS=""
BLASNAME="none linked (own kernels); OpenBLAS sgemm not installed, not timed"
if printf '#include <cblas.h>\nint main(void){return 0;}\n' | ${CC:-cc} -x c - -lopenblas \
    -o "$OUT/.cblas_probe" 2>/dev/null; then
    BLASFLAGS="-DLSTMSRC_BENCH_OPENBLAS -lopenblas"
    BLASNAME="none linked (own kernels); OpenBLAS sgemm timed as a reference"
fi
rm -f "$OUT/.cblas_probe"
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -O2 -g -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wvla \
    -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/bench_lstm.c "$LIB" -lm -lpthread \
    $BLASFLAGS -o "$OUT/bench_lstm"
B="$OUT/bench_lstm"
KV="$OUT/results.txt"
: >"$KV"
run() { "$@" | tee -a "$KV"; }
# the same measure on the AVX2 kernels (LSTMSRC_ISA=avx2), keys prefixed avx2_, when the kernels
# in use are wider (an AVX-512 CPU): both in the same run, on the same core
ISA=$("$B" isa | sed -n 's/^isa //p')
run_avx2() {
    if [ "$ISA" = avx512 ] || [ "$ISA" = amx ]; then LSTMSRC_ISA=avx2 "$B" "$@" | sed 's/^/avx2_/' | tee -a "$KV"; fi
}

echo "== data: $ROWS rows (reference), 1,100,000 rows (memory)"
"$CLI" gen --rows "$ROWS" --sources 3 --seed 1 -o "$OUT/ref.csv"
"$CLI" gen --rows 1100000 --sources 3 --seed 2 -o "$OUT/big.csv"

echo "load_start $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$KV"
echo "== machine"
run "$B" isa
run "$B" peak
run "$B" gemm
run_avx2 gemm
echo "== one training step, batch 512 (median of 200)"
run "$B" step 64 512 5 200
run_avx2 step 64 512 5 200
run "$B" step 16 512 5 400
run_avx2 step 16 512 5 400
echo "== lstmsrc training, $EPOCHS epochs per configuration"
for h in 64 16; do
    for t in 1 2; do run "$B" train "$OUT/ref.csv" "$h" "$t" "$EPOCHS"; done
    run_avx2 train "$OUT/ref.csv" "$h" 1 "$EPOCHS"
done
echo "== lstmsrc inference and stream"
for h in 64 16; do
    "$CLI" train "$OUT/ref.csv" -o "$OUT/m$h.lsm" --hidden "$h" --epochs 1 --threads 2 --quiet \
        --features raw --label-at last \
        >/dev/null
    run "$B" infer "$OUT/m$h.lsm" "$OUT/ref.csv"
    run_avx2 infer "$OUT/m$h.lsm" "$OUT/ref.csv"
done
echo "== CSV parsing and peak memory"
run "$B" csv "$OUT/big.csv" 5
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%M" -o "$OUT/rss.txt" "$CLI" train "$OUT/big.csv" -o "$OUT/big.lsm" \
        --epochs 1 --threads 1 --quiet --features raw --label-at last >/dev/null
    echo "train_1100k_peak_rss_kb $(tail -n 1 "$OUT/rss.txt")" | tee -a "$KV"
else
    echo "(no /usr/bin/time: peak memory not measured)"
fi

TORCH=no
if [ "${BENCH_NO_TORCH:-0}" != 1 ] && [ -x "$PY" ] && "$PY" -c "import torch" 2>/dev/null; then
    TORCH=yes
    echo "== PyTorch $("$PY" -c 'import torch; print(torch.__version__)'), same data, $TEPOCHS epochs"
    # Debian's torch calls OpenBLAS (pthread build), whose own thread pool ignores
    # torch.set_num_threads: pin every pool to the thread count being measured
    tr() { t=$1; shift; OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t run "$@"; }
    for h in 64 16; do
        tr 1 "$PY" bench/torch_ref.py "$OUT/ref.csv" "$h" 1 "$TEPOCHS" --infer
        tr 2 "$PY" bench/torch_ref.py "$OUT/ref.csv" "$h" 2 "$TEPOCHS" --max-batches "$TBATCH2"
    done
    echo "torch_version $("$PY" -c 'import torch; print(torch.__version__)')" >>"$KV"
else
    echo "== PyTorch not available (python3-torch): lstmsrc numbers only"
fi

echo "load_end $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$KV"
CPU=$(grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //')
FLAGS=$(awk '/^flags/ { for (i = 1; i <= NF; i++)
    if ($i == "avx2" || $i == "fma" || $i ~ /^avx512(f|bw|dq|vl|_bf16)$/) printf "%s ", $i; exit }' /proc/cpuinfo)
NCPU=$(nproc)
sh bench/report.sh "$KV" "$CPU ($NCPU cores; $FLAGS)" "$BLASNAME" "$TORCH" "$ROWS" "$EPOCHS" \
    "$TEPOCHS" >bench/RESULTS.md
echo
cat bench/RESULTS.md
