/*
 * fuzz_stream_line.c — libFuzzer target for the line parser of `lstmsrc stream`
 * (src/cli/cmd_stream.c, included here because its parser is static there). Byte 0 picks one
 * of two small in-memory models (one input, multi-label; two inputs, combined classes) and
 * --proba; the rest is stdin, cut into lines as cmd_stream cuts them (fgets, then "\r\n"
 * stripped, a NUL ending the line, a UTF-8 BOM skipped on the first). The first line may be a
 * header (try_header), every line is parsed (parse_row), and each row parsed is pushed
 * through a real lstmsrc_stream and formatted by pred_out_row. Checks: parsed readings are finite
 * and equal lstmsrc_parse_number of their field, messages are one line, probabilities lie in [0,
 * 1], an output line fits row_max and ends with '\n'. Not here: reading stdin and the line-length
 * limit (inputs stay far below it).
 */
#include "cli/cmd_stream.c"

#include <math.h>
#include <stdint.h>

#include "base/common.h"
#include "nn/model.h"

const char *const fuzz_seed_dirs[] = {"fuzz/corpus/stream_line", NULL};

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_stream_line: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* A model with fixed, small weights; names as a user would have them. Built once per process
 * (the harness may keep state; the library does not). */
static struct lstmsrc_model *make_model(int f, int k, enum lstmsrc_task task,
                                        enum lstmsrc_label_mode mode, int n_labels)
{
    static const char *const in[] = {"reading", "power kW"};
    static const char *const lab[] = {"kettle", "washer, \"eco\""};
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    if (model_create(f, 3, 1, 1, k, 3, n_labels, task, mode, &m, &err)) fail("model", err.msg);
    for (int i = 0; i < f; i++) {
        m->input_names[i] = str_dup(in[i]);
        m->scale_mean[i] = 100.0f;
        m->scale_std[i] = 10.0f;
    }
    for (int j = 0; j < n_labels; j++)
        m->label_names[j] = str_dup(lab[j]);
    static const char *const cls[] = {"none", "washer", "kettle", "kettle+washer"};
    for (int j = 0; j < k; j++)
        m->output_names[j] = str_dup(mode == LSTMSRC_LABELS_SOURCES ? lab[j] : cls[j]);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = 0.5f * sinf((float)i);
    return m;
}

static void check_row(const struct state *S, const float *row)
{
    for (int i = 0; i < S->info.inputs; i++)
        if (!isfinite(row[i])) fail("a parsed reading is not finite", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lstmsrc_model *models[2];
    static struct field *fields;
    if (!models[0]) {
        models[0] = make_model(1, 2, LSTMSRC_TASK_MULTILABEL, LSTMSRC_LABELS_SOURCES, 2);
        models[1] = make_model(2, 4, LSTMSRC_TASK_MULTICLASS, LSTMSRC_LABELS_COMBINED, 2);
        fields = malloc(LSTMSRC_MAX_COLUMNS * sizeof *fields);
        if (!fields) fail("out of memory", NULL);
    }
    if (size < 1) return 0;
    const struct lstmsrc_model *m = models[data[0] & 1];
    const int proba = (data[0] >> 1) & 1;
    data++;
    size--;

    struct state S;
    memset(&S, 0, sizeof S);
    lstmsrc_model_get_info(m, &S.info);
    S.fields = fields;
    const struct lstmsrc_columns no_flags = {0};
    struct lstmsrc_error terr;
    if (state_time(&S, &no_flags, &terr)) fail("setup", terr.msg);
    struct lstmsrc_stream *s = NULL;
    struct pred_out po = {0};
    struct lstmsrc_error err;
    char *line = malloc(size + 1), *out = NULL;
    float row[LSTMSRC_MAX_INPUTS], probs[8];
    if (!line || lstmsrc_stream_create(m, &s, &err) || !pred_out_init(&po, m, proba) ||
        !(out = malloc(PRED_OUT_TIME + po.row_max)))
        fail("setup", NULL);

    long lineno = 0;
    for (size_t pos = 0; pos < size;) {
        /* fgets: up to and including '\n'; strlen then stops at a NUL */
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t take = nl ? (size_t)(nl - (data + pos)) + 1 : size - pos;
        memcpy(line, data + pos, take);
        line[take] = '\0';
        pos += take;
        lineno++;
        size_t n = strlen(line);
        if (lineno == 1) n = skip_bom(line, n); /* before the line end is cut, as cmd_stream */
        if (n && line[n - 1] == '\n') n--;
        if (n && line[n - 1] == '\r') n--;
        line[n] = '\0';
        const char *t = line;
        size_t tn = n;
        trim(&t, &tn);
        if (tn == 0) continue;
        if (lineno == 1) {
            int h = try_header(&S, line, n);
            if (h < 0) break; /* a header missing a column: cmd_stream stops */
            if (h > 0) {
                if (!S.header || S.ncols < S.info.inputs || S.ncols > LSTMSRC_MAX_COLUMNS)
                    fail("header accepted without its columns", NULL);
                for (int i = 0; i < S.info.inputs; i++)
                    if (S.idx[i] < 0 || S.idx[i] >= S.ncols)
                        fail("column index out of range", NULL);
                continue;
            }
        }
        char msg[LSTMSRC_ERROR_SIZE + 8];
        msg[0] = '\0';
        char *copy = malloc(n + 1); /* parse_row splits in place; keep the text to compare */
        if (!copy) fail("out of memory", NULL);
        memcpy(copy, line, n + 1);
        int pr = parse_row(&S, line, n, row, msg, sizeof msg);
        if (pr == 4) fail("a line outside a time range that was never set", copy);
        if (pr == 3) { /* a time gap before a good row: the stream starts over at it */
            lstmsrc_stream_reset(s);
            pr = 0;
        }
        if (pr == 2) { /* a missing row: no message, the stream starts over after it */
            free(copy);
            lstmsrc_stream_reset(s);
            continue;
        }
        if (pr) {
            if (strchr(msg, '\n') || strlen(msg) == 0) fail("bad message", msg);
            free(copy);
            continue;
        }
        check_row(&S, row);
        /* a lone number on the line is read exactly as the CSV loader reads it */
        const char *c = copy;
        size_t cn = n;
        trim(&c, &cn);
        float want;
        if (!S.header && S.info.inputs == 1 && cn == strcspn(c, ",;\t\r \"") &&
            (!lstmsrc_parse_number(c, cn, &want) || memcmp(&want, &row[0], sizeof want) != 0))
            fail("reading differs from lstmsrc_parse_number", copy);
        free(copy);
        int ready = 0;
        if (lstmsrc_stream_push(s, row, probs, &ready, &err))
            fail("push refused a parsed row", err.msg);
        if (!ready) continue;
        for (int j = 0; j < S.info.outputs; j++)
            if (!(probs[j] >= 0.0f && probs[j] <= 1.0f)) fail("probability outside [0, 1]", NULL);
        size_t len = pred_out_row(&po, probs, out);
        if (len == 0 || len > po.row_max || out[len - 1] != '\n') fail("bad output line", NULL);
    }
    pred_out_free(&po);
    free(out);
    free(line);
    lstmsrc_stream_free(s);
    return 0;
}
