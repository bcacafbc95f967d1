/*
 * testrand.h — random test vectors for the kernel tests: n floats uniform in (-a, a) from the
 * library's own generator, so a seed gives the same vectors everywhere. Header-only (static
 * inline), so each test stays one translation unit.
 */
#ifndef LSTMSRC_TESTRAND_H
#define LSTMSRC_TESTRAND_H

#include <stdlib.h>

#include "base/rng.h"

/* n floats uniform in (-a, a); aborts when out of memory (a test cannot go on). Free with free. */
static inline float *randv(struct rng *r, size_t n, double a)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) abort();
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2.0 * rng_uniform(r) - 1.0) * a);
    return p;
}

#endif
