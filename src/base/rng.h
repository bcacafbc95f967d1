/*
 * rng.h — a small, seedable, per-handle random generator (xoshiro256** seeded by splitmix64).
 * The state lives in the caller's struct, never in a global, so runs are reproducible per seed.
 */
#ifndef LSTMSRC_RNG_H
#define LSTMSRC_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform(struct rng *r);
/* Standard normal (Box-Muller, no cached second value so the state alone defines the stream). */
double rng_normal(struct rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Fisher-Yates shuffle of n size_t. */
void rng_shuffle(struct rng *r, size_t *a, size_t n);
/* The same shuffle (the same draws, so the same permutation) over 32-bit indexes. */
void rng_shuffle_u32(struct rng *r, uint32_t *a, size_t n);

#endif
