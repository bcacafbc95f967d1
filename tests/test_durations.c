/*
 * test_durations.c — minimum on/off durations: the batch filter on hand-made sequences (inner
 * gaps filled, gaps at the ends kept, short runs dropped at the ends too, 1/1 a no-op), the
 * streaming filter equal to the batch one byte for byte on random sequences with random
 * durations per source, every row settled within the stated delay, flush starting a new
 * sequence, push refusing to overflow, the model setter's checks, and tuning on validation.
 */
#include <string.h>

#include "base/common.h"
#include "base/rng.h"
#include "nn/model.h"
#include "post/durations.h"
#include "test.h"

/* Filters a string of '0'/'1' with the batch filter and returns it (static buffer). */
static const char *batch(const char *in, int min_on, int min_off)
{
    static char out[256];
    uint8_t b[256];
    size_t n = strlen(in);
    for (size_t i = 0; i < n; i++)
        b[i] = in[i] == '1';
    durations_filter(b, n, 1, min_on, min_off);
    for (size_t i = 0; i < n; i++)
        out[i] = b[i] ? '1' : '0';
    out[n] = '\0';
    return out;
}

static struct lstmsrc_model *make_model(int k, enum lstmsrc_task task)
{
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    if (model_create(1, 2, 1, 1, k, 3, task == LSTMSRC_TASK_MULTILABEL ? k : 1, task,
                     task == LSTMSRC_TASK_MULTILABEL ? LSTMSRC_LABELS_SOURCES
                                                     : LSTMSRC_LABELS_CLASS,
                     &m, &err))
        return NULL;
    return m;
}

static void test_batch_cases(void)
{
    /* 1/1 changes nothing */
    CHECK(!strcmp(batch("0110100111010", 1, 1), "0110100111010"));
    /* gaps: inner gaps shorter than min_off filled; at the ends never */
    CHECK(!strcmp(batch("0010011000100", 1, 3), "0011111000100"));
    CHECK(!strcmp(batch("0010011000100", 1, 4), "0011111111100"));
    CHECK(!strcmp(batch("000", 1, 5), "000"));
    CHECK(!strcmp(batch("1001", 1, 3), "1111"));
    CHECK(!strcmp(batch("1001", 1, 2), "1001"));
    /* runs: shorter than min_on dropped, at the start and at the end too */
    CHECK(!strcmp(batch("1101110111", 3, 1), "0001110111"));
    CHECK(!strcmp(batch("1101110011", 3, 1), "0001110000"));
    CHECK(!strcmp(batch("111", 4, 1), "000"));
    /* gaps are filled first, then runs judged: two short runs joined survive */
    CHECK(!strcmp(batch("0110110000", 4, 2), "0111110000"));
    CHECK(!strcmp(batch("0110110000", 6, 2), "0000000000"));
    /* empty and single-row sequences */
    CHECK(!strcmp(batch("", 5, 5), ""));
    CHECK(!strcmp(batch("1", 1, 9), "1"));
    CHECK(!strcmp(batch("1", 2, 1), "0"));
    /* nonzero means on, output is 0/1 */
    uint8_t b[3] = {7, 0, 255};
    durations_filter(b, 3, 1, 1, 2);
    CHECK(b[0] == 1 && b[1] == 1 && b[2] == 1);
    CHECK(durations_delay(1, 1) == 0 && durations_delay(3, 5) == 6);
    CHECK(durations_valid(1, 1) && durations_valid(LSTMSRC_MAX_DURATION, 1));
    CHECK(!durations_valid(0, 1) && !durations_valid(1, LSTMSRC_MAX_DURATION + 1));
}

/* Streams seq (n, k) through a filter for m, flushing at the end; checks every pop against the
 * batch result and the delay bound. Returns 1 when everything matched. */
static int stream_matches(const struct lstmsrc_model *m, const uint8_t *seq, size_t n)
{
    const int k = m->k;
    struct lstmsrc_filter *f = NULL;
    struct lstmsrc_error err;
    uint8_t *want = malloc(n * (size_t)k + 1), row[LSTMSRC_MAX_SOURCES];
    int ok = want && lstmsrc_filter_create(m, &f, &err) == LSTMSRC_OK;
    if (!ok) goto done;
    memcpy(want, seq, n * (size_t)k);
    lstmsrc_filter_rows(m, want, n);
    int delay = lstmsrc_filter_delay(f);
    ok = delay == model_decision_delay(m);
    size_t popped = 0;
    for (size_t i = 0; i < n && ok; i++) {
        ok = lstmsrc_filter_push(f, seq + i * (size_t)k, &err) == LSTMSRC_OK;
        while (ok && lstmsrc_filter_pop(f, row)) {
            ok = popped <= i && !memcmp(row, want + popped * (size_t)k, (size_t)k);
            popped++;
        }
        /* row i - delay and everything before it is settled once row i is in */
        if (ok && i + 1 > (size_t)delay) ok = popped >= i + 1 - (size_t)delay;
    }
    lstmsrc_filter_flush(f);
    while (ok && lstmsrc_filter_pop(f, row)) {
        ok = popped < n && !memcmp(row, want + popped * (size_t)k, (size_t)k);
        popped++;
    }
    ok = ok && popped == n;
done:
    lstmsrc_filter_free(f);
    free(want);
    return ok;
}

static void test_stream_equals_batch(void)
{
    struct rng rng;
    rng_seed(&rng, 42);
    int bad = 0;
    for (int trial = 0; trial < 400; trial++) {
        int k = 1 + (int)(rng_next(&rng) % 4);
        struct lstmsrc_model *m = make_model(k, LSTMSRC_TASK_MULTILABEL);
        if (!m) {
            CHECK(!"model");
            return;
        }
        for (int j = 0; j < k; j++) {
            m->min_on[j] = 1 + (int)(rng_next(&rng) % (trial % 3 ? 9 : 2));
            m->min_off[j] = 1 + (int)(rng_next(&rng) % (trial % 5 ? 9 : 2));
        }
        size_t n = (size_t)(rng_next(&rng) % 300);
        uint8_t *seq = malloc(n * (size_t)k + 1);
        /* on-probability and switching rate vary, so long runs, long gaps and flicker occur */
        double p_on = (double)(rng_next(&rng) % 100) / 100.0;
        double stay = (double)(rng_next(&rng) % 100) / 100.0;
        for (int j = 0; j < k; j++) {
            uint8_t cur = 0;
            for (size_t i = 0; i < n; i++) {
                double u = (double)(rng_next(&rng) >> 11) / 9007199254740992.0;
                double v = (double)(rng_next(&rng) >> 11) / 9007199254740992.0;
                if (u >= stay) cur = v < p_on;
                seq[i * (size_t)k + (size_t)j] = cur;
            }
        }
        if (!stream_matches(m, seq, n)) {
            if (bad++ < 3) fprintf(stderr, "  trial %d: k %d, n %zu differs\n", trial, k, n);
        }
        free(seq);
        lstmsrc_model_free(m);
    }
    CHECK(bad == 0);
}

static void test_stream_edges(void)
{
    struct lstmsrc_model *m = make_model(2, LSTMSRC_TASK_MULTILABEL);
    struct lstmsrc_filter *f = NULL;
    struct lstmsrc_error err;
    uint8_t row[2], r10[2] = {1, 0}, r01[2] = {0, 1}, r00[2] = {0, 0};
    CHECK(m != NULL);
    if (!m) return;
    /* 1/1: every row settled at once, nothing held */
    CHECK(lstmsrc_filter_create(m, &f, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_delay(f) == 0);
    for (int i = 0; i < 5; i++) {
        CHECK(lstmsrc_filter_push(f, i % 2 ? r10 : r01, &err) == LSTMSRC_OK);
        CHECK(lstmsrc_filter_pop(f, row) == 1 && row[0] == (i % 2) && row[1] == !(i % 2));
        CHECK(lstmsrc_filter_pop(f, row) == 0);
    }
    lstmsrc_filter_free(f);

    /* min_on 3 on source 0: delay 2; a push with the ring full is refused */
    m->min_on[0] = 3;
    f = NULL;
    CHECK(lstmsrc_filter_create(m, &f, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_delay(f) == 2);
    CHECK(lstmsrc_filter_push(f, r10, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_pop(f, row) == 0);
    CHECK(lstmsrc_filter_push(f, r10, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_push(f, r10, &err) == LSTMSRC_OK); /* run of 3: confirmed */
    CHECK(lstmsrc_filter_push(f, r00, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "pop"));
    for (int i = 0; i < 3; i++)
        CHECK(lstmsrc_filter_pop(f, row) == 1 && row[0] == 1 && !row[1]);
    CHECK(lstmsrc_filter_pop(f, row) == 0);
    /* a run of 2 at the end of the sequence is dropped by the flush */
    CHECK(lstmsrc_filter_push(f, r00, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_pop(f, row) == 1 && !row[0]);
    CHECK(lstmsrc_filter_push(f, r10, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_push(f, r10, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_pop(f, row) == 0);
    lstmsrc_filter_flush(f);
    CHECK(lstmsrc_filter_pop(f, row) == 1 && !row[0]);
    CHECK(lstmsrc_filter_pop(f, row) == 1 && !row[0]);
    CHECK(lstmsrc_filter_pop(f, row) == 0);
    /* after the flush a new sequence starts: a run of 1 at its start is held, not joined */
    CHECK(lstmsrc_filter_push(f, r10, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_pop(f, row) == 0);
    lstmsrc_filter_reset(f);
    CHECK(lstmsrc_filter_pop(f, row) == 0);
    CHECK(lstmsrc_filter_push(f, r00, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_filter_pop(f, row) == 1 && !row[0]);
    lstmsrc_filter_free(f);
    lstmsrc_filter_free(NULL);
    lstmsrc_model_free(m);
}

static void test_set_durations(void)
{
    struct lstmsrc_model *m = make_model(2, LSTMSRC_TASK_MULTILABEL);
    struct lstmsrc_error err;
    CHECK(m != NULL);
    if (!m) return;
    int on[2] = {3, 1}, off[2] = {1, 12};
    CHECK(lstmsrc_model_set_durations(m, on, off, &err) == LSTMSRC_OK);
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    CHECK(info.min_on[0] == 3 && info.min_off[1] == 12 && info.decision_delay == 11);
    int zero[2] = {1, 0}, huge[2] = {LSTMSRC_MAX_DURATION + 1, 1};
    CHECK(lstmsrc_model_set_durations(m, on, zero, &err) == LSTMSRC_ERR_ARG);
    CHECK(strstr(err.msg, "output 2: minimum on 1, off 0 rows; supported: 1 to 10000") != NULL);
    CHECK(lstmsrc_model_set_durations(m, huge, off, &err) == LSTMSRC_ERR_ARG);
    CHECK(m->min_on[0] == 3 && m->min_off[1] == 12); /* unchanged on failure */
    CHECK(lstmsrc_model_set_durations(m, NULL, NULL, &err) == LSTMSRC_OK);
    CHECK(m->min_on[0] == 1 && m->min_off[1] == 1 && model_decision_delay(m) == 0);
    lstmsrc_model_free(m);

    m = make_model(3, LSTMSRC_TASK_MULTICLASS);
    CHECK(m != NULL);
    if (!m) return;
    int on3[3] = {1, 2, 1}, one3[3] = {1, 1, 1};
    CHECK(lstmsrc_model_set_durations(m, on3, one3, &err) == LSTMSRC_ERR_ARG &&
          strstr(err.msg, "multi-label"));
    CHECK(lstmsrc_model_set_durations(m, one3, one3, &err) == LSTMSRC_OK);
    lstmsrc_model_free(m);
}

static void test_tune(void)
{
    /* truth: two long on-periods; the scores flicker below the threshold inside them and
     * cross it once for a single row outside */
    enum { N = 120 };
    float score[N];
    uint8_t y[N];
    for (int i = 0; i < N; i++) {
        int on = (i >= 20 && i < 50) || (i >= 70 && i < 100);
        y[i] = (uint8_t)on;
        score[i] = on ? (i % 5 == 2 ? 0.3f : 0.9f) : (i == 60 ? 0.8f : 0.1f);
    }
    int mo, mf;
    double raw, best;
    CHECK(durations_tune(score, 1, 0.5f, y, 1, N, &mo, &mf, &raw, &best) == 0);
    CHECK(raw < 1.0 && best == 1.0);
    CHECK(mo > 1 && mf > 1);
    /* the result is what the batch filter gives with those durations */
    uint8_t on[N];
    for (int i = 0; i < N; i++)
        on[i] = score[i] > 0.5f;
    durations_filter(on, N, 1, mo, mf);
    CHECK(memcmp(on, y, N) == 0);
    /* decisions already right: ties keep 1/1 */
    for (int i = 0; i < N; i++)
        score[i] = y[i] ? 0.9f : 0.1f;
    CHECK(durations_tune(score, 1, 0.5f, y, 1, N, &mo, &mf, &raw, &best) == 0);
    CHECK(mo == 1 && mf == 1 && raw == 1.0 && best == 1.0);
    /* strided input (a column of a (n, 2) array) */
    float s2[2 * N];
    uint8_t y2[2 * N];
    for (int i = 0; i < N; i++) {
        s2[2 * i + 1] = score[i];
        y2[2 * i + 1] = y[i];
        s2[2 * i] = 0.0f;
        y2[2 * i] = 1;
    }
    CHECK(durations_tune(s2 + 1, 2, 0.5f, y2 + 1, 2, N, &mo, &mf, &raw, &best) == 0);
    CHECK(mo == 1 && mf == 1 && best == 1.0);
}

int main(void)
{
    RUN(test_batch_cases);
    RUN(test_stream_equals_batch);
    RUN(test_stream_edges);
    RUN(test_set_durations);
    RUN(test_tune);
    return test_report("test_durations");
}
