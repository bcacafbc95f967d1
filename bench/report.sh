#!/bin/sh
# bench/report.sh RESULTS.txt CPU BLAS TORCH ROWS EPOCHS TORCH_EPOCHS — turns the "key value"
# lines of bench/run.sh into bench/RESULTS.md (markdown on stdout). Ratios and the GEMM floor are
# computed here from the measured numbers; "n/a" where a number is missing.
set -eu
KV=$1 CPU=$2 BLAS=$3 TORCH=$4 ROWS=$5 EPOCHS=$6 TEPOCHS=$7
awk -v cpu="$CPU" -v blas="$BLAS" -v torch="$TORCH" -v rows="$ROWS" -v ep="$EPOCHS" \
    -v tep="$TEPOCHS" -v date="$(date -u +%Y-%m-%d)" '
{ v[$1] = $2 }
function has(k) { return (k in v) && v[k] != "" }
function f(k, fmt) { return has(k) ? sprintf(fmt, v[k]) : "n/a" }
function ratio(a, b, fmt) { return (has(a) && has(b) && v[b] > 0) ? sprintf(fmt, v[a] / v[b]) : "n/a" }
END {
    peak = ((v["isa"] == "avx512" || v["isa"] == "amx") && has("peak512_gflops")) ? v["peak512_gflops"] : v["peak_gflops"]
    print "# lstmsrc benchmark results"
    print ""
    printf "Measured %s on %s, one run of `make bench` (bench/run.sh). BLAS: %s. ", date, cpu, blas
    printf "Load average (1 min, the machine is shared) at start / end: %s / %s. ", f("load_start", "%s"), f("load_end", "%s")
    printf "PyTorch: %s.\n", (torch == "yes" ? v["torch_version"] " (Debian python3-torch), same data and configuration, same run" : "not installed")
    print ""
    printf "Reference configuration: window 5, 1 input, LSTM H, 3 sigmoid outputs (BCE, pos_weight), "
    printf "batch 512, Adam; %d rows, %s training windows. Epoch = the training loop over all training ", rows, f("train_H64_1t_windows", "%d")
    printf "windows (validation excluded, as in the PyTorch loop); median of %d epochs (PyTorch %d; ", ep, tep
    printf "its 2-thread epochs are timed over their first %s batches and scaled).\n", has("torch_train_H64_2t_batches_timed") ? v["torch_train_H64_2t_batches_timed"] : "n/a"
    print ""
    print "## Training (seconds per epoch)"
    print ""
    print "| config | lstmsrc median (min) | PyTorch median (min) | PyTorch / lstmsrc (medians) | lstmsrc GFLOP/s at the median (framework count / ours) |"
    print "|---|---:|---:|---:|---:|"
    nb = has("train_H64_1t_windows") ? v["train_H64_1t_windows"] / 512 : 0
    for (hi = 0; hi < 2; hi++) {
        h = hi ? 16 : 64
        for (t = 1; t <= 2; t++) {
            k = "train_H" h "_" t "t_epoch_s_median"; tk = "torch_train_H" h "_" t "t_epoch_s_median"
            gf = (has(k) && nb > 0) ? sprintf("%.1f / %.1f", v["step_H" h "_mflop_framework"] * nb / 1e3 / v[k], v["step_H" h "_mflop_minimal"] * nb / 1e3 / v[k]) : "n/a"
            mk = "train_H" h "_" t "t_epoch_s_min"; tmk = "torch_train_H" h "_" t "t_epoch_s_min"
            printf "| H=%d, %d thread%s | %s (%s) | %s (%s) | %s | %s |\n", h, t, (t > 1 ? "s" : ""), f(k, "%.2f"), f(mk, "%.2f"), f(tk, "%.2f"), f(tmk, "%.2f"), ratio(tk, k, "%.1fx"), gf
        }
    }
    print ""
    if (peak > 0 && nb > 0) {
        fw = v["step_H64_mflop_framework"] * nb / 1e3; mn = v["step_H64_mflop_minimal"] * nb / 1e3
        printf "GEMM floor at H=64 on this core (measured FMA peak %.1f GFLOP/s): %.0f GFLOP per epoch as frameworks count it = %.2f s; ", peak, fw, fw / peak
        printf "%.0f GFLOP with the zero initial state skipped (what lstmsrc computes) = %.2f s. ", mn, mn / peak
        if (has("train_H64_1t_epoch_s_median"))
            printf "lstmsrc 1 thread (median epoch / best epoch) is %.2fx / %.2fx the first floor and %.2fx / %.2fx the second.\n", v["train_H64_1t_epoch_s_median"] / (fw / peak), v["train_H64_1t_epoch_s_min"] / (fw / peak), v["train_H64_1t_epoch_s_median"] / (mn / peak), v["train_H64_1t_epoch_s_min"] / (mn / peak)
        print ""
    }
    print "One training step in isolation (forward, loss, backward, Adam; batch 512; median of repeats):"
    print ""
    print "| H | step median (min), us | fused step (model_train_step) median (min), us | forward min (us) | backward min (us) | windows/s at the min | GFLOP/s at the min (framework / ours) |"
    print "|---|---:|---:|---:|---:|---:|---:|"
    for (hi = 0; hi < 2; hi++) {
        h = hi ? 16 : 64; p = "step_H" h "_"
        mn_us = has(p "us_min") ? v[p "us_min"] : 0
        printf "| %d | %s (%s) | %s (%s) | %s | %s | %s | %s |\n", h, f(p "us_median", "%.0f"), f(p "us_min", "%.0f"), f(p "fused_us_median", "%.0f"), f(p "fused_us_min", "%.0f"), f(p "forward_us_min", "%.0f"), f(p "backward_us_min", "%.0f"), (mn_us > 0 ? sprintf("%.0f", 512e6 / mn_us) : "n/a"), (mn_us > 0 ? sprintf("%.1f / %.1f", v[p "mflop_framework"] / mn_us * 1e3, v[p "mflop_minimal"] / mn_us * 1e3) : "n/a")
    }
    print ""
    print "## Inference (1 thread)"
    print ""
    print "| H | lstmsrc windows/s | PyTorch windows/s (batch 4096) | ratio | lstmsrc stream (us per row) | PyTorch one window (us) |"
    print "|---|---:|---:|---:|---:|---:|"
    for (hi = 0; hi < 2; hi++) {
        h = hi ? 16 : 64
        printf "| %d | %s | %s | %s | %s | %s |\n", h, f("infer_H" h "_windows_per_s", "%.0f"), f("torch_infer_H" h "_windows_per_s", "%.0f"), ratio("infer_H" h "_windows_per_s", "torch_infer_H" h "_windows_per_s", "%.1fx"), f("stream_H" h "_us_per_step", "%.2f"), f("torch_window_H" h "_us", "%.1f")
    }
    print ""
    if (has("avx2_step_H64_fused_us_min") || has("avx2_train_H64_1t_epoch_s_median")) {
        p5 = has("peak512_gflops") ? v["peak512_gflops"] : 0
        print "## AVX-512 against AVX2 (same run, same core; the AVX2 rows with LSTMSRC_ISA=avx2)"
        print ""
        printf "Kernels in use: %s. FMA peak of one core: %s GFLOP/s with 512-bit FMAs, %s with 256-bit.", f("isa", "%s"), f("peak512_gflops", "%.1f"), f("peak_gflops", "%.1f")
        if (p5 > 0 && nb > 0) {
            mn = v["step_H64_mflop_minimal"] * nb / 1e3
            printf " H=64 floor with 512-bit FMAs: %.0f GFLOP / %.1f GFLOP/s = %.2f s per epoch.", mn, p5, mn / p5
        }
        print ""
        print ""
        print "| measure | AVX-512 | AVX2 | AVX-512 / AVX2 (time) |"
        print "|---|---:|---:|---:|"
        for (hi = 0; hi < 2; hi++) {
            h = hi ? 16 : 64
            k = "train_H" h "_1t_epoch_s_median"; mk = "train_H" h "_1t_epoch_s_min"
            printf "| train H=%d, 1 thread, s/epoch median (min) | %s (%s) | %s (%s) | %s |\n", h, f(k, "%.2f"), f(mk, "%.2f"), f("avx2_" k, "%.2f"), f("avx2_" mk, "%.2f"), ratio(k, "avx2_" k, "%.2fx")
        }
        for (hi = 0; hi < 2; hi++) {
            h = hi ? 16 : 64
            k = "step_H" h "_fused_us_min"
            printf "| fused step H=%d, batch 512, us (min) | %s | %s | %s |\n", h, f(k, "%.0f"), f("avx2_" k, "%.0f"), ratio(k, "avx2_" k, "%.2fx")
        }
        for (hi = 0; hi < 2; hi++) {
            h = hi ? 16 : 64
            k = "infer_H" h "_windows_per_s"
            printf "| predict H=%d, windows/s | %s | %s | %s |\n", h, f(k, "%.0f"), f("avx2_" k, "%.0f"), ratio("avx2_" k, k, "%.2fx")
            k = "stream_H" h "_us_per_step"
            printf "| stream H=%d, us per row | %s | %s | %s |\n", h, f(k, "%.2f"), f("avx2_" k, "%.2f"), ratio(k, "avx2_" k, "%.2fx")
        }
        printf "| gemm_packed 512x256x65, GFLOP/s | %s | %s | %s |\n", f("gemm_packed_512x256x65_gflops", "%.1f"), f("avx2_gemm_packed_512x256x65_gflops", "%.1f"), ratio("avx2_gemm_packed_512x256x65_gflops", "gemm_packed_512x256x65_gflops", "%.2fx")
        printf "| gemm_tn_own 256x64x2048, GFLOP/s | %s | %s | %s |\n", f("gemm_tn_own_256x64x2048_gflops", "%.1f"), f("avx2_gemm_tn_own_256x64x2048_gflops", "%.1f"), ratio("avx2_gemm_tn_own_256x64x2048_gflops", "gemm_tn_own_256x64x2048_gflops", "%.2fx")
        if (p5 > 0 && nb > 0 && has("train_H64_1t_epoch_s_median"))
            printf "\nAVX-512 H=64, 1 thread: median epoch %.2fx, best epoch %.2fx, fused step min x %d steps %.2fx the 512-bit floor (%.2f s).\n", v["train_H64_1t_epoch_s_median"] / (mn / p5), v["train_H64_1t_epoch_s_min"] / (mn / p5), int(nb + 0.999), v["step_H64_fused_us_min"] * int(nb + 0.999) / 1e6 / (mn / p5), mn / p5
        print ""
    }
    print "## Kernels, data, memory"
    print ""
    print "| measure | value |"
    print "|---|---:|"
    printf "| FMA peak, 1 core (GFLOP/s), 256-bit FMAs | %s |\n", f("peak_gflops", "%.1f")
    if (has("peak512_gflops")) printf "| FMA peak, 1 core (GFLOP/s), 512-bit FMAs | %s |\n", f("peak512_gflops", "%.1f")
    printf "| LSTM step product 512x256x65, gemm_packed (GFLOP/s) | %s |\n", f("gemm_packed_512x256x65_gflops", "%.1f")
    printf "| same, gemm_nn_own (unpacked B) | %s |\n", f("gemm_nn_own_512x256x65_gflops", "%.1f")
    printf "| same, OpenBLAS cblas_sgemm | %s |\n", f("cblas_sgemm_512x256x65_gflops", "%.1f")
    printf "| K=1 input projection as its own OpenBLAS GEMM | %s |\n", f("cblas_sgemm_512x256x1_gflops", "%.1f")
    printf "| dW shape 256x64, K=2048: gemm_tn_own / OpenBLAS | %s / %s |\n", f("gemm_tn_own_256x64x2048_gflops", "%.1f"), f("cblas_sgemm_tn_256x64x2048_gflops", "%.1f")
    printf "| CSV parsing, lstmsrc_dataset_load of 1.1M rows (MB/s, median / best of 5) | %s / %s |\n", f("csv_mb_per_s", "%.0f"), f("csv_mb_per_s_best", "%.0f")
    printf "| peak RSS, train on 1.1M rows, 1 thread (MB) | %s |\n", has("train_1100k_peak_rss_kb") ? sprintf("%.1f", v["train_1100k_peak_rss_kb"] / 1024) : "n/a"
    print ""
    print "Reproduce: `make bench` (OpenBLAS sgemm is timed as a reference when installed); raw numbers in BUILD/bench/results.txt."
    print "lstmsrc training goes through lstmsrc_train (src/train/train.c), inference through lstmsrc_predict (batches of 64, src/infer/predict.c), the stream through lstmsrc_stream_push; epoch times depend on the machine load noted above."
}' "$KV"
