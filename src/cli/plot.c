/*
 * plot.c — the CLI's three figures (see plot.h): training curves, the timeline of reading and
 * on-bands, and precision/recall against threshold. Layout is fixed arithmetic on a width, so a
 * figure's height is known before drawing (SVG needs it up front) and the same inputs give the
 * same bytes.
 *
 * Colour carries one meaning throughout: grey is the truth, blue a right "on", red a false
 * alarm, orange a miss. Nothing here allocates: long series are streamed into the file.
 */
#include "plot.h"

#include <math.h>
#include <string.h>

#include "data/timecol.h"

/* ============================== shared ============================== */

#define C_TEXT "#222222"
#define C_MUTED "#666666"
#define C_READING "#303030"
#define C_TRUE "#7a7a7a"
#define C_RIGHT "#2f6fb5"
#define C_FALSE "#d62728"
#define C_MISS "#f39c12"
#define C_NONE "#dcdcdc"
#define C_BAND "#f2f2f2"
#define C_BEST "#999999"
#define C_GAP "#9a9a9a"
#define C_HOLE "#ececec"

/* A legend entry: a swatch (filled box, or a line when `line` is set) and its text; returns the
 * x where the next entry starts. Text width is estimated (no font metrics in SVG). */
static double legend(struct svg *s, double x, double y, const char *colour, int line,
                     const char *dash, const char *text)
{
    if (line)
        svg_line(s, x, y - 4, x + 18, y - 4, colour, 2, dash);
    else
        svg_rect(s, x, y - 9, 14, 10, colour, NULL);
    svg_text(s, x + 22, y, 11, "start", 0, C_TEXT, text);
    return x + 22 + 6.2 * (double)strlen(text) + 18;
}

/* A name cut to fit a label column: at most NAME_MAX_BYTES bytes, never inside a UTF-8
 * sequence, "..." marking the cut. Returns dst. */
#define NAME_MAX_BYTES 16
static const char *short_name(char dst[NAME_MAX_BYTES + 4], const char *name)
{
    size_t n = strlen(name);
    if (n <= NAME_MAX_BYTES) return name;
    n = NAME_MAX_BYTES - 1;
    while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
        n--; /* continuation byte */
    memcpy(dst, name, n);
    memcpy(dst + n, "...", 4);
    return dst;
}

/* ============================== training curves ============================== */

int plot_curves(const char *path, const char *title, const struct curve_epoch *e, int n,
                int best_epoch, struct lstmsrc_error *err)
{
    const double W = 900, H = 340, top = 70, bottom = 280;
    struct svg s;
    if (!svg_open(&s, path, W, H, title, err)) return 0;
    svg_text(&s, 20, 24, 15, "start", 1, C_TEXT, title ? title : "training");

    int has_val = 0;
    double lmax = 0.0;
    for (int i = 0; i < n; i++) {
        if (e[i].loss > lmax) lmax = e[i].loss;
        if (e[i].val_loss >= 0) {
            has_val = 1;
            if (e[i].val_loss > lmax) lmax = e[i].val_loss;
        }
    }
    double lo = 0.0, hi = lmax > 0 ? lmax : 1.0;
    axis_nice(&lo, &hi);
    double elo = 1.0, ehi = n > 1 ? (double)n : 2.0;

    double lx = legend(&s, 20, 48, C_RIGHT, 1, NULL, "training loss");
    if (has_val) {
        lx = legend(&s, lx, 48, C_MISS, 1, "6 3", "validation loss");
        lx = legend(&s, lx, 48, "#2a9d5c", 1, NULL, "validation macro F1");
    }
    if (best_epoch > 0) legend(&s, lx, 48, C_BEST, 1, "3 3", "best epoch (kept)");

    /* two panels: loss, then F1 */
    const double px0[2] = {80, 530}, px1[2] = {420, 870};
    for (int panel = 0; panel < 2; panel++) {
        struct axis ax = {elo, ehi, px0[panel], px1[panel]};
        struct axis ay =
            panel == 0 ? (struct axis){lo, hi, bottom, top} : (struct axis){0.0, 1.0, bottom, top};
        svg_yaxis(&s, &ay, px0[panel], px1[panel], 6, panel == 0 ? "loss" : "validation macro F1");
        svg_xaxis(&s, &ax, bottom, 10, 1, "epoch");
        if (best_epoch > 0) {
            double bx = axis_px(&ax, best_epoch);
            svg_line(&s, bx, top, bx, bottom, C_BEST, 1, "3 3");
        }
        if (panel == 1 && !has_val) {
            svg_text(&s, 0.5 * (px0[1] + px1[1]), 0.5 * (top + bottom), 12, "middle", 0, C_MUTED,
                     "no validation part");
            continue;
        }
        for (int series = 0; series < (panel == 0 ? 2 : 1); series++) {
            const char *col = panel == 1 ? "#2a9d5c" : series == 0 ? C_RIGHT : C_MISS;
            const char *dash = panel == 0 && series == 1 ? "6 3" : NULL;
            int open = 0;
            for (int i = 0; i < n; i++) {
                double v = panel == 1 ? e[i].val_f1 : series == 0 ? e[i].loss : e[i].val_loss;
                if (!(v >= 0) || !isfinite(v)) continue;
                if (!open) svg_polyline_begin(&s, col, 2, dash);
                open = 1;
                svg_point(&s, axis_px(&ax, e[i].epoch), axis_px(&ay, v));
            }
            if (open) svg_polyline_end(&s);
            if (n <= 40)
                for (int i = 0; i < n; i++) {
                    double v = panel == 1 ? e[i].val_f1 : series == 0 ? e[i].loss : e[i].val_loss;
                    if (v >= 0 && isfinite(v))
                        svg_circle(&s, axis_px(&ax, e[i].epoch), axis_px(&ay, v), 2.5, col);
                }
        }
    }
    return svg_close(&s, err);
}

/* ============================== timeline ============================== */

#define TL_LEFT 190.0
#define TL_RIGHT 20.0
#define TL_HEAD 74.0     /* title, subtitle, legend */
#define TL_READING 200.0 /* reading panel height */
#define TL_GAP 16.0
#define TL_BAND 10.0
#define TL_SOURCE 34.0 /* two bands, their gap and the gap to the next source */
#define TL_AXIS 44.0

double timeline_height(int k)
{
    return TL_HEAD + TL_READING + TL_GAP + TL_SOURCE * (double)k + TL_AXIS;
}

/* State of one band over one pixel column. */
enum band_state { B_OFF, B_TRUE, B_RIGHT, B_FALSE, B_MISS, B_NONE };

static const char *band_colour(enum band_state b)
{
    switch (b) {
    case B_TRUE:
        return C_TRUE;
    case B_RIGHT:
        return C_RIGHT;
    case B_FALSE:
        return C_FALSE;
    case B_MISS:
        return C_MISS;
    case B_NONE:
        return C_NONE;
    case B_OFF:
        break;
    }
    return NULL;
}

/* Rows [r0, r1) of output j: the truth band is on if any row is; the prediction band shows its
 * most frequent non-off state (ties: miss, then false alarm, then right), so a short error in
 * a long column still shows. */
static enum band_state bin_state(const struct timeline *t, int j, size_t r0, size_t r1, int pred)
{
    size_t K = (size_t)t->k, right = 0, fals = 0, miss = 0, none = 0;
    for (size_t r = r0; r < r1; r++) {
        int tr = t->truth ? t->truth[r * K + (size_t)j] != 0 : 0;
        if (!pred) {
            if (tr) return B_TRUE;
            continue;
        }
        uint8_t p = t->pred[r * K + (size_t)j];
        if (p == PLOT_NO_PREDICTION) {
            none++;
            continue;
        }
        if (!t->truth) {
            right += p != 0; /* without labels every "on" is shown plainly */
            continue;
        }
        right += p && tr;
        fals += p && !tr;
        miss += !p && tr;
    }
    if (!pred) return B_OFF;
    if (right + fals + miss == 0) return none == r1 - r0 ? B_NONE : B_OFF;
    if (miss >= fals && miss >= right) return B_MISS;
    if (fals >= right) return B_FALSE;
    return B_RIGHT;
}

/* One band: columns of equal state merged into one rectangle. */
static void draw_band(struct svg *s, const struct timeline *t, int j, int pred, size_t bins,
                      double x0, double pw, double y)
{
    svg_rect(s, x0, y, pw, TL_BAND, C_BAND, NULL);
    enum band_state cur = B_OFF;
    size_t start = 0;
    for (size_t b = 0; b <= bins; b++) {
        enum band_state st = B_OFF;
        if (b < bins) st = bin_state(t, j, b * t->rows / bins, (b + 1) * t->rows / bins, pred);
        if (b < bins && st == cur) continue;
        const char *col = band_colour(cur);
        if (col && b > start) {
            double xa = x0 + pw * (double)start / (double)bins;
            double xb = x0 + pw * (double)b / (double)bins;
            svg_rect(s, xa, y, xb - xa < 1.0 ? 1.0 : xb - xa, TL_BAND, col, NULL);
        }
        cur = st;
        start = b;
    }
}

/* The timeline's x axis in clock time: ticks at round rows, each labelled with that row's time
 * (UTC), "HH:MM" over a span within a day, else "MM-DD HH:MM"; rows stand apart at gaps, so a
 * label is the time of its row, not of a uniform scale. */
static void time_axis(struct svg *s, const struct axis *a, double y, const struct timeline *t)
{
    double tk[16];
    int n = axis_ticks(a->lo, a->hi, 8, 1, tk);
    const double span = t->times[t->rows - 1] - t->times[0];
    svg_line(s, a->p0, y, a->p1, y, "#444444", 1, NULL);
    for (int i = 0; i < n; i++) {
        if (tk[i] < (double)t->first_row) continue;
        size_t r = (size_t)tk[i] - t->first_row;
        if (r >= t->rows) continue;
        char full[32], lab[16];
        time_format(t->times[r], 0, full, sizeof full); /* YYYY-MM-DD HH:MM:SS */
        snprintf(lab, sizeof lab, "%.*s", span < 86400.0 ? 5 : 11,
                 full + (span < 86400.0 ? 11 : 5));
        double x = axis_px(a, tk[i]);
        svg_line(s, x, y, x, y + 4, "#444444", 1, NULL);
        svg_text(s, x, y + 16, 11, "middle", 0, "#333333", lab);
    }
    char title[64], d0[32], d1[32];
    time_format(t->times[0], 0, d0, sizeof d0);
    time_format(t->times[t->rows - 1], 0, d1, sizeof d1);
    snprintf(title, sizeof title, "time (UTC), %.16s to %.16s", d0, d1);
    svg_text(s, 0.5 * (a->p0 + a->p1), y + 32, 12, "middle", 0, "#333333", title);
}

/* A pixel column's rows r0..r1-1: whether a segment starts after a gap (not at r0 == 0) and
 * whether every row is missing / any row is. */
struct bin_seg {
    int gap, all_missing, any_missing;
};

static struct bin_seg bin_seg(const struct timeline *t, size_t r0, size_t r1)
{
    struct bin_seg b = {0, 1, 0};
    for (size_t r = r0; r < r1; r++) {
        int st = t->seg ? t->seg[r] : PLOT_ROW_IN;
        if (st == PLOT_ROW_GAP && r > 0) b.gap = 1;
        if (st == PLOT_ROW_MISSING)
            b.any_missing = 1;
        else
            b.all_missing = 0;
    }
    return b;
}

/* Missing rows as shaded columns of the reading panel, a gap as a dashed line across it. */
static void draw_holes(struct svg *s, const struct timeline *t, size_t bins, double x0, double pw,
                       double top, double bot)
{
    if (!t->seg) return;
    for (size_t b = 0; b < bins; b++) {
        struct bin_seg g = bin_seg(t, b * t->rows / bins, (b + 1) * t->rows / bins);
        double xa = x0 + pw * (double)b / (double)bins,
               xb = x0 + pw * (double)(b + 1) / (double)bins;
        if (g.any_missing) svg_rect(s, xa, top + 6, xb - xa, bot - top - 6, C_HOLE, NULL);
        if (g.gap) svg_line(s, xa, top + 6, xa, bot, C_GAP, 1, "3 2");
    }
}

/* The reading as one polyline per run of pixel columns inside one segment: it stops before a
 * column where a segment starts after a gap, and skips columns whose rows are all missing. */
static void draw_reading(struct svg *s, const struct timeline *t, size_t bins, double x0, double pw,
                         const struct axis *ay)
{
    int open = 0;
    for (size_t b = 0; b < bins; b++) {
        size_t r0 = b * t->rows / bins, r1 = (b + 1) * t->rows / bins;
        struct bin_seg g = bin_seg(t, r0, r1);
        if (open && (g.gap || g.all_missing)) {
            svg_polyline_end(s);
            open = 0;
        }
        if (g.all_missing) continue;
        float mn = 0, mx = 0;
        int any = 0;
        for (size_t r = r0; r < r1; r++) {
            if (t->seg && t->seg[r] == PLOT_ROW_MISSING) continue;
            if (!any || t->reading[r] < mn) mn = t->reading[r];
            if (!any || t->reading[r] > mx) mx = t->reading[r];
            any = 1;
        }
        if (!open) svg_polyline_begin(s, C_READING, t->rows > bins ? 0.8 : 1.2, NULL);
        open = 1;
        double x = x0 + pw * ((double)b + 0.5) / (double)bins;
        /* the envelope is drawn as a zigzag: this column's max, then its min */
        svg_point(s, x, axis_px(ay, mx));
        if (mn != mx) svg_point(s, x, axis_px(ay, mn));
    }
    if (open) svg_polyline_end(s);
}

void draw_timeline(struct svg *s, double y0, double width, const struct timeline *t)
{
    const double x0 = TL_LEFT, x1 = width - TL_RIGHT, pw = x1 - x0;
    svg_group(s, "timeline");
    svg_text(s, 20, y0 + 24, 15, "start", 1, C_TEXT, t->title ? t->title : "timeline");
    if (t->subtitle) svg_text(s, 20, y0 + 42, 12, "start", 0, C_MUTED, t->subtitle);
    double lx =
        legend(s, 20, y0 + 64, C_READING, 1, NULL, t->reading_name ? t->reading_name : "reading");
    if (t->truth) lx = legend(s, lx, y0 + 64, C_TRUE, 0, NULL, "truly on");
    lx =
        legend(s, lx, y0 + 64, C_RIGHT, 0, NULL, t->truth ? "predicted on, right" : "predicted on");
    if (t->truth) {
        lx = legend(s, lx, y0 + 64, C_FALSE, 0, NULL, "false alarm");
        lx = legend(s, lx, y0 + 64, C_MISS, 0, NULL, "missed");
    }
    lx = legend(s, lx, y0 + 64, C_NONE, 0, NULL, "no prediction (no full window)");
    if (t->seg) {
        struct bin_seg g = bin_seg(t, 0, t->rows);
        if (g.gap) lx = legend(s, lx, y0 + 64, C_GAP, 1, "3 2", "gap");
        if (g.any_missing) legend(s, lx, y0 + 64, C_HOLE, 0, NULL, "missing rows");
    }

    /* reading panel */
    double top = y0 + TL_HEAD, bot = top + TL_READING;
    float lo = t->reading[0], hi = t->reading[0];
    for (size_t r = 0; r < t->rows; r++) {
        if (t->reading[r] < lo) lo = t->reading[r];
        if (t->reading[r] > hi) hi = t->reading[r];
    }
    double ylo = lo < 0 ? lo : 0.0, yhi = hi;
    axis_nice(&ylo, &yhi);
    struct axis ay = {ylo, yhi, bot, top + 6};
    svg_yaxis(s, &ay, x0, x1, 6, t->reading_name);

    size_t bins = t->rows < (size_t)pw ? t->rows : (size_t)pw;
    draw_holes(s, t, bins, x0, pw, top, bot);
    draw_reading(s, t, bins, x0, pw, &ay);

    /* bands */
    double y = bot + TL_GAP;
    for (int j = 0; j < t->k; j++) {
        const char *name = t->names && t->names[j] ? t->names[j] : "?";
        char nb[NAME_MAX_BYTES + 4];
        svg_text(s, 12, y + TL_BAND + 5, 12, "start", 1, C_TEXT, short_name(nb, name));
        if (t->truth) {
            svg_text(s, x0 - 6, y + 8.5, 9, "end", 0, C_MUTED, "true");
            draw_band(s, t, j, 0, bins, x0, pw, y);
        }
        svg_text(s, x0 - 6, y + TL_BAND + 2 + 8.5, 9, "end", 0, C_MUTED, "predicted");
        draw_band(s, t, j, 1, bins, x0, pw, y + TL_BAND + 2);
        y += TL_SOURCE;
    }
    struct axis ax = {(double)t->first_row, (double)(t->first_row + t->rows), x0, x1};
    if (t->times)
        time_axis(s, &ax, y - 4, t);
    else
        svg_xaxis(s, &ax, y - 4, 10, 1, "row");
    svg_group_end(s);
}

/* ============================== precision / recall ============================== */

#define PR_COLS 3
#define PR_HEAD 70.0
#define PR_PANEL 200.0 /* title + plot + axis of one panel row */
#define PR_PLOT 130.0
#define PR_STEPS 100 /* thresholds 0, 0.01, ..., 1 */

double pr_height(int k)
{
    int rows = (k + PR_COLS - 1) / PR_COLS;
    return PR_HEAD + PR_PANEL * (double)rows + 10;
}

/* Counts of "on if p > t" for output j at threshold t. */
static void pr_counts(const struct pr_input *p, int j, double t, size_t *tp, size_t *fp, size_t *fn)
{
    size_t K = (size_t)p->k;
    *tp = *fp = *fn = 0;
    for (size_t w = 0; w < p->windows; w++) {
        int on = (double)p->probs[w * K + (size_t)j] > t, tr = p->truth[w * K + (size_t)j] != 0;
        *tp += on && tr;
        *fp += on && !tr;
        *fn += !on && tr;
    }
}

/* metric 0 precision, 1 recall, 2 F1; -1 where undefined (nothing predicted / no positives). */
static double pr_metric(size_t tp, size_t fp, size_t fn, int metric)
{
    if (metric == 0) return tp + fp ? (double)tp / (double)(tp + fp) : -1.0;
    if (metric == 1) return tp + fn ? (double)tp / (double)(tp + fn) : -1.0;
    return tp + fp + fn ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : -1.0;
}

void draw_pr(struct svg *s, double y0, double width, const struct pr_input *p)
{
    static const char *const col[3] = {C_RIGHT, C_MISS, "#2a9d5c"};
    static const char *const dash[3] = {NULL, "6 3", "2 2"};
    static const char *const label[3] = {"precision", "recall", "F1"};
    svg_group(s, "precision-recall");
    svg_text(s, 20, y0 + 24, 15, "start", 1, C_TEXT, p->title ? p->title : "precision / recall");
    if (p->subtitle) svg_text(s, 20, y0 + 42, 12, "start", 0, C_MUTED, p->subtitle);
    double lx = 20;
    for (int m = 0; m < 3; m++)
        lx = legend(s, lx, y0 + 62, col[m], 1, dash[m], label[m]);
    if (p->thresholds) legend(s, lx, y0 + 62, C_BEST, 1, "3 3", "the model's threshold");

    const double left = 70, gap = 60;
    int cols = p->k < PR_COLS ? p->k : PR_COLS;
    double panel_w = (width - left - 20 - gap * (cols - 1)) / cols;
    for (int j = 0; j < p->k; j++) {
        double px = left + (panel_w + gap) * (j % PR_COLS);
        double py = y0 + PR_HEAD + PR_PANEL * (j / PR_COLS);
        double top = py + 36, bot = top + PR_PLOT;
        struct axis ax = {0.0, 1.0, px, px + panel_w};
        struct axis ay = {0.0, 1.0, bot, top};
        const char *name = p->names && p->names[j] ? p->names[j] : "?";
        svg_text(s, px, py + 12, 12, "start", 1, C_TEXT, name);

        size_t tp, fp, fn;
        pr_counts(p, j, -1.0, &tp, &fp, &fn); /* everything on: tp + fn = positives */
        size_t pos = tp + fn;
        if (p->thresholds) {
            pr_counts(p, j, p->thresholds[j], &tp, &fp, &fn);
            svg_textf(s, px, py + 26, 10, "start", 0, C_MUTED,
                      "model's t=%.2f: P %.2f  R %.2f  F1 %.2f", (double)p->thresholds[j],
                      fmax(0.0, pr_metric(tp, fp, fn, 0)), fmax(0.0, pr_metric(tp, fp, fn, 1)),
                      fmax(0.0, pr_metric(tp, fp, fn, 2)));
        }
        svg_yaxis(s, &ay, px, px + panel_w, 6, NULL);
        svg_xaxis(s, &ax, bot, 6, 0, j + PR_COLS >= p->k ? "threshold" : NULL);
        if (pos == 0) {
            svg_text(s, px + 0.5 * panel_w, 0.5 * (top + bot), 11, "middle", 0, C_MUTED,
                     "never on in this data");
            continue;
        }
        /* One pass: p > i/100 exactly when i < ceil(100 p), so a histogram over that bucket
         * and suffix sums give the counts at every threshold. */
        size_t hp[PR_STEPS + 2], hn[PR_STEPS + 2];
        memset(hp, 0, sizeof hp);
        memset(hn, 0, sizeof hn);
        for (size_t w = 0; w < p->windows; w++) {
            double c = ceil((double)p->probs[w * (size_t)p->k + (size_t)j] * PR_STEPS);
            int b = c <= 0 ? 0 : c > PR_STEPS + 1 ? PR_STEPS + 1 : (int)c;
            if (p->truth[w * (size_t)p->k + (size_t)j])
                hp[b]++;
            else
                hn[b]++;
        }
        double m[3][PR_STEPS + 1];
        size_t on_pos = 0, on_neg = 0;
        for (int i = PR_STEPS; i >= 0; i--) {
            on_pos += hp[i + 1];
            on_neg += hn[i + 1];
            for (int k = 0; k < 3; k++)
                m[k][i] = pr_metric(on_pos, on_neg, pos - on_pos, k);
        }
        for (int k = 0; k < 3; k++) {
            int open = 0;
            for (int i = 0; i <= PR_STEPS + 1; i++) {
                int ok = i <= PR_STEPS && m[k][i] >= 0;
                if (ok && !open) svg_polyline_begin(s, col[k], k == 2 ? 1.2 : 1.8, dash[k]);
                if (ok) svg_point(s, axis_px(&ax, (double)i / PR_STEPS), axis_px(&ay, m[k][i]));
                if (!ok && open) svg_polyline_end(s);
                open = ok;
            }
        }
        if (p->thresholds) {
            double tx = axis_px(&ax, p->thresholds[j]);
            svg_line(s, tx, top, tx, bot, C_BEST, 1, "3 3");
        }
    }
    svg_group_end(s);
}
