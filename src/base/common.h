/*
 * common.h — what every module shares: error filling, invariant asserts, checked size math,
 * small string helpers. Nothing here allocates behind the caller's back or keeps state.
 */
#ifndef LSTMSRC_COMMON_H
#define LSTMSRC_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lstmsrc.h"

/* Internal invariants (shape mismatch, NULL where required) abort with file:line; they are
 * programming errors, never returned as status codes (GGML_ASSERT). */
#define LSTMSRC_ASSERT(x)                                                                          \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "%s:%d: internal error: assertion failed: %s\n", __FILE__, __LINE__,   \
                    #x);                                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#if defined(__GNUC__)
#define LSTMSRC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LSTMSRC_PRINTF(a, b)
#endif

/* Fills err (if non-NULL) with code and a printf-style message; returns code. */
enum lstmsrc_status set_error(struct lstmsrc_error *err, enum lstmsrc_status code, const char *fmt,
                              ...) LSTMSRC_PRINTF(3, 4);

/* Checked size arithmetic (stb stbi__mul2sizes_valid): return 1 and store on success, 0 on
 * overflow. Use before every allocation sized from input. */
int mul_size(size_t a, size_t b, size_t *out);
int add_size(size_t a, size_t b, size_t *out);
/* a*b*c */
int mul3_size(size_t a, size_t b, size_t c, size_t *out);

/* malloc/calloc with checked count*size; NULL on overflow or failure. */
void *xmalloc_n(size_t count, size_t size);
void *xcalloc_n(size_t count, size_t size);

/* strdup that returns NULL on failure (C11 has no strdup). */
char *str_dup(const char *s);
char *str_ndup(const char *s, size_t n);
/* Frees an array of n strings and the array itself; NULL-safe. */
void str_array_free(char **a, int n);
/* Quotes a cell for messages: at most `cap`-1 bytes, long cells shortened with "...", a NUL
 * shown as \0 and a line break as a blank. */
void str_excerpt(char *dst, size_t cap, const char *s, size_t n);

/* Seconds from a monotonic clock. */
double now_seconds(void);

#endif
