/*
 * common.c — error filling, checked size math, string helpers, clock.
 */
#define _POSIX_C_SOURCE 200809L
#include "base/common.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

const char *lstmsrc_status_str(enum lstmsrc_status status)
{
    switch (status) {
    case LSTMSRC_OK:
        return "ok";
    case LSTMSRC_ERR_ARG:
        return "invalid argument";
    case LSTMSRC_ERR_IO:
        return "input/output error";
    case LSTMSRC_ERR_PARSE:
        return "malformed data";
    case LSTMSRC_ERR_FORMAT:
        return "truncated or corrupted model file";
    case LSTMSRC_ERR_VERSION:
        return "unsupported model file version";
    case LSTMSRC_ERR_NOMEM:
        return "out of memory";
    case LSTMSRC_ERR_LIMIT:
        return "input exceeds a limit";
    case LSTMSRC_ERR_INTERRUPTED:
        return "interrupted";
    case LSTMSRC_ERR_DIVERGED:
        return "training diverged";
    }
    return "unknown status";
}

enum lstmsrc_status set_error(struct lstmsrc_error *err, enum lstmsrc_status code, const char *fmt,
                              ...)
{
    if (err) {
        char raw[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        /* One line, whatever the quoted names hold: control bytes (a column name with a
         * newline, a tab) are written as \n, \r, \t or \xHH; what no longer fits is cut. */
        static const char hex[] = "0123456789abcdef";
        size_t w = 0;
        for (const unsigned char *r = (const unsigned char *)raw; *r; r++) {
            char esc[4];
            size_t n = 0;
            if (*r >= 0x20 && *r != 0x7f)
                esc[n++] = (char)*r;
            else if (*r == '\n' || *r == '\r' || *r == '\t') {
                esc[n++] = '\\';
                esc[n++] = *r == '\n' ? 'n' : *r == '\r' ? 'r' : 't';
            } else {
                esc[n++] = '\\';
                esc[n++] = 'x';
                esc[n++] = hex[*r >> 4];
                esc[n++] = hex[*r & 15];
            }
            if (w + n >= sizeof err->msg) break;
            memcpy(err->msg + w, esc, n);
            w += n;
        }
        err->msg[w] = '\0';
    }
    return code;
}

int mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

int add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}

int mul3_size(size_t a, size_t b, size_t c, size_t *out)
{
    size_t ab;
    return mul_size(a, b, &ab) && mul_size(ab, c, out);
}

void *xmalloc_n(size_t count, size_t size)
{
    size_t n;
    if (!mul_size(count, size, &n)) return NULL;
    return malloc(n ? n : 1);
}

void *xcalloc_n(size_t count, size_t size)
{
    size_t n;
    if (!mul_size(count, size, &n)) return NULL;
    return calloc(n ? count : 1, n ? size : 1);
}

char *str_ndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *str_dup(const char *s)
{
    return str_ndup(s, strlen(s));
}

void str_array_free(char **a, int n)
{
    if (!a) return;
    for (int i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void str_excerpt(char *dst, size_t cap, const char *s, size_t n)
{
    if (cap == 0) return;
    /* a NUL is shown as \0 (the text after it would be lost otherwise), a line break as a
     * blank (messages stay one line); cut with "..." to fit */
    size_t total = n;
    for (size_t i = 0; i < n; i++)
        total += s[i] == '\0';
    const size_t room = total + 1 <= cap ? total : cap > 4 ? cap - 4 : 0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const size_t need = s[i] == '\0' ? 2 : 1;
        if (w + need > room) break;
        if (s[i] == '\0') {
            dst[w++] = '\\';
            dst[w++] = '0';
        } else {
            dst[w++] = s[i] == '\n' || s[i] == '\r' ? ' ' : s[i];
        }
    }
    if (room < total && cap > 4) {
        memcpy(dst + w, "...", 3);
        w += 3;
    }
    dst[w] = '\0';
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
