/*
 * bench_lstm.c — timing harness for lstmsrc's kernels, training step, training epochs,
 * inference, streaming and CSV parsing. Each mode prints one "key value" line per number, for
 * bench/run.sh to collect; times are medians (and minima) over repeats in one process.
 *
 *   bench_lstm peak                          AVX2 (and AVX-512) FMA throughput of one core
 *   bench_lstm isa                           the kernels in use (LSTMSRC_ISA) and the CPU's best
 *   bench_lstm gemm                          the LSTM step's products: ours vs the BLAS (if any)
 *   bench_lstm step H [B T REPS]             one training step (forward, loss, backward, Adam)
 *   bench_lstm train CSV H THREADS EPOCHS    lstmsrc_train on a CSV: seconds per epoch
 *   bench_lstm infer MODEL CSV               prediction throughput (windows/s) and stream
 *                                            latency (us per pushed row) of a saved model
 *   bench_lstm csv CSV REPS                  lstmsrc_dataset_load rate (MB/s)
 * Before timing, `gemm` checks our kernels against a double-precision product, so a fast wrong
 * kernel cannot post a number. Not a test: nothing here fails on slowness.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/common.h"
#include "base/rng.h"
#include "nn/head.h"
#include "nn/kernels.h"
#include "nn/model.h"
#include "nn/optim.h"

/* OpenBLAS's sgemm at the LSTM's shapes, as a reference for the own kernels (bench/run.sh
 * defines this when OpenBLAS is installed; the library links no BLAS) */
#ifdef LSTMSRC_BENCH_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

/* ============================== helpers ============================== */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    if (n < 1) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double minimum(const double *v, int n)
{
    if (n < 1) return NAN;
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

static void fill(float *p, size_t n, struct rng *r, float a)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2.0 * rng_uniform(r) - 1.0) * a);
}

static void *xalloc(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

/* FLOPs of one training step as frameworks count it (every product in full, 2 per
 * multiply-add), and the minimum our kernels do (zero initial state skipped). */
static void step_flops(int B, int T, int F, int H, double *framework, double *minimal)
{
    double G = 4.0 * H;
    double fwd = 2.0 * B * G * (F + H) * T;
    *framework = 3.0 * fwd; /* forward, input/recurrent gradient, weight gradient */
    *minimal = 2.0 * B * G * ((double)F * T + (double)H * (T - 1)) /* forward */
               + 2.0 * B * G * H * (T - 1)                         /* dh_{t-1} */
               + 2.0 * B * G * ((double)F * T + H * (T - 1.0));    /* dW */
}

/* ============================== peak ============================== */

#if defined(__x86_64__) && defined(__GNUC__)
/* 12 independent FMA chains in named registers (an array of vectors would live in memory) */
__attribute__((target("avx2,fma"))) static double peak_avx2(void)
{
    const __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-9f);
#define PK(i) __m256 a##i = _mm256_set1_ps((float)i);
#define PF(i) a##i = _mm256_fmadd_ps(a##i, b, c);
#define PS(i) s += a##i[0];
#define P12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
    P12(PK)
    const long n = 2000000;
    double t0 = now_seconds();
    for (long i = 0; i < n; i++) {
        P12(PF)
    }
    double t = now_seconds() - t0;
    float s = 0;
    P12(PS)
    if (s == 12345.0f) puts("");
    return (double)n * 12 * 16 / t / 1e9;
}
/* the same with 16-wide FMAs: 24 chains, enough for two 512-bit FMA units at latency 4 */
__attribute__((target("avx512f,avx2,fma"))) static double peak_avx512(void)
{
    const __m512 b = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-9f);
#define QK(i) __m512 q##i = _mm512_set1_ps((float)i);
#define QF(i) q##i = _mm512_fmadd_ps(q##i, b, c);
#define QS(i) s += _mm512_reduce_add_ps(q##i);
#define Q12A(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define Q12B(X) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
#define Q24(X) Q12A(X) Q12B(X)
    Q24(QK)
    const long n = 1000000;
    double t0 = now_seconds();
    for (long i = 0; i < n; i++) {
        Q24(QF)
    }
    double t = now_seconds() - t0;
    float s = 0;
    Q24(QS)
    if (s == 12345.0f) puts("");
    return (double)n * 24 * 32 / t / 1e9;
}
/* the same chains on vdpbf16ps: each does two bf16 products per lane (64 FLOP) */
__attribute__((target("avx512bf16,avx512f,avx2,fma"))) static double peak_bf16(void)
{
    const __m512bh b = (__m512bh)_mm512_set1_epi32(0x3f803f80); /* (1, 1) */
#define DK(i) __m512 q##i = _mm512_set1_ps((float)i);
#define DF(i) q##i = _mm512_dpbf16_ps(q##i, b, b);
    Q24(DK)
    const long n = 1000000;
    double t0 = now_seconds();
    for (long i = 0; i < n; i++) {
        Q24(DF)
    }
    double t = now_seconds() - t0;
    float s = 0;
    Q24(QS)
    if (s == 12345.0f) puts("");
    return (double)n * 24 * 64 / t / 1e9;
}
#endif

static int mode_peak(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("peak_gflops 0\n");
        return 0;
    }
    /* a ceiling: preemption on a shared machine only lowers a run, so the best of many short
     * runs is the measurement */
    double best = 0;
    for (int r = 0; r < 50; r++) {
        double g = peak_avx2();
        best = g > best ? g : best;
    }
    printf("peak_gflops %.1f\n", best);
    if (kernels_isa_supported(KERNELS_ISA_AVX512)) {
        double best5 = 0;
        for (int r = 0; r < 50; r++) {
            double g = peak_avx512();
            best5 = g > best5 ? g : best5;
        }
        printf("peak512_gflops %.1f\n", best5);
    }
    if (kernels_bf16_supported()) {
        double bestb = 0;
        for (int r = 0; r < 50; r++) {
            double g = peak_bf16();
            bestb = g > bestb ? g : bestb;
        }
        printf("peak_bf16_gflops %.1f\n", bestb);
    }
#else
    printf("peak_gflops 0\n");
#endif
    return 0;
}

/* ============================== gemm ============================== */

/* max |ours - exact| / (|exact| + 1) over C (M, N) = A (M, K) @ B (K, N) */
static double check_nn(const float *C, const float *A, const float *Bm, int M, int N, int K)
{
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)A[(size_t)i * K + k] * Bm[(size_t)k * N + j];
            double e = fabs(C[(size_t)i * N + j] - s) / (fabs(s) + 1.0);
            worst = e > worst ? e : worst;
        }
    return worst;
}

static int mode_gemm(void)
{
    struct rng r;
    rng_seed(&r, 5);
    /* the step shapes at H = 64: forward (512, 256, 65), dh (512, 64, 256), dW (256, 64, 2048) */
    const int M = 512, N = 256, K = 65, reps = 200;
    float *A = xalloc((size_t)M * K * 4), *Bm = xalloc((size_t)K * N * 4);
    float *C = xalloc((size_t)M * N * 4), *bp = xalloc(pack_floats(K, N) * 4);
    fill(A, (size_t)M * K, &r, 1.0f);
    fill(Bm, (size_t)K * N, &r, 1.0f);
    pack_b_n(bp, Bm, N, K, N);
    double flops = 2.0 * M * N * K, t[200];

    gemm_packed(C, N, A, K, K, NULL, 0, 0, bp, K, NULL, 0, M, N);
    double err = check_nn(C, A, Bm, M, N, K);
    printf("gemm_check_packed %.2e\n", err);
    if (err > 1e-5) {
        fprintf(stderr, "bench: gemm_packed is wrong (%.2e)\n", err);
        return 1;
    }
    for (int i = 0; i < reps; i++) {
        double t0 = now_seconds();
        gemm_packed(C, N, A, K, K, NULL, 0, 0, bp, K, NULL, 0, M, N);
        t[i] = now_seconds() - t0;
    }
    printf("gemm_packed_512x256x65_gflops %.1f\n", flops / median(t, reps) / 1e9);
    for (int i = 0; i < reps; i++) {
        double t0 = now_seconds();
        gemm_nn_own(C, N, A, K, Bm, N, M, N, K, 0.0f);
        t[i] = now_seconds() - t0;
    }
    printf("gemm_nn_own_512x256x65_gflops %.1f\n", flops / median(t, reps) / 1e9);
#ifdef LSTMSRC_BENCH_OPENBLAS
    for (int i = 0; i < reps; i++) {
        double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, K, Bm, N, 0.0f, C,
                    N);
        t[i] = now_seconds() - t0;
    }
    printf("cblas_sgemm_512x256x65_gflops %.1f\n", flops / median(t, reps) / 1e9);
    for (int i = 0; i < reps; i++) {
        double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, 1, 1.0f, A, K, Bm, N, 0.0f, C,
                    N);
        t[i] = now_seconds() - t0;
    }
    printf("cblas_sgemm_512x256x1_gflops %.1f\n", 2.0 * M * N / median(t, reps) / 1e9);
#endif
    /* dW shape: C (256, 64) += A^T B, A (2048, 256), B (2048, 64) */
    {
        const int m = 256, n = 64, k = 2048;
        float *a = xalloc((size_t)k * m * 4), *b = xalloc((size_t)k * n * 4);
        float *c = xalloc((size_t)m * n * 4);
        fill(a, (size_t)k * m, &r, 1.0f);
        fill(b, (size_t)k * n, &r, 1.0f);
        for (int i = 0; i < 50; i++) {
            double t0 = now_seconds();
            gemm_tn_own(c, n, a, m, b, n, m, n, k);
            t[i] = now_seconds() - t0;
        }
        printf("gemm_tn_own_256x64x2048_gflops %.1f\n", 2.0 * m * n * k / median(t, 50) / 1e9);
#ifdef LSTMSRC_BENCH_OPENBLAS
        for (int i = 0; i < 50; i++) {
            double t0 = now_seconds();
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f, a, m, b, n, 1.0f, c,
                        n);
            t[i] = now_seconds() - t0;
        }
        printf("cblas_sgemm_tn_256x64x2048_gflops %.1f\n", 2.0 * m * n * k / median(t, 50) / 1e9);
#endif
        free(a);
        free(b);
        free(c);
    }
    free(A);
    free(Bm);
    free(C);
    free(bp);
    return 0;
}

/* ============================== step ============================== */

/* BENCH_PRECISION=fp32|bf16 (default fp32): the precision step, train and infer run in */
static enum lstmsrc_precision bench_precision(void)
{
    const char *e = getenv("BENCH_PRECISION");
    return e && !strcmp(e, "bf16") ? LSTMSRC_PRECISION_BF16 : LSTMSRC_PRECISION_FP32;
}

static int mode_step(int H, int B, int T, int reps)
{
    const int F = 1, K = 3;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    if (model_create(F, H, 1, 1, K, T, K, LSTMSRC_TASK_MULTILABEL, LSTMSRC_LABELS_SOURCES, &m,
                     &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    struct rng r;
    rng_seed(&r, 3);
    model_init_params(m, &r);
    if (lstmsrc_model_set_precision(m, bench_precision(), &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    struct model_ws *ws = model_ws_create(m, B, 1);
    float *x = xalloc((size_t)T * B * F * 4), *y = xalloc((size_t)B * K * 4);
    float *dl = xalloc((size_t)B * K * 4), *g = xalloc(m->n_params * 4);
    float *am = xalloc(m->n_params * 4), *av = xalloc(m->n_params * 4);
    double *t = xalloc((size_t)reps * sizeof *t), *tf = xalloc((size_t)reps * sizeof *tf);
    double *tb = xalloc((size_t)reps * sizeof *tb);
    if (!ws) return 1;
    fill(x, (size_t)T * B * F, &r, 1.5f);
    for (int i = 0; i < B * K; i++)
        y[i] = rng_uniform(&r) < 0.3;
    for (int it = -3; it < reps; it++) {
        double t0 = now_seconds();
        const float *logits = model_forward(m, ws, x, B);
        double t1 = now_seconds();
        loss_bce_logits(dl, logits, y, NULL, B, K, 1.0f / (float)(B * K));
        memset(g, 0, m->n_params * sizeof *g);
        double t2 = now_seconds();
        model_backward(m, ws, g, dl, B);
        double t3 = now_seconds();
        adam_step(m->params, g, am, av, m->n_params, 1e-3f, 0.9f, 0.999f, 1e-7f, it + 4);
        model_weights_changed(m);
        if (it >= 0) {
            t[it] = now_seconds() - t0;
            tf[it] = t1 - t0;
            tb[it] = t3 - t2;
        }
    }
    /* the same step through model_train_step (forward, loss, backward fused per row block) */
    double *tz = xalloc((size_t)reps * sizeof *tz);
    for (int it = -3; it < reps; it++) {
        double t0 = now_seconds();
        memset(g, 0, m->n_params * sizeof *g);
        model_train_step(m, ws, g, x, y, NULL, B, 1.0f / (float)(B * K));
        adam_step(m->params, g, am, av, m->n_params, 1e-3f, 0.9f, 0.999f, 1e-7f, reps + it + 4);
        model_weights_changed(m);
        if (it >= 0) tz[it] = now_seconds() - t0;
    }
    printf("step_H%d_fused_us_median %.1f\n", H, median(tz, reps) * 1e6);
    printf("step_H%d_fused_us_min %.1f\n", H, minimum(tz, reps) * 1e6);
    free(tz);
    double fw, mn;
    step_flops(B, T, F, H, &fw, &mn);
    double med = median(t, reps), best = minimum(t, reps), fmed = median(tf, reps);
    printf("step_H%d_us_median %.1f\n", H, med * 1e6);
    printf("step_H%d_us_min %.1f\n", H, best * 1e6);
    printf("step_H%d_forward_us_median %.1f\n", H, fmed * 1e6);
    printf("step_H%d_forward_us_min %.1f\n", H, minimum(tf, reps) * 1e6);
    printf("step_H%d_backward_us_min %.1f\n", H, minimum(tb, reps) * 1e6);
    printf("step_H%d_windows_per_s %.0f\n", H, B / med);
    printf("step_H%d_gflops_framework %.1f\n", H, fw / med / 1e9);
    printf("step_H%d_gflops_minimal %.1f\n", H, mn / med / 1e9);
    printf("step_H%d_mflop_framework %.2f\n", H, fw / 1e6);
    printf("step_H%d_mflop_minimal %.2f\n", H, mn / 1e6);
    free(x);
    free(y);
    free(dl);
    free(g);
    free(am);
    free(av);
    free(t);
    free(tf);
    free(tb);
    model_ws_free(ws);
    lstmsrc_model_free(m);
    return 0;
}

/* ============================== train ============================== */

struct epoch_log {
    double train_s[64]; /* training part of each epoch (before validation) */
    int n;
};

static void on_progress(const struct lstmsrc_progress *p, void *user)
{
    struct epoch_log *log = user;
    if (!p->end_of_epoch && p->done == p->total && log->n < 64) log->train_s[log->n++] = p->seconds;
}

static int mode_train(const char *csv, int H, int threads, int epochs)
{
    struct lstmsrc_error err;
    struct lstmsrc_columns cols;
    memset(&cols, 0, sizeof cols);
    struct lstmsrc_dataset *ds = NULL;
    if (lstmsrc_dataset_load(csv, &cols, &ds, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.hidden = H;
    cfg.features = LSTMSRC_FEATURE_RAW; /* the reference configuration: one input, as PyTorch */
    cfg.label_at = LSTMSRC_LABEL_LAST;  /* and one direction read at the last row */
    cfg.threads = threads;
    cfg.epochs = epochs;
    cfg.precision = bench_precision();
    struct epoch_log log = {{0}, 0};
    cfg.progress = on_progress;
    cfg.progress_user = &log;
    struct lstmsrc_model *m = NULL;
    double t0 = now_seconds();
    if (lstmsrc_train(ds, &cfg, &m, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    double total = now_seconds() - t0;
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    const char *tag = threads == 1 ? "1t" : "2t";
    printf("train_H%d_%s_windows %llu\n", H, tag, (unsigned long long)info.windows_train);
    printf("train_H%d_%s_epoch_s_median %.3f\n", H, tag, median(log.train_s, log.n));
    printf("train_H%d_%s_epoch_s_min %.3f\n", H, tag, minimum(log.train_s, log.n));
    printf("train_H%d_%s_total_s %.3f\n", H, tag, total);
    printf("train_H%d_%s_val_loss %.5f\n", H, tag, (double)info.val_loss);
    lstmsrc_model_free(m);
    lstmsrc_dataset_free(ds);
    return 0;
}

/* ============================== inference ============================== */

static int mode_infer(const char *model, const char *csv)
{
    struct lstmsrc_error err;
    struct lstmsrc_model *m = NULL;
    if (lstmsrc_model_load(model, &m, &err) ||
        lstmsrc_model_set_precision(m, bench_precision(), &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    struct lstmsrc_columns cols;
    lstmsrc_model_columns(m, 1, &cols);
    struct lstmsrc_dataset *ds = NULL;
    if (lstmsrc_dataset_load(csv, &cols, &ds, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    size_t rows = lstmsrc_dataset_rows(ds);
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    const int T = info.seq_len, K = info.outputs, F = info.inputs, H = info.hidden;
    size_t nw = rows - (size_t)T + 1;
    float *probs = xalloc(nw * (size_t)K * sizeof *probs);
    double t[9];
    for (int r = 0; r < 5; r++) {
        double t0 = now_seconds();
        if (lstmsrc_predict(m, ds, probs, nw, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        t[r] = now_seconds() - t0;
    }
    printf("infer_H%d_windows_per_s %.0f\n", H, nw / median(t, 5));
    /* stream: one row in, one window's probabilities out */
    const float *x = lstmsrc_dataset_inputs_data(ds);
    struct lstmsrc_stream *s = NULL;
    if (lstmsrc_stream_create(m, &s, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    size_t n = rows < 200000 ? rows : 200000;
    float p[256];
    int ready;
    for (int r = 0; r < 9; r++) {
        lstmsrc_stream_reset(s);
        double t0 = now_seconds();
        for (size_t i = 0; i < n; i++)
            lstmsrc_stream_push(s, x + i * (size_t)F, p, &ready, NULL);
        t[r] = (now_seconds() - t0) / (double)n;
    }
    printf("stream_H%d_us_per_step %.3f\n", H, median(t, 9) * 1e6);
    lstmsrc_stream_free(s);
    free(probs);
    lstmsrc_model_free(m);
    lstmsrc_dataset_free(ds);
    return 0;
}

/* ============================== csv ============================== */

static int mode_csv(const char *csv, int reps)
{
    struct stat st;
    if (stat(csv, &st)) {
        fprintf(stderr, "bench: cannot stat %s\n", csv);
        return 1;
    }
    double t[32];
    if (reps > 32) reps = 32;
    for (int r = 0; r < reps; r++) {
        struct lstmsrc_error err;
        struct lstmsrc_columns cols;
        memset(&cols, 0, sizeof cols);
        struct lstmsrc_dataset *ds = NULL;
        double t0 = now_seconds();
        if (lstmsrc_dataset_load(csv, &cols, &ds, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        t[r] = now_seconds() - t0;
        lstmsrc_dataset_free(ds);
    }
    printf("csv_mb_per_s %.0f\n", (double)st.st_size / 1e6 / median(t, reps));
    printf("csv_mb_per_s_best %.0f\n", (double)st.st_size / 1e6 / minimum(t, reps));
    printf("csv_bytes %lld\n", (long long)st.st_size);
    return 0;
}

int main(int argc, char **argv)
{
#ifdef LSTMSRC_BENCH_OPENBLAS
    openblas_set_num_threads(1); /* one core, as the kernels it is compared with */
#endif
    char why[160];
    if (kernels_isa_env_problem(why, sizeof why)) {
        fprintf(stderr, "bench: %s\n", why);
        return 2;
    }
    if (argc >= 2 && !strcmp(argv[1], "isa")) {
        printf("isa %s\nisa_best %s\n", kernels_isa_name(kernels_isa()),
               kernels_isa_name(kernels_isa_best()));
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "peak")) return mode_peak();
    if (argc >= 2 && !strcmp(argv[1], "gemm")) return mode_gemm();
    if (argc >= 3 && !strcmp(argv[1], "step"))
        return mode_step(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 512,
                         argc > 4 ? atoi(argv[4]) : 5, argc > 5 ? atoi(argv[5]) : 100);
    if (argc >= 6 && !strcmp(argv[1], "train"))
        return mode_train(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc >= 4 && !strcmp(argv[1], "infer")) return mode_infer(argv[2], argv[3]);
    if (argc >= 4 && !strcmp(argv[1], "csv")) return mode_csv(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: bench_lstm peak | gemm | step H [B T REPS] | train CSV H THREADS "
                    "EPOCHS | infer MODEL CSV | csv CSV REPS\n");
    return 2;
}
