/*
 * timecol.c — ISO 8601 and Unix-seconds parsing, formatting, durations and the sampling period.
 *
 * Civil dates go to days since 1970-01-01 and back with Howard Hinnant's days_from_civil /
 * civil_from_days (exact integer arithmetic over 400-year eras), so no timegm, TZ or locale is
 * involved. The period is found on the sorted positive steps: an LSD radix sort of their bit
 * patterns (positive doubles order as unsigned integers; passes where every key has the same
 * byte are skipped, which is most of them for a regular series), then the densest window of
 * TIME_STEP_TOL found with two pointers.
 */
#include "data/timecol.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}
static int is_digit(char c)
{
    return (unsigned)(c - '0') < 10u;
}

/* Trims blanks off both ends of [*p, *e). */
static void trim(const char **p, const char **e)
{
    while (*p < *e && is_blank(**p))
        (*p)++;
    while (*e > *p && is_blank((*e)[-1]))
        (*e)--;
}

/* Exactly n digits at *p as a number; advances. Returns -1 when they are not all digits. */
static int digits(const char **p, const char *e, int n)
{
    if (e - *p < n) return -1;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (!is_digit(c)) return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                   /* [0, 399] */
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static const double pow10_tab[10] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

/* '.' or ',' and 1+ digits at *p: the fraction (first 9 digits kept); advances. 0 if
 * malformed. No fraction there: 1 and *frac = 0. */
static int fraction(const char **p, const char *e, double *frac)
{
    *frac = 0.0;
    if (*p == e || (**p != '.' && **p != ',')) return 1;
    const char *q = *p + 1;
    uint32_t m = 0;
    int k = 0;
    for (; q < e && is_digit(*q); q++)
        if (k < 9) {
            m = m * 10 + (uint32_t)(*q - '0');
            k++;
        }
    if (q == *p + 1) return 0;
    *frac = (double)m / pow10_tab[k];
    *p = q;
    return 1;
}

int time_parse(const char *s, size_t len, double *t)
{
    const char *p = s, *e = s + len;
    trim(&p, &e);
    const int y = digits(&p, e, 4);
    if (y < 0 || p == e || *p++ != '-') return 0;
    const int mo = digits(&p, e, 2);
    if (mo < 1 || mo > 12 || p == e || *p++ != '-') return 0;
    const int d = digits(&p, e, 2);
    if (d < 1 || d > days_in_month(y, mo)) return 0;
    const double day = (double)days_from_civil(y, mo, d) * 86400.0;
    if (p == e) {
        *t = day;
        return 1;
    }
    if (*p != 'T' && *p != ' ') return 0;
    p++;
    const int h = digits(&p, e, 2);
    if (h < 0 || h > 23 || p == e || *p++ != ':') return 0;
    const int mi = digits(&p, e, 2);
    if (mi < 0 || mi > 59) return 0;
    int sec = 0;
    double frac = 0.0;
    if (p < e && *p == ':') {
        p++;
        sec = digits(&p, e, 2);
        if (sec < 0 || sec > 60) return 0;
        if (!fraction(&p, e, &frac)) return 0;
    }
    int off = 0; /* seconds east of UTC */
    if (p < e && *p == 'Z') {
        p++;
    } else if (p < e && (*p == '+' || *p == '-')) {
        const int sign = *p++ == '-' ? -1 : 1;
        const int oh = digits(&p, e, 2);
        if (oh < 0 || oh > 23) return 0;
        int om = 0;
        if (p < e) {
            if (*p == ':') p++;
            om = digits(&p, e, 2);
            if (om < 0 || om > 59) return 0;
        }
        off = sign * (oh * 3600 + om * 60);
    }
    if (p != e) return 0;
    *t = day + (double)(h * 3600 + mi * 60 + sec - off) + frac;
    return 1;
}

int time_parse_unix(const char *s, size_t len, double *t)
{
    const char *p = s, *e = s + len;
    trim(&p, &e);
    int neg = 0;
    if (p < e && *p == '-') {
        neg = 1;
        p++;
    }
    double ip = 0.0;
    const char *d0 = p;
    for (; p < e && is_digit(*p); p++)
        ip = ip * 10.0 + (double)(*p - '0'); /* exact up to 2^53 */
    int nd = (int)(p - d0);
    double frac = 0.0;
    if (p < e && *p == '.') {
        const char *f0 = p + 1;
        uint64_t m = 0;
        int k = 0;
        for (p++; p < e && is_digit(*p); p++)
            if (k < 18) {
                m = m * 10 + (uint64_t)(*p - '0');
                k++;
            }
        nd += (int)(p - f0);
        frac = (double)m / pow(10.0, k);
    }
    if (nd == 0 || p != e || !isfinite(ip)) return 0;
    const double v = ip + frac;
    *t = neg ? -v : v;
    return 1;
}

void time_format(double t, int with_fraction, char *buf, size_t cap)
{
    if (cap == 0) return;
    /* 0000-01-01 00:00:00 and 9999-12-31 23:59:59.999 */
    const double lo = -62167219200.0, hi = 253402300800.0;
    if (!isfinite(t) || t < lo || t >= hi) {
        snprintf(buf, cap, "invalid time");
        return;
    }
    int64_t secs;
    int ms = 0;
    if (with_fraction) {
        const int64_t total = (int64_t)floor(t * 1000.0 + 0.5);
        secs = total >= 0 ? total / 1000 : -((-total + 999) / 1000);
        ms = (int)(total - secs * 1000);
        if (secs >= (int64_t)hi) { /* 9999-12-31 23:59:59.9996 would round into year 10000 */
            secs = (int64_t)floor(t);
            ms = 0;
        }
    } else {
        secs = (int64_t)floor(t);
    }
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int sod = (int)(secs - days * 86400);
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (ms)
        snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03d", (int)y, m, d, sod / 3600,
                 sod / 60 % 60, sod % 60, ms);
    else
        snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d", (int)y, m, d, sod / 3600, sod / 60 % 60,
                 sod % 60);
}

int time_parse_duration(const char *s, double *seconds)
{
    const char *p = s, *e = s + strlen(s);
    trim(&p, &e);
    double ip = 0.0;
    const char *d0 = p;
    for (; p < e && is_digit(*p); p++)
        ip = ip * 10.0 + (double)(*p - '0');
    int nd = (int)(p - d0);
    double frac = 0.0;
    if (p < e && *p == '.') {
        const char *f0 = p + 1;
        uint64_t m = 0;
        int k = 0;
        for (p++; p < e && is_digit(*p); p++)
            if (k < 18) {
                m = m * 10 + (uint64_t)(*p - '0');
                k++;
            }
        nd += (int)(p - f0);
        frac = (double)m / pow(10.0, k);
    }
    if (nd == 0) return 0;
    const size_t ul = (size_t)(e - p);
    double unit;
    if (ul == 0 || (ul == 1 && *p == 's'))
        unit = 1.0;
    else if (ul == 2 && p[0] == 'm' && p[1] == 's')
        unit = 1e-3;
    else if ((ul == 1 && *p == 'm') || (ul == 3 && memcmp(p, "min", 3) == 0))
        unit = 60.0;
    else if (ul == 1 && *p == 'h')
        unit = 3600.0;
    else if (ul == 1 && *p == 'd')
        unit = 86400.0;
    else
        return 0;
    const double v = (ip + frac) * unit;
    if (!(v > 0.0) || !isfinite(v)) return 0;
    *seconds = v;
    return 1;
}

/* ============================== period ============================== */

static uint64_t key_of(double x)
{
    uint64_t k;
    memcpy(&k, &x, sizeof k);
    return k;
}
static double double_of(uint64_t k)
{
    double x;
    memcpy(&x, &k, sizeof x);
    return x;
}

/* Sorts m keys ascending, using tmp (m) as scratch; the result is in a or tmp, returned. */
static uint64_t *radix_sort(uint64_t *a, uint64_t *tmp, size_t m)
{
    size_t(*hist)[256] = calloc(8, sizeof *hist);
    if (!hist) return NULL;
    for (size_t i = 0; i < m; i++)
        for (int b = 0; b < 8; b++)
            hist[b][(a[i] >> (8 * b)) & 0xff]++;
    uint64_t *src = a, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        size_t *h = hist[b];
        if (h[(src[0] >> (8 * b)) & 0xff] == m) continue; /* every key has this byte */
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t c = h[v];
            h[v] = sum;
            sum += c;
        }
        for (size_t i = 0; i < m; i++)
            dst[h[(src[i] >> (8 * b)) & 0xff]++] = src[i];
        uint64_t *x = src;
        src = dst;
        dst = x;
    }
    free(hist);
    return src;
}

int time_period(const double *t, size_t n, double *period, size_t *irregular, size_t *backwards)
{
    size_t back = 0, bad = 0, m = 0;
    *period = 0.0;
    for (size_t i = 0; i + 1 < n; i++) {
        const double d = t[i + 1] - t[i];
        if (!isfinite(d))
            bad++;
        else if (d <= 0.0)
            back++;
        else
            m++;
    }
    if (backwards) *backwards = back;
    if (irregular) *irregular = bad;
    if (m == 0) return 0;

    uint64_t *a = malloc(m * sizeof *a), *tmp = malloc(m * sizeof *tmp);
    uint64_t *v = NULL;
    if (a && tmp) {
        size_t j = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            const double d = t[i + 1] - t[i];
            if (isfinite(d) && d > 0.0) a[j++] = key_of(d); /* positive: orders as unsigned */
        }
        v = radix_sort(a, tmp, m);
    }
    if (!v) {
        free(a);
        free(tmp);
        return 0;
    }
    /* The densest window [v[i], v[i] + tol]: the first (smallest step) of the largest. The
     * slack keeps float noise in the difference of two steps from splitting them. */
    const double tol = TIME_STEP_TOL * (1.0 + 1e-9);
    size_t best_i = 0, best_c = 0;
    for (size_t i = 0, j = 0; i < m; i++) {
        if (j < i) j = i;
        const double lo = double_of(v[i]);
        while (j < m && double_of(v[j]) - lo <= tol)
            j++;
        if (j - i > best_c) {
            best_c = j - i;
            best_i = i;
        }
    }
    const double p = double_of(v[best_i + (best_c - 1) / 2]);
    size_t off = 0;
    for (size_t i = 0; i < m; i++)
        off += fabs(double_of(v[i]) - p) > tol;
    free(a);
    free(tmp);
    *period = p;
    if (irregular) *irregular = bad + off;
    return 1;
}
