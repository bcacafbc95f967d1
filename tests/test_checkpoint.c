/*
 * test_checkpoint.c — training checkpoints (src/io/checkpoint.c, the resume path of
 * src/train/setup.c).
 *
 * A run stopped anywhere (first step, mid-epoch, the last step of an epoch, after an early stop)
 * and resumed from its checkpoint ends with the same model file, byte for byte, as a run that
 * was never stopped, for multi-label (2 threads, tuned thresholds; also with a bidirectional
 * top layer over 2 layers and a centred label) and multi-class (patience) data; a checkpoint is
 * refused to a run with the other --bidirectional setting. A checkpoint cut at every byte
 * offset, or with any header byte and a sample of body bytes flipped, is refused with a clear
 * error and never crashes; one edited behind a
 * recomputed CRC is refused by the progress checks; one of other data or settings names the
 * difference; a newer version names both versions. Failed saves (path through a file, full
 * device, size limit) report the error and leave the previous checkpoint intact, and devices
 * and FIFOs are written in place. Works in a private mkdtemp directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/common.h"
#include "data/dataset.h"
#include "io/checkpoint.h"
#include "nn/model.h"
#include "test.h"
#include "testio.h"

static char dir[64];
static struct lstmsrc_dataset *ml, *mc; /* multi-label and multi-class data */

/* ============================== helpers ============================== */

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static struct lstmsrc_dataset *gen_data(int classes, uint64_t seed)
{
    char p[512];
    struct lstmsrc_gen_config g;
    struct lstmsrc_error err;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_columns cols;
    lstmsrc_gen_config_default(&g);
    g.rows = 3000;
    g.sources = 2;
    g.seed = seed;
    g.classes = classes;
    path_in(p, sizeof p, "data.csv");
    memset(&cols, 0, sizeof cols);
    if (classes) cols.class_column = "class";
    if (lstmsrc_gen_write(&g, p, &err) || lstmsrc_dataset_load(p, &cols, &ds, &err))
        fprintf(stderr, "  data: %s\n", err.msg);
    unlink(p);
    return ds;
}

/* Small, fast settings; `threads` 2 so the shard sums take part. */
static void small_config(struct lstmsrc_train_config *cfg)
{
    lstmsrc_train_config_default(cfg);
    cfg->label_at = LSTMSRC_LABEL_LAST; /* the runs below were chosen for last-row labels */
    cfg->seq_len = 3;
    cfg->hidden = 4;
    cfg->batch = 32;
    cfg->epochs = 3;
    cfg->threads = 2;
    cfg->lr = 3e-3f;
    cfg->features = LSTMSRC_FEATURE_RAW; /* the offsets and step counts below assume one channel */
}

/* Stops training after `at` steps (counted over every call that is not an epoch's end). */
struct stopper {
    long steps, at;
    volatile sig_atomic_t flag;
};

static void count_steps(const struct lstmsrc_progress *p, void *user)
{
    struct stopper *s = user;
    if (!p->end_of_epoch && ++s->steps == s->at) s->flag = 1;
}

/* Trains with cfg and saves the model to NAME; returns the status of training. */
static enum lstmsrc_status train_to(const struct lstmsrc_dataset *ds,
                                    const struct lstmsrc_train_config *cfg, const char *name,
                                    struct lstmsrc_error *err)
{
    char p[512];
    struct lstmsrc_model *m = NULL;
    enum lstmsrc_status st = lstmsrc_train(ds, cfg, &m, err);
    if (m) {
        struct lstmsrc_error serr;
        path_in(p, sizeof p, name);
        if (lstmsrc_model_save(m, p, &serr)) fprintf(stderr, "  save: %s\n", serr.msg);
        lstmsrc_model_free(m);
    }
    return st;
}

static int same_file(const char *a, const char *b)
{
    char pa[512], pb[512];
    size_t na = 0, nb = 0;
    path_in(pa, sizeof pa, a);
    path_in(pb, sizeof pb, b);
    unsigned char *ba = slurp(pa, &na), *bb = slurp(pb, &nb);
    int same = ba && bb && na == nb && memcmp(ba, bb, na) == 0;
    free(ba);
    free(bb);
    return same;
}

/* Stops a run after `at` steps with a checkpoint, resumes it (to `epochs`) and compares the
 * model with ref.lsm, and the state after the last epoch (the resumed run's checkpoint, or the
 * stopped run's when nothing was left to run) with ref.ckpt: weights, moments and RNG too. */
/* on_checkpoint: keeps the last outcome */
static void note_checkpoint(const struct lstmsrc_error *e, void *user)
{
    *(struct lstmsrc_error *)user = *e;
}

static int stop_and_resume(const struct lstmsrc_dataset *ds,
                           const struct lstmsrc_train_config *base, long at, int epochs)
{
    char ck[512];
    struct lstmsrc_error err;
    struct lstmsrc_train_config cfg = *base;
    struct stopper s = {0, at, 0};
    path_in(ck, sizeof ck, "run.ckpt");
    unlink(ck);
    cfg.progress = count_steps;
    cfg.progress_user = &s;
    cfg.stop = &s.flag;
    cfg.checkpoint = ck;
    cfg.checkpoint_on_stop_only = 1;
    enum lstmsrc_status st = train_to(ds, &cfg, "stopped.lsm", &err);
    if (st != LSTMSRC_ERR_INTERRUPTED) {
        fprintf(stderr, "  stop at %ld: status %d (%s)\n", at, st, err.msg);
        return 0;
    }
    if (access(ck, F_OK) != 0) {
        fprintf(stderr, "  stop at %ld: no checkpoint written\n", at);
        return 0;
    }
    char res[512];
    path_in(res, sizeof res, "resumed.ckpt");
    unlink(res);
    cfg = *base;
    cfg.epochs = epochs;
    cfg.resume = ck;
    cfg.checkpoint = res;
    st = train_to(ds, &cfg, "resumed.lsm", &err);
    if (st != LSTMSRC_OK) {
        fprintf(stderr, "  resume after %ld: %s\n", at, err.msg);
        return 0;
    }
    int same = same_file("ref.lsm", "resumed.lsm");
    if (!same) fprintf(stderr, "  stopped after %ld steps: resumed model differs\n", at);
    int same_state = same_file("ref.ckpt", access(res, F_OK) == 0 ? "resumed.ckpt" : "run.ckpt");
    if (!same_state) fprintf(stderr, "  stopped after %ld steps: final state differs\n", at);
    return same && same_state;
}

/* ============================== resume == uninterrupted ============================== */

/* The uninterrupted reference: ref.lsm, and ref.ckpt holding the state after its last epoch. */
static enum lstmsrc_status reference(const struct lstmsrc_dataset *ds,
                                     const struct lstmsrc_train_config *base, int *epochs_run,
                                     int *best_epoch)
{
    char p[512];
    struct lstmsrc_error err;
    struct lstmsrc_train_config cfg = *base;
    path_in(p, sizeof p, "ref.ckpt");
    cfg.checkpoint = p;
    enum lstmsrc_status st = train_to(ds, &cfg, "ref.lsm", &err);
    struct lstmsrc_model *m = NULL;
    path_in(p, sizeof p, "ref.lsm");
    if (st == LSTMSRC_OK && lstmsrc_model_load(p, &m, &err) == LSTMSRC_OK) {
        *epochs_run = m->meta.epochs_run;
        *best_epoch = m->meta.best_epoch;
    }
    lstmsrc_model_free(m);
    return st;
}

static void test_resume_multilabel(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    int run = 0, best = 0;
    small_config(&cfg);
    CHECK(ml != NULL);
    if (!ml) return;
    CHECK(reference(ml, &cfg, &run, &best) == LSTMSRC_OK && run == 3);
    /* windows: 2700 training rows -> 2698 windows -> 85 steps per epoch */
    CHECK(stop_and_resume(ml, &cfg, 1, 3));   /* first step */
    CHECK(stop_and_resume(ml, &cfg, 130, 3)); /* mid epoch 2 */
    CHECK(stop_and_resume(ml, &cfg, 85, 3));  /* the last step of epoch 1 */
    CHECK(stop_and_resume(ml, &cfg, 255, 3)); /* the very last step */

    /* every end-of-epoch checkpoint of a run that asked for them, resumed to more epochs */
    char ck[512];
    path_in(ck, sizeof ck, "epoch.ckpt");
    struct lstmsrc_train_config one = cfg;
    one.epochs = 1;
    one.checkpoint = ck;
    CHECK(train_to(ml, &one, "one.lsm", &err) == LSTMSRC_OK);
    struct lstmsrc_train_config more = cfg;
    more.resume = ck;
    CHECK(train_to(ml, &more, "more.lsm", &err) == LSTMSRC_OK);
    CHECK(same_file("ref.lsm", "more.lsm"));
    /* resuming a finished run only rebuilds the model */
    more.resume = ck;
    more.epochs = 1;
    CHECK(train_to(ml, &more, "again.lsm", &err) == LSTMSRC_OK);
    CHECK(same_file("one.lsm", "again.lsm"));
}

/* Validation labels inverted: the model gets worse on them as it learns, so the best epoch is
 * an early one and the final model (weights, tuned thresholds) comes from restored state. */
static void test_resume_best_epoch_earlier(void)
{
    struct lstmsrc_train_config cfg;
    int run = 0, best = 0;
    small_config(&cfg);
    if (!ml) return;
    for (size_t i = 2700 * (size_t)ml->k; i < ml->n * (size_t)ml->k; i++)
        ml->y[i] ^= 1;
    CHECK(reference(ml, &cfg, &run, &best) == LSTMSRC_OK);
    CHECK(run == 3 && best >= 1 && best < 3);
    CHECK(stop_and_resume(ml, &cfg, 130, 3));
    CHECK(stop_and_resume(ml, &cfg, 255, 3));
    /* the same with the best epoch chosen by validation F1 */
    cfg.select = LSTMSRC_SELECT_F1;
    CHECK(reference(ml, &cfg, &run, &best) == LSTMSRC_OK && run == 3 && best >= 1);
    CHECK(stop_and_resume(ml, &cfg, 130, 3));
    CHECK(stop_and_resume(ml, &cfg, 255, 3));
    for (size_t i = 2700 * (size_t)ml->k; i < ml->n * (size_t)ml->k; i++)
        ml->y[i] ^= 1;
}

/* The default channels (reading and first difference), a centred label and a stride resume to
 * the uninterrupted run's model too. */
static void test_resume_diff_centre_stride(void)
{
    struct lstmsrc_train_config cfg;
    int run = 0, best = 0;
    small_config(&cfg);
    CHECK(ml != NULL);
    if (!ml) return;
    cfg.features = LSTMSRC_FEATURE_RAW | LSTMSRC_FEATURE_DIFF;
    cfg.label_at = LSTMSRC_LABEL_CENTER;
    cfg.stride = 2;
    CHECK(reference(ml, &cfg, &run, &best) == LSTMSRC_OK && run == 3);
    /* 2698 windows, every second one: 1349 -> 43 steps per epoch */
    CHECK(stop_and_resume(ml, &cfg, 20, 3));
    CHECK(stop_and_resume(ml, &cfg, 43, 3));
    CHECK(stop_and_resume(ml, &cfg, 100, 3));
}

/* A bidirectional top layer over two layers with a centred label resumes to the uninterrupted
 * run's model, and its checkpoint is refused to a run with one direction. */
static void test_resume_bidirectional(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    int run = 0, best = 0;
    small_config(&cfg);
    CHECK(ml != NULL);
    if (!ml) return;
    cfg.bidirectional = 1;
    cfg.layers = 2;
    cfg.label_at = LSTMSRC_LABEL_CENTER;
    CHECK(reference(ml, &cfg, &run, &best) == LSTMSRC_OK && run == 3);
    CHECK(stop_and_resume(ml, &cfg, 20, 3));
    CHECK(stop_and_resume(ml, &cfg, 100, 3));
    char ck[512];
    path_in(ck, sizeof ck, "bi.ckpt");
    struct lstmsrc_train_config c2 = cfg;
    c2.checkpoint = ck;
    c2.epochs = 1;
    CHECK(train_to(ml, &c2, "bi1.lsm", &err) == LSTMSRC_OK);
    c2.checkpoint = NULL;
    c2.resume = ck;
    c2.epochs = 3;
    CHECK(train_to(ml, &c2, "bi3.lsm", &err) == LSTMSRC_OK);
    CHECK(same_file("ref.lsm", "bi3.lsm"));
    c2.bidirectional = 0;
    CHECK(train_to(ml, &c2, "uni3.lsm", &err) == LSTMSRC_ERR_ARG);
    CHECK(strstr(err.msg, "bi.ckpt: ") && strstr(err.msg, "--directions"));
}

static void test_resume_multiclass_patience(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    small_config(&cfg);
    CHECK(mc != NULL);
    if (!mc) return;
    /* a large learning rate makes validation loss wobble, so patience 1 stops early */
    cfg.epochs = 12;
    cfg.patience = 1;
    cfg.lr = 0.05f;
    cfg.threads = 1;
    int run = 0, best = 0;
    CHECK(reference(mc, &cfg, &run, &best) == LSTMSRC_OK);
    CHECK(run < 12); /* the early stop this test is about happened */
    CHECK(stop_and_resume(mc, &cfg, 40, 12));
    CHECK(stop_and_resume(mc, &cfg, 85 * (run > 1 ? run - 1 : 1) + 3, 12));
    /* a checkpoint written at the early stop, resumed with more epochs allowed, stops again */
    char ck[512];
    path_in(ck, sizeof ck, "all.ckpt");
    struct lstmsrc_train_config c2 = cfg;
    c2.checkpoint = ck;
    CHECK(train_to(mc, &c2, "ck.lsm", &err) == LSTMSRC_OK);
    CHECK(same_file("ref.lsm", "ck.lsm"));
    c2.checkpoint = NULL;
    c2.resume = ck;
    c2.epochs = 50;
    CHECK(train_to(mc, &c2, "late.lsm", &err) == LSTMSRC_OK);
    CHECK(same_file("ref.lsm", "late.lsm"));
}

/* Weight averaging (cfg.ema): a stopped run resumes to the uninterrupted run's model and state
 * (the average is in the checkpoint), a checkpoint with it is refused to a run without it and
 * the other way round, and the plumbing keeps and saves the average: with a decay near 0 the
 * average is the weights themselves (the model of a run without it, to rounding), with 0.9 it
 * is not. */
static float max_param_diff(const char *a, const char *b)
{
    char pa[512], pb[512];
    struct lstmsrc_error err;
    struct lstmsrc_model *ma = NULL, *mb = NULL;
    path_in(pa, sizeof pa, a);
    path_in(pb, sizeof pb, b);
    float d = -1.0f;
    if (!lstmsrc_model_load(pa, &ma, &err) && !lstmsrc_model_load(pb, &mb, &err) &&
        ma->n_params == mb->n_params) {
        d = 0.0f;
        for (size_t i = 0; i < ma->n_params; i++) {
            float e = fabsf(ma->params[i] - mb->params[i]);
            if (!(e <= d)) d = e;
        }
    }
    lstmsrc_model_free(ma);
    lstmsrc_model_free(mb);
    return d;
}

static void test_resume_ema(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    int run = 0, best = 0;
    small_config(&cfg);
    CHECK(ml != NULL);
    if (!ml) return;
    CHECK(train_to(ml, &cfg, "plain.lsm", &err) == LSTMSRC_OK);
    cfg.ema = 1e-6f;
    CHECK(train_to(ml, &cfg, "ema0.lsm", &err) == LSTMSRC_OK);
    float near = max_param_diff("plain.lsm", "ema0.lsm");
    CHECK(near >= 0.0f && near < 1e-4f);
    cfg.ema = 0.9f;
    CHECK(reference(ml, &cfg, &run, &best) == LSTMSRC_OK && run == 3);
    CHECK(max_param_diff("plain.lsm", "ref.lsm") > 1e-3f);
    CHECK(stop_and_resume(ml, &cfg, 20, 3));
    CHECK(stop_and_resume(ml, &cfg, 100, 3));
    char ck[512];
    path_in(ck, sizeof ck, "ref.ckpt");
    struct lstmsrc_train_config c2 = cfg;
    c2.resume = ck;
    c2.ema = 0.0f;
    CHECK(train_to(ml, &c2, "x.lsm", &err) == LSTMSRC_ERR_ARG);
    CHECK(strstr(err.msg, "ref.ckpt: ") && strstr(err.msg, "--ema"));
    c2.ema = 0.95f;
    CHECK(train_to(ml, &c2, "x.lsm", &err) == LSTMSRC_ERR_ARG);
    CHECK(strstr(err.msg, "--ema") != NULL);
    cfg.ema = 1.0f;
    CHECK(train_to(ml, &cfg, "x.lsm", &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "ema"));
}

/* ============================== choosing the best epoch ============================== */

struct epochs_seen {
    int n, improved[16];
    double loss[16], f1[16];
};

static void record_epochs(const struct lstmsrc_progress *p, void *user)
{
    struct epochs_seen *e = user;
    if (!p->end_of_epoch || e->n >= 16) return;
    e->improved[e->n] = p->improved;
    e->loss[e->n] = p->val_loss;
    e->f1[e->n] = p->val_f1;
    e->n++;
}

/* The kept epoch is the first with the lowest validation loss (select loss) or the first with
 * the highest validation macro F1 (select f1), "improved" marks exactly the new bests, and the
 * model's metadata holds that epoch's numbers. Validation labels are partly inverted so loss
 * and F1 do not simply agree. */
static void test_select_best_epoch(void)
{
    if (!ml) return;
    for (size_t i = 2700 * (size_t)ml->k; i < ml->n * (size_t)ml->k; i += 3)
        ml->y[i] ^= 1;
    for (int sel = 0; sel < 2; sel++) {
        struct lstmsrc_train_config cfg;
        struct lstmsrc_error err;
        struct epochs_seen e;
        memset(&e, 0, sizeof e);
        small_config(&cfg);
        cfg.epochs = 8;
        cfg.lr = 0.02f;
        cfg.select = sel ? LSTMSRC_SELECT_F1 : LSTMSRC_SELECT_LOSS;
        cfg.progress = record_epochs;
        cfg.progress_user = &e;
        struct lstmsrc_model *m = NULL;
        CHECK(lstmsrc_train(ml, &cfg, &m, &err) == LSTMSRC_OK && m && e.n == 8);
        if (!m || e.n != 8) {
            lstmsrc_model_free(m);
            continue;
        }
        int best = 0, wrong_flags = 0;
        for (int i = 0; i < e.n; i++) {
            int better = i == 0 || (sel ? e.f1[i] > e.f1[best] : e.loss[i] < e.loss[best]);
            wrong_flags += better != e.improved[i];
            if (better) best = i;
        }
        CHECK(wrong_flags == 0);
        CHECK(m->meta.best_epoch == best + 1);
        CHECK(m->meta.val_macro_f1 == (float)e.f1[best]);
        CHECK(m->meta.val_loss == (float)e.loss[best]);
        lstmsrc_model_free(m);
    }
    for (size_t i = 2700 * (size_t)ml->k; i < ml->n * (size_t)ml->k; i += 3)
        ml->y[i] ^= 1;
}

/* ============================== refusing bad checkpoints ============================== */

/* A checkpoint of the small multi-label run after one epoch, as bytes. */
static unsigned char *good_checkpoint(size_t *n, struct lstmsrc_train_config *cfg)
{
    char ck[512];
    struct lstmsrc_error err;
    small_config(cfg);
    cfg->hidden = 2;
    cfg->epochs = 1;
    path_in(ck, sizeof ck, "good.ckpt");
    cfg->checkpoint = ck;
    if (train_to(ml, cfg, "g.lsm", &err) != LSTMSRC_OK) return NULL;
    cfg->checkpoint = NULL;
    unsigned char *b = slurp(ck, n);
    unlink(ck);
    return b;
}

/* Resumes cfg from the bytes b; returns the status (the model is discarded). */
static enum lstmsrc_status resume_bytes(const struct lstmsrc_train_config *cfg,
                                        const unsigned char *b, size_t n, struct lstmsrc_error *err)
{
    char ck[512];
    path_in(ck, sizeof ck, "bad.ckpt");
    if (!spit(ck, b, n)) return LSTMSRC_ERR_IO;
    struct lstmsrc_train_config c = *cfg;
    c.resume = ck;
    c.epochs = 2;
    struct lstmsrc_model *m = NULL;
    enum lstmsrc_status st = lstmsrc_train(ml, &c, &m, err);
    lstmsrc_model_free(m);
    unlink(ck);
    return st;
}

/* The identity of the run the good checkpoint came from, read back from its header (offsets
 * from checkpoint.h), so the loader can be driven directly and fast. */
static void id_of(const unsigned char *b, struct ckpt_id *id)
{
    memset(id, 0, sizeof *id);
    id->data_hash = get_le(b + 24, 8);
    id->rows = get_le(b + 32, 8);
    uint32_t *u[9] = {&id->inputs, &id->outputs, &id->task,  &id->label_mode, &id->seq_len,
                      &id->hidden, &id->layers,  &id->batch, &id->threads};
    for (int i = 0; i < 9; i++)
        *u[i] = (uint32_t)get_le(b + 40 + 4 * i, 4);
    id->seed = get_le(b + 76, 8);
    float *f[6] = {&id->lr, &id->beta1, &id->beta2, &id->eps, &id->clip, &id->val_fraction};
    for (int i = 0; i < 6; i++) {
        uint32_t v = (uint32_t)get_le(b + 84 + 4 * i, 4);
        memcpy(f[i], &v, 4);
    }
    id->pos_weight_hash = get_le(b + 108, 8);
    id->n_params = get_le(b + 116, 8);
    id->select = (uint32_t)get_le(b + 208, 4);
    id->train_windows = 2698;
    id->arrays = 4;
}

/* Loads a private exact-size copy through ckpt_load_mem. */
static enum lstmsrc_status load_copy(const unsigned char *b, size_t n, const struct ckpt_id *id,
                                     struct lstmsrc_error *err)
{
    size_t np = (size_t)id->n_params;
    float *arr = calloc(4 * np, sizeof(float));
    unsigned char *c = malloc(n ? n : 1);
    if (!arr || !c) {
        free(arr);
        free(c);
        return LSTMSRC_ERR_NOMEM;
    }
    if (n) memcpy(c, b, n);
    struct ckpt_state s = {
        .params = arr, .adam_m = arr + np, .adam_v = arr + 2 * np, .best = arr + 3 * np};
    err->msg[0] = '\0';
    enum lstmsrc_status st = ckpt_load_mem("run.ckpt", c, n, id, &s, err);
    free(c);
    free(arr);
    return st;
}

static void test_truncated_and_flipped(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    size_t n = 0;
    unsigned char *b = good_checkpoint(&n, &cfg);
    CHECK(b != NULL && n > 216);
    if (!b || n <= 216) {
        free(b);
        return;
    }
    struct ckpt_id id;
    id_of(b, &id);
    CHECK(load_copy(b, n, &id, &err) == LSTMSRC_OK);
    int bad = 0;
    for (size_t cut = 0; cut < n; cut++) {
        enum lstmsrc_status st = load_copy(b, cut, &id, &err);
        if (st != LSTMSRC_ERR_FORMAT || strncmp(err.msg, "run.ckpt: ", 10) != 0)
            if (bad++ < 5) fprintf(stderr, "  cut at %zu: %d %s\n", cut, st, err.msg);
    }
    CHECK(bad == 0);
    static const unsigned char masks[] = {0x01, 0x10, 0x80, 0xff};
    bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (i >= 216 && i % 5 != 0 && i < n - 4) continue; /* fixed part, CRC, every 5th byte */
        for (size_t k = 0; k < sizeof masks; k++) {
            b[i] ^= masks[k];
            enum lstmsrc_status st = load_copy(b, n, &id, &err);
            b[i] ^= masks[k];
            if (st != LSTMSRC_ERR_FORMAT && st != LSTMSRC_ERR_VERSION)
                if (bad++ < 5)
                    fprintf(stderr, "  flip %zu ^ %02x: %d %s\n", i, masks[k], st, err.msg);
        }
    }
    CHECK(bad == 0);
    /* the same refusal through training, with the path in the message */
    b[n / 2] ^= 0x40;
    CHECK(resume_bytes(&cfg, b, n, &err) == LSTMSRC_ERR_FORMAT);
    CHECK(strstr(err.msg, "bad.ckpt: checksum mismatch (file corrupted)") != NULL);
    b[n / 2] ^= 0x40;
    CHECK(resume_bytes(&cfg, b, n - 1, &err) == LSTMSRC_ERR_FORMAT);
    CHECK(strstr(err.msg, "truncated") != NULL);
    free(b);
}

static void test_version_and_contents(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    size_t n = 0;
    unsigned char *b = good_checkpoint(&n, &cfg);
    CHECK(b != NULL);
    if (!b) return;
    struct ckpt_id id;
    id_of(b, &id);
    unsigned char *c = malloc(n);
    if (!c) {
        free(b);
        return;
    }
    memcpy(c, b, n);
    put_le(c + 8, 3, 4);
    fix_crc(c, n);
    CHECK(load_copy(c, n, &id, &err) == LSTMSRC_ERR_VERSION);
    CHECK(strcmp(err.msg, "run.ckpt: checkpoint version 3, this build reads up to 2") == 0);
    CHECK(load_copy(c, 12, &id, &err) == LSTMSRC_ERR_VERSION); /* even when cut short */
    put_le(c + 8, 1, 4); /* version 1 had no `select`: refused by name, not misread */
    fix_crc(c, n);
    CHECK(load_copy(c, n, &id, &err) == LSTMSRC_ERR_VERSION);
    CHECK(strcmp(err.msg, "run.ckpt: checkpoint version 1 from an older lstmsrc, this build "
                          "reads version 2; start the run afresh") == 0);

    /* progress fields edited behind a valid CRC */
    struct {
        size_t off;
        int bytes;
        uint64_t v;
        enum lstmsrc_status want;
        const char *msg;
    } edits[] = {
        {124, 4, 5, LSTMSRC_ERR_FORMAT, "epochs do not add up"}, /* next_epoch */
        {132, 4, 2, LSTMSRC_ERR_FORMAT, "epochs do not add up"}, /* best > run */
        {136, 8, 33, LSTMSRC_ERR_FORMAT, "does not fit"},        /* done % batch */
        {136, 8, 64, LSTMSRC_ERR_FORMAT, "does not fit"},        /* step disagrees */
        {144, 8, 1, LSTMSRC_ERR_FORMAT, "does not fit"},         /* step */
        {136, 8, 1u << 30, LSTMSRC_ERR_FORMAT, "out of range"},  /* done too large */
        {152, 8, 0, LSTMSRC_OK, NULL},                           /* one rng word 0: fine */
        {116, 8, 7, LSTMSRC_ERR_FORMAT, "do not fit"},           /* n_params */
        {12, 4, 60, LSTMSRC_ERR_FORMAT, "header size 60"},
        {16, 8, 1, LSTMSRC_ERR_FORMAT, "trailing data"},
        {40, 4, 2, LSTMSRC_ERR_ARG, "other columns (inputs 2"},
        {60, 4, 64, LSTMSRC_ERR_ARG, "made with --hidden 64, this run has --hidden 2"},
        {72, 4, 1, LSTMSRC_OK, NULL}, /* threads: informative, any count gives the same bits */
        {24, 8, 12345, LSTMSRC_ERR_ARG, "made from other data (same 3000 rows"},
        {84, 4, 0x3f800000u, LSTMSRC_ERR_ARG, "--lr 1, this run has --lr 0.003"},
        {108, 8, 9, LSTMSRC_ERR_ARG, "other positive weights"},
        {208, 4, 1, LSTMSRC_ERR_ARG, "made with --select f1, this run has --select loss"},
    };
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        memcpy(c, b, n);
        put_le(c + edits[e].off, edits[e].v, edits[e].bytes);
        fix_crc(c, n);
        enum lstmsrc_status st = load_copy(c, n, &id, &err);
        if (st != edits[e].want || (edits[e].msg && !strstr(err.msg, edits[e].msg))) {
            fprintf(stderr, "  edit %zu at %zu: status %d, \"%s\"\n", e, edits[e].off, st, err.msg);
            CHECK(!"edit refused as expected");
        }
    }
    /* all four rng words zero */
    memcpy(c, b, n);
    memset(c + 152, 0, 32);
    fix_crc(c, n);
    CHECK(load_copy(c, n, &id, &err) == LSTMSRC_ERR_FORMAT && strstr(err.msg, "all zero"));
    free(c);
    free(b);
}

/* Mismatched runs through the public API: the message names what differs. */
static void test_other_run_refused(void)
{
    struct lstmsrc_train_config cfg, c;
    struct lstmsrc_error err;
    size_t n = 0;
    unsigned char *b = good_checkpoint(&n, &cfg);
    CHECK(b != NULL);
    if (!b) return;
    c = cfg;
    c.hidden = 3;
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "--hidden 2"));
    c = cfg;
    c.threads = 1; /* another thread count resumes: the bits do not depend on it */
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_OK);
    c = cfg;
    c.seed = 9;
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "--seed 1"));
    c = cfg;
    c.pos_weight = LSTMSRC_POS_WEIGHT_NONE;
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "positive"));
    /* other windows: a centred label or another stride (same channel count and weights) */
    c = cfg;
    c.label_at = LSTMSRC_LABEL_CENTER;
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "--label-at"));
    c = cfg;
    c.stride = 2;
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_ERR_ARG);
    c = cfg;
    c.features = LSTMSRC_FEATURE_DIFF;
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "--features"));
    /* a bidirectional top layer where the checkpoint has one direction */
    c = cfg;
    c.bidirectional = 1;
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "--directions"));
    CHECK(!strchr(err.msg, '\n'));
    c = cfg;
    c.select = LSTMSRC_SELECT_F1;
    CHECK(resume_bytes(&c, b, n, &err) == LSTMSRC_ERR_ARG &&
          strstr(err.msg, "made with --select loss, this run has --select f1"));
    /* the same data with one reading changed */
    float keep = ml->x[100];
    ml->x[100] += 1.0f;
    CHECK(resume_bytes(&cfg, b, n, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "other data"));
    ml->x[100] = keep;
    CHECK(resume_bytes(&cfg, b, n, &err) == LSTMSRC_OK);
    /* a model file handed over as a checkpoint, and a missing file */
    char p[512];
    size_t mn = 0;
    path_in(p, sizeof p, "g.lsm");
    unsigned char *model = slurp(p, &mn);
    CHECK(model && resume_bytes(&cfg, model, mn, &err) == LSTMSRC_ERR_FORMAT &&
          strstr(err.msg, "a model file, not a checkpoint"));
    free(model);
    c = cfg;
    path_in(p, sizeof p, "missing.ckpt");
    c.resume = p;
    struct lstmsrc_model *m = NULL;
    CHECK(lstmsrc_train(ml, &c, &m, &err) == LSTMSRC_ERR_IO && m == NULL &&
          strstr(err.msg, "missing.ckpt: cannot open"));
    free(b);
}

/* ============================== write errors ============================== */

static void test_write_errors(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    struct lstmsrc_model *m = NULL;
    char f[512], p[600];
    small_config(&cfg);
    cfg.hidden = 2;
    cfg.epochs = 1;
    struct lstmsrc_error ck_err = {LSTMSRC_OK, ""};
    cfg.on_checkpoint = note_checkpoint;
    cfg.checkpoint_user = &ck_err;

    /* a path through a regular file: a warning, training goes on, nothing is left */
    clean_dir(dir);
    path_in(f, sizeof f, "file");
    CHECK(spit(f, (const unsigned char *)"x", 1));
    snprintf(p, sizeof p, "%s/run.ckpt", f);
    cfg.checkpoint = p;
    CHECK(lstmsrc_train(ml, &cfg, &m, &err) == LSTMSRC_OK && m != NULL);
    lstmsrc_model_free(m);
    m = NULL;
    CHECK(ck_err.code == LSTMSRC_ERR_IO && strstr(ck_err.msg, "run.ckpt: cannot create") &&
          strstr(ck_err.msg, "Not a directory"));
    CHECK(dir_entries(dir) == 1);
    unlink(f);

    /* a good checkpoint in place, then a save that hits the file size limit: the old one stays
     * and no temporary file is left */
    path_in(p, sizeof p, "run.ckpt");
    cfg.checkpoint = p;
    CHECK(lstmsrc_train(ml, &cfg, &m, &err) == LSTMSRC_OK);
    lstmsrc_model_free(m);
    m = NULL;
    size_t n0 = 0, n1 = 0;
    unsigned char *before = slurp(p, &n0), *after;
    struct rlimit old, small;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    small = old;
    small.rlim_cur = 300;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    cfg.seed = 2; /* other bytes */
    if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
        enum lstmsrc_status st = lstmsrc_train(ml, &cfg, &m, &err);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK(st == LSTMSRC_OK && m != NULL && strstr(ck_err.msg, "run.ckpt: cannot write:"));
        lstmsrc_model_free(m);
        m = NULL;
    } else {
        fprintf(stderr, "  skipped: setrlimit(RLIMIT_FSIZE) failed\n");
    }
    signal(SIGXFSZ, prev);
    after = slurp(p, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    CHECK(dir_entries(dir) == 1);
    free(before);
    free(after);
    unlink(p);
    cfg.seed = 1;

    /* a FIFO is written in place (a reader must hold it open; the file fits the pipe) */
    path_in(p, sizeof p, "fifo");
    if (mkfifo(p, 0600) == 0) {
        int rfd = open(p, O_RDONLY | O_NONBLOCK);
        CHECK(rfd >= 0);
        cfg.checkpoint = p;
        CHECK(lstmsrc_train(ml, &cfg, &m, &err) == LSTMSRC_OK);
        lstmsrc_model_free(m);
        m = NULL;
        unsigned char buf[4096];
        ssize_t r = rfd >= 0 ? read(rfd, buf, sizeof buf) : -1;
        CHECK(r > 216 && memcmp(buf, "LSRCCKP\0", 8) == 0);
        struct stat st;
        CHECK(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode));
        if (rfd >= 0) close(rfd);
        unlink(p);
    } else {
        fprintf(stderr, "  skipped: mkfifo failed\n");
    }

    /* a private full device (root only; never /dev/full itself): ENOSPC, still a device */
    path_in(p, sizeof p, "full");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mknod '%s' c 1 7 2>/dev/null", p);
    struct stat st;
    if (system(cmd) == 0 && lstat(p, &st) == 0 && S_ISCHR(st.st_mode)) {
        cfg.checkpoint = p;
        CHECK(lstmsrc_train(ml, &cfg, &m, &err) == LSTMSRC_OK && m != NULL);
        lstmsrc_model_free(m);
        m = NULL;
        CHECK(strstr(ck_err.msg, "full: cannot write: No space left on device") != NULL);
        CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode));
        CHECK(dir_entries(dir) == 1);
    } else {
        fprintf(stderr, "  skipped: mknod failed (needs root)\n");
    }
    unlink(p);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lstmsrc_ckpt_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    ml = gen_data(0, 7);
    mc = gen_data(1, 8);
    RUN(test_resume_multilabel);
    RUN(test_resume_best_epoch_earlier);
    RUN(test_resume_diff_centre_stride);
    RUN(test_resume_bidirectional);
    RUN(test_resume_multiclass_patience);
    RUN(test_resume_ema);
    RUN(test_select_best_epoch);
    RUN(test_truncated_and_flipped);
    RUN(test_version_and_contents);
    RUN(test_other_run_refused);
    RUN(test_write_errors);
    lstmsrc_dataset_free(ml);
    lstmsrc_dataset_free(mc);
    clean_dir(dir);
    rmdir(dir);
    return test_report("test_checkpoint");
}
