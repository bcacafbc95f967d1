/*
 * test_doctor.c — lstmsrc_doctor on hand-made data sets, each built so that one finding must
 * appear (negative readings, an outage, clipping, unexplained jumps, constant and duplicate
 * columns, too few positives, overlapping levels, flickering labels, a source missing from the
 * validation part) and, on a clean set, that none of them does. Numbers the findings rest on
 * (on-rows, run lengths, all-off accuracy, the suggested window) are checked by hand.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsrc.h"
#include "test.h"

#define N 2000
#define MAXK 4

/* One hand-made data set: reading, optional second input, up to MAXK sources. */
struct set {
    float x[N], x2[N];
    uint8_t y[N][MAXK];
    int k, two_inputs;
};

/* Base load 200 with a small deterministic wobble, nothing on. */
static void set_init(struct set *s, int k)
{
    memset(s, 0, sizeof *s);
    s->k = k;
    for (int t = 0; t < N; t++)
        s->x[t] = 200.0f + (float)((t * 7) % 5) * 0.4f;
}

/* Source j on for `len` rows every `period` rows from `offset`, adding `level`. */
static void set_blocks(struct set *s, int j, int offset, int len, int period, float level)
{
    for (int t = offset; t < N; t += period)
        for (int i = t; i < t + len && i < N; i++) {
            s->y[i][j] = 1;
            s->x[i] += level;
        }
}

/* CSV text of the set; caller frees. */
static char *set_csv(const struct set *s, size_t *len)
{
    size_t cap = 64 + (size_t)N * (40 + 2 * MAXK);
    char *buf = malloc(cap), *w = buf;
    w += sprintf(w, "reading%s", s->two_inputs ? ",second" : "");
    for (int j = 0; j < s->k; j++)
        w += sprintf(w, ",s%d", j + 1);
    *w++ = '\n';
    for (int t = 0; t < N; t++) {
        w += sprintf(w, "%.2f", (double)s->x[t]);
        if (s->two_inputs) w += sprintf(w, ",%.2f", (double)s->x2[t]);
        for (int j = 0; j < s->k; j++)
            w += sprintf(w, ",%d", s->y[t][j]);
        *w++ = '\n';
    }
    *len = (size_t)(w - buf);
    return buf;
}

/* Loads the set (inputs as given, labels = the s* columns) and runs the doctor. */
static struct lstmsrc_report *doctor(const struct set *s)
{
    size_t len;
    char *csv = set_csv(s, &len);
    struct lstmsrc_columns cols;
    memset(&cols, 0, sizeof cols);
    if (s->two_inputs) cols.input = "reading,second";
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_report *r = NULL;
    struct lstmsrc_error err;
    if (lstmsrc_dataset_load_mem("set.csv", csv, len, &cols, &ds, &err))
        fprintf(stderr, "load: %s\n", err.msg);
    else if (lstmsrc_doctor(ds, &r, &err))
        fprintf(stderr, "doctor: %s\n", err.msg);
    lstmsrc_dataset_free(ds); /* the report keeps no pointer into the data */
    free(csv);
    return r;
}

/* The finding with this code (and output, unless -2), or NULL. */
static const struct lstmsrc_finding *find(const struct lstmsrc_report *r,
                                          enum lstmsrc_finding_code code, int output)
{
    for (int i = 0; r && i < r->n_findings; i++)
        if (r->findings[i].code == code && (output == -2 || r->findings[i].output == output))
            return &r->findings[i];
    return NULL;
}

static int count(const struct lstmsrc_report *r, enum lstmsrc_finding_code code)
{
    int c = 0;
    for (int i = 0; r && i < r->n_findings; i++)
        c += r->findings[i].code == code;
    return c;
}

/* Every finding says something and is sorted problems-first. */
static void check_wellformed(const struct lstmsrc_report *r)
{
    CHECK(r != NULL);
    if (!r) return;
    for (int i = 0; i < r->n_findings; i++) {
        const struct lstmsrc_finding *f = &r->findings[i];
        CHECK(f->message && strlen(f->message) > 20);
        CHECK(f->advice != NULL);
        CHECK(strcmp(lstmsrc_finding_code_str(f->code), "unknown") != 0);
        if (i) CHECK(r->findings[i - 1].severity >= f->severity);
    }
}

/* ============================== clean data ============================== */

/* Two sources with their own levels, long regular runs: only the notes and the balance
 * warning; nothing suspicious. */
static void test_clean(void)
{
    static struct set s;
    set_init(&s, 2);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f); /* 10 runs of 40 */
    set_blocks(&s, 1, 100, 20, 200, 300.0f); /* 10 runs of 20, never with s1 */
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK(r->rows == N && r->outputs == 2 && r->has_labels);
    /* the data set is gone by now: names are the report's own copies */
    CHECK(!strcmp(r->source, "set.csv") && !strcmp(r->input[0].name, "reading"));
    CHECK(!strcmp(r->output[0].name, "s1") && !strcmp(r->output[1].name, "s2"));
    CHECK(r->output[0].on_rows == 400 && r->output[0].on_runs == 10);
    CHECK(r->output[0].on_run_median == 40 && r->output[0].cycle_median == 40);
    CHECK(r->output[0].off_run_median == 160);
    CHECK(r->output[1].on_rows == 200 && r->output[1].on_runs == 10);
    CHECK_NEAR(r->output[0].on_share, 0.2, 1e-12);
    CHECK(r->rows_multi_on == 0);
    CHECK_NEAR(r->all_off_accuracy, 0.7, 1e-12);
    CHECK(r->output[0].flicker == 0.0);
    CHECK_NEAR(r->output[0].level_median, 1201.0, 2.0);
    CHECK_NEAR(r->base_median, 201.0, 1.0);
    CHECK(r->input[0].negative == 0 && r->input[0].outage_runs == 0 && r->input[0].jumps == 0);

    for (int i = 0; i < r->n_findings; i++)
        CHECK(r->findings[i].severity != LSTMSRC_SEVERITY_PROBLEM);
    CHECK(find(r, LSTMSRC_FINDING_FRAMING, -1) != NULL);
    CHECK(find(r, LSTMSRC_FINDING_BALANCE, -1) != NULL);
    CHECK(find(r, LSTMSRC_FINDING_SCALE, -2) != NULL);
    CHECK(count(r, LSTMSRC_FINDING_NEGATIVE) == 0);
    CHECK(count(r, LSTMSRC_FINDING_OUTAGE) == 0);
    CHECK(count(r, LSTMSRC_FINDING_CLIPPED) == 0);
    CHECK(count(r, LSTMSRC_FINDING_JUMP) == 0);
    CHECK(count(r, LSTMSRC_FINDING_CONSTANT) == 0);
    CHECK(count(r, LSTMSRC_FINDING_DUPLICATE) == 0);
    CHECK(count(r, LSTMSRC_FINDING_OVERLAP) == 0);
    CHECK(count(r, LSTMSRC_FINDING_FLICKER) == 0);
    CHECK(count(r, LSTMSRC_FINDING_FEW_POSITIVES) == 0);
    CHECK(count(r, LSTMSRC_FINDING_VALIDATION) == 0);
    /* own levels: the reading alone separates them, no window suggestion */
    const struct lstmsrc_finding *d = find(r, LSTMSRC_FINDING_DURATION, -2);
    CHECK(d && d->severity == LSTMSRC_SEVERITY_INFO);
    CHECK(r->suggested_seq_len == 0);
    CHECK(r->suggested_val_fraction == 0.1f);

    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    CHECK(lstmsrc_doctor_suggest(r, LSTMSRC_SUGGEST_SEQ_LEN | LSTMSRC_SUGGEST_VAL_FRACTION, &cfg) ==
          0);
    CHECK(cfg.seq_len == 5);
    lstmsrc_report_free(r);
}

/* ============================== suspicious readings ============================== */

static void test_negative_outage_clipped(void)
{
    static struct set s;
    set_init(&s, 1);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f);
    s.x[300] = -5.0f;
    s.x[301] = -7.0f;
    for (int t = 700; t < 710; t++)
        s.x[t] = 0.0f; /* a 10-row outage */
    for (int t = 1500; t < 1530; t++)
        s.x[t] = 5000.0f; /* a 30-row flat top... */
    for (int t = 1500; t < 1530; t++)
        s.y[t][0] = 1; /* ...while the source is on */
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    const struct lstmsrc_input_stats *in = &r->input[0];
    CHECK(in->negative == 2 && in->first_negative == 301);
    CHECK(in->outage_runs == 1 && in->outage_rows == 10 && in->longest_outage == 10);
    CHECK(in->first_outage == 701);
    CHECK(in->at_max == 30 && in->near_max == 0);
    const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_NEGATIVE, -1);
    CHECK(f && f->input == 0 && f->value == 2 && f->severity == LSTMSRC_SEVERITY_WARN);
    CHECK(f && strstr(f->message, "row 301") != NULL);
    f = find(r, LSTMSRC_FINDING_OUTAGE, -1);
    CHECK(f && f->value == 10);
    f = find(r, LSTMSRC_FINDING_CLIPPED, -1);
    CHECK(f && f->value == 30);
    lstmsrc_report_free(r);

    /* a single maximum is not clipping; a water-like channel at 0 most of the time has no
     * outages (its median is 0) */
    set_init(&s, 1);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f);
    for (int t = 0; t < N; t++)
        s.x[t] = s.y[t][0] ? 12.0f + 0.01f * (float)t : 0.0f;
    r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK(r->input[0].outage_runs == 0);
    CHECK(count(r, LSTMSRC_FINDING_OUTAGE) == 0);
    CHECK(count(r, LSTMSRC_FINDING_CLIPPED) == 0);
    lstmsrc_report_free(r);
}

/* Spikes as big as a source with no label switching are counted; the sources' own switching
 * steps are not. */
static void test_jumps(void)
{
    static struct set s;
    set_init(&s, 1);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f);
    s.x[500] += 3000.0f; /* up at 500, down at 501: two steps */
    s.x[1100] += 900.0f;
    s.x[1101] += 900.0f;
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK_NEAR(r->input[0].jump_threshold, 1000.0, 2.0);
    CHECK(r->input[0].jumps == 2); /* the 900 pair stays below the threshold */
    CHECK(r->input[0].max_step >= 2990.0);
    const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_JUMP, -1);
    CHECK(f && f->value == 2 && f->severity == LSTMSRC_SEVERITY_WARN); /* 1 per 1000 rows */
    lstmsrc_report_free(r);
}

/* ============================== columns ============================== */

static void test_constant_and_duplicate(void)
{
    static struct set s;
    set_init(&s, 3);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f);
    set_blocks(&s, 1, 120, 20, 250, 300.0f);
    for (int t = 0; t < N; t++)
        s.y[t][2] = s.y[t][0]; /* s3 copies s1 */
    s.two_inputs = 1;
    for (int t = 0; t < N; t++)
        s.x2[t] = 7.0f;
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_CONSTANT, -1);
    CHECK(f && f->input == 1 && f->severity == LSTMSRC_SEVERITY_PROBLEM && f->value == 7.0);
    f = find(r, LSTMSRC_FINDING_DUPLICATE, 0);
    CHECK(f && f->other == 2 && f->severity == LSTMSRC_SEVERITY_WARN);
    CHECK(r->findings[0].severity == LSTMSRC_SEVERITY_PROBLEM); /* problems come first */
    lstmsrc_report_free(r);

    /* identical inputs */
    set_init(&s, 1);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f);
    s.two_inputs = 1;
    memcpy(s.x2, s.x, sizeof s.x);
    r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    f = find(r, LSTMSRC_FINDING_DUPLICATE, -1);
    CHECK(f && f->input == 0 && f->other == 1);
    lstmsrc_report_free(r);
}

static void test_few_positives(void)
{
    static struct set s;
    set_init(&s, 3);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f);
    set_blocks(&s, 1, 300, 10, 600, 300.0f); /* 3 runs of 10 rows: too few */
    /* s3 never on */
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK(r->output[1].on_rows == 30 && r->output[1].on_runs == 3);
    const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_FEW_POSITIVES, 1);
    CHECK(f && f->severity == LSTMSRC_SEVERITY_PROBLEM && f->value == 30);
    f = find(r, LSTMSRC_FINDING_FEW_POSITIVES, 2);
    CHECK(f && f->severity == LSTMSRC_SEVERITY_PROBLEM && f->value == 0);
    CHECK(find(r, LSTMSRC_FINDING_FEW_POSITIVES, 0) == NULL);
    lstmsrc_report_free(r);
}

/* ============================== levels, durations, flicker ============================== */

/* Two sources at the same level, never together: each reads like the other, so context is
 * needed and the window should cover the longer one's cycle. */
static void test_overlap_and_window(void)
{
    static struct set s;
    set_init(&s, 2);
    set_blocks(&s, 0, 10, 60, 300, 1000.0f);  /* cycles of 60 */
    set_blocks(&s, 1, 160, 12, 300, 1000.0f); /* cycles of 12 */
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK_NEAR(r->overlap[0 * 2 + 1], 1.0, 1e-12);
    CHECK_NEAR(r->overlap[1 * 2 + 0], 1.0, 1e-12);
    CHECK(isnan(r->overlap[0]));
    const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_OVERLAP, 0);
    CHECK(f && f->severity == LSTMSRC_SEVERITY_WARN && f->value == 1.0);
    CHECK(find(r, LSTMSRC_FINDING_OVERLAP, 1) != NULL);
    CHECK(r->suggested_seq_len == 60);
    f = find(r, LSTMSRC_FINDING_DURATION, 0);
    CHECK(f && f->severity == LSTMSRC_SEVERITY_WARN && f->value == 60);
    CHECK(r->seq_len_reason && strstr(r->seq_len_reason, "s1") != NULL);

    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.label_at = LSTMSRC_LABEL_LAST;
    CHECK(lstmsrc_doctor_suggest(r, 0, &cfg) == 0 && cfg.seq_len == 5); /* user set it */
    CHECK(lstmsrc_doctor_suggest(r, LSTMSRC_SUGGEST_SEQ_LEN, &cfg) == LSTMSRC_SUGGEST_SEQ_LEN);
    CHECK(cfg.seq_len == 60);
    /* a centred label: a cycle on each side of the labelled row */
    lstmsrc_train_config_default(&cfg);
    cfg.label_at = LSTMSRC_LABEL_CENTER;
    CHECK(lstmsrc_doctor_suggest(r, LSTMSRC_SUGGEST_SEQ_LEN, &cfg) == LSTMSRC_SUGGEST_SEQ_LEN);
    CHECK(cfg.seq_len == 120);
    lstmsrc_report_free(r);

    /* a source whose on-rows read like the house with nothing on */
    set_init(&s, 1);
    set_blocks(&s, 0, 10, 40, 200, 0.0f);
    r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK(r->output[0].base_like > 0.8);
    f = find(r, LSTMSRC_FINDING_OVERLAP, 0);
    CHECK(f && f->severity == LSTMSRC_SEVERITY_WARN);
    CHECK(r->suggested_seq_len == 40);
    lstmsrc_report_free(r);
}

/* On, off, on, off... inside each cycle: single-row runs, joined into one cycle. */
static void test_flicker(void)
{
    static struct set s;
    set_init(&s, 1);
    for (int c = 0; c < 10; c++)
        for (int i = 0; i < 30; i++) {
            int t = 50 + c * 190 + i;
            if (i % 3 != 1) { /* on, off, on, on, off, on, ...: gaps of one row */
                s.y[t][0] = 1;
                s.x[t] += 1000.0f;
            }
        }
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    const struct lstmsrc_output_stats *o = &r->output[0];
    CHECK(o->cycles == 10);
    CHECK(o->cycle_median == 30);
    CHECK(o->off_run_median == 1);
    CHECK(o->flicker > 0.5);
    const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_FLICKER, 0);
    CHECK(f && f->severity == LSTMSRC_SEVERITY_WARN);
    lstmsrc_report_free(r);
}

/* ============================== validation part ============================== */

static void test_validation(void)
{
    static struct set s;
    set_init(&s, 2);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f);
    /* s2 only between 70 % and 80 % of the file: a 25 % validation part holds it */
    for (int t = 1420; t < 1600; t += 60)
        for (int i = t; i < t + 30; i++) {
            s.y[i][1] = 1;
            s.x[i] += 300.0f;
        }
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK(r->val_rows == 200);
    CHECK(r->output[1].val_on_rows == 0 && r->output[1].last_on_row == 1570);
    const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_VALIDATION, 1);
    CHECK(f && f->value == 0 && f->severity == LSTMSRC_SEVERITY_WARN);
    CHECK(find(r, LSTMSRC_FINDING_VALIDATION, 0) == NULL);
    CHECK(r->suggested_val_fraction == 0.25f);
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    CHECK(lstmsrc_doctor_suggest(r, LSTMSRC_SUGGEST_VAL_FRACTION, &cfg) ==
          LSTMSRC_SUGGEST_VAL_FRACTION);
    CHECK(cfg.val_fraction == 0.25f);
    lstmsrc_report_free(r);
}

/* ============================== framing, other shapes ============================== */

static void test_framing(void)
{
    static struct set s;
    set_init(&s, 2);
    set_blocks(&s, 0, 10, 40, 200, 1000.0f);
    set_blocks(&s, 1, 30, 40, 200, 300.0f); /* overlaps s1 by 20 rows per period */
    struct lstmsrc_report *r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK(r->rows_multi_on == 200);
    const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_FRAMING, -1);
    CHECK(f && f->value == 0.1 && strstr(f->message, "multi-label") != NULL);
    lstmsrc_report_free(r);

    /* exactly one source on in every row */
    set_init(&s, 2);
    for (int t = 0; t < N; t++) {
        int j = (t / 50) % 2;
        s.y[t][j] = 1;
        s.x[t] += j ? 300.0f : 1000.0f;
    }
    r = doctor(&s);
    check_wellformed(r);
    if (!r) return;
    CHECK(r->rows_none_on == 0 && r->rows_multi_on == 0 && r->all_off_accuracy == 0.0);
    f = find(r, LSTMSRC_FINDING_FRAMING, -1);
    CHECK(f && f->value == 0.0 && strstr(f->message, "one-of-2") != NULL);
    lstmsrc_report_free(r);
}

static void test_multiclass_and_unlabelled(void)
{
    /* class column: the balance finding is about the majority class */
    char *csv = malloc((size_t)N * 16 + 32), *w = csv;
    w += sprintf(w, "reading,cls\n");
    for (int t = 0; t < N; t++) {
        int c = t % 100 < 70 ? 0 : t % 100 < 90 ? 1 : 2;
        w += sprintf(w, "%d,%d\n", 200 + 500 * c, c);
    }
    struct lstmsrc_columns cols;
    memset(&cols, 0, sizeof cols);
    cols.class_column = "cls";
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_report *r = NULL;
    struct lstmsrc_error err;
    CHECK(lstmsrc_dataset_load_mem("cls.csv", csv, (size_t)(w - csv), &cols, &ds, &err) == 0);
    CHECK(ds && lstmsrc_doctor(ds, &r, &err) == 0);
    check_wellformed(r);
    if (r) {
        CHECK(r->task == LSTMSRC_TASK_MULTICLASS && r->outputs == 3);
        CHECK(r->majority_class == 0);
        CHECK_NEAR(r->all_off_accuracy, 0.7, 1e-12);
        const struct lstmsrc_finding *f = find(r, LSTMSRC_FINDING_BALANCE, -1);
        CHECK(f && f->value == 0.7);
        CHECK(count(r, LSTMSRC_FINDING_OVERLAP) == 0);
    }
    lstmsrc_report_free(r);
    lstmsrc_dataset_free(ds);
    r = NULL;
    ds = NULL;

    /* readings alone: only the inputs are examined */
    w = csv;
    w += sprintf(w, "reading\n");
    for (int t = 0; t < N; t++)
        w += sprintf(w, "%d\n", t == 5 ? -1 : 200 + t % 7);
    memset(&cols, 0, sizeof cols);
    cols.labels_optional = 1;
    CHECK(lstmsrc_dataset_load_mem("x.csv", csv, (size_t)(w - csv), &cols, &ds, &err) == 0);
    CHECK(ds && lstmsrc_doctor(ds, &r, &err) == 0);
    check_wellformed(r);
    if (r) {
        CHECK(!r->has_labels && r->outputs == 0 && r->output == NULL);
        CHECK(find(r, LSTMSRC_FINDING_SCALE, -1) != NULL);
        CHECK(find(r, LSTMSRC_FINDING_NEGATIVE, -1) != NULL);
        CHECK(count(r, LSTMSRC_FINDING_BALANCE) == 0 && r->suggested_seq_len == 0);
    }
    lstmsrc_report_free(r);
    lstmsrc_dataset_free(ds);
    free(csv);
    lstmsrc_report_free(NULL);
}

int main(void)
{
    RUN(test_clean);
    RUN(test_negative_outage_clipped);
    RUN(test_jumps);
    RUN(test_constant_and_duplicate);
    RUN(test_few_positives);
    RUN(test_overlap_and_window);
    RUN(test_flicker);
    RUN(test_validation);
    RUN(test_framing);
    RUN(test_multiclass_and_unlabelled);
    return test_report("test_doctor");
}
