/*
 * export_c.c — a model as one self-contained C99 header for devices: weights, scaler,
 * thresholds and names as `static const` data, plus a streaming predictor over a small state
 * struct (ring of the last seq_len rows, per-layer h and c, the gates). No malloc, and nothing
 * from libm but expf (tanh is 2 sigmoid(2x) - 1, as in the library).
 *
 * The generated step follows the library's arithmetic (gate sums from the bias over the input
 * then the recurrent columns; c = f*c + i*g; h = o*tanh(c); the head summed over h then biased;
 * sigmoid 1/(1+expf(-z)) and softmax as model_probs). Rounding differs only where the library
 * fuses or regroups products and uses its own exp polynomial where the header calls expf:
 * probabilities agree to about 1e-6. The gate weights are stored transposed so each input value
 * updates a block of gate sums held in registers: no long dependency chain per gate, which
 * vectorises on a desktop and keeps loads low on a microcontroller. Floats are printed with 9
 * significant digits, which round-trips binary32 exactly. Names are escaped for C string literals
 * ('?' too: no trigraphs under -std=c99).
 *
 * Bidirectional models (model.h): the window loop stops the top layer's forward direction at
 * the labelled row (PREFIX_FORWARD_STEPS) and, with layers below the top, keeps their output at
 * the last PREFIX_REVERSE_STEPS rows; the reverse direction (PREFIX_wr, PREFIX_br, its own h
 * and c) then runs from the window's last row back to the labelled row, and the head sums
 * (K, 2H) over [forward | reverse] in one accumulator, as the library does. Every header
 * defines PREFIX_DIRECTIONS (1 or 2), so code shared across models can test it.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/common.h"
#include "base/outfile.h"
#include "nn/model.h"
#include "post/durations.h"

/* Floats per line in the weight arrays. */
#define PER_LINE 8

/* Generated names. Every name is the prefix as given, '_', then a suffix: functions, types and
 * data in lower case (kettle_push, kettle_filter), macros in upper case (kettle_INPUTS), the
 * include guard LSTMSRC_EXPORT_kettle_H. Case is kept, so kettle and Kettle differ in every
 * name. Two prefixes A and A_T could still give the same name if a suffix were T_ followed by
 * another suffix; the only such T is "filter" (A_filter_init is A's filter_init and A_filter's
 * init), so a prefix ending in "_filter" is refused, and then no two prefixes share a name
 * (tests/test_seams.c checks this on the suffixes of a generated header). */
#define CLASH_TAIL "_filter"

struct out {
    FILE *fp;
    const char *p; /* prefix, as given: "@p" and "@P" (macros) in the templates */
};

static int valid_prefix(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LSTMSRC_MAX_PREFIX) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return 0;
    }
    return 1;
}

void lstmsrc_export_c_size(const struct lstmsrc_model *m, struct lstmsrc_export_size *size)
{
    size_t names = 0;
    for (int i = 0; i < m->n_raw; i++)
        names += strlen(m->input_names[i] ? m->input_names[i] : "") + 1;
    for (int k = 0; k < m->k; k++)
        names += strlen(m->output_names[k] ? m->output_names[k] : "") + 1;
    size_t consts = 2 * (size_t)m->f + (m->task == LSTMSRC_TASK_MULTILABEL ? (size_t)m->k : 0);
    size->weight_bytes = m->n_params * sizeof(float);
    /* + min_on and min_off, 4-byte unsigned per output (the filter's state is its own struct) */
    size->flash_bytes = size->weight_bytes + consts * sizeof(float) + 8 * (size_t)m->k + names;
    size_t floats = (size_t)m->seq_len * (size_t)m->f + (size_t)m->n_raw +
                    2 * (size_t)m->layers * (size_t)m->h + 4 * (size_t)m->h;
    if (m->dirs == 2) {
        /* the reverse direction's h and c; with layers below the top, their output at the
         * rows it reads */
        int fw, rv;
        model_top_steps(m, &fw, &rv);
        floats += 2 * (size_t)m->h + (m->layers > 1 ? (size_t)rv * (size_t)m->h : 0);
    }
    size->ram_bytes = floats * 4 + 3 * 4;
}

/* ============================== printing ============================== */

/* A float as a C99 float constant that reads back as the same binary32 value. */
static void put_float(FILE *fp, float v)
{
    char b[40];
    snprintf(b, sizeof b, "%.9g", (double)v);
    if (!strpbrk(b, ".eEn")) strcat(b, ".0"); /* "1" -> "1.0": "1f" is not a constant */
    fputs(b, fp);
    fputc('f', fp);
}

static void put_floats(FILE *fp, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputs(i % PER_LINE == 0 ? "\n    " : " ", fp);
        put_float(fp, v[i]);
        if (i + 1 < n) fputc(',', fp);
    }
    fputc('\n', fp);
}

/* A C string literal; '?' escaped against trigraphs, bytes outside printable ASCII as octal. */
static void put_cstr(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '?')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(fp, "\\%03o", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

/* A name for a comment: printable ASCII only, no comment terminator, shortened. */
static void put_comment_name(FILE *fp, const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && n < 40; p++, n++) {
        int ok =
            *p >= 0x20 && *p < 0x7f && !(*p == '/' && p[1] == '*') && !(*p == '*' && p[1] == '/');
        fputc(ok ? *p : '?', fp);
    }
    if (s && strlen(s) > 40) fputs("...", fp);
}

static void put_name_list(FILE *fp, char *const *names, int n)
{
    for (int i = 0; i < n && i < 8; i++) {
        if (i) fputs(", ", fp);
        put_comment_name(fp, names[i]);
    }
    if (n > 8) fputs(", ...", fp);
}

static void put_names(const struct out *o, const char *what, const char *count, char *const *names,
                      int n)
{
    fprintf(o->fp, "static const char *const %s_%s[%s_%s] = {", o->p, what, o->p, count);
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", o->fp);
        put_cstr(o->fp, names[i]);
    }
    fputs("};\n", o->fp);
}

/* ============================== the header ============================== */

/* Writes text with "@p" and "@P" (before a macro's upper-case name) replaced by the prefix, and
 * "@B", "@T" by the numbers of the layer below the top and of the top layer. */
static void tpl_layers(const struct out *o, const char *text, int below, int top)
{
    for (const char *s = text; *s; s++) {
        if (s[0] == '@' && (s[1] == 'p' || s[1] == 'P')) {
            fputs(o->p, o->fp);
            s++;
        } else if (s[0] == '@' && (s[1] == 'B' || s[1] == 'T')) {
            fprintf(o->fp, "%d", s[1] == 'B' ? below : top);
            s++;
        } else {
            fputc(*s, o->fp);
        }
    }
}

static void tpl(const struct out *o, const char *text)
{
    tpl_layers(o, text, 0, 0);
}

static const char usage_doc[] =
    " *\n"
    " * Self-contained: no other source, no malloc, nothing from libm but expf (link with\n"
    " * -lm where libm is separate). Include it in one .c file; every name\n"
    " * starts with @p_ (macros: @P_ and an upper-case name), so several exported models\n"
    " * can live in one program.\n"
    " *\n"
    " *     @p_state st;\n"
    " *     float x[@P_INPUTS], probs[@P_OUTPUTS];\n"
    " *     unsigned char on[@P_OUTPUTS];\n"
    " *     @p_init(&st);\n"
    " *     for (;;) {\n"
    " *         x[0] = read_meter();   (inputs in @p_input_names order)\n"
    " *         if (@p_push(&st, x, probs))   (1 once @P_SEQ_LEN rows are in)\n"
    " *             @p_decide(probs, on);   (on[k] = 1: output k is ON at the row pushed\n"
    " *                                      @P_LABEL_OFFSET pushes ago)\n"
    " *     }\n"
    " *\n"
    " * @p_push(st, x, probs): turns one row of @P_INPUTS raw readings into @P_CHANNELS channels\n"
    " *     (the readings and/or their first differences, 0 on the first row, as @P_FEATURES\n"
    " *     says: bit 0 raw, bit 1 difference), standardises them into the state's ring of the\n"
    " *     last @P_SEQ_LEN rows; once the ring is full, runs that window through the LSTM\n"
    " *     (@P_SEQ_LEN steps from a zero state, as in training), writes @P_OUTPUTS\n"
    " *     probabilities for the window ending at this row and returns 1; returns 0 before.\n"
    " *     They belong to the row pushed @P_LABEL_OFFSET pushes ago (0: this row; a model\n"
    " *     trained with its label at the window's centre answers that many rows late).\n"
    " *     @P_SEQ_LEN * 4*@P_HIDDEN * (@P_CHANNELS + @P_HIDDEN) multiply-adds per layer (first\n"
    " *     layer; @P_HIDDEN + @P_HIDDEN above) and push; no allocation.\n";

static const char doc_bidirectional[] =
    " *     Bidirectional (@P_DIRECTIONS directions): the top layer's forward direction runs the\n"
    " *     window's first @P_FORWARD_STEPS rows, up to the labelled row; its reverse direction\n"
    " *     (@p_wr, @p_br) runs @P_REVERSE_STEPS rows from the window's last row back to the\n"
    " *     labelled row; the head reads both there (@P_SEQ_LEN + 1 steps of the top layer in\n"
    " *     all). Layers below the top run over the whole window.\n";

static const char doc_multilabel[] =
    " * @p_decide(probs, on): on[k] = probs[k] > @p_thresholds[k] (tuned in training);\n"
    " *     returns the number of sources ON.\n";
static const char doc_multiclass[] =
    " * @p_decide(probs, on): on[k] = 1 for the most probable class (the first on ties),\n"
    " *     0 for the others; returns its index (@p_output_name(k) names it).\n";

static const char state_code[] =
    "\n"
    "typedef struct {\n"
    "    float ring[@P_SEQ_LEN * @P_CHANNELS]; /* last rows' channels, standardised; oldest at "
    "head */\n"
    "    float prev[@P_INPUTS];              /* the last raw row, for first differences */\n"
    "    float h[@P_LAYERS * @P_HIDDEN];     /* hidden state per layer */\n"
    "    float c[@P_LAYERS * @P_HIDDEN];     /* cell state per layer */\n"
    "    float z[4 * @P_HIDDEN];             /* gates of the step in progress */\n";

/* Bidirectional models only: the state of the top layer's reverse direction. */
static const char state_reverse[] =
    "    float hr[@P_HIDDEN], cr[@P_HIDDEN];  /* the top layer's reverse direction: h and c */\n";
/* ... and with layers below the top: their output at the rows the reverse direction reads */
static const char state_reverse_input[] =
    "    float xr[@P_REVERSE_STEPS * @P_HIDDEN]; /* the top layer's input at the window's last\n"
    "                                         @P_REVERSE_STEPS rows, oldest first */\n";

static const char state_code_rest[] =
    "    unsigned head, filled, has_prev;    /* next ring slot; rows in the ring; prev is set */\n"
    "} @p_state;\n"
    "\n"
    "static inline void @p_reset(@p_state *s)\n"
    "{\n"
    "    s->head = 0;\n"
    "    s->filled = 0;\n"
    "    s->has_prev = 0;\n"
    "}\n"
    "\n"
    "static inline void @p_init(@p_state *s) { @p_reset(s); }\n"
    "\n"
    "static inline const char *@p_input_name(unsigned i)\n"
    "{\n"
    "    return i < @P_INPUTS ? @p_input_names[i] : 0;\n"
    "}\n"
    "\n"
    "static inline const char *@p_output_name(unsigned k)\n"
    "{\n"
    "    return k < @P_OUTPUTS ? @p_output_names[k] : 0;\n"
    "}\n"
    "\n"
    "static inline float @p_sigmoid_(float x) { return 1.0f / (1.0f + expf(-x)); }\n"
    "\n"
    "/* tanh(x) = 2 sigmoid(2x) - 1, as the library computes it (and cheaper than tanhf) */\n"
    "static inline float @p_tanh_(float x) { return 2.0f / (1.0f + expf(-2.0f * x)) - 1.0f; }\n"
    "\n"
    "/* One LSTM step of one layer: gates z = b + W [x ; h] (h left out on the first step, where\n"
    " * it is zero), then c and h in place. wt is W transposed, (in + @P_HIDDEN, 4 * @P_HIDDEN), "
    "so\n"
    " * each input value meets a contiguous run of gates; @P_GATE_BLOCK sums at a time stay in\n"
    " * registers. Every gate is summed in the same order: bias, inputs, then recurrent inputs. "
    "*/\n"
    "static inline void @p_cell_(const float *wt, const float *b, unsigned in, const float *x,\n"
    "                            float *h, float *c, float *z, int first)\n"
    "{\n"
    "    const unsigned H = @P_HIDDEN, G = 4 * @P_HIDDEN;\n"
    "    unsigned j, q, r;\n"
    "    for (j = 0; j < G; j += @P_GATE_BLOCK) {\n"
    "        float acc[@P_GATE_BLOCK];\n"
    "        for (r = 0; r < @P_GATE_BLOCK; r++) acc[r] = b[j + r];\n"
    "        for (q = 0; q < in; q++) {\n"
    "            const float v = x[q], *w = wt + q * G + j;\n"
    "            for (r = 0; r < @P_GATE_BLOCK; r++) acc[r] += v * w[r];\n"
    "        }\n"
    "        if (!first)\n"
    "            for (q = 0; q < H; q++) {\n"
    "                const float v = h[q], *w = wt + (in + q) * G + j;\n"
    "                for (r = 0; r < @P_GATE_BLOCK; r++) acc[r] += v * w[r];\n"
    "            }\n"
    "        for (r = 0; r < @P_GATE_BLOCK; r++) z[j + r] = acc[r];\n"
    "    }\n"
    "    for (j = 0; j < H; j++) {\n"
    "        float i = @p_sigmoid_(z[j]), f = @p_sigmoid_(z[H + j]);\n"
    "        float g = @p_tanh_(z[2 * H + j]), o = @p_sigmoid_(z[3 * H + j]);\n"
    "        c[j] = first ? i * g : f * c[j] + i * g;\n"
    "        h[j] = o * @p_tanh_(c[j]);\n"
    "    }\n"
    "}\n"
    "\n"
    "static inline int @p_push(@p_state *s, const float *x, float *probs)\n"
    "{\n"
    "    float *r = s->ring + s->head * @P_CHANNELS;\n"
    "    const float *top = s->h + (@P_LAYERS - 1) * @P_HIDDEN;\n"
    "    unsigned t, j, k, c = 0;\n"
    "    if (@P_FEATURES & 1)\n"
    "        for (j = 0; j < @P_INPUTS; j++, c++) r[c] = (x[j] - @p_scale_mean[c]) / "
    "@p_scale_std[c];\n"
    "    if (@P_FEATURES & 2)\n"
    "        for (j = 0; j < @P_INPUTS; j++, c++) {\n"
    "            float d = s->has_prev ? x[j] - s->prev[j] : 0.0f;\n"
    "            r[c] = (d - @p_scale_mean[c]) / @p_scale_std[c];\n"
    "        }\n"
    "    for (j = 0; j < @P_INPUTS; j++) s->prev[j] = x[j];\n"
    "    s->has_prev = 1;\n"
    "    s->head = s->head + 1 == @P_SEQ_LEN ? 0 : s->head + 1;\n"
    "    if (s->filled < @P_SEQ_LEN) s->filled++;\n"
    "    if (s->filled < @P_SEQ_LEN) return 0;\n";

/* The loop over the window's rows, up to the first layer's step (the others follow). */
static const char window_loop[] =
    "    for (t = 0; t < @P_SEQ_LEN; t++) {\n"
    "        unsigned slot = s->head + t >= @P_SEQ_LEN ? s->head + t - @P_SEQ_LEN : s->head + t;\n"
    "        @p_cell_(@p_w0, @p_b0, @P_CHANNELS, s->ring + slot * @P_CHANNELS, s->h, s->c, s->z,\n"
    "                 t == 0);\n";

/* Bidirectional, one layer: the forward direction stops at the labelled row, then the reverse
 * direction reads the ring from the window's last row back to it. */
static const char window_loop_bi1[] =
    "    /* forward: from the window's first row to the labelled row */\n"
    "    for (t = 0; t < @P_FORWARD_STEPS; t++) {\n"
    "        unsigned slot = s->head + t >= @P_SEQ_LEN ? s->head + t - @P_SEQ_LEN : s->head + t;\n"
    "        @p_cell_(@p_w0, @p_b0, @P_CHANNELS, s->ring + slot * @P_CHANNELS, s->h, s->c, s->z,\n"
    "                 t == 0);\n"
    "    }\n"
    "    /* reverse: from the window's last row back to the labelled row */\n"
    "    for (t = 0; t < @P_REVERSE_STEPS; t++) {\n"
    "        unsigned slot = s->head + (@P_SEQ_LEN - 1 - t);\n"
    "        if (slot >= @P_SEQ_LEN) slot -= @P_SEQ_LEN;\n"
    "        @p_cell_(@p_wr, @p_br, @P_CHANNELS, s->ring + slot * @P_CHANNELS, s->hr, s->cr, "
    "s->z,\n"
    "                 t == 0);\n";

/* Bidirectional, layers below the top: after them, keep their output at the last
 * REVERSE_STEPS rows; the top layer's forward direction stops at the labelled row; after the
 * window, the reverse direction reads the kept rows, last first. @B is the layer below the
 * top, @T the top layer. */
static const char window_top_bi[] =
    "        if (t + @P_REVERSE_STEPS >= @P_SEQ_LEN)   /* a row the reverse direction reads */\n"
    "            for (j = 0; j < @P_HIDDEN; j++)\n"
    "                s->xr[(t + @P_REVERSE_STEPS - @P_SEQ_LEN) * @P_HIDDEN + j] =\n"
    "                    s->h[@B * @P_HIDDEN + j];\n"
    "        if (t < @P_FORWARD_STEPS)   /* forward: up to the labelled row */\n"
    "            @p_cell_(@p_w@T, @p_b@T, @P_HIDDEN, s->h + @B * @P_HIDDEN, s->h + @T * "
    "@P_HIDDEN,\n"
    "                     s->c + @T * @P_HIDDEN, s->z, t == 0);\n"
    "    }\n"
    "    /* reverse: from the window's last row back to the labelled row */\n"
    "    for (t = 0; t < @P_REVERSE_STEPS; t++) {\n"
    "        @p_cell_(@p_wr, @p_br, @P_HIDDEN, s->xr + (@P_REVERSE_STEPS - 1 - t) * @P_HIDDEN, "
    "s->hr,\n"
    "                 s->cr, s->z, t == 0);\n";

static const char head_code[] =
    "    }\n"
    "    for (k = 0; k < @P_OUTPUTS; k++) {\n"
    "        float acc = 0.0f;\n"
    "        for (j = 0; j < @P_HIDDEN; j++) acc += top[j] * @p_wd[k * @P_HIDDEN + j];\n"
    "        probs[k] = acc + @p_bd[k];\n"
    "    }\n";

/* The head of a bidirectional model: [forward | reverse] at the labelled row, one sum as the
 * library accumulates it. */
static const char head_code_bi[] =
    "    }\n"
    "    for (k = 0; k < @P_OUTPUTS; k++) {\n"
    "        float acc = 0.0f;\n"
    "        for (j = 0; j < @P_HIDDEN; j++) acc += top[j] * @p_wd[2 * k * @P_HIDDEN + j];\n"
    "        for (j = 0; j < @P_HIDDEN; j++) acc += s->hr[j] * @p_wd[(2 * k + 1) * @P_HIDDEN + "
    "j];\n"
    "        probs[k] = acc + @p_bd[k];\n"
    "    }\n";

static const char probs_multilabel[] =
    "    for (k = 0; k < @P_OUTPUTS; k++) probs[k] = @p_sigmoid_(probs[k]);\n"
    "    return 1;\n"
    "}\n"
    "\n"
    "static inline int @p_decide(const float *probs, unsigned char *on)\n"
    "{\n"
    "    unsigned k;\n"
    "    int n = 0;\n"
    "    for (k = 0; k < @P_OUTPUTS; k++) {\n"
    "        on[k] = probs[k] > @p_thresholds[k];\n"
    "        n += on[k];\n"
    "    }\n"
    "    return n;\n"
    "}\n";

static const char probs_multiclass[] =
    "    {\n"
    "        float mx = probs[0], sum = 0.0f;\n"
    "        for (k = 1; k < @P_OUTPUTS; k++) mx = probs[k] > mx ? probs[k] : mx;\n"
    "        for (k = 0; k < @P_OUTPUTS; k++) sum += (probs[k] = expf(probs[k] - mx));\n"
    "        for (k = 0; k < @P_OUTPUTS; k++) probs[k] /= sum;\n"
    "    }\n"
    "    return 1;\n"
    "}\n"
    "\n"
    "static inline int @p_decide(const float *probs, unsigned char *on)\n"
    "{\n"
    "    unsigned k, best = 0;\n"
    "    for (k = 1; k < @P_OUTPUTS; k++)\n"
    "        if (probs[k] > probs[best]) best = k;\n"
    "    for (k = 0; k < @P_OUTPUTS; k++) on[k] = k == best;\n"
    "    return (int)best;\n"
    "}\n";

/* Minimum on/off durations: the streaming filter of src/post/durations.c, state machine for state
 * machine, so the same rows come out in the same order (tests/cli_examples.sh checks it). */
static const char filter_doc[] =
    " * @p_filter: minimum on/off durations, as `lstmsrc predict` and `stream` apply them to the\n"
    " *     decisions, per output: off-gaps shorter than @p_min_off[k] rows between two on-runs\n"
    " *     are filled, then on-runs shorter than @p_min_on[k] rows dropped (all 1: no change).\n"
    " *     Push each row's decisions, pop the rows that are settled (oldest first, at most\n"
    " *     @P_DELAY rows after they were pushed), flush at the end of the readings:\n"
    " *\n"
    " *         @p_filter f;  @p_filter_init(&f);\n"
    " *         @p_decide(probs, on);  @p_filter_push(&f, on);\n"
    " *         while (@p_filter_pop(&f, on)) use(on);   (on: a row @P_DELAY rows old at most)\n"
    " *         ...  @p_filter_flush(&f);  while (@p_filter_pop(&f, on)) use(on);\n"
    " *\n"
    " *     push returns 0 (and ignores the row) if the filter already holds @P_DELAY + 1\n"
    " *     rows: pop the settled ones after every push.\n";

static const char filter_code[] =
    "\n"
    "typedef struct {\n"
    "    unsigned char ring[(@P_DELAY + 1) * @P_OUTPUTS]; /* settled rows; the oldest at head */\n"
    "    unsigned head, held;                /* oldest row not popped; rows pushed, not popped */\n"
    "    unsigned seen[@P_OUTPUTS];          /* an on-row seen in this sequence */\n"
    "    unsigned gap[@P_OUTPUTS], gap_held[@P_OUTPUTS]; /* current off-gap (up to min_off); "
    "undecided rows */\n"
    "    unsigned run[@P_OUTPUTS], run_held[@P_OUTPUTS]; /* current on-run (up to min_on); "
    "unconfirmed rows */\n"
    "    unsigned ready[@P_OUTPUTS];         /* settled rows not popped */\n"
    "} @p_filter;\n"
    "\n"
    "static inline void @p_filter_init(@p_filter *f)\n"
    "{\n"
    "    unsigned k;\n"
    "    f->head = f->held = 0;\n"
    "    for (k = 0; k < @P_OUTPUTS; k++)\n"
    "        f->seen[k] = f->gap[k] = f->gap_held[k] = f->run[k] = f->run_held[k] = f->ready[k] = "
    "0;\n"
    "}\n"
    "\n"
    "static inline void @p_emit_(@p_filter *f, unsigned k, unsigned char bit, unsigned n)\n"
    "{\n"
    "    unsigned c;\n"
    "    for (c = 0; c < n; c++)\n"
    "        f->ring[(f->head + f->ready[k] + c) % (@P_DELAY + 1) * @P_OUTPUTS + k] = bit;\n"
    "    f->ready[k] += n;\n"
    "}\n"
    "\n"
    "/* second stage: n rows of the gap-filled decisions, all `bit`; runs shorter than min_on\n"
    " * are dropped */\n"
    "static inline void @p_stage2_(@p_filter *f, unsigned k, unsigned char bit, unsigned n)\n"
    "{\n"
    "    if (n == 0) return;\n"
    "    if (bit) {\n"
    "        f->run_held[k] += n;\n"
    "        f->run[k] = f->run[k] + n >= @p_min_on[k] ? @p_min_on[k] : f->run[k] + n;\n"
    "        if (f->run[k] >= @p_min_on[k]) {\n"
    "            @p_emit_(f, k, 1, f->run_held[k]);\n"
    "            f->run_held[k] = 0;\n"
    "        }\n"
    "        return;\n"
    "    }\n"
    "    if (f->run_held[k]) @p_emit_(f, k, 0, f->run_held[k]);\n"
    "    f->run_held[k] = 0;\n"
    "    f->run[k] = 0;\n"
    "    @p_emit_(f, k, 0, n);\n"
    "}\n"
    "\n"
    "static inline int @p_filter_push(@p_filter *f, const unsigned char *on)\n"
    "{\n"
    "    unsigned k;\n"
    "    if (f->held == @P_DELAY + 1) return 0;\n"
    "    f->held++;\n"
    "    for (k = 0; k < @P_OUTPUTS; k++) {\n"
    "        if (on[k]) {   /* a gap still held started after an on-row and is short: filled */\n"
    "            @p_stage2_(f, k, 1, f->gap_held[k]);\n"
    "            f->gap_held[k] = 0;\n"
    "            f->gap[k] = 0;\n"
    "            f->seen[k] = 1;\n"
    "            @p_stage2_(f, k, 1, 1);\n"
    "            continue;\n"
    "        }\n"
    "        f->gap_held[k]++;\n"
    "        if (f->gap[k] < @p_min_off[k]) f->gap[k]++;\n"
    "        if (!f->seen[k] || f->gap[k] >= @p_min_off[k]) {   /* can no longer be filled */\n"
    "            @p_stage2_(f, k, 0, f->gap_held[k]);\n"
    "            f->gap_held[k] = 0;\n"
    "        }\n"
    "    }\n"
    "    return 1;\n"
    "}\n"
    "\n"
    "static inline int @p_filter_pop(@p_filter *f, unsigned char *on)\n"
    "{\n"
    "    unsigned k;\n"
    "    if (f->held == 0) return 0;\n"
    "    for (k = 0; k < @P_OUTPUTS; k++)\n"
    "        if (f->ready[k] == 0) return 0;\n"
    "    for (k = 0; k < @P_OUTPUTS; k++) {\n"
    "        on[k] = f->ring[f->head * @P_OUTPUTS + k];\n"
    "        f->ready[k]--;\n"
    "    }\n"
    "    f->head = (f->head + 1) % (@P_DELAY + 1);\n"
    "    f->held--;\n"
    "    return 1;\n"
    "}\n"
    "\n"
    "/* the end of a sequence: gaps at the end stay off, short runs at the end are dropped */\n"
    "static inline void @p_filter_flush(@p_filter *f)\n"
    "{\n"
    "    unsigned k;\n"
    "    for (k = 0; k < @P_OUTPUTS; k++) {\n"
    "        @p_stage2_(f, k, 0, f->gap_held[k]);\n"
    "        f->gap_held[k] = 0;\n"
    "        if (f->run_held[k]) @p_emit_(f, k, 0, f->run_held[k]);\n"
    "        f->run_held[k] = 0;\n"
    "        f->seen[k] = f->gap[k] = f->run[k] = 0;\n"
    "    }\n"
    "}\n";

/* W (rows, cols) row-major, written transposed: (cols, rows), PER_LINE floats a line. */
static void put_transposed(FILE *fp, const float *w, size_t rows, size_t cols)
{
    for (size_t q = 0; q < cols; q++)
        for (size_t j = 0; j < rows; j++) {
            size_t i = q * rows + j;
            fputs(i % PER_LINE == 0 ? "\n    " : " ", fp);
            put_float(fp, w[j * cols + q]);
            if (i + 1 < cols * rows) fputc(',', fp);
        }
    fputc('\n', fp);
}

static void put_uints(FILE *fp, const int *v, int n)
{
    for (int i = 0; i < n; i++)
        fprintf(fp, "%s%d", i ? ", " : "", v[i]);
}

/* The opening comment: what the model is, what it costs, how to use it; then the include guard. */
static void write_doc(const struct lstmsrc_model *m, const struct out *o,
                      const struct lstmsrc_export_size *sz)
{
    FILE *fp = o->fp;
    const char *p = o->p;
    const int ml = m->task == LSTMSRC_TASK_MULTILABEL;
    fprintf(fp,
            "/*\n"
            " * %s.h - an lstmsrc model as plain C99, written by `lstmsrc export-c` (lstmsrc %s).\n"
            " * Generated: do not edit; export the model again instead.\n"
            " *\n"
            " * Model:  %s, %d input%s (",
            p, LSTMSRC_VERSION, ml ? "multi-label" : "multi-class", m->n_raw,
            m->n_raw == 1 ? "" : "s");
    put_name_list(fp, m->input_names, m->n_raw);
    fprintf(fp, ") -> %d %s (", m->k, ml ? "sources" : "classes");
    put_name_list(fp, m->output_names, m->k);
    fprintf(fp,
            ")\n"
            " *         %d channel%s (%s%s%s), labelled %s\n"
            " *         LSTM %d layer%s x %d units%s, window of %d rows, %zu parameters\n"
            " * Flash:  %zu bytes of weights, %zu bytes of constant data in all (+ name pointers)\n"
            " * RAM:    %zu bytes per %s_state (4-byte float and unsigned)\n",
            m->f, m->f == 1 ? "" : "s", m->features & LSTMSRC_FEATURE_RAW ? "raw" : "",
            m->features == LSTMSRC_FEATURES_ALL ? " + " : "",
            m->features & LSTMSRC_FEATURE_DIFF ? "first difference" : "",
            m->label_at == LSTMSRC_LABEL_CENTER ? "at the window's centre" : "at its last row",
            m->layers, m->layers == 1 ? "" : "s", m->h,
            m->dirs == 2 ? (m->layers == 1 ? ", bidirectional" : ", the top one bidirectional")
                         : "",
            m->seq_len, m->n_params, sz->weight_bytes, sz->flash_bytes, sz->ram_bytes, p);
    tpl(o, usage_doc);
    if (m->dirs == 2) tpl(o, doc_bidirectional);
    tpl(o, ml ? doc_multilabel : doc_multiclass);
    tpl(o, filter_doc);
    tpl(o, " * @p_reset(st): forgets the rows pushed (after a gap in the readings).\n"
           " */\n"
           "#ifndef LSTMSRC_EXPORT_@P_H\n"
           "#define LSTMSRC_EXPORT_@P_H\n"
           "\n"
           "#include <math.h>\n"
           "\n");
}

/* The shape and size macros. */
static void write_defines(const struct lstmsrc_model *m, const struct out *o,
                          const struct lstmsrc_export_size *sz)
{
    FILE *fp = o->fp;
    const char *P = o->p; /* before a macro's upper-case name */
    const int ml = m->task == LSTMSRC_TASK_MULTILABEL;
    /* gate sums computed together: 16 (two AVX registers, half an FPv4 register file) when 4H
     * allows, else 8 or 4 (4H always does) */
    const int gate_block = (4 * m->h) % 16 == 0 ? 16 : (4 * m->h) % 8 == 0 ? 8 : 4;
    fprintf(fp,
            "#define %s_INPUTS %d\n"
            "#define %s_CHANNELS %d\n"
            "#define %s_FEATURES %u\n"
            "#define %s_LABEL_OFFSET %d\n"
            "#define %s_OUTPUTS %d\n"
            "#define %s_HIDDEN %d\n"
            "#define %s_LAYERS %d\n"
            "#define %s_SEQ_LEN %d\n"
            "#define %s_MULTICLASS %d\n"
            "#define %s_PARAMS %zu\n"
            "#define %s_FLASH_BYTES %zu\n"
            "#define %s_RAM_BYTES %zu\n"
            "#define %s_GATE_BLOCK %d\n"
            "#define %s_DELAY %d /* rows a filtered decision may be settled late */\n"
            "\n",
            P, m->n_raw, P, m->f, P, m->features, P, m->label_offset, P, m->k, P, m->h, P,
            m->layers, P, m->seq_len, P, ml ? 0 : 1, P, m->n_params, P, sz->flash_bytes, P,
            sz->ram_bytes, P, gate_block, P, model_decision_delay(m));
    if (m->dirs == 2) {
        int fw, rv;
        model_top_steps(m, &fw, &rv);
        fprintf(
            fp,
            "#define %s_DIRECTIONS 2 /* the top layer is bidirectional */\n"
            "#define %s_FORWARD_STEPS %d /* its forward direction: first row to labelled row */\n"
            "#define %s_REVERSE_STEPS %d /* its reverse direction: last row to labelled row */\n"
            "\n",
            P, P, fw, P, rv);
    } else {
        fprintf(fp, "#define %s_DIRECTIONS 1 /* every layer reads the window forward */\n\n", P);
    }
}

/* The names, the scaler, the thresholds and the minimum durations. */
static void write_vectors(const struct lstmsrc_model *m, const struct out *o)
{
    FILE *fp = o->fp;
    put_names(o, "input_names", "INPUTS", m->input_names, m->n_raw);
    put_names(o, "output_names", "OUTPUTS", m->output_names, m->k);
    tpl(o, "\n/* standardised channel = (x - mean) / std, per channel */\n"
           "static const float @p_scale_mean[@P_CHANNELS] = {");
    put_floats(fp, m->scale_mean, (size_t)m->f);
    tpl(o, "};\nstatic const float @p_scale_std[@P_CHANNELS] = {");
    put_floats(fp, m->scale_std, (size_t)m->f);
    fputs("};\n", fp);
    if (m->task == LSTMSRC_TASK_MULTILABEL) {
        tpl(o, "/* a source is ON when its probability > its threshold */\n"
               "static const float @p_thresholds[@P_OUTPUTS] = {");
        put_floats(fp, m->threshold, (size_t)m->k);
        fputs("};\n", fp);
    }
    tpl(o, "/* minimum on and off durations in rows, per output (@p_filter) */\n"
           "static const unsigned @p_min_on[@P_OUTPUTS] = {");
    put_uints(fp, m->min_on, m->k);
    tpl(o, "};\nstatic const unsigned @p_min_off[@P_OUTPUTS] = {");
    put_uints(fp, m->min_off, m->k);
    fputs("};\n", fp);
}

/* The weights: each layer (and the reverse direction), then the dense head. */
static void write_weights(const struct lstmsrc_model *m, const struct out *o)
{
    FILE *fp = o->fp;
    const char *p = o->p, *P = o->p; /* P before a macro's upper-case name */
    struct model_layout lay;
    LSTMSRC_ASSERT(model_layout_fill(&lay, m->f, m->h, m->layers, m->dirs, m->k));
    for (int l = 0; l < m->layers; l++) {
        int in = l == 0 ? m->f : m->h;
        size_t G = 4 * (size_t)m->h, IH = (size_t)(in + m->h);
        fprintf(
            fp,
            "\n/* layer %d: W transposed, (%d + %s_HIDDEN, 4 * %s_HIDDEN): row q holds input q's\n"
            " * weights into the gates, in blocks i, f, g, o (PyTorch [weight_ih | weight_hh]\n"
            " * transposed); b = bias_ih + bias_hh */\n",
            l, in, P, P);
        fprintf(fp, "static const float %s_w%d[(%d + %s_HIDDEN) * 4 * %s_HIDDEN] = {", p, l, in, P,
                P);
        put_transposed(fp, m->params + lay.w[l], G, IH);
        fprintf(fp, "};\nstatic const float %s_b%d[4 * %s_HIDDEN] = {", p, l, P);
        put_floats(fp, m->params + lay.b[l], (size_t)4 * m->h);
        fputs("};\n", fp);
    }
    if (m->dirs == 2) {
        int in = model_unit_in(m, m->layers);
        size_t G = 4 * (size_t)m->h, IH = (size_t)(in + m->h);
        fprintf(fp,
                "\n/* layer %d, reverse direction: as above (PyTorch weight_ih_l%d_reverse,\n"
                " * weight_hh_l%d_reverse; bias_ih_l%d_reverse + bias_hh_l%d_reverse) */\n",
                m->layers - 1, m->layers - 1, m->layers - 1, m->layers - 1, m->layers - 1);
        fprintf(fp, "static const float %s_wr[(%d + %s_HIDDEN) * 4 * %s_HIDDEN] = {", p, in, P, P);
        put_transposed(fp, m->params + lay.wr, G, IH);
        tpl(o, "};\nstatic const float @p_br[4 * @P_HIDDEN] = {");
        put_floats(fp, m->params + lay.br, (size_t)4 * m->h);
        fputs("};\n", fp);
        tpl(o,
            "\n/* dense head on the top layer's hidden states at the labelled row, forward then\n"
            " * reverse: (@P_OUTPUTS, 2 * @P_HIDDEN) */\n"
            "static const float @p_wd[@P_OUTPUTS * 2 * @P_HIDDEN] = {");
    } else {
        tpl(o, "\n/* dense head on the top layer's last hidden state: (@P_OUTPUTS, @P_HIDDEN) */\n"
               "static const float @p_wd[@P_OUTPUTS * @P_HIDDEN] = {");
    }
    put_floats(fp, m->params + lay.wd, (size_t)m->k * (size_t)m->dirs * (size_t)m->h);
    tpl(o, "};\nstatic const float @p_bd[@P_OUTPUTS] = {");
    put_floats(fp, m->params + lay.bd, (size_t)m->k);
    fputs("};\n", fp);
}

/* The code: state, window loop, head, probabilities, filter; the end of the include guard. */
static void write_code(const struct lstmsrc_model *m, const struct out *o)
{
    FILE *fp = o->fp;
    const char *p = o->p, *P = o->p; /* P before a macro's upper-case name */
    const int ml = m->task == LSTMSRC_TASK_MULTILABEL;
    tpl(o, state_code);
    if (m->dirs == 2) tpl(o, state_reverse);
    if (m->dirs == 2 && m->layers > 1) tpl(o, state_reverse_input);
    tpl(o, state_code_rest);
    if (m->dirs == 2 && m->layers == 1) {
        tpl(o, window_loop_bi1);
    } else {
        /* the top layer runs here too unless it is bidirectional */
        int below_top = m->dirs == 2 ? m->layers - 1 : m->layers;
        tpl(o, window_loop);
        for (int l = 1; l < below_top; l++)
            fprintf(
                fp,
                "        %s_cell_(%s_w%d, %s_b%d, %s_HIDDEN, s->h + %d * %s_HIDDEN,\n"
                "                 s->h + %d * %s_HIDDEN, s->c + %d * %s_HIDDEN, s->z, t == 0);\n",
                p, p, l, p, l, P, l - 1, P, l, P, l, P);
        if (m->dirs == 2) tpl_layers(o, window_top_bi, m->layers - 2, m->layers - 1);
    }
    tpl(o, m->dirs == 2 ? head_code_bi : head_code);
    tpl(o, ml ? probs_multilabel : probs_multiclass);
    tpl(o, filter_code);
    tpl(o, "\n#endif /* LSTMSRC_EXPORT_@P_H */\n");
}

static void write_header(const struct lstmsrc_model *m, const struct out *o)
{
    struct lstmsrc_export_size sz;
    lstmsrc_export_c_size(m, &sz);
    write_doc(m, o, &sz);
    write_defines(m, o, &sz);
    write_vectors(m, o);
    write_weights(m, o);
    write_code(m, o);
}

/* ============================== entry points ============================== */

static enum lstmsrc_status check(const struct lstmsrc_model *m, const char *prefix, struct out *o,
                                 struct lstmsrc_error *err)
{
    if (m->scaler_per_file)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "the model has a per-file scaler, which the exported code cannot fit "
                         "on a device; export a model trained with --scaler global");
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0 || n > LSTMSRC_MAX_PREFIX)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "prefix \"%.40s%s\" has %zu characters; a prefix has 1 to %d",
                         prefix ? prefix : "", n > 40 ? "..." : "", n, LSTMSRC_MAX_PREFIX);
    if (!valid_prefix(prefix))
        return set_error(err, LSTMSRC_ERR_ARG,
                         "prefix \"%s\" is not a C identifier (letters, digits, '_', not starting "
                         "with a digit)",
                         prefix);
    const size_t tail = sizeof CLASH_TAIL - 1;
    if (n > tail && strcmp(prefix + n - tail, CLASH_TAIL) == 0)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "prefix \"%s\" ends in \"%s\", so its names clash with those of prefix "
                         "\"%.*s\" (%s_init would be both its init and the other's filter init)",
                         prefix, CLASH_TAIL, (int)(n - tail), prefix, prefix);
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i]))
            return set_error(err, LSTMSRC_ERR_FORMAT, "parameter %zu is not finite", i);
    o->p = prefix;
    return LSTMSRC_OK;
}

/* Writes the header to an open stream; returns 0 or the errno of the first failure. */
static int write_to(const struct lstmsrc_model *m, struct out *o, FILE *fp)
{
    o->fp = fp;
    errno = 0;
    write_header(m, o);
    if (ferror(fp) || fflush(fp) != 0) return errno ? errno : EIO;
    return 0;
}

enum lstmsrc_status lstmsrc_export_c_file(const struct lstmsrc_model *m, const char *prefix,
                                          FILE *fp, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m && fp);
    struct out o;
    enum lstmsrc_status st = check(m, prefix, &o, err);
    if (st) return st;
    int e = write_to(m, &o, fp);
    return e ? set_error(err, LSTMSRC_ERR_IO, "write failed: %s", strerror(e)) : LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_export_c(const struct lstmsrc_model *m, const char *prefix,
                                     const char *path, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m && path);
    struct out o;
    enum lstmsrc_status st = check(m, prefix, &o, err);
    if (st) return st;
    struct outfile f;
    if ((st = outfile_open(&f, path, err))) return st;
    return outfile_commit(&f, write_to(m, &o, f.fp), err);
}
