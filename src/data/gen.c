/*
 * gen.c — seed-like synthetic meter data, for demos, tests and benchmarks: a base load drifting
 * within ~205-231 plus noise, and sources that add their own (noisy) level while on. Each source
 * is an independent two-state Markov chain with geometric dwell times, so most rows have nothing
 * on, as in real households. Same seed, same bytes; the classes mode draws the same numbers and
 * only frames the labels differently.
 *
 * It does not imitate multi-state appliance cycles (see data/README.md): real data is harder.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/common.h"
#include "base/outfile.h"
#include "base/rng.h"

void lstmsrc_gen_config_default(struct lstmsrc_gen_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->rows = 100000;
    cfg->sources = 3;
    cfg->seed = 1;
    cfg->classes = 0;
}

/* ============================== the simulated meter ============================== */

#define BASE_LO 205.0
#define BASE_HI 231.0
#define BASE_STEP 0.4    /* random-walk step std per row */
#define READ_NOISE 1.0   /* reading noise std per row */
#define RUN_SPREAD 0.03  /* level of one on-run varies by this fraction... */
#define ROW_SPREAD 0.015 /* ...and each row within a run by this */

/* The first three levels are chosen so every combination is separable in principle (all eight
 * sums differ by more than the base drift), yet the largest one's spread overlaps "largest +
 * smallest", so context helps. Later sources are smaller and harder. */
static const double levels[] = {1320, 410, 95, 2400, 750, 180, 60, 30};
static const double mean_on[] = {35, 140, 60, 25, 90, 200, 300, 45};
static const double mean_off[] = {1400, 1100, 700, 3000, 2000, 1500, 2500, 900};
#define N_TABLE ((int)(sizeof levels / sizeof levels[0]))

struct source {
    double level;       /* nominal watts added while on */
    double p_on, p_off; /* per-row switching probabilities: 1/mean dwell time */
    int on;
    double run_level; /* level of the current on-run */
};

static void source_init(struct source *s, int j)
{
    double lv, on, off;
    if (j < N_TABLE) {
        lv = levels[j];
        on = mean_on[j];
        off = mean_off[j];
    } else { /* beyond the table: small loads, rarely on, spread deterministically */
        lv = 25.0 + 35.0 * (double)((j * 5) % 17);
        on = 30.0 + 20.0 * (double)(j % 8);
        off = 2000.0 + 250.0 * (double)(j % 8);
    }
    s->level = lv;
    s->p_on = 1.0 / off;
    s->p_off = 1.0 / on;
    s->on = 0;
    s->run_level = 0.0;
}

/* ============================== buffered output ============================== */

/* Lines are formatted by hand into one large chunk and written with fwrite: printf("%.1f") per
 * value would dominate the run time of a million-row file. */
#define CHUNK (1u << 20)
#define MAX_LINE_BYTES (32 + 2 * LSTMSRC_MAX_SOURCES)

struct out {
    FILE *fp;
    char *buf;
    size_t len;
    int failed; /* errno of the first failed write, or -1 for one without errno */
};

static void out_flush(struct out *o)
{
    if (o->len && !o->failed) {
        errno = 0;
        if (fwrite(o->buf, 1, o->len, o->fp) != o->len) o->failed = errno ? errno : -1;
    }
    o->len = 0;
}

static void put_uint(char *buf, size_t *len, unsigned long long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        buf[(*len)++] = tmp[--n];
}

/* One decimal, as the real exports have it. */
static void put_tenths(char *buf, size_t *len, double x)
{
    long long t = llround(x * 10.0);
    if (t < 0) {
        buf[(*len)++] = '-';
        t = -t;
    }
    put_uint(buf, len, (unsigned long long)t / 10);
    buf[(*len)++] = '.';
    buf[(*len)++] = (char)('0' + (unsigned long long)t % 10);
}

/* ============================== lstmsrc_gen_write ============================== */

static void write_rows(struct out *o, const struct lstmsrc_gen_config *cfg)
{
    struct source src[LSTMSRC_MAX_SOURCES];
    int k = cfg->sources;
    struct rng rng;
    rng_seed(&rng, cfg->seed);
    for (int j = 0; j < k; j++)
        source_init(&src[j], j);

    if (cfg->classes) {
        memcpy(o->buf, "reading,class\n", 14);
        o->len = 14;
    } else {
        memcpy(o->buf, "reading", 7);
        o->len = 7;
        for (int j = 0; j < k; j++) {
            memcpy(o->buf + o->len, ",src", 4);
            o->len += 4;
            put_uint(o->buf, &o->len, (unsigned long long)j + 1);
        }
        o->buf[o->len++] = '\n';
    }

    double base = BASE_LO + (BASE_HI - BASE_LO) * rng_uniform(&rng);
    for (size_t r = 0; r < cfg->rows && !o->failed; r++) {
        /* slow drift, reflected back into the band */
        base += BASE_STEP * rng_normal(&rng);
        if (base < BASE_LO) base = 2.0 * BASE_LO - base;
        if (base > BASE_HI) base = 2.0 * BASE_HI - base;
        double reading = base + READ_NOISE * rng_normal(&rng);

        for (int j = 0; j < k; j++) {
            struct source *s = &src[j];
            double u = rng_uniform(&rng);
            if (s->on && u < s->p_off) {
                s->on = 0;
            } else if (!s->on && u < s->p_on) {
                s->on = 1;
                s->run_level = s->level * (1.0 + RUN_SPREAD * rng_normal(&rng));
            }
            if (s->on) reading += s->run_level * (1.0 + ROW_SPREAD * rng_normal(&rng));
        }
        if (reading < 0.0) reading = 0.0;

        if (o->len + MAX_LINE_BYTES > CHUNK) out_flush(o);
        put_tenths(o->buf, &o->len, reading);
        if (cfg->classes) {
            /* src1 is the most significant bit, as dataset_combined_class reads it */
            unsigned cls = 0;
            for (int j = 0; j < k; j++)
                cls = (cls << 1) | (unsigned)src[j].on;
            o->buf[o->len++] = ',';
            put_uint(o->buf, &o->len, cls);
        } else {
            for (int j = 0; j < k; j++) {
                o->buf[o->len++] = ',';
                o->buf[o->len++] = (char)('0' + src[j].on);
            }
        }
        o->buf[o->len++] = '\n';
    }
    out_flush(o);
}

enum lstmsrc_status lstmsrc_gen_write(const struct lstmsrc_gen_config *cfg, const char *path,
                                      struct lstmsrc_error *err)
{
    enum lstmsrc_status st = LSTMSRC_OK;
    struct out o = {NULL, NULL, 0, 0};
    LSTMSRC_ASSERT(cfg && path);

    int max_src = cfg->classes ? LSTMSRC_MAX_COMBINED : LSTMSRC_MAX_SOURCES;
    if (cfg->rows < 1) return set_error(err, LSTMSRC_ERR_ARG, "gen: rows must be at least 1");
    if (cfg->sources < 1 || cfg->sources > max_src)
        return set_error(err, LSTMSRC_ERR_ARG, "gen: sources must be from 1 to %d%s, not %d",
                         max_src, cfg->classes ? " with classes (2^sources classes)" : "",
                         cfg->sources);

    struct outfile f;
    o.buf = malloc(CHUNK);
    if (!o.buf) return set_error(err, LSTMSRC_ERR_NOMEM, "gen: out of memory");
    if ((st = outfile_open(&f, path, err)) == LSTMSRC_OK) {
        o.fp = f.fp;
        write_rows(&o, cfg);
        st = outfile_commit(&f, o.failed, err);
    }
    free(o.buf);
    return st;
}
