/*
 * svg.c — SVG primitives and axes (see svg.h). Numbers are written with one decimal (pixels),
 * text escaped for XML with invalid UTF-8 and control bytes replaced by '?', so whatever a CSV
 * header holds the file stays well-formed. Write errors are collected by the FILE and checked
 * once in svg_close. The file is written in place (a FIFO or /dev/stdout works as a target).
 */
#include "svg.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

/* ============================== text ============================== */

int utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80) return 1;
    int n = p[0] >= 0xf0 && p[0] <= 0xf4  ? 4
            : p[0] >= 0xe0                ? 3
            : p[0] >= 0xc2 && p[0] < 0xe0 ? 2
                                          : 0;
    if (!n) return 0;
    uint32_t cp = p[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    /* overlong forms, surrogates, beyond Unicode, and XML's forbidden U+FFFE/U+FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0;
    return n;
}

static void put_escaped(FILE *fp, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        switch (*p) {
        case '&':
            fputs("&amp;", fp);
            p++;
            continue;
        case '<':
            fputs("&lt;", fp);
            p++;
            continue;
        case '>':
            fputs("&gt;", fp);
            p++;
            continue;
        case '"':
            fputs("&quot;", fp);
            p++;
            continue;
        case '\'':
            fputs("&apos;", fp);
            p++;
            continue;
        default:
            break;
        }
        if (*p < 0x20) { /* XML 1.0 allows no control characters but tab and newlines */
            fputc(*p == '\t' ? ' ' : '?', fp);
            p++;
            continue;
        }
        int n = utf8_len(p);
        if (n == 0) {
            fputc('?', fp);
            p++;
        } else {
            fwrite(p, 1, (size_t)n, fp);
            p += n;
        }
    }
}

/* ============================== file ============================== */

int svg_open(struct svg *s, const char *path, double w, double h, const char *title,
             struct lstmsrc_error *err)
{
    if (outfile_open(&s->out, path, err)) return 0;
    s->fp = s->out.fp;
    fprintf(s->fp,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\">\n",
            w, h, w, h, FONT);
    if (title) {
        fputs("<title>", s->fp);
        put_escaped(s->fp, title);
        fputs("</title>\n", s->fp);
    }
    fprintf(s->fp, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", w,
            h);
    return 1;
}

int svg_close(struct svg *s, struct lstmsrc_error *err)
{
    fputs("</svg>\n", s->fp);
    s->fp = NULL;
    return outfile_commit(&s->out, 0, err) == LSTMSRC_OK;
}

/* ============================== shapes ============================== */

void svg_rect(struct svg *s, double x, double y, double w, double h, const char *fill,
              const char *stroke)
{
    fprintf(s->fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"", x, y,
            w, h, fill);
    if (stroke) fprintf(s->fp, " stroke=\"%s\" stroke-width=\"1\"", stroke);
    fputs("/>\n", s->fp);
}

void svg_line(struct svg *s, double x1, double y1, double x2, double y2, const char *stroke,
              double width, const char *dash)
{
    fprintf(s->fp,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"%.2g\"",
            x1, y1, x2, y2, stroke, width);
    if (dash) fprintf(s->fp, " stroke-dasharray=\"%s\"", dash);
    fputs("/>\n", s->fp);
}

void svg_polyline_begin(struct svg *s, const char *stroke, double width, const char *dash)
{
    fprintf(s->fp,
            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.2g\" "
            "stroke-linejoin=\"round\"",
            stroke, width);
    if (dash) fprintf(s->fp, " stroke-dasharray=\"%s\"", dash);
    fputs(" points=\"", s->fp);
}

void svg_point(struct svg *s, double x, double y)
{
    fprintf(s->fp, "%.1f,%.1f ", x, y);
}

void svg_polyline_end(struct svg *s)
{
    fputs("\"/>\n", s->fp);
}

void svg_polyline(struct svg *s, const double *xy, size_t n, const char *stroke, double width,
                  const char *dash)
{
    if (n == 0) return;
    svg_polyline_begin(s, stroke, width, dash);
    for (size_t i = 0; i < n; i++)
        svg_point(s, xy[2 * i], xy[2 * i + 1]);
    svg_polyline_end(s);
}

void svg_circle(struct svg *s, double cx, double cy, double r, const char *fill)
{
    fprintf(s->fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n", cx, cy, r, fill);
}

void svg_text(struct svg *s, double x, double y, double size, const char *anchor, int weight,
              const char *fill, const char *text)
{
    fprintf(s->fp, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.3g\" text-anchor=\"%s\" fill=\"%s\"",
            x, y, size, anchor, fill);
    if (weight) fputs(" font-weight=\"bold\"", s->fp);
    fputc('>', s->fp);
    put_escaped(s->fp, text);
    fputs("</text>\n", s->fp);
}

void svg_textf(struct svg *s, double x, double y, double size, const char *anchor, int weight,
               const char *fill, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    svg_text(s, x, y, size, anchor, weight, fill, buf);
}

void svg_group(struct svg *s, const char *id)
{
    if (!id) {
        fputs("<g>\n", s->fp);
        return;
    }
    fputs("<g id=\"", s->fp);
    put_escaped(s->fp, id);
    fputs("\">\n", s->fp);
}

void svg_group_end(struct svg *s)
{
    fputs("</g>\n", s->fp);
}

/* ============================== axes ============================== */

double axis_px(const struct axis *a, double v)
{
    double span = a->hi - a->lo;
    if (!(span > 0)) return 0.5 * (a->p0 + a->p1);
    return a->p0 + (v - a->lo) / span * (a->p1 - a->p0);
}

/* The round step (1, 2 or 5 times a power of ten) giving at most max ticks over span. */
static double nice_step(double span, int max)
{
    if (!(span > 0) || max < 2) return 1.0;
    double raw = span / (double)(max - 1);
    double p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

int axis_ticks(double lo, double hi, int max, int integer, double *t)
{
    double step = nice_step(hi - lo, max);
    if (integer && step < 1.0) step = 1.0;
    int n = 0;
    /* a small tolerance so a bound that is itself a tick is kept despite rounding */
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step && n < max; v += step)
        t[n++] = fabs(v) < 1e-12 * step ? 0.0 : v;
    return n;
}

void axis_nice(double *lo, double *hi)
{
    if (!(*hi > *lo)) {
        double m = fabs(*lo) > 0 ? fabs(*lo) * 0.5 : 1.0;
        *lo -= m;
        *hi += m;
    }
    double step = nice_step(*hi - *lo, 6);
    *lo = floor(*lo / step + 1e-9) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
}

void axis_label(char *dst, size_t cap, double v)
{
    double a = fabs(v);
    if (a >= 100000.0)
        snprintf(dst, cap, "%.0fk", v / 1000.0);
    else if (a >= 100.0 || v == floor(v))
        snprintf(dst, cap, "%.0f", v);
    else {
        snprintf(dst, cap, "%.3f", v);
        char *e = dst + strlen(dst) - 1; /* "0.250" -> "0.25" */
        while (e > dst && *e == '0')
            *e-- = '\0';
        if (*e == '.') *e = '\0';
    }
}

void svg_xaxis(struct svg *s, const struct axis *a, double y, int max_ticks, int integer,
               const char *title)
{
    double t[16];
    int n = axis_ticks(a->lo, a->hi, max_ticks < 16 ? max_ticks : 16, integer, t);
    svg_line(s, a->p0, y, a->p1, y, "#444444", 1, NULL);
    for (int i = 0; i < n; i++) {
        char lab[32];
        double x = axis_px(a, t[i]);
        axis_label(lab, sizeof lab, t[i]);
        svg_line(s, x, y, x, y + 4, "#444444", 1, NULL);
        svg_text(s, x, y + 16, 11, "middle", 0, "#333333", lab);
    }
    if (title) svg_text(s, 0.5 * (a->p0 + a->p1), y + 32, 12, "middle", 0, "#333333", title);
}

void svg_yaxis(struct svg *s, const struct axis *a, double x, double x_right, int max_ticks,
               const char *title)
{
    double t[16];
    int n = axis_ticks(a->lo, a->hi, max_ticks < 16 ? max_ticks : 16, 0, t);
    for (int i = 0; i < n; i++) {
        char lab[32];
        double y = axis_px(a, t[i]);
        axis_label(lab, sizeof lab, t[i]);
        svg_line(s, x, y, x_right, y, "#e6e6e6", 1, NULL);
        svg_line(s, x - 4, y, x, y, "#444444", 1, NULL);
        svg_text(s, x - 7, y + 4, 11, "end", 0, "#333333", lab);
    }
    svg_line(s, x, a->p0, x, a->p1, "#444444", 1, NULL);
    if (title) {
        double cy = 0.5 * (a->p0 + a->p1);
        fprintf(s->fp,
                "<text x=\"0\" y=\"0\" font-size=\"12\" text-anchor=\"middle\" "
                "fill=\"#333333\" transform=\"translate(%.1f,%.1f) rotate(-90)\">",
                x - 44, cy);
        put_escaped(s->fp, title);
        fputs("</text>\n", s->fp);
    }
}
