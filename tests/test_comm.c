/*
 * test_comm.c — training over several processes (struct lstmsrc_comm, src/train/pool.c), with
 * threads standing in for them: an allgather over a shared barrier. The models of 2 and 3
 * "ranks" (1 and 2 threads each) are byte for byte the model of one process, for multi-label
 * data with tuned thresholds and for multi-class; a stop request seen by one rank only stops
 * every rank at the same step, with the same model; a failed exchange is LSTMSRC_ERR_IO on every
 * rank; a comm with a bad rank is refused.
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
    lstmsrc_dataset_free(ml);
    lstmsrc_dataset_free(mc);
    rmdir(dir);
    return test_report("test_comm");
}
