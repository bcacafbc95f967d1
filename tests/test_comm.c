/*
 * test_comm.c — training over several processes (struct lstmsrc_comm, src/train/pool.c), with
 * threads standing in for them: an allgather over a shared barrier. The models of 2 and 3
 * "ranks" (1 and 2 threads each) are byte for byte the model of one process, for multi-label
 * data with tuned thresholds and for multi-class; a stop request seen by one rank only stops
 * every rank at the same step, with the same model; a failed exchange is LSTMSRC_ERR_IO on every
 * rank; a comm with a bad rank is refused. Evaluation in parts: files evaluated one by one and
 * merged (lstmsrc_evaluate_part, lstmsrc_eval_merge), or spread over 3 ranks, one with no file,
 * and reduced (lstmsrc_eval_reduce), give every number of lstmsrc_evaluate on the files as one
 * data set, multi-label and multi-class; a failed exchange is LSTMSRC_ERR_IO there too.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lstmsrc.h"
#include "test.h"
#include "testio.h"

#define MAX_RANKS 4

static char dir[64];

static struct lstmsrc_dataset *gen_data(int classes)
{
    char p[512];
    struct lstmsrc_gen_config g;
    struct lstmsrc_error err;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_columns cols;
    lstmsrc_gen_config_default(&g);
    g.rows = 3000;
    g.sources = 2;
    g.seed = 7;
    g.classes = classes;
    snprintf(p, sizeof p, "%s/data.csv", dir);
    memset(&cols, 0, sizeof cols);
    if (classes) cols.class_column = "class";
    if (lstmsrc_gen_write(&g, p, &err) || lstmsrc_dataset_load(p, &cols, &ds, &err))
        fprintf(stderr, "  data: %s\n", err.msg);
    unlink(p);
    return ds;
}

static void small_config(struct lstmsrc_train_config *cfg, int threads)
{
    lstmsrc_train_config_default(cfg);
    cfg->seq_len = 4;
    cfg->hidden = 6;
    cfg->batch = 64; /* 16 chunks of 4 rows */
    cfg->epochs = 2;
    cfg->threads = threads;
    cfg->tune_thresholds = 1;
}

/* ---- the stand-in for MPI: every rank a thread, an allgather over a barrier ---- */

struct world {
    int size;
    pthread_barrier_t bar;
    void *bufs[MAX_RANKS];
    int fail_at; /* the exchange (counted per rank from 1) that fails on every rank; 0: none */
};

struct rank {
    struct world *w;
    struct lstmsrc_comm comm;
    int calls;
    const struct lstmsrc_dataset *ds;
    struct lstmsrc_train_config cfg;
    volatile sig_atomic_t stop;
    int stop_after; /* progress calls before this rank (alone) asks for a stop; 0: never */
    int progress_calls;
    enum lstmsrc_status st;
    struct lstmsrc_model *m;
    struct lstmsrc_error err;
    struct lstmsrc_eval *ev; /* evaluation in parts: this rank's, reduced in place */
};

static int fake_allgather(void *user, void *buf, const size_t *counts)
{
    struct rank *r = user;
    struct world *w = r->w;
    if (w->fail_at && ++r->calls == w->fail_at) return -1;
    w->bufs[r->comm.rank] = buf;
    pthread_barrier_wait(&w->bar);
    size_t off = 0;
    for (int q = 0; q < w->size; q++) {
        if (q != r->comm.rank) memcpy((char *)buf + off, (char *)w->bufs[q] + off, counts[q]);
        off += counts[q];
    }
    pthread_barrier_wait(&w->bar);
    return 0;
}

static void on_progress(const struct lstmsrc_progress *p, void *user)
{
    struct rank *r = user;
    (void)p;
    if (r->stop_after && ++r->progress_calls >= r->stop_after) r->stop = 1;
}

static void *rank_main(void *arg)
{
    struct rank *r = arg;
    r->cfg.comm = &r->comm;
    r->cfg.stop = &r->stop;
    r->cfg.progress = on_progress;
    r->cfg.progress_user = r;
    r->st = lstmsrc_train(r->ds, &r->cfg, &r->m, &r->err);
    return NULL;
}

/* Trains on `size` ranks; ranks[] keep each one's outcome (models freed by the caller). */
static void run_world(struct rank *ranks, int size, const struct lstmsrc_dataset *ds,
                      const struct lstmsrc_train_config *cfg, int fail_at, int stopper,
                      int stop_after)
{
    static struct world w;
    pthread_t th[MAX_RANKS];
    memset(&w, 0, sizeof w);
    w.size = size;
    w.fail_at = fail_at;
    pthread_barrier_init(&w.bar, NULL, (unsigned)size);
    for (int q = 0; q < size; q++) {
        memset(&ranks[q], 0, sizeof ranks[q]);
        ranks[q].w = &w;
        ranks[q].comm = (struct lstmsrc_comm){q, size, fake_allgather, &ranks[q]};
        ranks[q].ds = ds;
        ranks[q].cfg = *cfg;
        ranks[q].stop_after = q == stopper ? stop_after : 0;
        pthread_create(&th[q], NULL, rank_main, &ranks[q]);
    }
    for (int q = 0; q < size; q++)
        pthread_join(th[q], NULL);
    pthread_barrier_destroy(&w.bar);
}

/* The model's file bytes (malloc'd, *n), or NULL. */
static unsigned char *model_bytes(const struct lstmsrc_model *m, const char *name, size_t *n)
{
    char p[512];
    struct lstmsrc_error err;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (!m || lstmsrc_model_save(m, p, &err)) return NULL;
    unsigned char *b = slurp(p, n);
    unlink(p);
    return b;
}

static int same_model(const struct lstmsrc_model *a, const struct lstmsrc_model *b)
{
    size_t na = 0, nb = 0;
    unsigned char *x = model_bytes(a, "a.lsm", &na), *y = model_bytes(b, "b.lsm", &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void check_split(const struct lstmsrc_dataset *ds, int size, int threads)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    struct lstmsrc_model *one = NULL;
    struct rank ranks[MAX_RANKS];
    small_config(&cfg, 2);
    CHECK(lstmsrc_train(ds, &cfg, &one, &err) == LSTMSRC_OK);
    small_config(&cfg, threads);
    run_world(ranks, size, ds, &cfg, 0, -1, 0);
    for (int q = 0; q < size; q++) {
        CHECK(ranks[q].st == LSTMSRC_OK);
        CHECK(same_model(one, ranks[q].m));
        lstmsrc_model_free(ranks[q].m);
    }
    lstmsrc_model_free(one);
}

static struct lstmsrc_dataset *ml, *mc;

static void test_two_ranks_one_thread(void)
{
    check_split(ml, 2, 1);
}
static void test_three_ranks_two_threads(void)
{
    check_split(ml, 3, 2);
}
static void test_multiclass_two_ranks(void)
{
    check_split(mc, 2, 1);
}

/* Rank 1 alone sees the stop: both stop after the same step, with the same model. */
static void test_stop_on_one_rank(void)
{
    struct lstmsrc_train_config cfg;
    struct rank ranks[2];
    small_config(&cfg, 1);
    run_world(ranks, 2, ml, &cfg, 0, 1, 5);
    CHECK(ranks[0].st == LSTMSRC_ERR_INTERRUPTED);
    CHECK(ranks[1].st == LSTMSRC_ERR_INTERRUPTED);
    CHECK(same_model(ranks[0].m, ranks[1].m));
    lstmsrc_model_free(ranks[0].m);
    lstmsrc_model_free(ranks[1].m);
}

static void test_failed_exchange(void)
{
    struct lstmsrc_train_config cfg;
    struct rank ranks[2];
    small_config(&cfg, 1);
    run_world(ranks, 2, ml, &cfg, 7, -1, 0);
    for (int q = 0; q < 2; q++) {
        CHECK(ranks[q].st == LSTMSRC_ERR_IO);
        CHECK(ranks[q].m == NULL);
        CHECK(strstr(ranks[q].err.msg, "exchange with the other training processes") != NULL);
    }
}

static void test_bad_rank_refused(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_comm c = {2, 2, fake_allgather, NULL};
    small_config(&cfg, 1);
    cfg.comm = &c;
    CHECK(lstmsrc_train(ml, &cfg, &m, &err) == LSTMSRC_ERR_ARG);
    CHECK(m == NULL);
    CHECK(strstr(err.msg, "rank 2 of 2") != NULL);
}

/* ---- evaluation in parts ---- */

/* Every number of two evaluations, bit for bit. */
static int same_eval(const struct lstmsrc_eval *a, const struct lstmsrc_eval *b)
{
    if (!a || !b || a->task != b->task || a->windows != b->windows || a->outputs != b->outputs ||
        a->n_counts != b->n_counts || memcmp(a->counts, b->counts, a->n_counts * 8))
        return 0;
    double x[] = {a->macro_f1,
                  a->subset_accuracy,
                  a->hamming_loss,
                  a->all_off_subset_accuracy,
                  a->all_off_macro_f1,
                  a->all_off_hamming_loss,
                  a->threshold_macro_f1,
                  a->threshold_subset_accuracy,
                  a->threshold_hamming_loss,
                  a->accuracy,
                  a->majority_accuracy,
                  a->majority_macro_f1};
    double y[] = {b->macro_f1,
                  b->subset_accuracy,
                  b->hamming_loss,
                  b->all_off_subset_accuracy,
                  b->all_off_macro_f1,
                  b->all_off_hamming_loss,
                  b->threshold_macro_f1,
                  b->threshold_subset_accuracy,
                  b->threshold_hamming_loss,
                  b->accuracy,
                  b->majority_accuracy,
                  b->majority_macro_f1};
    if (memcmp(x, y, sizeof x) || a->majority_class != b->majority_class) return 0;
    for (int j = 0; j < a->outputs; j++) {
        const struct lstmsrc_output_metrics *p = &a->per[j], *q = &b->per[j];
        if (p->precision != q->precision || p->recall != q->recall || p->f1 != q->f1 ||
            p->support != q->support || p->threshold != q->threshold ||
            p->baseline_f1 != q->baseline_f1 || p->min_on != q->min_on)
            return 0;
    }
    size_t k = (size_t)a->outputs;
    return !a->confusion ||
           (b->confusion && !memcmp(a->confusion, b->confusion, k * k * sizeof *a->confusion));
}

static void *reduce_main(void *arg)
{
    struct rank *r = arg;
    r->st = lstmsrc_eval_reduce(r->ev, &r->comm, &r->err);
    return NULL;
}

/* Reduces ranks[q].ev (set by the caller) over `size` thread ranks. */
static void run_reduce(struct rank *ranks, int size, int fail_at)
{
    static struct world w;
    pthread_t th[MAX_RANKS];
    memset(&w, 0, sizeof w);
    w.size = size;
    w.fail_at = fail_at;
    pthread_barrier_init(&w.bar, NULL, (unsigned)size);
    for (int q = 0; q < size; q++) {
        ranks[q].w = &w;
        ranks[q].calls = 0;
        ranks[q].comm = (struct lstmsrc_comm){q, size, fake_allgather, &ranks[q]};
        pthread_create(&th[q], NULL, reduce_main, &ranks[q]);
    }
    for (int q = 0; q < size; q++)
        pthread_join(th[q], NULL);
    pthread_barrier_destroy(&w.bar);
}

/* Three files (the last too short for a window), a model trained on `train`; the files' one
 * evaluation against their parts merged and reduced over 3 ranks (file 0; files 1 and 2; none). */
static void check_parts(const struct lstmsrc_dataset *train, int classes)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_columns cols;
    small_config(&cfg, 1);
    CHECK(lstmsrc_train(train, &cfg, &m, &err) == LSTMSRC_OK);
    if (!m) return;
    lstmsrc_model_columns(m, 0, &cols);
    char paths[3][600];
    const char *files[3];
    const size_t rows[3] = {700, 900, 3};
    for (int i = 0; i < 3; i++) {
        struct lstmsrc_gen_config g;
        lstmsrc_gen_config_default(&g);
        g.rows = rows[i] < 10 ? 10 : rows[i];
        g.sources = classes ? 1 : 2; /* 2 classes: no more than the model saw */
        g.seed = 11 + (uint64_t)i;
        g.classes = classes;
        snprintf(paths[i], sizeof paths[i], "%s/part%d.csv", dir, i);
        files[i] = paths[i];
        CHECK(lstmsrc_gen_write(&g, paths[i], &err) == LSTMSRC_OK);
    }
    /* the last file: its header and 3 rows, fewer than a window of 4 */
    size_t len = 0;
    unsigned char *b = slurp(paths[2], &len);
    size_t cut = 0;
    for (int lines = 0; b && cut < len && lines < 4; cut++)
        lines += b[cut] == '\n';
    CHECK(b && spit(paths[2], b, cut));
    free(b);

    struct lstmsrc_dataset *all = NULL, *one[3] = {NULL, NULL, NULL}, *last2 = NULL;
    struct lstmsrc_eval *ref = NULL, *sum = NULL, *part = NULL;
    CHECK(lstmsrc_dataset_load_files(files, 3, &cols, &all, &err) == LSTMSRC_OK);
    CHECK(all && lstmsrc_evaluate(m, all, &ref, &err) == LSTMSRC_OK);
    if (!ref) fprintf(stderr, "  evaluate: %s\n", err.msg);
    for (int i = 0; i < 3; i++)
        CHECK(lstmsrc_dataset_load(files[i], &cols, &one[i], &err) == LSTMSRC_OK);
    CHECK(lstmsrc_dataset_load_files(files + 1, 2, &cols, &last2, &err) == LSTMSRC_OK);
    if (!ref || !one[0] || !one[1] || !one[2] || !last2) goto done;

    /* the short file alone: lstmsrc_evaluate refuses it, a part is 0 windows */
    CHECK(lstmsrc_evaluate(m, one[2], &part, &err) == LSTMSRC_ERR_PARSE && part == NULL);
    CHECK(lstmsrc_evaluate_part(m, one[2], &part, &err) == LSTMSRC_OK);
    CHECK(part && part->windows == 0 && part->macro_f1 == 0.0);
    lstmsrc_eval_free(part);
    part = NULL;

    /* merged one file at a time, starting from no data */
    CHECK(lstmsrc_evaluate_part(m, NULL, &sum, &err) == LSTMSRC_OK);
    for (int i = 0; sum && i < 3; i++) {
        CHECK(lstmsrc_evaluate_part(m, one[i], &part, &err) == LSTMSRC_OK);
        CHECK(part && lstmsrc_eval_merge(sum, part, &err) == LSTMSRC_OK);
        lstmsrc_eval_free(part);
        part = NULL;
    }
    CHECK(ref->windows > 0 && same_eval(sum, ref));

    /* over 3 ranks: file 0; files 1 and 2 as one data set; nothing */
    struct rank ranks[3];
    memset(ranks, 0, sizeof ranks);
    CHECK(lstmsrc_evaluate_part(m, one[0], &ranks[0].ev, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_evaluate_part(m, last2, &ranks[1].ev, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_evaluate_part(m, NULL, &ranks[2].ev, &err) == LSTMSRC_OK);
    if (ranks[0].ev && ranks[1].ev && ranks[2].ev) {
        run_reduce(ranks, 3, 0);
        for (int q = 0; q < 3; q++)
            CHECK(ranks[q].st == LSTMSRC_OK && same_eval(ranks[q].ev, ref));
        /* a failed exchange: LSTMSRC_ERR_IO on every rank */
        run_reduce(ranks, 2, 1);
        CHECK(ranks[0].st == LSTMSRC_ERR_IO && ranks[1].st == LSTMSRC_ERR_IO);
    }
    for (int q = 0; q < 3; q++)
        lstmsrc_eval_free(ranks[q].ev);
done:
    lstmsrc_eval_free(ref);
    lstmsrc_eval_free(sum);
    lstmsrc_dataset_free(all);
    lstmsrc_dataset_free(last2);
    for (int i = 0; i < 3; i++) {
        lstmsrc_dataset_free(one[i]);
        unlink(paths[i]);
    }
    lstmsrc_model_free(m);
}

static void test_eval_parts_multilabel(void)
{
    check_parts(ml, 0);
}
static void test_eval_parts_multiclass(void)
{
    check_parts(mc, 1);
}

/* Evaluations of differently shaped models are not added up. */
static void test_eval_merge_refused(void)
{
    struct lstmsrc_train_config cfg;
    struct lstmsrc_error err;
    struct lstmsrc_model *a = NULL, *b = NULL;
    struct lstmsrc_eval *ea = NULL, *eb = NULL;
    small_config(&cfg, 1);
    cfg.epochs = 1;
    CHECK(lstmsrc_train(ml, &cfg, &a, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_train(mc, &cfg, &b, &err) == LSTMSRC_OK);
    CHECK(a && lstmsrc_evaluate_part(a, NULL, &ea, &err) == LSTMSRC_OK);
    CHECK(b && lstmsrc_evaluate_part(b, NULL, &eb, &err) == LSTMSRC_OK);
    if (ea && eb) CHECK(lstmsrc_eval_merge(ea, eb, &err) == LSTMSRC_ERR_ARG);
    lstmsrc_eval_free(ea);
    lstmsrc_eval_free(eb);
    lstmsrc_model_free(a);
    lstmsrc_model_free(b);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lstmsrc-comm-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    ml = gen_data(0);
    mc = gen_data(3);
    if (!ml || !mc) return 1;
    RUN(test_two_ranks_one_thread);
    RUN(test_three_ranks_two_threads);
    RUN(test_multiclass_two_ranks);
    RUN(test_stop_on_one_rank);
    RUN(test_failed_exchange);
    RUN(test_bad_rank_refused);
    RUN(test_eval_parts_multilabel);
    RUN(test_eval_parts_multiclass);
    RUN(test_eval_merge_refused);
    lstmsrc_dataset_free(ml);
    lstmsrc_dataset_free(mc);
    rmdir(dir);
    return test_report("test_comm");
}
