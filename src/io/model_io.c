/*
 * model_io.c — the versioned binary model file (docs/FORMAT.md): save, load from a path, load
 * from memory. Every byte is written and read explicitly little-endian, so a file is the same on
 * every host. The loader distrusts the file (ggml gguf.cpp): magic, version, total size and a
 * CRC-32 are checked up front, then every count against the limits in lstmsrc.h and the bytes
 * left, and every float for finiteness. Saving serialises to memory and hands the bytes to
 * outfile.c (temporary name, fsync, rename), so a failure never leaves half a model behind.
 * Deliberately not here: the parameter layout (model.c owns it via model_layout_fill), mmap, and
 * reading any version newer than this build's.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/binio.h"
#include "base/common.h"
#include "base/outfile.h"
#include "nn/model.h"
#include "post/durations.h"

_Static_assert(sizeof(float) == 4, "model files store IEEE-754 binary32 floats");

/* ============================== format constants ============================== */

static const unsigned char model_magic[8] = {'L', 'S', 'R', 'C', 'M', 'D', 'L', '\0'};

#define FORMAT_VERSION 6u /* the newest this build reads */
/* Header flags (version 3 on): bit 0, the top layer is bidirectional. A model without one is
 * written as version 2, which builds before version 3 read as well. Version 4 on: bit 1, an
 * ingest block follows the post block (power thresholds of the label columns, the invalid
 * reading); a model without one keeps version 2 or 3. */
#define FLAG_BIDIRECTIONAL 1u
#define FLAG_INGEST 2u
/* Version 5 on: bit 2, an origin block (the model fine-tuning started from) follows the ingest
 * block; a model without one keeps version 2, 3 or 4. */
#define FLAG_INIT 4u
/* Version 6 on: bit 3, a scaler block (u32 mode, 1 = per-file) follows the origin block; a
 * model with the global scaler has none and keeps version 2 to 5. */
#define FLAG_SCALER 8u
#define SCALER_PER_FILE 1u
#define INGEST_INVALID_BELOW 1u /* ingest block flags: bit 0, invalid_below is set */
#define INGEST_TIME 2u          /* bit 1: a time column, its period and gap limit */
#define HEADER_SIZE 60u         /* magic .. n_labels, see docs/FORMAT.md */
#define META_SIZE 68u           /* training metadata block */
#define INPUT_SIZE 16u /* version 2: input block (features, label_at, label_offset, stride) */
#define POST_ENTRY 8u  /* post block, per output: u32 min_on, u32 min_off (version 2 on) */
#define CRC_SIZE 4u
/* Files (and buffers) above this are refused on load, so save refuses to write them. */
#define MODEL_MAX_FILE ((size_t)1 << 31)

/* Header field offsets. */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 8,
    OFF_HEADER_SIZE = 12,
    OFF_FILE_SIZE = 16,
    OFF_FLAGS = 24,
    OFF_TASK = 28,
    OFF_LABEL_MODE = 32,
    OFF_F = 36,
    OFF_H = 40,
    OFF_LAYERS = 44,
    OFF_K = 48,
    OFF_SEQ_LEN = 52,
    OFF_N_LABELS = 56
};

/* ============================== bytes and checksum ============================== */

/* Two's complement without relying on implementation-defined unsigned -> signed conversion. */
static int32_t u32_to_i32(uint32_t v)
{
    return v <= INT32_MAX ? (int32_t)v : (int32_t)(v - 0x80000000u) - INT32_MAX - 1;
}

/* ============================== validation (save and load) ============================== */

/* Checks an architecture read from a header (or held by a model about to be saved). Values are
 * unsigned so a negative int from a model is caught as huge. Returns 1 if valid, else 0 with a
 * reason in why. */
static int check_shape(uint32_t task, uint32_t mode, uint32_t f, uint32_t h, uint32_t layers,
                       uint32_t k, uint32_t seq, uint32_t n_labels, char *why, size_t cap)
{
    const struct {
        const char *what;
        uint32_t v, hi;
    } r[] = {
        {"inputs", f, LSTMSRC_MAX_INPUTS},
        {"hidden units", h, LSTMSRC_MAX_HIDDEN},
        {"layers", layers, LSTMSRC_MAX_LAYERS},
        {"sequence length", seq, LSTMSRC_MAX_SEQ},
    };
    if (task > LSTMSRC_TASK_MULTICLASS) {
        snprintf(why, cap, "task %" PRIu32 " is not 0 (multi-label) or 1 (multi-class)", task);
        return 0;
    }
    if (mode > LSTMSRC_LABELS_COMBINED) {
        snprintf(why, cap, "label mode %" PRIu32 " is not 0, 1 or 2", mode);
        return 0;
    }
    if ((task == LSTMSRC_TASK_MULTILABEL) != (mode == LSTMSRC_LABELS_SOURCES)) {
        snprintf(why, cap, "task %" PRIu32 " does not go with label mode %" PRIu32, task, mode);
        return 0;
    }
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        if (r[i].v < 1 || r[i].v > r[i].hi) {
            snprintf(why, cap, "%s %" PRIu32 " outside 1..%" PRIu32, r[i].what, r[i].v, r[i].hi);
            return 0;
        }
    }
    switch (mode) {
    case LSTMSRC_LABELS_SOURCES:
        if (k < 1 || k > LSTMSRC_MAX_SOURCES || n_labels != k) {
            snprintf(why, cap,
                     "%" PRIu32 " sources with %" PRIu32 " label columns (need 1..%d, equal)", k,
                     n_labels, LSTMSRC_MAX_SOURCES);
            return 0;
        }
        break;
    case LSTMSRC_LABELS_CLASS:
        if (k < 2 || k > LSTMSRC_MAX_CLASSES || n_labels != 1) {
            snprintf(why, cap,
                     "%" PRIu32 " classes from %" PRIu32 " class columns (need 2..%d from 1)", k,
                     n_labels, LSTMSRC_MAX_CLASSES);
            return 0;
        }
        break;
    default: /* combined: N 0/1 columns -> 2^N classes */
        if (n_labels < 1 || n_labels > LSTMSRC_MAX_COMBINED || k != (uint32_t)1 << n_labels) {
            snprintf(why, cap,
                     "%" PRIu32 " classes from %" PRIu32 " combined columns (need 2^N, N 1..%d)", k,
                     n_labels, LSTMSRC_MAX_COMBINED);
            return 0;
        }
        break;
    }
    return 1;
}

/* A scaler prediction can apply: a finite mean, and a std that is a normal float (at least
 * FLT_MIN, about 1.2e-38). Dividing by a subnormal std (1e-45) turns any reading into inf, and
 * every probability into NaN. */
static int scaler_ok(float mean, float std)
{
    return isfinite(mean) && isfinite(std) && std >= FLT_MIN;
}
#define SCALER_NEED "needs a finite mean and a std of at least %g (a normal float)"

/* Checks the values that prediction relies on: a scaler that can be applied, finite thresholds
 * and weights, finite parameters. Training metadata is informational and not checked. */
static int check_values(const struct lstmsrc_model *m, char *why, size_t cap)
{
    for (int i = 0; i < m->f; i++) {
        if (!scaler_ok(m->scale_mean[i], m->scale_std[i])) {
            snprintf(why, cap, "input %d scaler (mean %g, std %g) " SCALER_NEED, i,
                     (double)m->scale_mean[i], (double)m->scale_std[i], (double)FLT_MIN);
            return 0;
        }
    }
    for (int j = 0; j < m->k; j++) {
        if (!isfinite(m->threshold[j]) || !isfinite(m->base_threshold[j]) ||
            !isfinite(m->pos_weight[j]) || m->pos_weight[j] < 0) {
            snprintf(why, cap,
                     "output %d threshold %g, baseline threshold %g, positive weight %g: "
                     "need finite values and a weight >= 0",
                     j, (double)m->threshold[j], (double)m->base_threshold[j],
                     (double)m->pos_weight[j]);
            return 0;
        }
        if (!durations_valid(m->min_on[j], m->min_off[j]) ||
            (m->task != LSTMSRC_TASK_MULTILABEL && (m->min_on[j] != 1 || m->min_off[j] != 1))) {
            snprintf(why, cap,
                     "output %d minimum durations on %d, off %d rows: need 1..%d (1 for "
                     "multi-class)",
                     j, m->min_on[j], m->min_off[j], LSTMSRC_MAX_DURATION);
            return 0;
        }
    }
    for (size_t i = 0; i < m->n_params; i++) {
        if (!isfinite(m->params[i])) {
            snprintf(why, cap, "parameter %zu of %zu is not finite", i, m->n_params);
            return 0;
        }
    }
    return 1;
}

/* Checks the input block against the model's shape and names (read before it): known feature
 * bits, channels a whole number of columns, each channel named after its column, the label
 * offset that label_at gives for the window, a stride within the window limit. */
static int check_input_block(const struct lstmsrc_model *m, uint32_t features, uint32_t label_at,
                             uint32_t label_offset, uint32_t stride, char *why, size_t cap)
{
    int per = model_feature_count(features);
    if (per == 0) {
        snprintf(why, cap,
                 "input block: features 0x%" PRIx32 ", expected bit 0 (raw) and/or bit 1 "
                 "(first difference) and no other",
                 features);
        return 0;
    }
    if (m->f % per != 0) {
        snprintf(why, cap, "input block: %d channels are not %d per input column", m->f, per);
        return 0;
    }
    int raw = m->f / per;
    for (int c = raw; c < m->f; c++) {
        const char *a = m->input_names[c] ? m->input_names[c] : "";
        const char *b = m->input_names[c % raw] ? m->input_names[c % raw] : "";
        if (strcmp(a, b) != 0) {
            snprintf(why, cap,
                     "input block: channel %d is named \"%.40s\", its column is \"%.40s\"", c, a,
                     b);
            return 0;
        }
    }
    if (label_at > LSTMSRC_LABEL_CENTER) {
        snprintf(why, cap, "input block: label_at %" PRIu32 " is not 0 (last) or 1 (center)",
                 label_at);
        return 0;
    }
    uint32_t want = label_at == LSTMSRC_LABEL_CENTER ? (uint32_t)m->seq_len / 2 : 0;
    if (label_offset != want) {
        snprintf(why, cap,
                 "input block: label offset %" PRIu32
                 ", a window of %d labelled at its %s has %" PRIu32,
                 label_offset, m->seq_len, label_at ? "centre" : "last row", want);
        return 0;
    }
    if (stride > LSTMSRC_MAX_SEQ) { /* metadata: 0 = not recorded (not made by training) */
        snprintf(why, cap, "input block: stride %" PRIu32 " outside 0..%d", stride,
                 LSTMSRC_MAX_SEQ);
        return 0;
    }
    return 1;
}

/* ============================== save ============================== */

struct wbuf {
    unsigned char *p;
    size_t pos, cap; /* cap is computed exactly before writing; overrunning it is a bug */
};

static void w_u32(struct wbuf *w, uint32_t v)
{
    LSTMSRC_ASSERT(w->cap - w->pos >= 4);
    put_u32(w->p + w->pos, v);
    w->pos += 4;
}

static void w_u64(struct wbuf *w, uint64_t v)
{
    LSTMSRC_ASSERT(w->cap - w->pos >= 8);
    put_u64(w->p + w->pos, v);
    w->pos += 8;
}

static void w_floats(struct wbuf *w, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w_u32(w, f32_bits(x[i]));
}

static void w_names(struct wbuf *w, char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        size_t len = names[i] ? strlen(names[i]) : 0;
        w_u32(w, (uint32_t)len);
        LSTMSRC_ASSERT(w->cap - w->pos >= len);
        if (len) memcpy(w->p + w->pos, names[i], len);
        w->pos += len;
    }
}

/* Bytes for a list of names, or 0 (with why) if one is longer than LSTMSRC_MAX_NAME. */
static int names_size(char *const *names, int n, const char *what, size_t *out, char *why,
                      size_t cap)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t len = names[i] ? strlen(names[i]) : 0;
        if (len > LSTMSRC_MAX_NAME) {
            snprintf(why, cap, "%s name %d has %zu bytes, more than %d", what, i, len,
                     LSTMSRC_MAX_NAME);
            return 0;
        }
        total += 4 + len; /* at most 4096 * 260 bytes per list: no overflow */
    }
    *out = total;
    return 1;
}

/* Whether m has anything for the ingest block: a power threshold or an invalid reading. */
static int model_has_ingest(const struct lstmsrc_model *m)
{
    if (m->use_invalid_below || m->time_name) return 1;
    for (int j = 0; m->on_above && j < m->n_labels; j++)
        if (m->on_above[j] >= 0.0f) return 1;
    return 0;
}

/* The ingest block's values: finite; thresholds only for 0/1 label columns (not a class
 * column). */
static int check_ingest(const struct lstmsrc_model *m, char *why, size_t cap)
{
    if (m->use_invalid_below && !isfinite(m->invalid_below)) {
        snprintf(why, cap, "invalid-below reading %g is not finite", (double)m->invalid_below);
        return 0;
    }
    if (m->time_name && (!(m->period > 0.0 && m->period < 1e12) ||
                         !(m->max_gap >= m->period && m->max_gap < 1e15))) {
        snprintf(why, cap, "sampling period %g s and gap %g s: need 0 < period <= gap", m->period,
                 m->max_gap);
        return 0;
    }
    if (m->time_name && (strlen(m->time_name) > LSTMSRC_MAX_NAME)) {
        snprintf(why, cap, "time column name longer than %d bytes", LSTMSRC_MAX_NAME);
        return 0;
    }
    for (int j = 0; m->on_above && j < m->n_labels; j++) {
        if (!isfinite(m->on_above[j])) {
            snprintf(why, cap, "label %d: power threshold %g is not finite", j,
                     (double)m->on_above[j]);
            return 0;
        }
        if (m->on_above[j] >= 0.0f && m->label_mode == LSTMSRC_LABELS_CLASS) {
            snprintf(why, cap, "a class column has no power threshold");
            return 0;
        }
    }
    return 1;
}

/* Checks that m can be saved (the loader would take it back) and computes the file size. */
static enum lstmsrc_status serialise_size(const struct lstmsrc_model *m, const char *path,
                                          size_t *out_size, int *out_ingest,
                                          struct lstmsrc_error *err)
{
    char why[200];
    struct model_layout l;
    size_t ni, nl, no, size, pbytes;
    if (!check_shape((uint32_t)m->task, (uint32_t)m->label_mode, (uint32_t)m->f, (uint32_t)m->h,
                     (uint32_t)m->layers, (uint32_t)m->k, (uint32_t)m->seq_len,
                     (uint32_t)m->n_labels, why, sizeof why) ||
        !names_size(m->input_names, m->f, "input", &ni, why, sizeof why) ||
        !names_size(m->label_names, m->n_labels, "label", &nl, why, sizeof why) ||
        !names_size(m->output_names, m->k, "output", &no, why, sizeof why) ||
        !check_input_block(m, m->features, (uint32_t)m->label_at, (uint32_t)m->label_offset,
                           (uint32_t)m->meta.stride, why, sizeof why) ||
        !check_values(m, why, sizeof why))
        return set_error(err, LSTMSRC_ERR_ARG, "%s: cannot save this model: %s", path, why);
    LSTMSRC_ASSERT(model_layout_fill(&l, m->f, m->h, m->layers, m->dirs, m->k) &&
                   l.total == m->n_params);

    /* fixed parts are tiny; only the parameter block can be large */
    const int ingest = model_has_ingest(m);
    if (ingest && !check_ingest(m, why, sizeof why))
        return set_error(err, LSTMSRC_ERR_ARG, "%s: cannot save this model: %s", path, why);
    size = HEADER_SIZE + ni + nl + no + 4 * (2 * (size_t)m->f + 3 * (size_t)m->k) + META_SIZE +
           INPUT_SIZE + POST_ENTRY * (size_t)m->k + 8 + CRC_SIZE +
           (ingest ? 28 + (m->time_name ? strlen(m->time_name) : 0) + 4 * (size_t)m->n_labels : 0) +
           (m->init_name ? 8 + strlen(m->init_name) : 0) + (m->scaler_per_file ? 4 : 0);
    if (m->init_name && strlen(m->init_name) > LSTMSRC_MAX_NAME)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s: cannot save this model: init model name of %zu bytes; at most %d",
                         path, strlen(m->init_name), LSTMSRC_MAX_NAME);
    if (!mul_size(m->n_params, 4, &pbytes) || !add_size(size, pbytes, &size) ||
        size > MODEL_MAX_FILE)
        return set_error(err, LSTMSRC_ERR_LIMIT,
                         "%s: model has %zu parameters, more than a model file holds (2 GiB)", path,
                         m->n_params);
    *out_size = size;
    *out_ingest = ingest;
    return LSTMSRC_OK;
}

/* Magic, version, sizes, flags and the architecture. */
static void write_header_fields(struct wbuf *w, const struct lstmsrc_model *m, size_t size,
                                int ingest)
{
    memcpy(w->p, model_magic, sizeof model_magic);
    w->pos = sizeof model_magic;
    w_u32(w, m->scaler_per_file ? 6u : m->init_name ? 5u : ingest ? 4u : m->dirs == 2 ? 3u : 2u);
    w_u32(w, HEADER_SIZE);
    w_u64(w, (uint64_t)size);
    w_u32(w, (m->dirs == 2 ? FLAG_BIDIRECTIONAL : 0u) | (ingest ? FLAG_INGEST : 0u) |
                 (m->init_name ? FLAG_INIT : 0u) | (m->scaler_per_file ? FLAG_SCALER : 0u));
    w_u32(w, (uint32_t)m->task);
    w_u32(w, (uint32_t)m->label_mode);
    w_u32(w, (uint32_t)m->f);
    w_u32(w, (uint32_t)m->h);
    w_u32(w, (uint32_t)m->layers);
    w_u32(w, (uint32_t)m->k);
    w_u32(w, (uint32_t)m->seq_len);
    w_u32(w, (uint32_t)m->n_labels);
    LSTMSRC_ASSERT(w->pos == HEADER_SIZE);
}

/* The names, the scaler, thresholds and weights, and the training metadata. */
static void write_vectors_meta(struct wbuf *w, const struct lstmsrc_model *m)
{
    w_names(w, m->input_names, m->f);
    w_names(w, m->label_names, m->n_labels);
    w_names(w, m->output_names, m->k);
    w_floats(w, m->scale_mean, (size_t)m->f);
    w_floats(w, m->scale_std, (size_t)m->f);
    w_floats(w, m->threshold, (size_t)m->k);
    w_floats(w, m->base_threshold, (size_t)m->k);
    w_floats(w, m->pos_weight, (size_t)m->k);

    const struct model_train_meta *t = &m->meta;
    w_u64(w, t->seed);
    w_u64(w, t->rows_train);
    w_u64(w, t->rows_val);
    w_u64(w, t->windows_train);
    w_u64(w, t->windows_val);
    w_u32(w, (uint32_t)t->epochs_run);
    w_u32(w, (uint32_t)t->best_epoch);
    w_u32(w, (uint32_t)t->batch);
    w_u32(w, (uint32_t)t->threads);
    w_u32(w, f32_bits(t->lr));
    w_u32(w, f32_bits(t->val_loss));
    w_u32(w, f32_bits(t->val_macro_f1));
}

/* The input and post blocks, then the ingest and origin blocks where the model has them. */
static void write_blocks(struct wbuf *w, const struct lstmsrc_model *m, int ingest)
{
    const struct model_train_meta *t = &m->meta;
    /* input block (version 2) */
    w_u32(w, m->features);
    w_u32(w, (uint32_t)m->label_at);
    w_u32(w, (uint32_t)m->label_offset);
    w_u32(w, (uint32_t)t->stride);
    /* post block */
    for (int j = 0; j < m->k; j++) {
        w_u32(w, (uint32_t)m->min_on[j]);
        w_u32(w, (uint32_t)m->min_off[j]);
    }
    /* ingest block (version 4, FLAG_INGEST) */
    if (ingest) {
        w_u32(w, (m->use_invalid_below ? INGEST_INVALID_BELOW : 0u) |
                     (m->time_name ? INGEST_TIME : 0u));
        w_u32(w, f32_bits(m->use_invalid_below ? m->invalid_below : 0.0f));
        w_u64(w, f64_bits(m->time_name ? m->period : 0.0));
        w_u64(w, f64_bits(m->time_name ? m->max_gap : 0.0));
        char *const tn[1] = {m->time_name ? m->time_name : (char *)""};
        w_names(w, tn, 1);
        for (int j = 0; j < m->n_labels; j++)
            w_u32(w, f32_bits(m->on_above ? m->on_above[j] : -1.0f));
    }
    /* origin block (version 5, FLAG_INIT) */
    if (m->init_name) {
        char *const in[1] = {m->init_name};
        w_names(w, in, 1);
        w_u32(w, m->init_crc);
    }
    /* scaler block (version 6, FLAG_SCALER) */
    if (m->scaler_per_file) w_u32(w, SCALER_PER_FILE);
}

/* Serialises m into a new buffer the caller frees. Refuses a model the loader would refuse. */
static enum lstmsrc_status model_serialise(const struct lstmsrc_model *m, const char *path,
                                           unsigned char **out, size_t *out_len,
                                           struct lstmsrc_error *err)
{
    size_t size;
    int ingest;
    enum lstmsrc_status status = serialise_size(m, path, &size, &ingest, err);
    if (status) return status;
    struct wbuf w = {malloc(size), 0, size};
    if (!w.p) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, size);
    write_header_fields(&w, m, size, ingest);
    write_vectors_meta(&w, m);
    write_blocks(&w, m, ingest);
    w_u64(&w, (uint64_t)m->n_params);
    w_floats(&w, m->params, m->n_params);
    w_u32(&w, crc32_update(0, w.p, w.pos));
    LSTMSRC_ASSERT(w.pos == size);
    *out = w.p;
    *out_len = size;
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_model_save(const struct lstmsrc_model *m, const char *path,
                                       struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m && path);
    unsigned char *buf = NULL;
    size_t len = 0;
    struct outfile o;
    enum lstmsrc_status status = model_serialise(m, path, &buf, &len, err);
    if (status == LSTMSRC_OK && (status = outfile_open(&o, path, err)) == LSTMSRC_OK) {
        fflush(o.fp); /* nothing buffered: the bytes go straight to the descriptor */
        status = outfile_commit(&o, write_all(outfile_fd(&o), buf, len), err);
    }
    free(buf);
    return status;
}

/* ============================== load ============================== */

struct rbuf {
    const unsigned char *p;
    size_t pos, end; /* end excludes the trailing CRC */
};

/* Each reader refuses to run past `end`; after the size and CRC checks this only trips on a file
 * whose counts disagree with its own length, but it keeps every read bounded regardless. */
static int r_u32(struct rbuf *r, uint32_t *v)
{
    if (r->end - r->pos < 4) return 0;
    *v = get_u32(r->p + r->pos);
    r->pos += 4;
    return 1;
}

static int r_u64(struct rbuf *r, uint64_t *v)
{
    if (r->end - r->pos < 8) return 0;
    *v = get_u64(r->p + r->pos);
    r->pos += 8;
    return 1;
}

static int r_floats(struct rbuf *r, float *x, size_t n)
{
    if ((r->end - r->pos) / 4 < n) return 0;
    for (size_t i = 0; i < n; i++)
        x[i] = bits_f32(get_u32(r->p + r->pos + 4 * i));
    r->pos += 4 * n;
    return 1;
}

/* Reads n names into names[] (allocated NULL by model_create). */
static enum lstmsrc_status r_names(struct rbuf *r, char **names, int n, const char *what,
                                   const char *name, struct lstmsrc_error *err)
{
    for (int i = 0; i < n; i++) {
        uint32_t len;
        size_t at = r->pos;
        if (!r_u32(r, &len))
            return set_error(err, LSTMSRC_ERR_FORMAT, "%s: %s name %d cut off at offset %zu", name,
                             what, i, at);
        if (len > LSTMSRC_MAX_NAME)
            return set_error(err, LSTMSRC_ERR_FORMAT,
                             "%s: %s name %d at offset %zu has %" PRIu32 " bytes, limit %d", name,
                             what, i, at, len, LSTMSRC_MAX_NAME);
        if (r->end - r->pos < len)
            return set_error(err, LSTMSRC_ERR_FORMAT,
                             "%s: %s name %d at offset %zu has %" PRIu32 " bytes, only %zu remain",
                             name, what, i, at, len, r->end - r->pos);
        if (memchr(r->p + r->pos, '\0', len))
            return set_error(err, LSTMSRC_ERR_FORMAT, "%s: %s name %d at offset %zu contains NUL",
                             name, what, i, at);
        names[i] = str_ndup((const char *)r->p + r->pos, len);
        if (!names[i]) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", name);
        r->pos += len;
    }
    return LSTMSRC_OK;
}

/* The reader state shared by the section readers below: the bytes, the name for messages, what
 * the header said, the cursor past it and the model being built (NULL until load_create). Each
 * reader returns LSTMSRC_OK or the error it set; the driver frees the model on any error. */
struct loader {
    const char *name;
    const unsigned char *b;
    size_t len;
    uint32_t version, flags;
    struct model_layout l;
    struct rbuf r;
    struct lstmsrc_model *m;
    struct lstmsrc_error *err;
    char why[LSTMSRC_ERROR_SIZE];
};

/* Magic, then version before anything else: a newer file may lay out the rest differently. Then
 * the header size, the declared file size, the size limit and the checksum. */
static enum lstmsrc_status load_check_file(struct loader *ld)
{
    const unsigned char *b = ld->b;
    const char *name = ld->name;
    size_t len = ld->len;
    struct lstmsrc_error *err = ld->err;
    if (len == 0)
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: empty file, not an lstmsrc model", name);
    if (memcmp(b ? (const void *)b : "", model_magic, len < 8 ? len : 8) != 0)
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: not an lstmsrc model file (bad magic)",
                         name);
    if (len < OFF_HEADER_SIZE)
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: truncated: file has %zu bytes, the header alone needs %u", name, len,
                         HEADER_SIZE);
    uint32_t version = ld->version = get_u32(b + OFF_VERSION);
    if (version > FORMAT_VERSION)
        return set_error(err, LSTMSRC_ERR_VERSION,
                         "%s: file version %" PRIu32 ", this build reads up to %u", name, version,
                         FORMAT_VERSION);
    if (version == 0)
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: file version 0 is not valid", name);
    if (len < HEADER_SIZE)
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: truncated: file has %zu bytes, the header alone needs %u", name, len,
                         HEADER_SIZE);
    uint32_t header_size = get_u32(b + OFF_HEADER_SIZE);
    if (header_size != HEADER_SIZE)
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: header size %" PRIu32 ", version %" PRIu32 " has %u", name,
                         header_size, version, HEADER_SIZE);
    if (check_file_size(name, len, get_u64(b + OFF_FILE_SIZE), ld->why, sizeof ld->why))
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s", ld->why);
    if (len > MODEL_MAX_FILE)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %zu bytes, more than the 2 GiB model limit",
                         name, len);
    if (len < HEADER_SIZE + META_SIZE + (version >= 2 ? INPUT_SIZE : 0) + 8 + CRC_SIZE)
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: file has %zu bytes, too few for any model",
                         name, len);
    if (crc32_update(0, b, len - CRC_SIZE) != get_u32(b + len - CRC_SIZE))
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: checksum mismatch (file corrupted)", name);
    return LSTMSRC_OK;
}

/* The checksum only proves the file is what some writer wrote; what it says is checked next:
 * flags and architecture, the parameter count against the bytes there are, and only then the
 * model is allocated (ld->m) and the cursor set past the header. */
static enum lstmsrc_status load_create(struct loader *ld)
{
    const unsigned char *b = ld->b;
    const char *name = ld->name;
    struct lstmsrc_error *err = ld->err, cerr;
    uint32_t version = ld->version, flags = ld->flags = get_u32(b + OFF_FLAGS);
    if (flags & ~((version >= 3 ? FLAG_BIDIRECTIONAL : 0u) | (version >= 4 ? FLAG_INGEST : 0u) |
                  (version >= 5 ? FLAG_INIT : 0u) | (version >= 6 ? FLAG_SCALER : 0u)))
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: unknown flags 0x%08" PRIx32 " for version %" PRIu32, name, flags,
                         version);
    const int dirs = flags & FLAG_BIDIRECTIONAL ? 2 : 1;
    uint32_t task = get_u32(b + OFF_TASK), mode = get_u32(b + OFF_LABEL_MODE);
    uint32_t f = get_u32(b + OFF_F), h = get_u32(b + OFF_H), layers = get_u32(b + OFF_LAYERS);
    uint32_t k = get_u32(b + OFF_K), seq = get_u32(b + OFF_SEQ_LEN);
    uint32_t n_labels = get_u32(b + OFF_N_LABELS);
    if (!check_shape(task, mode, f, h, layers, k, seq, n_labels, ld->why, sizeof ld->why))
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: %s", name, ld->why);
    if (!model_layout_fill(&ld->l, (int)f, (int)h, (int)layers, dirs, (int)k))
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: architecture too large to address", name);
    /* every remaining section is at least this large: refuse before allocating for it */
    size_t need;
    if (!mul_size(ld->l.total, 4, &need) || need > ld->len)
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: architecture needs %zu parameters, the file has %zu bytes", name,
                         ld->l.total, ld->len);

    enum lstmsrc_status status =
        model_create((int)f, (int)h, (int)layers, dirs, (int)k, (int)seq, (int)n_labels,
                     (enum lstmsrc_task)task, (enum lstmsrc_label_mode)mode, &ld->m, &cerr);
    if (status == LSTMSRC_ERR_NOMEM) return set_error(err, status, "%s: out of memory", name);
    if (status != LSTMSRC_OK) return set_error(err, LSTMSRC_ERR_FORMAT, "%s: %s", name, cerr.msg);
    LSTMSRC_ASSERT(ld->m->n_params == ld->l.total);
    ld->r = (struct rbuf){b, HEADER_SIZE, ld->len - CRC_SIZE};
    return LSTMSRC_OK;
}

static enum lstmsrc_status load_names(struct loader *ld)
{
    struct lstmsrc_model *m = ld->m;
    enum lstmsrc_status status;
    if ((status = r_names(&ld->r, m->input_names, m->f, "input", ld->name, ld->err)) ||
        (status = r_names(&ld->r, m->label_names, m->n_labels, "label", ld->name, ld->err)) ||
        (status = r_names(&ld->r, m->output_names, m->k, "output", ld->name, ld->err)))
        return status;
    return LSTMSRC_OK;
}

/* The scaler, thresholds and positive weights, then the training metadata. */
static enum lstmsrc_status load_vectors(struct loader *ld)
{
    struct rbuf *r = &ld->r;
    struct lstmsrc_model *m = ld->m;
    struct model_train_meta *t = &m->meta;
    const char *name = ld->name;
    size_t at = r->pos;
    uint32_t u[7];
    if (!r_floats(r, m->scale_mean, (size_t)m->f) || !r_floats(r, m->scale_std, (size_t)m->f) ||
        !r_floats(r, m->threshold, (size_t)m->k) || !r_floats(r, m->base_threshold, (size_t)m->k) ||
        !r_floats(r, m->pos_weight, (size_t)m->k) || !r_u64(r, &t->seed) ||
        !r_u64(r, &t->rows_train) || !r_u64(r, &t->rows_val) || !r_u64(r, &t->windows_train) ||
        !r_u64(r, &t->windows_val) || !r_u32(r, &u[0]) || !r_u32(r, &u[1]) || !r_u32(r, &u[2]) ||
        !r_u32(r, &u[3]) || !r_u32(r, &u[4]) || !r_u32(r, &u[5]) || !r_u32(r, &u[6]))
        return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                         "%s: vectors and metadata from offset %zu run past the end at %zu", name,
                         at, r->end);
    for (int i = 0; i < m->f; i++) /* located here; check_values below only says which input */
        if (!scaler_ok(m->scale_mean[i], m->scale_std[i]))
            return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                             "%s: input %d scaler at offset %zu (mean %g, std %g) " SCALER_NEED,
                             name, i, at + 4 * (size_t)(isfinite(m->scale_mean[i]) ? m->f + i : i),
                             (double)m->scale_mean[i], (double)m->scale_std[i], (double)FLT_MIN);
    t->epochs_run = u32_to_i32(u[0]);
    t->best_epoch = u32_to_i32(u[1]);
    t->batch = u32_to_i32(u[2]);
    t->threads = u32_to_i32(u[3]);
    t->lr = bits_f32(u[4]);
    t->val_loss = bits_f32(u[5]);
    t->val_macro_f1 = bits_f32(u[6]);
    return LSTMSRC_OK;
}

/* Version 2: the input block; a version-1 file is raw channels labelled at the last row. */
static enum lstmsrc_status load_input_block(struct loader *ld)
{
    struct rbuf *r = &ld->r;
    struct lstmsrc_model *m = ld->m;
    uint32_t in[4] = {LSTMSRC_FEATURE_RAW, LSTMSRC_LABEL_LAST, 0, 1};
    size_t at = r->pos;
    if (ld->version >= 2 &&
        (!r_u32(r, &in[0]) || !r_u32(r, &in[1]) || !r_u32(r, &in[2]) || !r_u32(r, &in[3])))
        return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                         "%s: input block from offset %zu runs past the end at %zu", ld->name, at,
                         r->end);
    if (!check_input_block(m, in[0], in[1], in[2], in[3], ld->why, sizeof ld->why))
        return set_error(ld->err, LSTMSRC_ERR_FORMAT, "%s: %s", ld->name, ld->why);
    int framed = model_set_framing(m, in[0], (enum lstmsrc_label_at)in[1]);
    LSTMSRC_ASSERT(framed && (uint32_t)m->label_offset == in[2]);
    m->meta.stride = (int32_t)in[3];
    return LSTMSRC_OK;
}

/* The post block (version 2 on; a version 1 file has none: no filtering). */
static enum lstmsrc_status load_post_block(struct loader *ld)
{
    struct rbuf *r = &ld->r;
    struct lstmsrc_model *m = ld->m;
    for (int j = 0; ld->version >= 2 && j < m->k; j++) {
        uint32_t on, off;
        size_t at = r->pos;
        if (!r_u32(r, &on) || !r_u32(r, &off))
            return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                             "%s: post block entry %d at offset %zu runs past the end at %zu",
                             ld->name, j, at, r->end);
        if (!durations_valid(on, off) ||
            (m->task != LSTMSRC_TASK_MULTILABEL && (on != 1 || off != 1)))
            return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                             "%s: post block entry %d at offset %zu: minimum durations on %" PRIu32
                             ", off %" PRIu32 " rows; need 1..%d (1 for multi-class)",
                             ld->name, j, at, on, off, LSTMSRC_MAX_DURATION);
        m->min_on[j] = (int)on;
        m->min_off[j] = (int)off;
    }
    return LSTMSRC_OK;
}

/* The ingest block (version 4 on, FLAG_INGEST): the invalid reading, the time column and the
 * power thresholds of the label columns. */
static enum lstmsrc_status load_ingest(struct loader *ld)
{
    struct rbuf *r = &ld->r;
    struct lstmsrc_model *m = ld->m;
    const char *name = ld->name;
    enum lstmsrc_status status = LSTMSRC_OK;
    uint32_t iflags, inv;
    uint64_t per, gap;
    char *tn[1] = {NULL};
    if (!(ld->flags & FLAG_INGEST)) return LSTMSRC_OK;
    size_t at = r->pos;
    if (!r_u32(r, &iflags) || !r_u32(r, &inv) || !r_u64(r, &per) || !r_u64(r, &gap) ||
        (status = r_names(r, tn, 1, "time column", name, ld->err)) ||
        !(m->on_above = malloc((size_t)m->n_labels * sizeof *m->on_above)) ||
        !r_floats(r, m->on_above, (size_t)m->n_labels)) {
        free(tn[0]);
        if (status) return status;
        return m->on_above || (r->end - r->pos) < 4 * (size_t)m->n_labels
                   ? set_error(ld->err, LSTMSRC_ERR_FORMAT,
                               "%s: ingest block from offset %zu runs past the end at %zu", name,
                               at, r->end)
                   : set_error(ld->err, LSTMSRC_ERR_NOMEM, "%s: out of memory", name);
    }
    m->use_invalid_below = (iflags & INGEST_INVALID_BELOW) != 0;
    m->invalid_below = bits_f32(inv);
    if (iflags & INGEST_TIME) {
        m->time_name = tn[0];
        m->period = bits_f64(per);
        m->max_gap = bits_f64(gap);
    } else {
        free(tn[0]);
    }
    const uint32_t known = INGEST_INVALID_BELOW | INGEST_TIME;
    if ((iflags & ~known) || !check_ingest(m, ld->why, sizeof ld->why))
        return set_error(ld->err, LSTMSRC_ERR_FORMAT, "%s: ingest block at offset %zu: %s", name,
                         at, iflags & ~known ? "unknown flags" : ld->why);
    return LSTMSRC_OK;
}

/* The origin block (version 5 on, FLAG_INIT): the model fine-tuning started from. */
static enum lstmsrc_status load_origin(struct loader *ld)
{
    struct rbuf *r = &ld->r;
    char *iname[1] = {NULL};
    uint32_t icrc;
    enum lstmsrc_status status;
    if (!(ld->flags & FLAG_INIT)) return LSTMSRC_OK;
    size_t at = r->pos;
    if ((status = r_names(r, iname, 1, "init model", ld->name, ld->err))) return status;
    if (!r_u32(r, &icrc)) {
        free(iname[0]);
        return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                         "%s: origin block from offset %zu runs past the end at %zu", ld->name, at,
                         r->end);
    }
    ld->m->init_name = iname[0];
    ld->m->init_crc = icrc;
    return LSTMSRC_OK;
}

/* The scaler block (version 6 on, FLAG_SCALER): the scaler's mode, per-file the one known. */
static enum lstmsrc_status load_scaler(struct loader *ld)
{
    struct rbuf *r = &ld->r;
    uint32_t mode;
    if (!(ld->flags & FLAG_SCALER)) return LSTMSRC_OK;
    size_t at = r->pos;
    if (!r_u32(r, &mode))
        return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                         "%s: scaler block from offset %zu runs past the end at %zu", ld->name, at,
                         r->end);
    if (mode != SCALER_PER_FILE)
        return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                         "%s: scaler block at offset %zu: mode %" PRIu32 ", expected %u (per-file)",
                         ld->name, at, mode, SCALER_PER_FILE);
    ld->m->scaler_per_file = 1;
    return LSTMSRC_OK;
}

/* The parameter count, the parameters (exactly the rest of the file), then every value
 * prediction relies on. */
static enum lstmsrc_status load_params(struct loader *ld)
{
    struct rbuf *r = &ld->r;
    struct lstmsrc_model *m = ld->m;
    const char *name = ld->name;
    const size_t total = ld->l.total;
    uint64_t n_params;
    size_t at = r->pos;
    if (!r_u64(r, &n_params))
        return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                         "%s: parameter count at offset %zu runs past the end at %zu", name, at,
                         r->end);
    if (n_params != total)
        return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                         "%s: params section has %" PRIu64 " floats, architecture needs %zu", name,
                         n_params, total);
    if ((r->end - r->pos) != 4 * total) /* 4 * total <= len, checked in load_create */
        return set_error(ld->err, LSTMSRC_ERR_FORMAT,
                         "%s: params section has %zu bytes, header promises %zu", name,
                         r->end - r->pos, 4 * total);
    int params_read = r_floats(r, m->params, total);
    LSTMSRC_ASSERT(params_read && r->pos == r->end);
    model_weights_changed(m);
    if (!check_values(m, ld->why, sizeof ld->why))
        return set_error(ld->err, LSTMSRC_ERR_FORMAT, "%s: %s", name, ld->why);
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_model_load_mem(const char *name, const void *buf, size_t len,
                                           struct lstmsrc_model **out, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(out && (buf || len == 0));
    struct loader ld = {.name = name ? name : "model", .b = buf, .len = len, .err = err};
    enum lstmsrc_status status;
    if ((status = load_check_file(&ld)) || (status = load_create(&ld))) return status;
    if ((status = load_names(&ld)) || (status = load_vectors(&ld)) ||
        (status = load_input_block(&ld)) || (status = load_post_block(&ld)) ||
        (status = load_ingest(&ld)) || (status = load_origin(&ld)) || (status = load_scaler(&ld)) ||
        (status = load_params(&ld))) {
        lstmsrc_model_free(ld.m);
        return status;
    }
    ld.m->loaded_crc = get_u32(ld.b + len - CRC_SIZE);
    ld.m->loaded_crc_set = 1;
    *out = ld.m;
    return LSTMSRC_OK;
}

enum lstmsrc_status model_file_crc(const struct lstmsrc_model *m, uint32_t *crc,
                                   struct lstmsrc_error *err)
{
    if (m->loaded_crc_set) {
        *crc = m->loaded_crc;
        return LSTMSRC_OK;
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    enum lstmsrc_status st = model_serialise(m, "init model", &buf, &len, err);
    if (st) return st;
    *crc = get_u32(buf + len - CRC_SIZE);
    free(buf);
    return LSTMSRC_OK;
}

/* Reads a whole file into a new buffer. Returns 0, an errno value, or -1 when it exceeds the
 * limit. Not only regular files: a pipe or /dev/stdin is read to its end. */
static int read_all(int fd, size_t hint, unsigned char **out, size_t *out_len)
{
    size_t cap = hint + 1, len = 0; /* +1: seeing EOF at once needs no second allocation */
    unsigned char *buf = malloc(cap);
    if (!buf) return ENOMEM;
    for (;;) {
        if (len == cap) {
            if (cap > MODEL_MAX_FILE) {
                free(buf);
                return -1;
            }
            size_t ncap = cap * 2;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                return ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            return e;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    if (len > MODEL_MAX_FILE) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

enum lstmsrc_status lstmsrc_model_load(const char *path, struct lstmsrc_model **out,
                                       struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(path && out);
    char eb[128];
    struct stat st;
    unsigned char *buf = NULL;
    size_t len = 0;
    int e;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        return set_error(err, LSTMSRC_ERR_IO, "%s: cannot open: %s", path,
                         errno_str(e, eb, sizeof eb));
    }
    if (fstat(fd, &st) != 0) {
        e = errno;
        close(fd);
        return set_error(err, LSTMSRC_ERR_IO, "%s: %s", path, errno_str(e, eb, sizeof eb));
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > MODEL_MAX_FILE) {
        close(fd);
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %jd bytes, more than the 2 GiB model limit",
                         path, (intmax_t)st.st_size);
    }
    e = read_all(fd, S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size : 65536, &buf,
                 &len);
    close(fd);
    if (e == -1)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: more than the 2 GiB model limit", path);
    if (e == ENOMEM) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", path);
    if (e)
        return set_error(err, LSTMSRC_ERR_IO, "%s: cannot read: %s", path,
                         errno_str(e, eb, sizeof eb));
    enum lstmsrc_status status = lstmsrc_model_load_mem(path, buf, len, out, err);
    free(buf);
    return status;
}
