/*
 * fuzz_model_load.c — libFuzzer target for the model loader (lstmsrc_model_load_mem). Each input
 * is loaded twice: as given (magic, version, size and checksum checks), and as a copy whose
 * size field and CRC are rewritten to match, so mutations reach the checks behind the checksum
 * (counts, names, limits, values). A load that succeeds must describe a model inside the stated
 * limits, and a small one is run over a few windows of synthetic data, which must give
 * probabilities in [0, 1] (or NaN, see predict_small). On failure *out stays untouched and the
 * message is one line naming the file. Seeds: fuzz/corpus/model_load (small models written by the
 * library, bidirectional version-3 ones among them).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/testio.h"
#include "lstmsrc.h"

const char *const fuzz_seed_dirs[] = {"fuzz/corpus/model_load", NULL};

#define NAME "fuzz.lsm"
/* Copies to fix up are capped so one input stays fast; real seeds are a few KB. */
#define MAX_FIXUP ((size_t)1 << 20)

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_model_load: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* Appends s to the CSV as a quoted field ("" for "). */
static char *put_quoted(char *w, const char *s)
{
    *w++ = '"';
    for (; *s; s++) {
        if (*s == '"') *w++ = '"';
        *w++ = *s;
    }
    *w++ = '"';
    return w;
}

/* Runs a small model over synthetic rows named after its inputs. Names the CSV reader cannot
 * give back exactly (empty, padded with blanks) simply make the data set fail to load. */
static void predict_small(const struct lstmsrc_model *m, const struct lstmsrc_model_info *info)
{
    if (info->n_params > 50000 || info->seq_len > 16) return;
    const int rows = info->seq_len + 2;
    size_t cap = 64 + (size_t)info->inputs * (2 * LSTMSRC_MAX_NAME + 4 + (size_t)rows * 8);
    char *csv = malloc(cap), *w = csv;
    if (!csv) return;
    for (int i = 0; i < info->inputs; i++) {
        if (i) *w++ = ',';
        w = put_quoted(w, info->input_names[i]);
    }
    *w++ = '\n';
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < info->inputs; i++)
            w += sprintf(w, "%d%c", (r * 7 + i * 3) % 11 - 5, i + 1 < info->inputs ? ',' : '\n');
    struct lstmsrc_columns cols;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err;
    lstmsrc_model_columns(m, 1, &cols);
    if (lstmsrc_dataset_load_mem("fuzz-data.csv", csv, (size_t)(w - csv), &cols, &ds, &err) ==
        LSTMSRC_OK) {
        size_t nw = (size_t)(rows - info->seq_len + 1);
        float *probs = malloc(nw * (size_t)info->outputs * sizeof *probs);
        if (probs && lstmsrc_predict(m, ds, probs, nw, &err) == LSTMSRC_OK) {
            /* NaN is let through: finite but extreme weights or scaler values can overflow
             * the gate sums to inf - inf; anything else must be a probability */
            for (size_t i = 0; i < nw * (size_t)info->outputs; i++)
                if (probs[i] < 0.0f || probs[i] > 1.0f) fail("probability outside [0, 1]", NULL);
        }
        free(probs);
        lstmsrc_dataset_free(ds);
    }
    free(csv);
}

static void check_model(const struct lstmsrc_model *m)
{
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    if (info.inputs < 1 || info.inputs > LSTMSRC_MAX_INPUTS || info.hidden < 1 ||
        info.hidden > LSTMSRC_MAX_HIDDEN || info.layers < 1 || info.layers > LSTMSRC_MAX_LAYERS ||
        info.seq_len < 1 || info.seq_len > LSTMSRC_MAX_SEQ || info.outputs < 1 ||
        info.outputs > LSTMSRC_MAX_CLASSES || info.n_params == 0 || info.channels < info.inputs ||
        info.channels > LSTMSRC_MAX_INPUTS || info.channels % info.inputs != 0 ||
        info.label_offset < 0 || info.label_offset >= info.seq_len)
        fail("loaded model outside the stated limits", NULL);
    for (int i = 0; i < info.inputs; i++)
        if (!info.input_names[i] || strlen(info.input_names[i]) > LSTMSRC_MAX_NAME)
            fail("bad input", NULL);
    for (int c = 0; c < info.channels; c++)
        if (!isfinite(info.scale_mean[c]) || !(info.scale_std[c] >= FLT_MIN) ||
            !isfinite(info.scale_std[c]))
            fail("bad channel scaler", NULL);
    for (int j = 0; j < info.outputs; j++)
        if (!info.output_names[j] || !isfinite(info.thresholds[j]) || !(info.pos_weights[j] >= 0))
            fail("bad output", NULL);
    for (int j = 0; j < info.n_labels; j++)
        if (!info.label_names[j]) fail("bad label name", NULL);
    predict_small(m, &info);
}

static void load(const uint8_t *data, size_t size)
{
    struct lstmsrc_model *untouched = (struct lstmsrc_model *)&untouched, *m = untouched;
    struct lstmsrc_error err;
    enum lstmsrc_status st = lstmsrc_model_load_mem(NAME, data, size, &m, &err);
    if (st == LSTMSRC_OK) {
        check_model(m);
        lstmsrc_model_free(m);
        return;
    }
    if (m != untouched) fail("*out written on failure", err.msg);
    if (err.code != st) fail("error code differs from the returned status", err.msg);
    if (strncmp(err.msg, NAME ": ", strlen(NAME) + 2) != 0)
        fail("message does not start with the file name", err.msg);
    if (strchr(err.msg, '\n')) fail("message spans lines", err.msg);
    if (st != LSTMSRC_ERR_FORMAT && st != LSTMSRC_ERR_VERSION && st != LSTMSRC_ERR_LIMIT &&
        st != LSTMSRC_ERR_NOMEM)
        fail("unexpected status", err.msg);
    if (st == LSTMSRC_ERR_VERSION && !strstr(err.msg, "this build reads up to"))
        fail("a version error must name both versions", err.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private, exact-size copy that the fix-up below may edit */
    uint8_t *copy = calloc(size ? size : 1, 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    load(copy, size);
    if (size >= 28 && size <= MAX_FIXUP) {
        put_le(copy + 16, size, 8); /* file_size */
        put_le(copy + size - 4, crc_bitwise(copy, size - 4), 4);
        load(copy, size);
    }
    free(copy);
    return 0;
}
