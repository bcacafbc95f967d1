/*
 * columns.h — one resolver of column names for every reader of a header (the data set loader,
 * the chunked row reader): a name or a 1-based index to a column, the header listed for a
 * message, and the checks every selection makes (the column exists, its name is its own, it is
 * not picked twice), each failing with the same located one-line message.
 */
#ifndef LSTMSRC_COLUMNS_H
#define LSTMSRC_COLUMNS_H

#include <stddef.h>

#include "lstmsrc.h"

/* Drops blanks (space, tab) around s[0..*len). */
void columns_trim(const char **s, size_t *len);
/* 0-based index of the column `tok` names: an exact header name, else an all-digit 1-based
 * index; -1 if neither. */
int columns_find(char *const *header, int ncols, const char *tok, size_t len);
/* The header's columns as "a, b, c" for messages, shortened with ", ..." to fit cap (>= 6). */
void columns_list(char *dst, size_t cap, char *const *header, int ncols);
/* "SRC:1: no column "TOK" (columns: a, b, c)", LSTMSRC_ERR_ARG. */
enum lstmsrc_status columns_none(const char *src, char *const *header, int ncols, const char *tok,
                                 size_t len, struct lstmsrc_error *err);
/* Column c's name must be its own: a model finds its columns again by name, and a name two
 * columns share would pick the first and silently ignore the other (LSTMSRC_ERR_PARSE). */
enum lstmsrc_status columns_unique(const char *src, char *const *header, int ncols, int c,
                                   struct lstmsrc_error *err);
/* Resolves `tok` and appends its column to idx[0..*n) (room for max; past it "more than max
 * WHAT columns", LSTMSRC_ERR_LIMIT): it must exist, have its own name and not be there yet. */
enum lstmsrc_status columns_pick(const char *src, char *const *header, int ncols, const char *tok,
                                 size_t len, int *idx, int *n, int max, const char *what,
                                 struct lstmsrc_error *err);

#endif
