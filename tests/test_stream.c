/*
 * test_stream.c — using a model on new data, at the library level:
 *   - lstmsrc_stream_push gives, row by row, the same bits as lstmsrc_predict on the same
 *     windows (multi-label 1 layer, multi-class 2 layers and 2 inputs, window of 1, a
 *     bidirectional top layer labelled at the last row and at the centre with 1 and 2 layers),
 *     and so does lstmsrc_predict_rows for any thread count and for one window alone;
 *   - reset starts a new window; a non-finite reading is refused and changes nothing;
 *   - the row reader gives the loader's floats, chunk by chunk, matching columns by name or
 *     index, and fails like the loader on missing columns, bad cells and ragged rows;
 *   - lstmsrc_decide (ON iff p > threshold; argmax, first on ties), lstmsrc_parse_number;
 *   - export-c: prefix checks, sizes, names in the text.
 * Models are random (Keras init from a seed) with a non-trivial scaler: bit-identity does not
 * need a trained model. Works in a private mkdtemp directory.
 */
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "base/rng.h"
#include "nn/model.h"
#include "test.h"

static char dir[64];
static char csv_path[128];
static char *csv_text;
static size_t csv_len;

#define ROWS 3000

/* "a,reading,b,x2" rows: a drifting reading, a second channel, two junk/label columns. */
static void make_csv(void)
{
    struct rng r;
    rng_seed(&r, 7);
    size_t cap = (size_t)ROWS * 64 + 64;
    csv_text = malloc(cap);
    size_t n = (size_t)snprintf(csv_text, cap, "a,reading,b,x2\n");
    double v = 300.0;
    for (int i = 0; i < ROWS; i++) {
        v += rng_normal(&r) * 20.0 + (rng_uniform(&r) < 0.05 ? 400.0 : 0.0);
        if (v > 2000.0) v = 300.0;
        n += (size_t)snprintf(csv_text + n, cap - n, "%d,%.2f,%d,%.3f\n", i % 2, v,
                              (int)rng_below(&r, 2), rng_normal(&r));
    }
    csv_len = n;
    snprintf(csv_path, sizeof csv_path, "%s/data.csv", dir);
    FILE *fp = fopen(csv_path, "wb");
    if (fp) {
        fwrite(csv_text, 1, csv_len, fp);
        fclose(fp);
    }
}

/* A random model: `dirs` directions in the top layer, raw channels labelled at `at`. */
static struct lstmsrc_model *make_model_dirs(int f, int h, int layers, int dirs,
                                             enum lstmsrc_label_at at, int k, int seq,
                                             enum lstmsrc_task task, uint64_t seed)
{
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    enum lstmsrc_label_mode mode =
        task == LSTMSRC_TASK_MULTILABEL ? LSTMSRC_LABELS_SOURCES : LSTMSRC_LABELS_CLASS;
    if (model_create(f, h, layers, dirs, k, seq, task == LSTMSRC_TASK_MULTILABEL ? k : 1, task,
                     mode, &m, &err))
        return NULL;
    if (!model_set_framing(m, LSTMSRC_FEATURE_RAW, at)) {
        lstmsrc_model_free(m);
        return NULL;
    }
    const char *in[] = {"reading", "x2"};
    for (int i = 0; i < f; i++) {
        m->input_names[i] = str_dup(in[i]);
        m->scale_mean[i] = i == 0 ? 600.0f : 0.1f;
        m->scale_std[i] = i == 0 ? 350.0f : 1.2f;
    }
    for (int j = 0; j < m->n_labels; j++) {
        char nm[16];
        snprintf(nm, sizeof nm, "src%d", j + 1);
        m->label_names[j] = str_dup(nm);
    }
    for (int j = 0; j < k; j++) {
        char nm[16];
        snprintf(nm, sizeof nm, task == LSTMSRC_TASK_MULTILABEL ? "src%d" : "%d", j);
        m->output_names[j] = str_dup(nm);
        m->threshold[j] = 0.4f + 0.05f * (float)j;
    }
    struct rng r;
    rng_seed(&r, seed);
    model_init_params(m, &r);
    /* non-zero biases and a bigger head, so the outputs spread */
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] *= 1.5f;
    return m;
}

static struct lstmsrc_model *make_model(int f, int h, int layers, int k, int seq,
                                        enum lstmsrc_task task, uint64_t seed)
{
    return make_model_dirs(f, h, layers, 1, LSTMSRC_LABEL_LAST, k, seq, task, seed);
}

static struct lstmsrc_dataset *load_for(const struct lstmsrc_model *m)
{
    struct lstmsrc_columns cols;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err;
    lstmsrc_model_columns(m, 1, &cols);
    cols.label_names = NULL; /* the file's label columns are not the model's */
    cols.n_label_names = 0;
    cols.labels = "nonexistent";
    if (lstmsrc_dataset_load_mem("data.csv", csv_text, csv_len, &cols, &ds, &err)) {
        fprintf(stderr, "load: %s\n", err.msg);
        return NULL;
    }
    return ds;
}

/* Streams every row of ds through m and compares each window with lstmsrc_predict, bit for
 * bit; also lstmsrc_predict_rows with several thread counts. */
static void check_model(struct lstmsrc_model *m)
{
    struct lstmsrc_error err;
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    struct lstmsrc_dataset *ds = load_for(m);
    CHECK(ds != NULL);
    if (!ds) return;
    size_t n = lstmsrc_dataset_rows(ds), T = (size_t)info.seq_len, K = (size_t)info.outputs;
    size_t nw = n - T + 1;
    float *ref = malloc(nw * K * sizeof *ref), *p = malloc(nw * K * sizeof *p);
    CHECK(lstmsrc_predict(m, ds, ref, nw, &err) == LSTMSRC_OK);

    struct lstmsrc_stream *s = NULL;
    CHECK(lstmsrc_stream_create(m, &s, &err) == LSTMSRC_OK);
    const float *x = lstmsrc_dataset_inputs_data(ds);
    size_t same = 0, ready_rows = 0;
    float probs[LSTMSRC_MAX_CLASSES];
    double lo = 1.0, hi = 0.0;
    for (size_t i = 0; i < n; i++) {
        int ready = -1;
        CHECK(lstmsrc_stream_push(s, x + i * (size_t)info.inputs, probs, &ready, &err) ==
              LSTMSRC_OK);
        CHECK(ready == (i + 1 >= T));
        if (!ready) continue;
        ready_rows++;
        const float *r = ref + (i + 1 - T) * K;
        same += memcmp(probs, r, K * sizeof *probs) == 0;
        for (size_t k = 0; k < K; k++) {
            lo = r[k] < lo ? r[k] : lo;
            hi = r[k] > hi ? r[k] : hi;
        }
    }
    CHECK(ready_rows == nw);
    CHECK(same == nw);
    CHECK(hi - lo > 0.05); /* the outputs move: the comparison means something */

    /* probs NULL: ready is still reported */
    int ready = 0;
    CHECK(lstmsrc_stream_push(s, x, NULL, &ready, &err) == LSTMSRC_OK && ready == 1);

    int threads[] = {1, 2, 3, 0};
    for (int t = 0; t < 4; t++) {
        memset(p, 0xff, nw * K * sizeof *p);
        CHECK(lstmsrc_predict_rows(m, x, n, p, nw, threads[t], &err) == LSTMSRC_OK);
        CHECK(memcmp(p, ref, nw * K * sizeof *p) == 0);
    }
    /* a slice: windows of rows [100, 100 + 50 + T - 1) are windows 100.. of the whole */
    CHECK(lstmsrc_predict_rows(m, x + 100 * (size_t)info.inputs, 50 + T - 1, p, 50, 2, &err) ==
          LSTMSRC_OK);
    CHECK(memcmp(p, ref + 100 * K, 50 * K * sizeof *p) == 0);
    /* one window alone (a batch of one) gives the bits it has inside a batch: the first, one at
     * a row-block boundary, one mid-batch, the last */
    size_t one[] = {0, 47, 48, 100, 1023, 1024, nw - 1};
    size_t alone = 0;
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
        size_t w = one[i] < nw ? one[i] : nw - 1;
        memset(p, 0xff, K * sizeof *p);
        CHECK(lstmsrc_predict_rows(m, x + w * (size_t)info.inputs, T, p, 1, 1, &err) == LSTMSRC_OK);
        alone += memcmp(p, ref + w * K, K * sizeof *p) == 0;
    }
    CHECK(alone == sizeof one / sizeof one[0]);
    CHECK(lstmsrc_predict_rows(m, x, n, p, nw - 1, 1, &err) == LSTMSRC_ERR_ARG);
    CHECK(lstmsrc_predict_rows(m, x, T - 1, p, 0, 1, &err) == LSTMSRC_ERR_ARG || T == 1);
    CHECK(lstmsrc_predict_rows(m, x, n, p, nw, -1, &err) == LSTMSRC_ERR_ARG);

    lstmsrc_stream_free(s);
    free(ref);
    free(p);
    lstmsrc_dataset_free(ds);
}

static void test_stream_equals_predict_multilabel(void)
{
    struct lstmsrc_model *m = make_model(1, 16, 1, 3, 5, LSTMSRC_TASK_MULTILABEL, 11);
    CHECK(m != NULL);
    if (m) check_model(m);
    lstmsrc_model_free(m);
}

static void test_stream_equals_predict_multiclass_2layers_2inputs(void)
{
    struct lstmsrc_model *m = make_model(2, 9, 2, 5, 7, LSTMSRC_TASK_MULTICLASS, 12);
    CHECK(m != NULL);
    if (m) check_model(m);
    lstmsrc_model_free(m);
}

static void test_stream_window_of_one(void)
{
    struct lstmsrc_model *m = make_model(1, 5, 1, 2, 1, LSTMSRC_TASK_MULTILABEL, 13);
    CHECK(m != NULL);
    if (m) check_model(m);
    lstmsrc_model_free(m);
}

/* A bidirectional top layer, labelled at the last row and at the centre, with 1 and 2 layers:
 * the stream, predict, predict_rows and a window alone all give the same bits. */
static void test_stream_equals_predict_bidirectional(void)
{
    const struct {
        int f, h, layers, k, seq;
        enum lstmsrc_label_at at;
        enum lstmsrc_task task;
    } c[] = {
        {1, 12, 1, 3, 6, LSTMSRC_LABEL_LAST, LSTMSRC_TASK_MULTILABEL},
        {1, 12, 1, 3, 7, LSTMSRC_LABEL_CENTER, LSTMSRC_TASK_MULTILABEL},
        {2, 9, 2, 4, 5, LSTMSRC_LABEL_LAST, LSTMSRC_TASK_MULTICLASS},
        {2, 9, 2, 4, 6, LSTMSRC_LABEL_CENTER, LSTMSRC_TASK_MULTICLASS},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct lstmsrc_model *m = make_model_dirs(c[i].f, c[i].h, c[i].layers, 2, c[i].at, c[i].k,
                                                  c[i].seq, c[i].task, 21 + i);
        CHECK(m != NULL);
        if (!m) continue;
        struct lstmsrc_model_info info;
        lstmsrc_model_get_info(m, &info);
        CHECK(info.directions == 2 && info.label_offset == (c[i].at ? c[i].seq / 2 : 0));
        check_model(m);
        lstmsrc_model_free(m);
    }
}

static void test_stream_reset_and_nonfinite(void)
{
    struct lstmsrc_model *m = make_model(1, 8, 1, 2, 4, LSTMSRC_TASK_MULTILABEL, 14);
    struct lstmsrc_stream *s = NULL, *s2 = NULL;
    struct lstmsrc_error err;
    CHECK(m && lstmsrc_stream_create(m, &s, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_stream_create(m, &s2, &err) == LSTMSRC_OK);
    if (!s || !s2) goto done;
    float rows[10] = {100, 250, 900, 120, 130, 1500, 1480, 200, 210, 220};
    float a[2], b[2];
    int ready;
    /* rows 0..5 into s, then reset, then rows 6..9: equals a fresh stream fed rows 6..9 */
    for (int i = 0; i < 6; i++)
        lstmsrc_stream_push(s, &rows[i], a, &ready, &err);
    lstmsrc_stream_reset(s);
    for (int i = 6; i < 10; i++) {
        CHECK(lstmsrc_stream_push(s, &rows[i], a, &ready, &err) == LSTMSRC_OK);
        CHECK(ready == (i == 9));
        lstmsrc_stream_push(s2, &rows[i], b, &ready, &err);
    }
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* a NaN or an inf is refused and leaves the window as it was */
    float bad[2] = {(float)NAN, (float)INFINITY};
    for (int j = 0; j < 2; j++) {
        ready = 7;
        err.msg[0] = '\0';
        CHECK(lstmsrc_stream_push(s, &bad[j], a, &ready, &err) == LSTMSRC_ERR_ARG);
        CHECK(ready == 0 && err.code == LSTMSRC_ERR_ARG && strstr(err.msg, "finite"));
    }
    float next = 333.0f;
    lstmsrc_stream_push(s, &next, a, &ready, &err);
    lstmsrc_stream_push(s2, &next, b, &ready, &err);
    CHECK(ready == 1 && memcmp(a, b, sizeof a) == 0);
done:
    lstmsrc_stream_free(s);
    lstmsrc_stream_free(s2);
    lstmsrc_stream_free(NULL);
    lstmsrc_model_free(m);
}

/* ============================== rows ============================== */

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

static void test_rows_match_loader(void)
{
    struct lstmsrc_error err;
    const char *names[] = {"x2", "reading"};
    struct lstmsrc_columns cols = {0};
    cols.input_names = names;
    cols.n_input_names = 2;
    cols.labels_optional = 1;
    cols.labels = "nonexistent";
    struct lstmsrc_dataset *ds = NULL;
    CHECK(lstmsrc_dataset_load_mem("d", csv_text, csv_len, &cols, &ds, &err) == LSTMSRC_OK);
    struct lstmsrc_rows *r = NULL;
    CHECK(lstmsrc_rows_open(csv_path, &cols, &r, &err) == LSTMSRC_OK);
    if (!ds || !r) goto done;
    CHECK(lstmsrc_rows_inputs(r) == 2);
    float buf[2 * 7];
    size_t got, total = 0, same = 0;
    const float *x = lstmsrc_dataset_inputs_data(ds);
    for (;;) {
        CHECK(lstmsrc_rows_read(r, buf, 7, &got, &err) == LSTMSRC_OK);
        if (got == 0) break;
        CHECK(got == 7 || total + got == ROWS);
        same += memcmp(buf, x + total * 2, got * 2 * sizeof(float)) == 0;
        total += got;
    }
    CHECK(total == ROWS);
    CHECK(same == (ROWS + 6) / 7);
    CHECK(lstmsrc_rows_read(r, buf, 7, &got, &err) == LSTMSRC_OK && got == 0);
done:
    lstmsrc_rows_close(r);
    lstmsrc_rows_close(NULL);
    lstmsrc_dataset_free(ds);
}

static void test_rows_selection_and_errors(void)
{
    struct lstmsrc_error err;
    struct lstmsrc_rows *r = NULL;
    char path[160];
    float buf[8];
    size_t got;
    snprintf(path, sizeof path, "%s/small.csv", dir);
    write_file(path, "t,reading,x2\n1,10.5,2\n2, 11.25 ,3\n");

    /* default: column 1; an index list; names */
    struct lstmsrc_columns cols = {0};
    CHECK(lstmsrc_rows_open(path, &cols, &r, &err) == LSTMSRC_OK);
    CHECK(r && lstmsrc_rows_read(r, buf, 8, &got, &err) == LSTMSRC_OK && got == 2 &&
          buf[0] == 1.0f && buf[1] == 2.0f);
    lstmsrc_rows_close(r);
    cols.input = "3, reading";
    CHECK(lstmsrc_rows_open(path, &cols, &r, &err) == LSTMSRC_OK);
    CHECK(r && lstmsrc_rows_read(r, buf, 8, &got, &err) == LSTMSRC_OK && got == 2 &&
          buf[0] == 2.0f && buf[1] == 10.5f && buf[2] == 3.0f && buf[3] == 11.25f);
    lstmsrc_rows_close(r);
    r = NULL;

    /* a missing column names itself and the file's columns */
    const char *nm[] = {"power"};
    struct lstmsrc_columns c2 = {0};
    c2.input_names = nm;
    c2.n_input_names = 1;
    CHECK(lstmsrc_rows_open(path, &c2, &r, &err) == LSTMSRC_ERR_ARG && r == NULL);
    CHECK(strstr(err.msg, "small.csv:1: no column \"power\" (columns: t, reading, x2)") != NULL);

    /* a bad cell: FILE:LINE:COL like the loader; a ragged row */
    write_file(path, "reading,x\n1,a\n2,b\nnan,c\n");
    CHECK(lstmsrc_rows_open(path, NULL, &r, &err) == LSTMSRC_OK);
    CHECK(r && lstmsrc_rows_read(r, buf, 8, &got, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strstr(err.msg, "small.csv:4:1: expected a finite number, found \"nan\"") != NULL);
    lstmsrc_rows_close(r);
    write_file(path, "reading,x\n1,a\n2\n");
    CHECK(lstmsrc_rows_open(path, NULL, &r, &err) == LSTMSRC_OK);
    CHECK(r && lstmsrc_rows_read(r, buf, 8, &got, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strstr(err.msg, "small.csv:3: expected 2 fields, found 1") != NULL);
    lstmsrc_rows_close(r);
    write_file(path, "");
    CHECK(lstmsrc_rows_open(path, NULL, &r, &err) == LSTMSRC_ERR_PARSE);
    snprintf(path, sizeof path, "%s/missing.csv", dir);
    CHECK(lstmsrc_rows_open(path, NULL, &r, &err) == LSTMSRC_ERR_IO);
}

/* ============================== decisions, numbers ============================== */

static void test_decide(void)
{
    struct lstmsrc_model *ml = make_model(1, 2, 1, 3, 2, LSTMSRC_TASK_MULTILABEL, 1);
    struct lstmsrc_model *mc = make_model(1, 2, 1, 3, 2, LSTMSRC_TASK_MULTICLASS, 1);
    CHECK(ml && mc);
    if (!ml || !mc) goto done;
    /* thresholds 0.40, 0.45, 0.50: ON only strictly above */
    float p[6] = {0.40f, 0.46f, 0.9f, 0.41f, 0.45f, 0.5f};
    uint8_t on[6];
    lstmsrc_decide(ml, p, 2, on);
    CHECK(on[0] == 0 && on[1] == 1 && on[2] == 1 && on[3] == 1 && on[4] == 0 && on[5] == 0);
    float q[6] = {0.2f, 0.4f, 0.4f, 0.5f, 0.1f, 0.4f};
    lstmsrc_decide(mc, q, 2, on);
    CHECK(on[0] == 0 && on[1] == 1 && on[2] == 0); /* first on ties */
    CHECK(on[3] == 1 && on[4] == 0 && on[5] == 0);
done:
    lstmsrc_model_free(ml);
    lstmsrc_model_free(mc);
}

static void test_parse_number(void)
{
    float v;
    CHECK(lstmsrc_parse_number("2832.26", 7, &v) && v == (float)strtod("2832.26", NULL));
    CHECK(lstmsrc_parse_number(" -1e3 ", 6, &v) && v == -1000.0f);
    CHECK(lstmsrc_parse_number("0.1000000000000000055511151231257827", 36, &v) && v == 0.1f);
    CHECK(lstmsrc_parse_number("12abc", 2, &v) && v == 12.0f); /* only len bytes */
    const char *bad[] = {"", " ", "nan", "inf", "0x10", "1e39", "1.5abc", "--1", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!lstmsrc_parse_number(bad[i], strlen(bad[i]), &v));
    CHECK(!lstmsrc_parse_number(NULL, 0, &v));
}

/* ============================== export ============================== */

static void test_export_c(void)
{
    struct lstmsrc_model *m = make_model(2, 4, 2, 3, 5, LSTMSRC_TASK_MULTILABEL, 2);
    struct lstmsrc_error err;
    CHECK(m != NULL);
    if (!m) return;
    struct lstmsrc_export_size sz;
    lstmsrc_export_c_size(m, &sz);
    CHECK(sz.weight_bytes == m->n_params * 4);
    /* + mean, std (2 inputs) and 3 thresholds, + 3 x (min_on, min_off), + "reading", "x2",
     * "src0".."src2" with NULs */
    CHECK(sz.flash_bytes == sz.weight_bytes + 7 * 4 + 3 * 8 + 8 + 3 + 3 * 5);
    /* ring 5x2, previous row 2, h and c 2x4 each, gates 16, head + filled + has_prev */
    CHECK(sz.ram_bytes == (10 + 2 + 16 + 16) * 4 + 12);

    const char *bad[] = {
        "",    "9lives",    "a-b",
        "a b", "x\xc3\xa9", "a1234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *fp = tmpfile();
        CHECK(fp && lstmsrc_export_c_file(m, bad[i], fp, &err) == LSTMSRC_ERR_ARG);
        if (fp) fclose(fp);
    }
    char path[160];
    snprintf(path, sizeof path, "%s/m.h", dir);
    free(m->output_names[1]);
    m->output_names[1] = str_dup("q\"uote?\\");
    CHECK(lstmsrc_export_c(m, "Dev_1", path, &err) == LSTMSRC_OK);
    FILE *fp = fopen(path, "rb");
    char *text = calloc(1, 1 << 20);
    if (fp && text) {
        size_t n = fread(text, 1, (1 << 20) - 1, fp);
        text[n] = '\0';
        CHECK(strstr(text, "#define Dev_1_INPUTS 2\n") != NULL);
        CHECK(strstr(text, "#define Dev_1_DIRECTIONS 1 ") != NULL);
        CHECK(strstr(text, "static inline int Dev_1_push(Dev_1_state *s") != NULL);
        CHECK(strstr(text, "\"q\\\"uote\\?\\\\\"") != NULL);
        CHECK(strstr(text, "Dev_1_w1[") != NULL && strstr(text, "Dev_1_w2[") == NULL);
        CHECK(strstr(text, "malloc(") == NULL);
    }
    if (fp) fclose(fp);
    free(text);
    /* a non-finite parameter cannot be exported */
    m->params[3] = (float)NAN;
    CHECK(lstmsrc_export_c(m, "x", path, &err) == LSTMSRC_ERR_FORMAT);
    lstmsrc_model_free(m);

    /* bidirectional, 2 layers, centred label (window 5: the reverse direction reads 3 rows):
     * the same flash formula over more weights; RAM adds its h and c and the 3 rows of the
     * lower layer's output it reads */
    struct lstmsrc_model *b = NULL;
    CHECK(model_create(2, 4, 2, 2, 3, 5, 3, LSTMSRC_TASK_MULTILABEL, LSTMSRC_LABELS_SOURCES, &b,
                       &err) == LSTMSRC_OK);
    if (!b) return;
    CHECK(model_set_framing(b, LSTMSRC_FEATURE_RAW, LSTMSRC_LABEL_CENTER));
    lstmsrc_export_c_size(b, &sz);
    CHECK(sz.weight_bytes == b->n_params * 4);
    CHECK(sz.flash_bytes == sz.weight_bytes + 7 * 4 + 3 * 8 + 2 + 3); /* names all "" */
    CHECK(sz.ram_bytes == (10 + 2 + 16 + 16 + 8 + 3 * 4) * 4 + 12);
    FILE *bf = tmpfile();
    char *bt = calloc(1, 1 << 20);
    CHECK(bf && bt && lstmsrc_export_c_file(b, "bi", bf, &err) == LSTMSRC_OK);
    if (bf && bt) {
        rewind(bf);
        size_t n = fread(bt, 1, (1 << 20) - 1, bf);
        bt[n] = '\0';
        CHECK(strstr(bt, "#define bi_DIRECTIONS 2 ") != NULL);
        CHECK(strstr(bt, "#define bi_FORWARD_STEPS 3 ") != NULL);
        CHECK(strstr(bt, "#define bi_REVERSE_STEPS 3 ") != NULL);
        CHECK(strstr(bt, "static const float bi_wr[(4 + bi_HIDDEN) * 4 * bi_HIDDEN]") != NULL);
        CHECK(strstr(bt, "static const float bi_wd[bi_OUTPUTS * 2 * bi_HIDDEN]") != NULL);
    }
    if (bf) fclose(bf);
    free(bt);
    lstmsrc_model_free(b);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lstmsrc_stream_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    make_csv();
    RUN(test_stream_equals_predict_multilabel);
    RUN(test_stream_equals_predict_multiclass_2layers_2inputs);
    RUN(test_stream_window_of_one);
    RUN(test_stream_equals_predict_bidirectional);
    RUN(test_stream_reset_and_nonfinite);
    RUN(test_rows_match_loader);
    RUN(test_rows_selection_and_errors);
    RUN(test_decide);
    RUN(test_parse_number);
    RUN(test_export_c);
    char path[160];
    const char *files[] = {"data.csv", "small.csv", "m.h"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    free(csv_text);
    return test_report("test_stream");
}
