/*
 * svg.h — the few SVG primitives the CLI's pictures need (rectangles, lines, polylines, text),
 * written straight to a file, plus axes with round-number ticks. Enough for charts that any
 * browser or librsvg renders; no plotting runtime needed.
 *
 * Deliberately small: no styling engine, no fonts embedded (text names a generic sans-serif),
 * no paths beyond polylines. Text is escaped and invalid UTF-8 replaced, so the output is
 * always well-formed XML whatever the column names hold.
 */
#ifndef LSTMSRC_CLI_SVG_H
#define LSTMSRC_CLI_SVG_H

#include <stddef.h>
#include <stdio.h>

#include "base/outfile.h"

struct svg {
    FILE *fp;
    struct outfile out; /* a temporary renamed over the target at svg_close (outfile.h) */
};

/* Starts `path` (through a temporary name, so an existing picture survives a failure) and writes
 * the header for a w x h picture with a white background. Returns 1, or 0 with err set. */
int svg_open(struct svg *s, const char *path, double w, double h, const char *title,
             struct lstmsrc_error *err);
/* Writes the end and puts the file in place; returns 1, or 0 with err set if anything failed to
 * write (the target is then left as it was). Call exactly once after a successful svg_open. */
int svg_close(struct svg *s, struct lstmsrc_error *err);

/* `fill`/`stroke` are SVG colours ("#4e79a7", "none"); `dash` NULL for a solid line. */
void svg_rect(struct svg *s, double x, double y, double w, double h, const char *fill,
              const char *stroke);
void svg_line(struct svg *s, double x1, double y1, double x2, double y2, const char *stroke,
              double width, const char *dash);
/* xy: (n, 2) points. */
void svg_polyline(struct svg *s, const double *xy, size_t n, const char *stroke, double width,
                  const char *dash);
/* The same, streamed point by point (no buffer): begin, any number of points, end. */
void svg_polyline_begin(struct svg *s, const char *stroke, double width, const char *dash);
void svg_point(struct svg *s, double x, double y);
void svg_polyline_end(struct svg *s);
void svg_circle(struct svg *s, double cx, double cy, double r, const char *fill);
/* anchor: "start", "middle" or "end"; weight 1 for bold. */
void svg_text(struct svg *s, double x, double y, double size, const char *anchor, int weight,
              const char *fill, const char *text);
void svg_textf(struct svg *s, double x, double y, double size, const char *anchor, int weight,
               const char *fill, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 8, 9)))
#endif
    ;
/* Groups, for structure a reader of the file can follow (id may be NULL). */
void svg_group(struct svg *s, const char *id);
void svg_group_end(struct svg *s);

/* Length of the valid UTF-8 sequence at p (1..4; 1 for ASCII, the NUL included), or 0 when
 * it is not one (also overlong forms, surrogates, U+FFFE/U+FFFF, which XML forbids). */
int utf8_len(const unsigned char *p);

/* A linear map from data [lo, hi] to pixels [p0, p1] (p1 < p0 for a y axis). */
struct axis {
    double lo, hi, p0, p1;
};
double axis_px(const struct axis *a, double v);
/* Round-number ticks inside [lo, hi]: at most `max` values into t; returns how many. With
 * `integer` the step is a whole number (rows, epochs). */
int axis_ticks(double lo, double hi, int max, int integer, double *t);
/* Widens [*lo, *hi] outwards to round numbers (keeps it non-empty). */
void axis_nice(double *lo, double *hi);
/* Tick label text: no exponent, no trailing zeros ("0.25", "1500", "12k" above 99999). */
void axis_label(char *dst, size_t cap, double v);

/* A horizontal axis with ticks and labels below y (whole-number ticks with `integer`), and a
 * vertical one left of x with grid lines across to x_right. */
void svg_xaxis(struct svg *s, const struct axis *a, double y, int max_ticks, int integer,
               const char *title);
void svg_yaxis(struct svg *s, const struct axis *a, double x, double x_right, int max_ticks,
               const char *title);

#endif
