/*
 * test_validation_support.c — lstmsrc_validation_support counts, per output, the validation
 * and training windows whose labelled row has it on, exactly the windows training used: checked
 * against a count by hand over the rows the model's metadata names, for a label at the last row
 * and at the centre, a source on only in the training part, multi-class data, a model without a
 * validation part, and data that is not the model's (refused, nothing counted).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsrc.h"
#include "test.h"

#define N 1500

/* reading,s1,s2: s1 on 20 rows of every 100 over the whole file, s2 on 15 of every 80 only in
 * the first 60 % (never in a 10 % validation part) */
static char *csv(size_t *len)
{
    char *buf = malloc(64 + (size_t)N * 32), *w = buf;
    w += sprintf(w, "reading,s1,s2\n");
    for (int t = 0; t < N; t++) {
        int s1 = t % 100 >= 40 && t % 100 < 60;
        int s2 = t < N * 6 / 10 && t % 80 < 15;
        w += sprintf(w, "%.1f,%d,%d\n", 200.0 + (t % 7) + 900.0 * s1 + 400.0 * s2, s1, s2);
    }
    *len = (size_t)(w - buf);
    return buf;
}

static struct lstmsrc_dataset *load(const char *text, size_t len, int multiclass)
{
    struct lstmsrc_columns cols;
    memset(&cols, 0, sizeof cols);
    if (multiclass) cols.mode = LSTMSRC_LABELS_COMBINED;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err;
    if (lstmsrc_dataset_load_mem("v.csv", text, len, &cols, &ds, &err))
        fprintf(stderr, "load: %s\n", err.msg);
    return ds;
}

static struct lstmsrc_model *train(const struct lstmsrc_dataset *ds, enum lstmsrc_label_at at,
                                   float val)
{
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.seq_len = 9;
    cfg.hidden = 4;
    cfg.epochs = 1;
    cfg.batch = 64;
    cfg.threads = 1;
    cfg.label_at = at;
    cfg.val_fraction = val;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    if (lstmsrc_train(ds, &cfg, &m, &err)) fprintf(stderr, "train: %s\n", err.msg);
    return m;
}

/* the counts by hand: rows [first, first + count) of the labels */
static void by_hand(const struct lstmsrc_dataset *ds, size_t first, size_t count, size_t *on)
{
    int k = lstmsrc_dataset_outputs(ds);
    const uint8_t *y = lstmsrc_dataset_labels_data(ds);
    const int32_t *c = lstmsrc_dataset_classes_data(ds);
    for (int j = 0; j < k; j++)
        on[j] = 0;
    for (size_t t = first; t < first + count; t++)
        for (int j = 0; j < k; j++)
            on[j] += y ? y[t * (size_t)k + (size_t)j] != 0 : c[t] == j;
}

static void check_counts(const struct lstmsrc_model *m, const struct lstmsrc_dataset *ds)
{
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    size_t val[8], tr[8], want_val[8], want_tr[8], windows = 99;
    struct lstmsrc_error err;
    CHECK(lstmsrc_validation_support(m, ds, val, tr, &windows, &err) == LSTMSRC_OK);
    CHECK(windows == info.windows_val);
    size_t lab = (size_t)(info.seq_len - 1 - info.label_offset);
    by_hand(ds, (size_t)info.rows_train + lab, (size_t)info.windows_val, want_val);
    by_hand(ds, lab, (size_t)info.rows_train - (size_t)info.seq_len + 1, want_tr);
    for (int j = 0; j < info.outputs; j++) {
        CHECK(val[j] == want_val[j]);
        CHECK(tr[j] == want_tr[j]);
    }
    /* train_on may be left out */
    CHECK(lstmsrc_validation_support(m, ds, val, NULL, &windows, &err) == LSTMSRC_OK);
    CHECK(val[0] == want_val[0]);
}

static void test_multilabel(void)
{
    size_t len;
    char *text = csv(&len);
    struct lstmsrc_dataset *ds = load(text, len, 0);
    CHECK(ds != NULL);
    if (!ds) goto out;
    for (int at = 0; at < 2; at++) {
        struct lstmsrc_model *m = train(ds, at ? LSTMSRC_LABEL_CENTER : LSTMSRC_LABEL_LAST, 0.1f);
        CHECK(m != NULL);
        if (!m) continue;
        check_counts(m, ds);
        size_t val[2], tr[2], windows;
        CHECK(lstmsrc_validation_support(m, ds, val, tr, &windows, NULL) == LSTMSRC_OK);
        CHECK(windows == 150 - 9 + 1);
        CHECK(val[0] > 0 && val[1] == 0 && tr[1] > 0); /* s2: on in training only */
        lstmsrc_model_free(m);
    }
    /* no validation part: nothing counted, no error */
    struct lstmsrc_model *m0 = train(ds, LSTMSRC_LABEL_LAST, 0.0f);
    CHECK(m0 != NULL);
    if (m0) {
        size_t val[2] = {7, 7}, windows = 7;
        CHECK(lstmsrc_validation_support(m0, ds, val, NULL, &windows, NULL) == LSTMSRC_OK);
        CHECK(windows == 0 && val[0] == 0 && val[1] == 0);
    }
    /* not the model's data: fewer rows, other outputs */
    struct lstmsrc_model *m = train(ds, LSTMSRC_LABEL_LAST, 0.1f);
    size_t half = 0;
    for (size_t nl = 0; half < len && nl < N / 2 + 1; half++)
        nl += text[half] == '\n';
    struct lstmsrc_dataset *shorter = load(text, half, 0);
    struct lstmsrc_dataset *cls = load(text, len, 1);
    CHECK(m && shorter && cls);
    if (m && shorter && cls) {
        size_t val[4] = {7, 7, 7, 7}, windows = 7;
        struct lstmsrc_error err = {LSTMSRC_OK, ""};
        CHECK(lstmsrc_validation_support(m, shorter, val, NULL, &windows, &err) == LSTMSRC_ERR_ARG);
        CHECK(strstr(err.msg, "trained on 1500 rows") != NULL);
        CHECK(windows == 0 && val[0] == 0 && val[1] == 0);
        CHECK(lstmsrc_validation_support(m, cls, val, NULL, &windows, &err) == LSTMSRC_ERR_ARG);
    }
    lstmsrc_model_free(m);
    lstmsrc_model_free(m0);
    lstmsrc_dataset_free(shorter);
    lstmsrc_dataset_free(cls);
    lstmsrc_dataset_free(ds);
out:
    free(text);
}

static void test_multiclass(void)
{
    size_t len;
    char *text = csv(&len);
    struct lstmsrc_dataset *ds = load(text, len, 1);
    struct lstmsrc_model *m = ds ? train(ds, LSTMSRC_LABEL_CENTER, 0.2f) : NULL;
    CHECK(ds && m);
    if (m) {
        check_counts(m, ds);
        size_t val[4], windows, sum = 0;
        CHECK(lstmsrc_validation_support(m, ds, val, NULL, &windows, NULL) == LSTMSRC_OK);
        for (int j = 0; j < 4; j++)
            sum += val[j];
        CHECK(sum == windows && windows == 300 - 9 + 1); /* one class per window */
    }
    lstmsrc_model_free(m);
    lstmsrc_dataset_free(ds);
    free(text);
}

int main(void)
{
    RUN(test_multilabel);
    RUN(test_multiclass);
    return test_report("test_validation_support");
}
