#!/bin/sh
# fp32 (AVX2 and AVX-512 kernels) against bf16 in one run: the reference epoch (976,000 generated
# rows = 878,396 training windows, window 5, batch 512, 1 thread; median of 2 epochs) at H 64 and
# 16, and inference windows/s (bench_lstm infer) at H 64 and 16. Prints bench_lstm's key/value
# lines prefixed avx2_fp32_, avx512_fp32_, avx512_bf16_ (vdpbf16ps, LSTMSRC_ISA=avx512) and,
# where the CPU has the AMX tiles, amx_bf16_. Needs build/bench/bench_lstm (make bench or make
# test builds it) and a CPU with AVX-512 BF16.
# Usage: sh bench/precision_bench.sh   (writes its data under /tmp/meas)
set -e
B=build/bench/bench_lstm; L=build/lstmsrc; O=/tmp/meas; mkdir -p $O
$L gen --rows 976000 --sources 3 --seed 1 -o $O/ref.csv
AMX=
LSTMSRC_ISA=amx $L --version 2>/dev/null | grep -q 'kernels: amx' && AMX=1
uptime
grep -m1 'model name' /proc/cpuinfo
$B isa
for h in 64 16; do
  $L train $O/ref.csv -o $O/m$h.lsm --hidden $h --epochs 1 --threads 2 --quiet --features raw --label-at last >/dev/null
done
for h in 64 16; do
  LSTMSRC_ISA=avx2 $B train $O/ref.csv $h 1 2 | sed 's/^/avx2_fp32_/'
  LSTMSRC_ISA=avx512 $B train $O/ref.csv $h 1 2 | sed 's/^/avx512_fp32_/'
  LSTMSRC_ISA=avx512 BENCH_PRECISION=bf16 $B train $O/ref.csv $h 1 2 | sed 's/^/avx512_bf16_/'
  [ -z "$AMX" ] || BENCH_PRECISION=bf16 LSTMSRC_ISA=amx $B train $O/ref.csv $h 1 2 | sed 's/^/amx_bf16_/'
done
for h in 64 16; do
  LSTMSRC_ISA=avx2 $B infer $O/m$h.lsm $O/ref.csv | sed 's/^/avx2_fp32_/'
  LSTMSRC_ISA=avx512 $B infer $O/m$h.lsm $O/ref.csv | sed 's/^/avx512_fp32_/'
  LSTMSRC_ISA=avx512 BENCH_PRECISION=bf16 $B infer $O/m$h.lsm $O/ref.csv | sed 's/^/avx512_bf16_/'
  [ -z "$AMX" ] || BENCH_PRECISION=bf16 LSTMSRC_ISA=amx $B infer $O/m$h.lsm $O/ref.csv | sed 's/^/amx_bf16_/'
done
uptime
