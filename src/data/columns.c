/*
 * columns.c — resolving a header's column names (columns.h).
 */
#include "data/columns.h"

#include <stdio.h>
#include <string.h>

#include "base/common.h"

/* Longest name quoted back in a message. */
#define EXCERPT 40

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

void columns_trim(const char **s, size_t *len)
{
    const char *p = *s, *e = *s + *len;
    while (p < e && is_blank(*p))
        p++;
    while (e > p && is_blank(e[-1]))
        e--;
    *s = p;
    *len = (size_t)(e - p);
}

int columns_find(char *const *header, int ncols, const char *tok, size_t len)
{
    for (int i = 0; i < ncols; i++)
        if (strlen(header[i]) == len && memcmp(header[i], tok, len) == 0) return i;
    if (len == 0 || len > 9) return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned)(tok[i] - '0') > 9u) return -1;
        v = v * 10 + (tok[i] - '0');
    }
    return v >= 1 && v <= ncols ? v - 1 : -1;
}

void columns_list(char *dst, size_t cap, char *const *header, int ncols)
{
    static const char more[] = ", ...";
    size_t used = 0;
    dst[0] = '\0';
    for (int i = 0; i < ncols; i++) {
        char nm[EXCERPT + 1];
        str_excerpt(nm, sizeof nm, header[i], strlen(header[i]));
        size_t need = (i ? 2 : 0) + strlen(nm);
        /* keep room for ", ..." and the NUL after every name */
        if (used + need + sizeof more > cap) {
            memcpy(dst + used, i ? more : more + 2, i ? sizeof more : sizeof more - 2);
            return;
        }
        used += (size_t)snprintf(dst + used, cap - used, "%s%s", i ? ", " : "", nm);
    }
}

enum lstmsrc_status columns_none(const char *src, char *const *header, int ncols, const char *tok,
                                 size_t len, struct lstmsrc_error *err)
{
    char t[EXCERPT + 1], list[128];
    str_excerpt(t, sizeof t, tok, len);
    columns_list(list, sizeof list, header, ncols);
    return set_error(err, LSTMSRC_ERR_ARG, "%s:1: no column \"%s\" (columns: %s)", src, t, list);
}

enum lstmsrc_status columns_unique(const char *src, char *const *header, int ncols, int c,
                                   struct lstmsrc_error *err)
{
    for (int j = 0; j < ncols; j++)
        if (j != c && strcmp(header[j], header[c]) == 0) {
            char t[EXCERPT + 1];
            str_excerpt(t, sizeof t, header[c], strlen(header[c]));
            return set_error(err, LSTMSRC_ERR_PARSE,
                             "%s:1: duplicate column name \"%s\" (columns %d and %d)", src, t,
                             (j < c ? j : c) + 1, (j < c ? c : j) + 1);
        }
    return LSTMSRC_OK;
}

enum lstmsrc_status columns_pick(const char *src, char *const *header, int ncols, const char *tok,
                                 size_t len, int *idx, int *n, int max, const char *what,
                                 struct lstmsrc_error *err)
{
    int c = columns_find(header, ncols, tok, len);
    if (c < 0) return columns_none(src, header, ncols, tok, len, err);
    enum lstmsrc_status st = columns_unique(src, header, ncols, c, err);
    if (st) return st;
    for (int i = 0; i < *n; i++)
        if (idx[i] == c) {
            char t[EXCERPT + 1];
            str_excerpt(t, sizeof t, header[c], strlen(header[c]));
            return set_error(err, LSTMSRC_ERR_ARG, "%s:1: column \"%s\" selected twice", src, t);
        }
    if (*n >= max)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: more than %d %s columns", src, max, what);
    idx[(*n)++] = c;
    return LSTMSRC_OK;
}
