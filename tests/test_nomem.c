/*
 * test_nomem.c — out of memory is a status, never an abort: every allocation the library makes
 * while loading a data set and a model, training, saving, predicting, streaming, evaluating and
 * running the doctor is failed in turn, one per run. Each run must end with LSTMSRC_OK (where
 * the library can do without) or LSTMSRC_ERR_NOMEM and a message, never a crash, and must free
 * everything it allocated before the failure (no leak: the live allocations are counted).
 *
 * Built with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free (the Makefile): calls
 * from the library's objects and this file go through the __wrap_ functions below; what libc
 * allocates for itself (fopen's buffer) does not. Training runs on one thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsrc.h"
#include "test.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t c, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t c, size_t n);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

/* ---- the allocation counter (one thread: this test and training with threads = 1) ---- */
static long calls_;   /* allocation calls since arm() */
static long fail_at_; /* the call that fails (1-based), 0: none */
static int failed_;   /* the failure was injected */
static long live_;    /* blocks allocated through the wrappers and not freed */

/* the live blocks, so that a free of memory libc allocated (not counted) is told apart */
#define TABLE (1 << 16)
static void *table_[TABLE];
static void *const TOMB = (void *)&table_;
static size_t slot(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 2654435761u) & (TABLE - 1);
}
static void track(void *p)
{
    if (!p) return;
    for (size_t i = slot(p);; i = (i + 1) & (TABLE - 1))
        if (!table_[i] || table_[i] == TOMB) {
            table_[i] = p;
            live_++;
            return;
        }
}
static void untrack(void *p)
{
    if (!p) return;
    for (size_t i = slot(p); table_[i]; i = (i + 1) & (TABLE - 1))
        if (table_[i] == p) {
            table_[i] = TOMB;
            live_--;
            return;
        }
}
static int fail_now(void)
{
    calls_++;
    if (fail_at_ && calls_ == fail_at_) {
        failed_ = 1;
        return 1;
    }
    return 0;
}
void *__wrap_malloc(size_t n)
{
    if (fail_now()) return NULL;
    void *p = __real_malloc(n);
    track(p);
    return p;
}
void *__wrap_calloc(size_t c, size_t n)
{
    if (fail_now()) return NULL;
    void *p = __real_calloc(c, n);
    track(p);
    return p;
}
void *__wrap_realloc(void *p, size_t n)
{
    if (fail_now()) return NULL;
    void *q = __real_realloc(p, n);
    if (q || n == 0) untrack(p);
    track(q);
    return q;
}
void __wrap_free(void *p)
{
    untrack(p);
    __real_free(p);
}
static void arm(long at)
{
    calls_ = 0;
    fail_at_ = at;
    failed_ = 0;
}

/* ---- what is failed ---- */
static char dir_[] = "/tmp/lstmsrc_nomem_XXXXXX";
static char csv_path_[128], model_path_[128], save_path_[128];
static struct lstmsrc_dataset *ds_;
static struct lstmsrc_model *m_;
static unsigned char *model_bytes_;
static size_t model_len_;

static const char *CSV_HEAD = "time,reading,a,b\n";

static int fill_; /* with --fill linear (the hole at row 150 bridged) */

static enum lstmsrc_status op_dataset(struct lstmsrc_error *err)
{
    struct lstmsrc_columns cols = {0};
    cols.fill = fill_ ? LSTMSRC_FILL_LINEAR : LSTMSRC_FILL_NONE;
    struct lstmsrc_dataset *ds = NULL;
    enum lstmsrc_status st = lstmsrc_dataset_load(csv_path_, &cols, &ds, err);
    lstmsrc_dataset_free(ds);
    return st;
}
static enum lstmsrc_status op_model_load(struct lstmsrc_error *err)
{
    struct lstmsrc_model *m = NULL;
    enum lstmsrc_status st = lstmsrc_model_load_mem("m.lsm", model_bytes_, model_len_, &m, err);
    lstmsrc_model_free(m);
    return st;
}
static char ckpt_path_[128];
static int ckpt_;

/* one epoch, bidirectional, centred; with ckpt_ also writing a checkpoint */
static enum lstmsrc_status op_train(struct lstmsrc_error *err)
{
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.epochs = 1;
    cfg.hidden = 4;
    cfg.seq_len = 6;
    cfg.batch = 32;
    cfg.threads = 1;
    cfg.bidirectional = 1;
    cfg.label_at = LSTMSRC_LABEL_CENTER;
    cfg.tune_durations = 1;
    if (ckpt_) {
        cfg.checkpoint = ckpt_path_;
        cfg.epochs = 2;
    }
    struct lstmsrc_model *m = NULL;
    enum lstmsrc_status st = lstmsrc_train(ds_, &cfg, &m, err);
    lstmsrc_model_free(m);
    return st;
}
/* fine-tuning from the model trained in setup (in memory: its CRC comes from serialising it) */
static int init_refit_;
static enum lstmsrc_status op_train_init(struct lstmsrc_error *err)
{
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.epochs = 1;
    cfg.hidden = 4;
    cfg.seq_len = 6;
    cfg.batch = 32;
    cfg.threads = 1;
    cfg.init = m_;
    cfg.init_name = "m.lsm";
    cfg.init_refit_scaler = init_refit_;
    struct lstmsrc_model *m = NULL;
    enum lstmsrc_status st = lstmsrc_train(ds_, &cfg, &m, err);
    lstmsrc_model_free(m);
    return st;
}
static enum lstmsrc_status op_save(struct lstmsrc_error *err)
{
    return lstmsrc_model_save(m_, save_path_, err);
}
static enum lstmsrc_status op_predict(struct lstmsrc_error *err)
{
    const size_t rows = lstmsrc_dataset_rows(ds_);
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m_, &info);
    const size_t windows = rows - (size_t)info.seq_len + 1;
    float *probs = __real_malloc(windows * (size_t)info.outputs * sizeof *probs);
    if (!probs) return LSTMSRC_ERR_NOMEM;
    enum lstmsrc_status st =
        lstmsrc_predict_rows(m_, lstmsrc_dataset_inputs_data(ds_), rows, probs, windows, 1, err);
    __real_free(probs);
    return st;
}
static enum lstmsrc_status op_stream(struct lstmsrc_error *err)
{
    struct lstmsrc_stream *s = NULL;
    enum lstmsrc_status st = lstmsrc_stream_create(m_, &s, err);
    float probs[8];
    int ready = 0;
    for (int i = 0; i < 20 && st == LSTMSRC_OK; i++) {
        float x = (float)(100 + 10 * (i % 3));
        st = lstmsrc_stream_push(s, &x, probs, &ready, err);
    }
    lstmsrc_stream_free(s);
    return st;
}
static enum lstmsrc_status op_filter(struct lstmsrc_error *err)
{
    struct lstmsrc_filter *f = NULL;
    enum lstmsrc_status st = lstmsrc_filter_create(m_, &f, err);
    lstmsrc_filter_free(f);
    return st;
}
static enum lstmsrc_status op_evaluate(struct lstmsrc_error *err)
{
    struct lstmsrc_eval *ev = NULL;
    enum lstmsrc_status st = lstmsrc_evaluate(m_, ds_, &ev, err);
    lstmsrc_eval_free(ev);
    return st;
}
static enum lstmsrc_status op_doctor(struct lstmsrc_error *err)
{
    struct lstmsrc_report *r = NULL;
    enum lstmsrc_status st = lstmsrc_doctor(ds_, &r, err);
    lstmsrc_report_free(r);
    return st;
}
static enum lstmsrc_status op_rows(struct lstmsrc_error *err)
{
    struct lstmsrc_columns cols;
    lstmsrc_model_columns(m_, 1, &cols);
    cols.fill = fill_ ? LSTMSRC_FILL_LINEAR : LSTMSRC_FILL_NONE;
    struct lstmsrc_rows *r = NULL;
    enum lstmsrc_status st = lstmsrc_rows_open(csv_path_, &cols, &r, err);
    float x[64];
    double t[64];
    uint8_t mark[64];
    size_t n = 1;
    while (st == LSTMSRC_OK && n > 0)
        st = lstmsrc_rows_read_timed(r, x, t, mark, 64, &n, err);
    lstmsrc_rows_close(r);
    return st;
}

/* Fails every allocation of `op` in turn; returns how many runs ended in LSTMSRC_ERR_NOMEM. */
static long fail_each(const char *name, enum lstmsrc_status (*op)(struct lstmsrc_error *))
{
    struct lstmsrc_error err;
    long before = live_;
    arm(0);
    enum lstmsrc_status st = op(&err);
    const long total = calls_;
    CHECK(st == LSTMSRC_OK);
    CHECK(live_ == before);
    if (st != LSTMSRC_OK) fprintf(stderr, "  %s without a failure: %s\n", name, err.msg);
    long nomem = 0, bad = 0;
    for (long i = 1; i <= total && bad < 3; i++) {
        before = live_;
        err.msg[0] = '\0';
        arm(i);
        st = op(&err);
        arm(0);
        const int ok = st == LSTMSRC_OK || (st == LSTMSRC_ERR_NOMEM && err.msg[0]);
        if (st == LSTMSRC_ERR_NOMEM) nomem++;
        if (!ok || live_ != before) {
            bad++;
            fprintf(stderr,
                    "  %s, allocation %ld of %ld failed: status %d (%s), %ld blocks leaked\n", name,
                    i, total, (int)st, err.msg, live_ - before);
        }
    }
    CHECK(bad == 0);
    printf("  %-10s %4ld allocations failed one by one: %ld ended in NOMEM, the rest did without\n",
           name, total, nomem);
    return nomem;
}

static int setup(void)
{
    if (!mkdtemp(dir_)) return 0;
    snprintf(csv_path_, sizeof csv_path_, "%s/d.csv", dir_);
    snprintf(model_path_, sizeof model_path_, "%s/m.lsm", dir_);
    snprintf(save_path_, sizeof save_path_, "%s/s.lsm", dir_);
    snprintf(ckpt_path_, sizeof ckpt_path_, "%s/t.ckpt", dir_);
    FILE *fp = fopen(csv_path_, "w");
    if (!fp) return 0;
    fputs(CSV_HEAD, fp);
    /* a minute a row, a source on every 7th stretch, one outage (NA) and a jump in time */
    long t = 1400000000;
    for (int i = 0; i < 400; i++) {
        int a = (i / 9) % 4 == 1, b = (i / 13) % 5 == 2;
        if (i == 150)
            fprintf(fp, "%ld,NA,0,0\n", t);
        else
            fprintf(fp, "%ld,%d,%d,%d\n", t, 100 + 900 * a + 300 * b + i % 5, a, b);
        t += i == 250 ? 600 : 60;
    }
    if (fclose(fp)) return 0;
    struct lstmsrc_error err;
    struct lstmsrc_columns cols = {0};
    if (lstmsrc_dataset_load(csv_path_, &cols, &ds_, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 0;
    }
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.epochs = 1;
    cfg.hidden = 4;
    cfg.seq_len = 6;
    cfg.threads = 1;
    cfg.tune_durations = 1;
    if (lstmsrc_train(ds_, &cfg, &m_, &err) || lstmsrc_model_save(m_, model_path_, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 0;
    }
    fp = fopen(model_path_, "rb");
    if (!fp) return 0;
    fseek(fp, 0, SEEK_END);
    model_len_ = (size_t)ftell(fp);
    rewind(fp);
    model_bytes_ = __real_malloc(model_len_);
    int ok = model_bytes_ && fread(model_bytes_, 1, model_len_, fp) == model_len_;
    fclose(fp);
    return ok;
}

static void test_every_allocation_fails_cleanly(void)
{
    long nomem = 0;
    nomem += fail_each("dataset", op_dataset);
    nomem += fail_each("load", op_model_load);
    nomem += fail_each("train", op_train);
    ckpt_ = 1;
    nomem += fail_each("train+ckpt", op_train);
    ckpt_ = 0;
    nomem += fail_each("train --init", op_train_init);
    init_refit_ = 1;
    nomem += fail_each("train --init refit", op_train_init);
    init_refit_ = 0;
    nomem += fail_each("save", op_save);
    nomem += fail_each("predict", op_predict);
    nomem += fail_each("stream", op_stream);
    nomem += fail_each("filter", op_filter);
    nomem += fail_each("evaluate", op_evaluate);
    nomem += fail_each("doctor", op_doctor);
    nomem += fail_each("rows", op_rows);
    fill_ = 1;
    nomem += fail_each("dataset --fill", op_dataset);
    nomem += fail_each("rows --fill", op_rows);
    fill_ = 0;
    CHECK(nomem > 100); /* the failures were reached and reported */
}

int main(void)
{
    if (!setup()) {
        fprintf(stderr, "test_nomem: setup failed\n");
        return 1;
    }
    RUN(test_every_allocation_fails_cleanly);
    lstmsrc_model_free(m_);
    lstmsrc_dataset_free(ds_);
    __real_free(model_bytes_);
    unlink(csv_path_);
    unlink(model_path_);
    unlink(save_path_);
    unlink(ckpt_path_);
    rmdir(dir_);
    return test_report("test_nomem");
}
