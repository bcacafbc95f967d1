/*
 * test_ingest_refit.c — the ingest check on real recordings: REFIT house 2's raw monthly exports
 * (data/raw/, time stamps, watts, outages logged as 0 W) read with the time column found by
 * itself, --on-above Kettle=200,Dishwasher=15,WashingMachine=20,Microwave=200, --invalid-below 1
 * and --from/--until around the longest clean stretch give, row for row, the readings (within
 * the 0.05 of the one decimal the prepared files keep) and the labels of
 * data/refit_house2_1min_train.csv followed by _test.csv, as one segment; over the whole of August
 * the outages split the month into the segments the time stamps and the zero readings say.
 */
#include <math.h>
#include <string.h>

#include "data/csv.h"
#include "data/dataset.h"
#include "lstmsrc.h"
#include "test.h"

#define RAW "data/raw/REFIT_House2_2014-"
static const char thresholds[] = "Kettle=200,Dishwasher=15,WashingMachine=20,Microwave=200";

static struct lstmsrc_dataset *load(const char *path, const char *from, const char *until)
{
    struct lstmsrc_columns c = {0};
    c.input = "Aggregate";
    c.on_above = thresholds;
    c.use_invalid_below = 1;
    c.invalid_below = 1.0f;
    c.from = from;
    c.until = until;
    struct lstmsrc_error err = {0};
    struct lstmsrc_dataset *ds = NULL;
    if (lstmsrc_dataset_load(path, &c, &ds, &err)) {
        char m[400];
        snprintf(m, sizeof m, "%s: %s", path, err.msg);
        test_fail_(__FILE__, __LINE__, m);
        return NULL;
    }
    return ds;
}

/* Compares rows [at, at + ref->n) of a raw data set with a prepared one. */
static int same_rows(const struct lstmsrc_dataset *raw, size_t at,
                     const struct lstmsrc_dataset *ref)
{
    if (raw->k != ref->k || at + ref->n > raw->n) return 0;
    for (size_t i = 0; i < ref->n; i++) {
        /* the prepared files keep one decimal: within 0.05 (and the float rounding of both) */
        if (fabs((double)raw->x[at + i] - (double)ref->x[i]) >
                0.05 + 1e-6 * fabs((double)ref->x[i]) + 1e-4 ||
            memcmp(raw->y + (at + i) * (size_t)raw->k, ref->y + i * (size_t)ref->k,
                   (size_t)ref->k)) {
            fprintf(stderr, "  row %zu: raw %.9g (%d%d%d%d), prepared %.9g (%d%d%d%d)\n", i,
                    (double)raw->x[at + i], raw->y[(at + i) * 4], raw->y[(at + i) * 4 + 1],
                    raw->y[(at + i) * 4 + 2], raw->y[(at + i) * 4 + 3], (double)ref->x[i],
                    ref->y[i * 4], ref->y[i * 4 + 1], ref->y[i * 4 + 2], ref->y[i * 4 + 3]);
            return 0;
        }
    }
    return 1;
}

static void test_longest_stretch(void)
{
    if (!csv_zlib_version()) {
        SKIP("built without zlib (ZLIB=0): the raw exports are gzip-compressed");
        return;
    }
    struct lstmsrc_error err = {0};
    struct lstmsrc_dataset *train = NULL, *test = NULL;
    CHECK(lstmsrc_dataset_load("data/refit_house2_1min_train.csv", NULL, &train, &err) == 0);
    CHECK(lstmsrc_dataset_load("data/refit_house2_1min_test.csv", NULL, &test, &err) == 0);
    /* August from the stretch's first minute, September to its last */
    struct lstmsrc_dataset *aug = load(RAW "08.csv.gz", "2014-08-19 00:09:00", NULL),
                           *sep = load(RAW "09.csv.gz", NULL, "2014-09-27 14:58:00");
    CHECK(train && test && aug && sep);
    if (train && test && aug && sep) {
        /* each month's part is one clean segment, a row a minute */
        CHECK(lstmsrc_dataset_segments(aug) == 1 && lstmsrc_dataset_segments(sep) == 1);
        CHECK(aug->missing_rows == 0 && sep->missing_rows == 0);
        CHECK(aug->period == 60.0 && aug->irregular == 0 && sep->gaps == 0);
        CHECK(aug->n + sep->n == train->n + test->n);
        CHECK(aug->dropped == 18 * 1440 + 9 && sep->dropped == 43200 - sep->n);
        CHECK(strcmp(aug->label_names[2], train->label_names[2]) == 0);
        /* train = August's rows then the start of September; test = the rest of September */
        const size_t in_sep = train->n - aug->n;
        struct lstmsrc_dataset head = *train, tail = *train;
        head.n = aug->n;
        tail.n = in_sep;
        tail.x = train->x + aug->n;
        tail.y = train->y + aug->n * (size_t)train->k;
        CHECK(same_rows(aug, 0, &head));
        CHECK(same_rows(sep, 0, &tail));
        CHECK(same_rows(sep, in_sep, test));
        /* the first September row is the stretch's; a row more would be an outage */
        CHECK(sep->t[0] == 1409529600.0);
    }
    lstmsrc_dataset_free(train);
    lstmsrc_dataset_free(test);
    lstmsrc_dataset_free(aug);
    lstmsrc_dataset_free(sep);
}

/* The whole of August: zero readings are outages, each ends a segment. */
static void test_month_segments(void)
{
    if (!csv_zlib_version()) {
        SKIP("built without zlib (ZLIB=0): the raw exports are gzip-compressed");
        return;
    }
    struct lstmsrc_dataset *aug = load(RAW "08.csv.gz", NULL, NULL);
    CHECK(aug != NULL);
    if (!aug) return;
    CHECK(aug->n == 31 * 1440 && aug->time_kind == 1 && strcmp(aug->time_name, "Time") == 0);
    /* the rows in segments and the rows left out add up */
    size_t runs = 0, bad;
    for (size_t r = 0; r < aug->n_runs; r++)
        runs += aug->runs[r].len;
    bad = aug->n - runs;
    CHECK(bad == aug->missing_rows && aug->missing_rows == aug->invalid_rows);
    CHECK(aug->n_runs >= 2 && aug->missing_rows > 0);
    /* no run starts or ends next to a good row of another run: each boundary is an outage */
    for (size_t r = 1; r < aug->n_runs; r++)
        CHECK(aug->runs[r].start > aug->runs[r - 1].start + aug->runs[r - 1].len);
    lstmsrc_dataset_free(aug);
}

int main(void)
{
    RUN(test_longest_stretch);
    RUN(test_month_segments);
    return test_report("test_ingest_refit");
}
