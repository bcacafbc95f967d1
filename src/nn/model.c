/*
 * model.c — the model's shape, parameter layout, initialisation and batched forward/backward.
 *
 * The only file that knows where each tensor lives in the flat parameter array (llm.c's
 * fill_in_parameter_sizes). The workspace for a batch is one allocation carved into per-layer
 * buffers; forward and backward never allocate. It does not train (train.c) or serialise
 * (model_io.c).
 */
#include "nn/model.h"

#include <math.h>
#include <string.h>

#include "base/common.h"
#include "base/rng.h"
#include "nn/head.h"
#include "nn/kernels.h"
#include "nn/lstm.h"

/* ============================== shape and layout ============================== */

int model_layout_fill(struct model_layout *l, int f, int h, int layers, int dirs, int k)
{
    size_t off = 0, n;
    memset(l, 0, sizeof *l);
    if (layers < 1 || layers > LSTMSRC_MAX_LAYERS || dirs < 1 || dirs > 2) return 0;
    for (int i = 0; i < layers + dirs - 1; i++) {
        /* i == layers: the top layer's reverse direction, whose input is the top layer's */
        size_t in = (size_t)((i == 0 || (i == layers && layers == 1)) ? f : h);
        size_t *w = i < layers ? &l->w[i] : &l->wr, *b = i < layers ? &l->b[i] : &l->br;
        *w = off;
        if (!mul_size(4 * (size_t)h, in + (size_t)h, &n) || !add_size(off, n, &off)) return 0;
        *b = off;
        if (!add_size(off, 4 * (size_t)h, &off)) return 0;
    }
    l->wd = off;
    if (!mul3_size((size_t)k, (size_t)dirs, (size_t)h, &n) || !add_size(off, n, &off)) return 0;
    l->bd = off;
    if (!add_size(off, (size_t)k, &off)) return 0;
    l->total = off;
    return 1;
}

int model_units(const struct lstmsrc_model *m)
{
    return m->layers + m->dirs - 1;
}

int model_unit_in(const struct lstmsrc_model *m, int u)
{
    int top = u >= m->layers - 1;
    return (top ? m->layers == 1 : u == 0) ? m->f : m->h;
}

int model_unit_steps(const struct lstmsrc_model *m, int u)
{
    return u < m->layers ? m->seq_len : m->label_offset + 1;
}

void model_top_steps(const struct lstmsrc_model *m, int *fw, int *rv)
{
    *fw = m->dirs == 2 ? m->seq_len - m->label_offset : m->seq_len;
    *rv = m->dirs == 2 ? m->label_offset + 1 : 0;
}

enum lstmsrc_status model_create(int f, int h, int layers, int dirs, int k, int seq_len,
                                 int n_labels, enum lstmsrc_task task, enum lstmsrc_label_mode mode,
                                 struct lstmsrc_model **out, struct lstmsrc_error *err)
{
    struct model_layout lay;
    int kmax = task == LSTMSRC_TASK_MULTICLASS ? LSTMSRC_MAX_CLASSES : LSTMSRC_MAX_SOURCES;
    if (f < 1 || f > LSTMSRC_MAX_INPUTS)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%d input channels; supported: 1 to %d", f,
                         LSTMSRC_MAX_INPUTS);
    if (h < 1 || h > LSTMSRC_MAX_HIDDEN)
        return set_error(err, LSTMSRC_ERR_LIMIT, "hidden size %d; supported: 1 to %d", h,
                         LSTMSRC_MAX_HIDDEN);
    if (layers < 1 || layers > LSTMSRC_MAX_LAYERS)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%d layers; supported: 1 to %d", layers,
                         LSTMSRC_MAX_LAYERS);
    if (dirs != 1 && dirs != 2)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%d directions; supported: 1 or 2", dirs);
    if (k < (task == LSTMSRC_TASK_MULTICLASS ? 2 : 1) || k > kmax)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%d %s; supported: %d to %d", k,
                         task == LSTMSRC_TASK_MULTICLASS ? "classes" : "sources",
                         task == LSTMSRC_TASK_MULTICLASS ? 2 : 1, kmax);
    if (seq_len < 1 || seq_len > LSTMSRC_MAX_SEQ)
        return set_error(err, LSTMSRC_ERR_LIMIT, "window length %d; supported: 1 to %d", seq_len,
                         LSTMSRC_MAX_SEQ);
    if (n_labels < 0 || n_labels > LSTMSRC_MAX_CLASSES)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%d label columns; supported: up to %d", n_labels,
                         LSTMSRC_MAX_CLASSES);
    if (!model_layout_fill(&lay, f, h, layers, dirs, k))
        return set_error(err, LSTMSRC_ERR_LIMIT, "model too large");

    struct lstmsrc_model *m = calloc(1, sizeof *m);
    if (!m) goto nomem;
    m->task = task;
    m->label_mode = mode;
    m->f = f;
    m->h = h;
    m->layers = layers;
    m->dirs = dirs;
    m->k = k;
    m->seq_len = seq_len;
    m->n_labels = n_labels;
    m->input_names = calloc((size_t)f, sizeof *m->input_names);
    m->label_names = calloc((size_t)(n_labels ? n_labels : 1), sizeof *m->label_names);
    m->output_names = calloc((size_t)k, sizeof *m->output_names);
    m->scale_mean = calloc((size_t)f, sizeof(float));
    m->scale_std = calloc((size_t)f, sizeof(float));
    m->threshold = calloc((size_t)k, sizeof(float));
    m->base_threshold = calloc((size_t)k, sizeof(float));
    m->pos_weight = calloc((size_t)k, sizeof(float));
    m->min_on = calloc((size_t)k, sizeof(int));
    m->min_off = calloc((size_t)k, sizeof(int));
    m->n_params = lay.total;
    m->params = xcalloc_n(lay.total, sizeof(float));
    if (!m->input_names || !m->label_names || !m->output_names || !m->scale_mean || !m->scale_std ||
        !m->threshold || !m->base_threshold || !m->pos_weight || !m->min_on || !m->min_off ||
        !m->params)
        goto nomem;
    for (int i = 0; i < f; i++)
        m->scale_std[i] = 1.0f;
    for (int j = 0; j < k; j++) {
        m->threshold[j] = 0.5f;
        m->pos_weight[j] = 1.0f;
        m->min_on[j] = 1;
        m->min_off[j] = 1;
    }
    m->meta.val_loss = -1.0f;
    m->meta.val_macro_f1 = -1.0f;
    m->meta.stride = 1;
    m->n_raw = f;
    m->features = LSTMSRC_FEATURE_RAW;
    m->label_at = LSTMSRC_LABEL_LAST;
    m->label_offset = 0;
    *out = m;
    return LSTMSRC_OK;
nomem:
    lstmsrc_model_free(m);
    return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory creating a model");
}

int model_feature_count(unsigned features)
{
    if (features == 0 || (features & ~LSTMSRC_FEATURES_ALL)) return 0;
    int n = 0;
    for (unsigned b = features; b; b >>= 1)
        n += (int)(b & 1u);
    return n;
}

int model_set_framing(struct lstmsrc_model *m, unsigned features, enum lstmsrc_label_at at)
{
    int per = model_feature_count(features);
    if (per == 0 || m->f % per != 0) return 0;
    if (at != LSTMSRC_LABEL_LAST && at != LSTMSRC_LABEL_CENTER) return 0;
    m->features = features;
    m->n_raw = m->f / per;
    m->label_at = at;
    m->label_offset = at == LSTMSRC_LABEL_CENTER ? m->seq_len / 2 : 0;
    return 1;
}

/* out (rows, f); raw (rows, n_raw); prev (n_raw) or NULL. The difference is one float
 * subtraction, x_t - x_{t-1}, everywhere (training, batch, stream, export), so every path
 * gives the same bits. */
void model_channels(const struct lstmsrc_model *m, float *out, const float *raw, size_t rows,
                    const float *prev)
{
    const size_t R = (size_t)m->n_raw, F = (size_t)m->f;
    for (size_t i = 0; i < rows; i++) {
        const float *x = raw + i * R, *p = i ? x - R : prev;
        float *o = out + i * F;
        if (m->features & LSTMSRC_FEATURE_RAW) {
            memcpy(o, x, R * sizeof *o);
            o += R;
        }
        if (m->features & LSTMSRC_FEATURE_DIFF)
            for (size_t j = 0; j < R; j++)
                o[j] = p ? x[j] - p[j] : 0.0f;
    }
}

void lstmsrc_model_free(struct lstmsrc_model *m)
{
    if (!m) return;
    str_array_free(m->input_names, m->f);
    str_array_free(m->label_names, m->n_labels);
    str_array_free(m->output_names, m->k);
    free(m->scale_mean);
    free(m->scale_std);
    free(m->threshold);
    free(m->base_threshold);
    free(m->pos_weight);
    free(m->min_on);
    free(m->min_off);
    free(m->on_above);
    free(m->time_name);
    free(m->init_name);
    free(m->val_on);
    free(m->train_on);
    free(m->params);
    free(m);
}

void lstmsrc_model_get_info(const struct lstmsrc_model *m, struct lstmsrc_model_info *info)
{
    memset(info, 0, sizeof *info);
    info->task = m->task;
    info->label_mode = m->label_mode;
    info->inputs = m->n_raw;
    info->channels = m->f;
    info->features = m->features;
    info->label_at = m->label_at;
    info->label_offset = m->label_offset;
    info->stride = m->meta.stride;
    info->outputs = m->k;
    info->hidden = m->h;
    info->layers = m->layers;
    info->directions = m->dirs;
    info->seq_len = m->seq_len;
    info->n_labels = m->n_labels;
    info->n_params = m->n_params;
    info->input_names = (const char *const *)m->input_names;
    info->label_names = (const char *const *)m->label_names;
    info->output_names = (const char *const *)m->output_names;
    info->scale_mean = m->scale_mean;
    info->scale_std = m->scale_std;
    info->thresholds = m->threshold;
    info->baseline_thresholds = m->base_threshold;
    info->pos_weights = m->pos_weight;
    info->seed = m->meta.seed;
    info->rows_train = m->meta.rows_train;
    info->rows_val = m->meta.rows_val;
    info->windows_train = m->meta.windows_train;
    info->windows_val = m->meta.windows_val;
    info->epochs_run = m->meta.epochs_run;
    info->best_epoch = m->meta.best_epoch;
    info->batch = m->meta.batch;
    info->threads = m->meta.threads;
    info->lr = m->meta.lr;
    info->val_loss = m->meta.val_loss;
    info->val_macro_f1 = m->meta.val_macro_f1;
    info->min_on = m->min_on;
    info->min_off = m->min_off;
    info->decision_delay = model_decision_delay(m);
    info->on_above = m->on_above;
    info->use_invalid_below = m->use_invalid_below;
    info->invalid_below = m->invalid_below;
    info->time_name = m->time_name;
    info->period = m->period;
    info->max_gap = m->max_gap;
    info->init_name = m->init_name;
    info->init_crc = m->init_crc;
    info->scaler = m->scaler_per_file ? LSTMSRC_SCALER_PER_FILE : LSTMSRC_SCALER_GLOBAL;
}

void lstmsrc_model_columns(const struct lstmsrc_model *m, int labels_optional,
                           struct lstmsrc_columns *cols)
{
    memset(cols, 0, sizeof *cols);
    cols->mode = m->label_mode;
    cols->labels_optional = labels_optional;
    cols->input_names = (const char *const *)m->input_names;
    cols->n_input_names = m->n_raw;
    cols->label_names = (const char *const *)m->label_names;
    cols->n_label_names = m->n_labels;
    cols->diff_finite = (m->features & LSTMSRC_FEATURE_DIFF) != 0;
    cols->label_on_above = m->on_above;
    cols->use_invalid_below = m->use_invalid_below;
    cols->invalid_below = m->invalid_below;
    cols->period = m->period;
    cols->max_gap = m->max_gap;
}

/* ============================== initialisation ============================== */

/* Keras glorot_uniform for a kernel with fan_in x fan_out: U(-l, l), l = sqrt(6/(in+out)). */
static void glorot_uniform(float *w, size_t n, int fan_in, int fan_out, struct rng *rng)
{
    double limit = sqrt(6.0 / (double)(fan_in + fan_out));
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((2.0 * rng_uniform(rng) - 1.0) * limit);
}

/* Keras Orthogonal for the recurrent kernel (H, 4H): QR of a (4H, H) normal matrix, Q times
 * sign(diag R), transposed (Saxe et al. 2014). Modified Gram-Schmidt in double on the H columns
 * of the (4H, H) matrix gives the same Q as Householder QR up to those signs. Writes W_h as our
 * (4H, H) block with row stride ld: W_h[r][c] = Q[r][c]. */
static int orthogonal(float *w, int ld, int H, struct rng *rng)
{
    int R = 4 * H;
    double *a = malloc((size_t)R * H * sizeof *a);
    if (!a) return 0;
    for (size_t i = 0; i < (size_t)R * H; i++)
        a[i] = rng_normal(rng);
    for (int c = 0; c < H; c++) {
        for (int p = 0; p < c; p++) {
            double dot = 0;
            for (int r = 0; r < R; r++)
                dot += a[(size_t)r * H + p] * a[(size_t)r * H + c];
            for (int r = 0; r < R; r++)
                a[(size_t)r * H + c] -= dot * a[(size_t)r * H + p];
        }
        double nrm = 0;
        for (int r = 0; r < R; r++)
            nrm += a[(size_t)r * H + c] * a[(size_t)r * H + c];
        nrm = sqrt(nrm);
        for (int r = 0; r < R; r++)
            a[(size_t)r * H + c] /= nrm;
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < H; c++)
            w[(size_t)r * ld + c] = (float)a[(size_t)r * H + c];
    free(a);
    return 1;
}

/* One direction of one layer: Keras LSTM kernel (glorot over fan_in = in, fan_out = 4H),
 * orthogonal recurrent kernel, zero biases but the forget gate's 1 (unit_forget_bias:
 * Jozefowicz et al., 2015, "An Empirical Exploration of Recurrent Network Architectures"). */
static int init_lstm(float *w, float *b, int in, int H, struct rng *rng)
{
    float *tmp = malloc((size_t)in * 4 * H * sizeof *tmp);
    if (!tmp) return 0;
    glorot_uniform(tmp, (size_t)in * 4 * H, in, 4 * H, rng);
    for (int r = 0; r < 4 * H; r++)
        for (int c = 0; c < in; c++)
            w[(size_t)r * (in + H) + c] = tmp[(size_t)c * 4 * H + r];
    free(tmp);
    if (!orthogonal(w + in, in + H, H, rng)) return 0;
    for (int j = 0; j < H; j++)
        b[H + j] = 1.0f;
    return 1;
}

int model_decision_delay(const struct lstmsrc_model *m)
{
    int d = 0;
    for (int j = 0; j < m->k; j++) {
        int dj = (m->min_on[j] - 1) + (m->min_off[j] - 1);
        if (dj > d) d = dj;
    }
    return d;
}

size_t model_init_params(struct lstmsrc_model *m, struct rng *rng)
{
    struct model_layout lay;
    LSTMSRC_ASSERT(model_layout_fill(&lay, m->f, m->h, m->layers, m->dirs, m->k));
    const int H = m->h, D = m->dirs * H;
    memset(m->params, 0, m->n_params * sizeof(float));
    /* the largest scratch asked for: the orthogonal init's (4H, H) doubles */
    const size_t need = (size_t)4 * H * H * sizeof(double);
    for (int l = 0; l < m->layers; l++)
        if (!init_lstm(m->params + lay.w[l], m->params + lay.b[l], l == 0 ? m->f : H, H, rng))
            return need;
    model_weights_changed(m);
    /* Keras Bidirectional: the reverse direction is a second LSTM initialised the same way */
    if (m->dirs == 2 &&
        !init_lstm(m->params + lay.wr, m->params + lay.br, m->layers == 1 ? m->f : H, H, rng))
        return need;
    /* Dense head: Keras kernel (dirs*H, K) glorot_uniform, stored as (K, dirs*H) */
    float *wd = m->params + lay.wd;
    float *tmp = malloc((size_t)D * m->k * sizeof *tmp);
    if (!tmp) return need;
    glorot_uniform(tmp, (size_t)D * m->k, D, m->k, rng);
    for (int r = 0; r < m->k; r++)
        for (int c = 0; c < D; c++)
            wd[(size_t)r * D + c] = tmp[(size_t)c * m->k + r];
    free(tmp);
    return 0;
}

/* ============================== workspace ============================== */

/* The workspace is described once: an enum of its buffers and one sizing function that fills
 * a table indexed by it. Creation sums the table and carves one block in enum order, and
 * ws_slot says which field each entry is, so the sizing and the carving cannot disagree. */
enum ws_unit_buf {             /* per LSTM unit (layer, or the top layer's reverse direction) */
                   WSU_WF,     /* packed W^T (lstm.h) */
                   WSU_GATES,  /* (T, B, 4H); inference: one block's scratch */
                   WSU_C,      /* (T, B, H); inference: (2, block, H) */
                   WSU_TC,     /* (T, B, H); inference: (block, H) */
                   WSU_H,      /* (T, B, H) */
                   WSU_DZ,     /* (T, B, dz stride)          backward */
                   WSU_DHNEXT, /* (B, H)                     backward */
                   WSU_DC,     /* (B, H)                     backward */
                   WSU_WBH,    /* packed W_h                 backward */
                   WSU_WBX, /* packed W_x                 backward, units with an input gradient */
                   WSU_DWT, /* weight-gradient scratch    backward */
                   WSU_XA,  /* one block's [x | 1]        backward */
                   WSU_DHSEQ, /* (T, B, H) gradient into the unit's outputs, backward */
                   WSU_COUNT
};
enum ws_buf {             /* once per workspace */
              WS_XR,      /* (rv, B, I_top) the top layer's input, last row first */
              WS_DXR,     /* (rv, B, I_top) its gradient, backward with layers > 1 */
              WS_WDT,     /* (dirs*H, K) head weights transposed */
              WS_LOGITS,  /* (B, K) */
              WS_DLOGITS, /* (B, K) backward */
              WS_XBLK,    /* (T, block, F) model_train_step's block input, backward */
              WS_COUNT
};

struct ws_plan {
    size_t unit[LSTMSRC_MAX_LAYERS + 1][WSU_COUNT]; /* floats; 0: the buffer is absent */
    size_t buf[WS_COUNT];
    size_t total; /* floats, every buffer rounded up to WS_ALIGN, plus the block's alignment */
};

struct model_ws {
    int cap, T, backward;
    const struct lstmsrc_model *m; /* the model it was made for, the only one it serves */
    uint64_t packed_version;       /* m->weights_version the packed weights were made from */
    int packed;                    /* 0: nothing packed yet */
    /* layer[l] for l < layers; layer[layers]: the top layer's reverse direction (dirs = 2) */
    struct lstm_buf layer[LSTMSRC_MAX_LAYERS + 1];
    float *dhseq[LSTMSRC_MAX_LAYERS + 1];
    float *xr, *dxr, *wdt, *logits, *dlogits, *xblk; /* enum ws_buf */
    float *mem;
};

/* Every buffer starts on a 64-byte line, so a packed panel row is exactly one cache line. */
#define WS_ALIGN 16 /* floats */

/* Whether layer l's backward passes a gradient to its input (not to the data's channels). */
static int unit_has_dx(const struct lstmsrc_model *m, int l)
{
    return l != 0 && !(l == m->layers && m->layers == 1);
}

/* Rounds *v up to WS_ALIGN and adds it to *total; 0 on overflow. */
static int ws_round(size_t *v, size_t *total)
{
    if (!add_size(*v, WS_ALIGN - 1, v)) return 0;
    *v -= *v % WS_ALIGN;
    return add_size(*total, *v, total);
}

/* Fills p for m, cap windows, with or without backward; 0 on size overflow. */
static int ws_plan(const struct lstmsrc_model *m, int cap, int backward, struct ws_plan *p)
{
    const size_t B = (size_t)cap, H = (size_t)m->h, K = (size_t)m->k;
    int fw, rv;
    model_top_steps(m, &fw, &rv);
    const size_t Itop = (size_t)model_unit_in(m, m->layers - 1);
    memset(p, 0, sizeof *p);
    for (int l = 0; l < model_units(m); l++) {
        const int I = model_unit_in(m, l), Tl = model_unit_steps(m, l);
        const size_t T = (size_t)Tl;
        size_t *u = p->unit[l];
        u[WSU_WF] = lstm_fast_floats(LSTM_FAST_WF, Tl, I, m->h);
        if (!mul3_size(T, B, H, &u[WSU_H])) return 0;
        if (!backward) { /* inference: one block's scratch (lstm.h, scratch) */
            u[WSU_GATES] = LSTM_ROW_BLOCK * 4 * H;
            u[WSU_C] = 2 * LSTM_ROW_BLOCK * H;
            u[WSU_TC] = LSTM_ROW_BLOCK * H;
            continue;
        }
        if (!mul3_size(T, B, 4 * H, &u[WSU_GATES]) || !mul3_size(T, B, H, &u[WSU_C]) ||
            !mul3_size(T, B, H, &u[WSU_TC]) ||
            !mul3_size(T, B, lstm_fast_floats(LSTM_FAST_DZ_ROW, Tl, I, m->h), &u[WSU_DZ]) ||
            !mul3_size(T, B, H, &u[WSU_DHSEQ]))
            return 0;
        u[WSU_DHNEXT] = u[WSU_DC] = B * H;
        u[WSU_WBH] = lstm_fast_floats(LSTM_FAST_WBH, Tl, I, m->h);
        u[WSU_WBX] = unit_has_dx(m, l) ? lstm_fast_floats(LSTM_FAST_WBX, Tl, I, m->h) : 0;
        u[WSU_DWT] = lstm_fast_floats(LSTM_FAST_DWT, Tl, I, m->h);
        u[WSU_XA] = lstm_fast_floats(LSTM_FAST_XA, Tl, I, m->h);
    }
    if (!mul3_size((size_t)rv, B, Itop, &p->buf[WS_XR])) return 0;
    if (backward && m->layers > 1 && !mul3_size((size_t)rv, B, Itop, &p->buf[WS_DXR])) return 0;
    p->buf[WS_WDT] = (size_t)m->dirs * H * K;
    p->buf[WS_LOGITS] = B * K;
    p->buf[WS_DLOGITS] = backward ? B * K : 0;
    p->buf[WS_XBLK] = backward ? (size_t)m->seq_len * LSTM_ROW_BLOCK * (size_t)m->f : 0;
    size_t total = WS_ALIGN;
    for (int l = 0; l <= LSTMSRC_MAX_LAYERS; l++)
        for (int b = 0; b < WSU_COUNT; b++)
            if (!ws_round(&p->unit[l][b], &total)) return 0;
    for (int b = 0; b < WS_COUNT; b++)
        if (!ws_round(&p->buf[b], &total)) return 0;
    p->total = total;
    return 1;
}

/* The field of ws that entry (l, b) of the unit table, or b of the workspace table, is. */
static float **ws_unit_slot(struct model_ws *ws, int l, enum ws_unit_buf b)
{
    struct lstm_buf *u = &ws->layer[l];
    switch (b) {
    case WSU_WF:
        return &u->wf;
    case WSU_GATES:
        return &u->gates;
    case WSU_C:
        return &u->c;
    case WSU_TC:
        return &u->tc;
    case WSU_H:
        return &u->h;
    case WSU_DZ:
        return &u->dz;
    case WSU_DHNEXT:
        return &u->dhnext;
    case WSU_DC:
        return &u->dc;
    case WSU_WBH:
        return &u->wbh;
    case WSU_WBX:
        return &u->wbx;
    case WSU_DWT:
        return &u->dwt;
    case WSU_XA:
        return &u->xa;
    case WSU_DHSEQ:
        return &ws->dhseq[l];
    case WSU_COUNT:
        break;
    }
    return NULL;
}
static float **ws_slot(struct model_ws *ws, enum ws_buf b)
{
    switch (b) {
    case WS_XR:
        return &ws->xr;
    case WS_DXR:
        return &ws->dxr;
    case WS_WDT:
        return &ws->wdt;
    case WS_LOGITS:
        return &ws->logits;
    case WS_DLOGITS:
        return &ws->dlogits;
    case WS_XBLK:
        return &ws->xblk;
    case WS_COUNT:
        break;
    }
    return NULL;
}

int model_ws_bytes(const struct lstmsrc_model *m, int cap, int with_backward, size_t *bytes)
{
    struct ws_plan p;
    return cap >= 1 && ws_plan(m, cap, with_backward, &p) &&
           mul_size(p.total, sizeof(float), bytes);
}

struct model_ws *model_ws_create(const struct lstmsrc_model *m, int cap, int with_backward)
{
    struct ws_plan plan;
    if (cap < 1 || !ws_plan(m, cap, with_backward, &plan)) return NULL;
    struct model_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->mem = xcalloc_n(plan.total, sizeof(float));
    if (!ws->mem) {
        free(ws);
        return NULL;
    }
    ws->cap = cap;
    ws->T = m->seq_len;
    ws->backward = with_backward;
    ws->m = m;
    float *p = ws->mem;
    p += (WS_ALIGN - ((uintptr_t)p / sizeof(float)) % WS_ALIGN) % WS_ALIGN;
    for (int l = 0; l < model_units(m); l++) {
        ws->layer[l].scratch = !with_backward;
        ws->layer[l].bf16 = m->bf16;
        for (int b = 0; b < WSU_COUNT; b++) {
            *ws_unit_slot(ws, l, (enum ws_unit_buf)b) = plan.unit[l][b] ? p : NULL;
            p += plan.unit[l][b];
        }
    }
    for (int b = 0; b < WS_COUNT; b++) {
        *ws_slot(ws, (enum ws_buf)b) = plan.buf[b] ? p : NULL;
        p += plan.buf[b];
    }
    /* inference: the weights are packed once here instead of on every forward (one row at a
     * time, packing would cost more than the step itself) */
    model_ws_pack(ws, m);
    return ws;
}

/* Where unit l's weights and bias lie in a parameter-shaped array (l == layers: the reverse
 * direction), and its weights and bias in m's parameters. */
static size_t unit_w_off(const struct lstmsrc_model *m, const struct model_layout *lay, int l)
{
    return l < m->layers ? lay->w[l] : lay->wr;
}
static size_t unit_b_off(const struct lstmsrc_model *m, const struct model_layout *lay, int l)
{
    return l < m->layers ? lay->b[l] : lay->br;
}
static const float *unit_w(const struct lstmsrc_model *m, const struct model_layout *lay, int l)
{
    return m->params + unit_w_off(m, lay, l);
}
static const float *unit_b(const struct lstmsrc_model *m, const struct model_layout *lay, int l)
{
    return m->params + unit_b_off(m, lay, l);
}

void model_ws_pack(struct model_ws *ws, const struct lstmsrc_model *m)
{
    struct model_layout lay;
    LSTMSRC_ASSERT(ws->m == m);
    LSTMSRC_ASSERT(model_layout_fill(&lay, m->f, m->h, m->layers, m->dirs, m->k));
    for (int l = 0; l < model_units(m); l++)
        lstm_pack_weights(&ws->layer[l], unit_w(m, &lay, l), model_unit_in(m, l), m->h);
    transpose(ws->wdt, m->params + lay.wd, m->k, m->dirs * m->h);
    ws->packed_version = m->weights_version;
    ws->packed = 1;
}

/* Before any use: ws serves m only, and its packed weights are m's current ones (packed again
 * when m's weights changed since, once per change however many calls follow). */
static void ws_weights(struct model_ws *ws, const struct lstmsrc_model *m)
{
    LSTMSRC_ASSERT(ws->m == m);
    if (!ws->packed || ws->packed_version != m->weights_version) model_ws_pack(ws, m);
}

void model_weights_changed(struct lstmsrc_model *m)
{
    m->weights_version++;
}

void model_ws_free(struct model_ws *ws)
{
    if (!ws) return;
    free(ws->mem);
    free(ws);
}

/* ============================== forward / backward ============================== */

/* All of these work block by block (LSTM_ROW_BLOCK rows through every layer and the head), so a
 * block's activations are still in cache for the next layer, and, in model_train_step, for its
 * backward. Rows are independent until the weight gradients, which are summed block by block in
 * order: model_forward + loss + model_backward and model_train_step give the same bits. */

static void forward_prepare(const struct lstmsrc_model *m, struct model_ws *ws,
                            const struct model_layout *lay)
{
    for (int l = 0; l < model_units(m); l++)
        lstm_forward_prepare(&ws->layer[l], unit_w(m, lay, l), model_unit_in(m, l), m->h);
}

/* rows [r0, r0 + nb) of xb (T, B, F) through every layer, into the workspace's rows laid out
 * for B; logits (nb, K) of those rows */
static void forward_block(const struct lstmsrc_model *m, struct model_ws *ws,
                          const struct model_layout *lay, const float *xb, int B, int r0, int nb,
                          float *logits)
{
    const int T = m->seq_len, H = m->h, K = m->k, L = m->layers;
    int fw, rv;
    model_top_steps(m, &fw, &rv);
    const float *x = xb; /* the input of layer l */
    for (int l = 0; l < L; l++) {
        lstm_forward_rows(&ws->layer[l], x, unit_b(m, lay, l), B, r0, nb, l == L - 1 ? fw : T,
                          model_unit_in(m, l), H);
        if (l < L - 1) x = ws->layer[l].h;
    }
    /* logits (nb, K) = h_{fw-1} (nb, H) @ Wd^T + bd */
    const float *hlast = ws->layer[L - 1].h + ((size_t)(fw - 1) * B + r0) * H;
    gemm_nn_own(logits, K, hlast, H, ws->wdt, K, nb, K, H, 0.0f);
    if (m->dirs == 2) {
        /* the reverse direction reads the top layer's input from the window's last row back
         * to the labelled row; the head adds its last state @ Wd[:, H:]^T */
        const int I = model_unit_in(m, L);
        for (int s = 0; s < rv; s++)
            memcpy(ws->xr + ((size_t)s * B + r0) * I, x + ((size_t)(T - 1 - s) * B + r0) * I,
                   (size_t)nb * I * sizeof *x);
        lstm_forward_rows(&ws->layer[L], ws->xr, unit_b(m, lay, L), B, r0, nb, rv, I, H);
        const float *hrev = ws->layer[L].h + ((size_t)(rv - 1) * B + r0) * H;
        gemm_nn_own(logits, K, hrev, H, ws->wdt + (size_t)H * K, K, nb, K, H, 1.0f);
    }
    add_bias_rows(logits, K, m->params + lay->bd, nb, K);
}

static void backward_prepare(const struct lstmsrc_model *m, struct model_ws *ws,
                             const struct model_layout *lay)
{
    for (int l = 0; l < model_units(m); l++)
        lstm_backward_prepare(&ws->layer[l], unit_w(m, lay, l), model_unit_steps(m, l),
                              model_unit_in(m, l), m->h, unit_has_dx(m, l));
}

/* Zeroes rows [r0, r0 + nb) of steps [0, steps) of a (steps, B, width) buffer. */
static void zero_rows(float *a, int steps, int B, int r0, int nb, int width)
{
    for (int t = 0; t < steps; t++)
        memset(a + ((size_t)t * B + r0) * width, 0, (size_t)nb * width * sizeof *a);
}

/* Given dl (nb, K), the loss gradient of rows [r0, r0 + nb) of the workspace laid out for B:
 * the head's gradient (+= into grads), then every layer's backward for those rows (weight
 * gradients summed in the layers until finish). */
static void backward_block(const struct lstmsrc_model *m, struct model_ws *ws,
                           const struct model_layout *lay, float *grads, const float *dl, int B,
                           int r0, int nb)
{
    const int T = m->seq_len, H = m->h, K = m->k, L = m->layers, D = m->dirs * H;
    int fw, rv;
    model_top_steps(m, &fw, &rv);
    const float *hlast = ws->layer[L - 1].h + ((size_t)(fw - 1) * B + r0) * H;
    /* head: dWd (K, H) += dl^T @ hlast;  dbd += sum dl;  dh_{fw-1} = dl @ Wd; the top layer's
     * other steps get nothing from above. (Zeroed on every call: where a step's rows lie
     * depends on B, so an earlier call with another B may have left values there.) */
    gemm_tn_own(grads + lay->wd, D, dl, K, hlast, H, K, H, nb);
    sum_rows(grads + lay->bd, dl, nb, K);
    zero_rows(ws->dhseq[L - 1], fw - 1, B, r0, nb, H);
    gemm_nn_own(ws->dhseq[L - 1] + ((size_t)(fw - 1) * B + r0) * H, H, dl, K, m->params + lay->wd,
                D, nb, H, K, 0.0f);
    if (m->dirs == 2) {
        /* the same for the reverse direction's last state, Wd[:, H:] */
        const float *hrev = ws->layer[L].h + ((size_t)(rv - 1) * B + r0) * H;
        gemm_tn_own(grads + lay->wd + H, D, dl, K, hrev, H, K, H, nb);
        zero_rows(ws->dhseq[L], rv - 1, B, r0, nb, H);
        gemm_nn_own(ws->dhseq[L] + ((size_t)(rv - 1) * B + r0) * H, H, dl, K,
                    m->params + lay->wd + H, D, nb, H, K, 0.0f);
    }
    for (int l = L - 1; l >= 0; l--) {
        float *dx = NULL;
        if (l > 0) {
            /* layer l's input gradient accumulates into layer l-1's dhseq rows */
            dx = ws->dhseq[l - 1];
            zero_rows(dx, T, B, r0, nb, H);
        }
        lstm_backward_rows(&ws->layer[l], ws->dhseq[l], dx, B, r0, nb, l == L - 1 ? fw : T,
                           model_unit_in(m, l), H);
        if (l == L - 1 && m->dirs == 2) {
            /* the reverse direction; its input gradient goes back to the rows it read */
            float *dxr = dx ? ws->dxr : NULL;
            if (dxr) zero_rows(dxr, rv, B, r0, nb, H);
            lstm_backward_rows(&ws->layer[L], ws->dhseq[L], dxr, B, r0, nb, rv, model_unit_in(m, L),
                               H);
            for (int s = 0; dxr && s < rv; s++) {
                float *d = dx + ((size_t)(T - 1 - s) * B + r0) * H;
                const float *e = dxr + ((size_t)s * B + r0) * H;
                for (size_t i = 0; i < (size_t)nb * H; i++)
                    d[i] += e[i];
            }
        }
    }
}

static void backward_finish(const struct lstmsrc_model *m, struct model_ws *ws,
                            const struct model_layout *lay, float *grads)
{
    for (int l = 0; l < model_units(m); l++) {
        lstm_backward_finish(&ws->layer[l], grads + unit_w_off(m, lay, l),
                             grads + unit_b_off(m, lay, l), model_unit_in(m, l), m->h);
    }
}

const float *model_forward(const struct lstmsrc_model *m, struct model_ws *ws, const float *xb,
                           int B)
{
    struct model_layout lay;
    LSTMSRC_ASSERT(B >= 1 && B <= ws->cap && ws->T == m->seq_len);
    ws_weights(ws, m);
    LSTMSRC_ASSERT(model_layout_fill(&lay, m->f, m->h, m->layers, m->dirs, m->k));
    forward_prepare(m, ws, &lay);
    for (int r0 = 0; r0 < B; r0 += LSTM_ROW_BLOCK)
        forward_block(m, ws, &lay, xb, B, r0, B - r0 < LSTM_ROW_BLOCK ? B - r0 : LSTM_ROW_BLOCK,
                      ws->logits + (size_t)r0 * m->k);
    return ws->logits;
}

void model_backward(const struct lstmsrc_model *m, struct model_ws *ws, float *grads,
                    const float *dlogits, int B)
{
    struct model_layout lay;
    LSTMSRC_ASSERT(ws->backward && B >= 1 && B <= ws->cap);
    ws_weights(ws, m); /* the weights of the forward it follows, unless they changed since */
    LSTMSRC_ASSERT(model_layout_fill(&lay, m->f, m->h, m->layers, m->dirs, m->k));
    backward_prepare(m, ws, &lay);
    for (int r0 = 0; r0 < B; r0 += LSTM_ROW_BLOCK)
        backward_block(m, ws, &lay, grads, dlogits + (size_t)r0 * m->k, B, r0,
                       B - r0 < LSTM_ROW_BLOCK ? B - r0 : LSTM_ROW_BLOCK);
    backward_finish(m, ws, &lay, grads);
}

double model_train_step(const struct lstmsrc_model *m, struct model_ws *ws, float *grads,
                        const float *xb, const float *y, const int32_t *cls, int B, float norm)
{
    struct model_layout lay;
    const int K = m->k, multi = m->task == LSTMSRC_TASK_MULTILABEL;
    LSTMSRC_ASSERT(ws->backward && B >= 1 && B <= ws->cap && ws->T == m->seq_len);
    LSTMSRC_ASSERT(multi ? y != NULL : cls != NULL);
    ws_weights(ws, m);
    LSTMSRC_ASSERT(model_layout_fill(&lay, m->f, m->h, m->layers, m->dirs, m->k));
    forward_prepare(m, ws, &lay);
    backward_prepare(m, ws, &lay);
    double loss = 0.0;
    const int T = m->seq_len, F = m->f;
    for (int r0 = 0; r0 < B; r0 += LSTM_ROW_BLOCK) {
        const int nb = B - r0 < LSTM_ROW_BLOCK ? B - r0 : LSTM_ROW_BLOCK;
        const size_t o = (size_t)r0 * K;
        /* Every block runs in the same first rows of the workspace, laid out as a batch of nb:
         * its activations stay in L2 from its forward to its backward and for the next block,
         * where batch-sized buffers would stream the whole batch's state through L3. The
         * arithmetic per row, and the blocks' order in the weight gradients, are unchanged. */
        for (int t = 0; t < T; t++)
            memcpy(ws->xblk + (size_t)t * nb * F, xb + ((size_t)t * B + r0) * F,
                   (size_t)nb * F * sizeof *xb);
        forward_block(m, ws, &lay, ws->xblk, nb, 0, nb, ws->logits + o);
        loss += multi ? loss_bce_logits(ws->dlogits + o, ws->logits + o, y + o, m->pos_weight, nb,
                                        K, norm)
                      : loss_softmax_ce(ws->dlogits + o, ws->logits + o, cls + r0, nb, K, norm);
        backward_block(m, ws, &lay, grads, ws->dlogits + o, nb, 0, nb);
    }
    backward_finish(m, ws, &lay, grads);
    return loss;
}

void model_probs(const struct lstmsrc_model *m, float *logits, int B)
{
    const int K = m->k;
    for (int r = 0; r < B; r++) {
        float *z = logits + (size_t)r * K;
        if (m->task == LSTMSRC_TASK_MULTILABEL) {
            for (int j = 0; j < K; j++)
                z[j] = 1.0f / (1.0f + expf(-z[j]));
        } else {
            float mx = z[0], s = 0.0f;
            for (int j = 1; j < K; j++)
                mx = z[j] > mx ? z[j] : mx;
            for (int j = 0; j < K; j++)
                s += (z[j] = expf(z[j] - mx));
            for (int j = 0; j < K; j++)
                z[j] /= s;
        }
    }
}

/* ============================== precision ============================== */

int lstmsrc_precision_available(enum lstmsrc_precision p)
{
    if (p == LSTMSRC_PRECISION_FP32 || p == LSTMSRC_PRECISION_AUTO) return 1;
    return p == LSTMSRC_PRECISION_BF16 && kernels_bf16_supported() &&
           kernels_isa() >= KERNELS_ISA_AVX512;
}

/* AUTO picks bf16 only where the quality gate held (bench/precision_gate.sh); it did not (both
 * households' macro F1 moved by more than 0.01, bench/PRECISION.md), so AUTO is fp32. */
enum lstmsrc_precision lstmsrc_precision_resolve(enum lstmsrc_precision p)
{
    return p == LSTMSRC_PRECISION_BF16 ? LSTMSRC_PRECISION_BF16 : LSTMSRC_PRECISION_FP32;
}

const char *lstmsrc_precision_name(enum lstmsrc_precision p)
{
    switch (p) {
    case LSTMSRC_PRECISION_FP32:
        return "fp32";
    case LSTMSRC_PRECISION_BF16:
        return "bf16";
    case LSTMSRC_PRECISION_AUTO:
        return "auto";
    }
    return "?";
}

enum lstmsrc_status model_precision_check(enum lstmsrc_precision p, struct lstmsrc_error *err)
{
    if (p != LSTMSRC_PRECISION_FP32 && p != LSTMSRC_PRECISION_BF16 && p != LSTMSRC_PRECISION_AUTO)
        return set_error(err, LSTMSRC_ERR_ARG, "precision %d is not fp32, bf16 or auto", (int)p);
    if (lstmsrc_precision_available(p)) return LSTMSRC_OK;
    if (!kernels_bf16_supported())
        return set_error(err, LSTMSRC_ERR_ARG,
                         "precision bf16 needs a CPU with AVX-512 BF16 (avx512_bf16); use fp32");
    return set_error(err, LSTMSRC_ERR_ARG,
                     "precision bf16 needs the AVX-512 kernels, and the %s ones are in use "
                     "(LSTMSRC_ISA); use fp32",
                     kernels_isa_name(kernels_isa()));
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_model_set_precision(struct lstmsrc_model *m, enum lstmsrc_precision p,
                                                struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m);
    enum lstmsrc_status st = model_precision_check(p, err);
    if (st) return st;
    m->bf16 = lstmsrc_precision_resolve(p) == LSTMSRC_PRECISION_BF16;
    return LSTMSRC_OK;
}
