/*
 * test_timecol.c — time stamps (src/data/timecol.c): ISO 8601 parsing in every accepted form and
 * refusal of malformed or impossible ones, leap years, known Unix times, every day of 1600-2400
 * against a calendar counted here day by day, format/parse round trips over years 0000-9999,
 * Unix seconds, durations, and the sampling period under float noise, jitter, gaps, repeated and
 * backward times, ties, NaN, and a few million steps (regular and all distinct).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "data/timecol.h"
#include "test.h"

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}
/* uniform in [0, 1) */
static double unif(uint64_t *s)
{
    return (double)(mix(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* time_parse of a NUL-terminated string: 1 and the value, or 0 */
static int parse(const char *s, double *t)
{
    return time_parse(s, strlen(s), t);
}

static void expect_time(const char *s, double want)
{
    double t = -12345.0;
    int ok = parse(s, &t);
    if (!ok || t != want) {
        fprintf(stderr, "  \"%s\": ok %d, %.6f, want %.6f\n", s, ok, t, want);
        CHECK(!"parsed as expected");
    }
}

static void expect_reject(const char *s)
{
    double t = -12345.0;
    if (parse(s, &t) || t != -12345.0) {
        fprintf(stderr, "  \"%s\" accepted as %.6f\n", s, t);
        CHECK(!"rejected, t untouched");
    }
}

static void test_known_values(void)
{
    expect_time("2014-09-01 00:00:00", 1409529600.0);
    expect_time("1970-01-01 00:00:00", 0.0);
    expect_time("1970-01-01", 0.0);
    expect_time("1969-12-31 23:59:59", -1.0);
    expect_time("2000-03-01 00:00:00", 951868800.0);
    expect_time("2038-01-19 03:14:07", 2147483647.0);
    expect_time("2038-01-19 03:14:08", 2147483648.0); /* past 32-bit time_t */
    expect_time("0000-01-01", -62167219200.0);
    expect_time("9999-12-31 23:59:59", 253402300799.0);
    expect_time("2013-10-01 00:01:00", 1380585660.0);
}

static void test_formats(void)
{
    const double t0 = 1409529600.0; /* 2014-09-01 00:00:00 UTC */
    expect_time("2014-09-01T00:00:00", t0);
    expect_time("2014-09-01T00:00:00Z", t0);
    expect_time("2014-09-01 00:00:00Z", t0);
    expect_time("2014-09-01T01:00:00+01:00", t0);
    expect_time("2014-09-01T01:00:00+0100", t0);
    expect_time("2014-09-01T01:00:00+01", t0);
    expect_time("2014-08-31T19:00:00-05", t0);
    expect_time("2014-08-31T19:00:00-05:00", t0);
    expect_time("2014-09-01T05:30:00+05:30", t0);
    expect_time("2014-08-31T20:15:00-03:45", t0);
    expect_time("2014-09-01T00:00:00+00:00", t0);
    expect_time("2014-09-01T00:00:00-00:00", t0);
    expect_time("2014-09-01T00:00", t0);
    expect_time("2014-09-01T00:00Z", t0);
    expect_time("2014-09-01 01:00+01:00", t0);
    expect_time("2014-09-01", t0);
    expect_time("  2014-09-01 00:00:00\t ", t0);
    expect_time("\t2014-09-01", t0);
    expect_time("2014-09-01 00:00:00.5", t0 + 0.5);
    expect_time("2014-09-01 00:00:00,5", t0 + 0.5);
    expect_time("2014-09-01T00:00:07.250Z", t0 + 7.25);
    expect_time("2014-09-01T02:00:00.125+02:00", t0 + 0.125);
    expect_time("2014-09-01 00:00:00.000000001", t0 + 1e-9);
    expect_time("2014-09-01 00:00:00.1234567891234", t0 + 0.123456789);
    expect_time("2014-09-01 23:59:59", t0 + 86399.0);
    expect_time("2014-09-01 23:59:60", t0 + 86400.0); /* a leap second: the next midnight */
    expect_time("2014-09-01 12:34:56", t0 + 12 * 3600 + 34 * 60 + 56);

    /* s[len] need not be NUL: only len bytes are read */
    const char buf[] = "2014-09-01 00:00:00XYZ";
    double t = 0;
    CHECK(time_parse(buf, 19, &t) == 1 && t == t0);
    CHECK(time_parse(buf, 10, &t) == 1 && t == t0);
    CHECK(time_parse(buf, 20, &t) == 0);
    CHECK(time_parse(buf, 0, &t) == 0);
}

static void test_invalid(void)
{
    static const char *const bad[] = {
        "",
        " ",
        "\t",
        "2014-02-30",
        "2014-02-31",
        "2014-04-31",
        "2014-13-01",
        "2014-00-10",
        "2014-01-00",
        "2014-01-32",
        "2014-09-01 25:00",
        "2014-09-01 24:00:00",
        "2014-09-01 24:00",
        "2014-09-01 23:60",
        "2014-09-01 23:59:61",
        "2014-09-01 99:00:00",
        "2014-09-01x",
        "2014-09-01 00:00:00 x",
        "2014-09-01 00:00:00x",
        "2014-09-01T",
        "2014-09-01 ",
        /* "2014-09-01 " trims to the bare date: see below */
        "2014-09-01 00",
        "2014-09-01 00:",
        "2014-09-01 00:0",
        "2014-09-01 0:00",
        "2014-09-01 00:00:0",
        "2014-9-1",
        "14-09-01",
        "20140901",
        "2014/09/01",
        "2014-09-01  00:00",
        "2014-09-01t00:00",
        "2014-09-01T00:00:00.",
        "2014-09-01T00:00:00,",
        "2014-09-01T00:00.5",
        "2014-09-01Z",
        "2014-09-01T00:00:00+",
        "2014-09-01T00:00:00+1",
        "2014-09-01T00:00:00+1:00",
        "2014-09-01T00:00:00+25:00",
        "2014-09-01T00:00:00+24",
        "2014-09-01T00:00:00+01:60",
        "2014-09-01T00:00:00+01:0",
        "2014-09-01T00:00:00+010",
        "2014-09-01T00:00:00+01:00Z",
        "2014-09-01T00:00:00ZZ",
        "2014-09-01T00:00:00 Z",
        "-2014-09-01",
        "+2014-09-01",
        "12014-09-01",
        "2014-09-01T00:00:00+01:00:00",
        "x2014-09-01",
        "2014-09-01\n",
        "2014-09-01T00:00:00.5.5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strcmp(bad[i], "2014-09-01 ") != 0) expect_reject(bad[i]);
    expect_time("2014-09-01 ", 1409529600.0); /* trailing blank: allowed */
}

static void test_leap_years(void)
{
    double t;
    CHECK(parse("2016-02-29", &t) == 1);
    CHECK(parse("2016-02-29 23:59:59", &t) == 1);
    expect_time("2016-03-01", 1456790400.0);
    expect_reject("2015-02-29");
    expect_reject("2016-02-30");
    CHECK(parse("2000-02-29", &t) == 1);
    CHECK(parse("2400-02-29", &t) == 1);
    CHECK(parse("0000-02-29", &t) == 1); /* year 0 is a leap year (divisible by 400) */
    expect_reject("1900-02-29");
    expect_reject("2100-02-29");
    expect_reject("2019-02-29");
    /* 2016 has 366 days, 2015 365 */
    double a = 0, b = 0, c = 0;
    CHECK(parse("2015-01-01", &a) && parse("2016-01-01", &b) && parse("2017-01-01", &c));
    CHECK(b - a == 365 * 86400.0 && c - b == 366 * 86400.0);
}

/* Every day of 1600-01-01 .. 2400-12-31, counted here with a plain calendar, parses to that
 * day's count times 86400, and formats back. */
static void test_every_day_against_calendar(void)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    double t1600;
    CHECK(parse("1600-01-01", &t1600));
    CHECK(t1600 == -11676096000.0);
    long day = 0;
    int bad = 0;
    for (int y = 1600; y <= 2400 && !bad; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (int m = 1; m <= 12 && !bad; m++) {
            int nd = dim[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= nd; d++, day++) {
                char s[32], back[32];
                snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, d);
                double t;
                if (!parse(s, &t) || t != t1600 + (double)day * 86400.0) {
                    fprintf(stderr, "  %s\n", s);
                    bad = 1;
                    break;
                }
                time_format(t + 3723.0, 0, back, sizeof back);
                snprintf(s + 10, sizeof s - 10, " 01:02:03");
                if (strcmp(back, s) != 0) {
                    fprintf(stderr, "  %s formats as %s\n", s, back);
                    bad = 1;
                    break;
                }
            }
            /* the day after the month's last is refused */
            char s[32];
            snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, nd + 1);
            double t;
            if (parse(s, &t)) {
                fprintf(stderr, "  %s accepted\n", s);
                bad = 1;
            }
        }
    }
    CHECK(!bad);
    CHECK(day == 292560); /* 801 years, 195 of them leap */
}

static void test_round_trip(void)
{
    uint64_t seed = 7;
    const double lo = -62167219200.0, hi = 253402300800.0; /* 0000-01-01, 10000-01-01 */
    int bad = 0;
    for (int i = 0; i < 200000 && !bad; i++) {
        /* whole seconds over the whole range */
        double t = floor(lo + unif(&seed) * (hi - lo));
        char buf[32];
        time_format(t, 0, buf, sizeof buf);
        double back;
        if (!parse(buf, &back) || back != t) bad = 1;
        /* with milliseconds */
        double tm = t + (double)(mix(&seed) % 1000) / 1000.0;
        if (tm >= hi) continue;
        time_format(tm, 1, buf, sizeof buf);
        if (!parse(buf, &back) || fabs(back - tm) > 1e-4) bad = 1;
        /* with_fraction on a whole second writes no fraction */
        time_format(t, 1, buf, sizeof buf);
        if (strlen(buf) != 19) bad = 1;
        if (bad) fprintf(stderr, "  %.3f -> %s -> %.3f\n", tm, buf, back);
    }
    CHECK(!bad);
    /* around the Unix epoch, second by second */
    for (double t = -100000; t < 100000 && !bad; t += 7) {
        char buf[32];
        double back;
        time_format(t, 0, buf, sizeof buf);
        if (!parse(buf, &back) || back != t) bad = 1;
    }
    CHECK(!bad);
}

static void test_format(void)
{
    char b[32];
    time_format(1409529600.0, 0, b, sizeof b);
    CHECK(strcmp(b, "2014-09-01 00:00:00") == 0);
    time_format(1409529600.0, 1, b, sizeof b);
    CHECK(strcmp(b, "2014-09-01 00:00:00") == 0);
    time_format(1409529600.5, 1, b, sizeof b);
    CHECK(strcmp(b, "2014-09-01 00:00:00.500") == 0);
    time_format(1409529600.5, 0, b, sizeof b);
    CHECK(strcmp(b, "2014-09-01 00:00:00") == 0); /* rounded down */
    time_format(1409529600.0004, 1, b, sizeof b);
    CHECK(strcmp(b, "2014-09-01 00:00:00") == 0);
    time_format(1409529600.9996, 1, b, sizeof b);
    CHECK(strcmp(b, "2014-09-01 00:00:01") == 0);
    time_format(1409529600.0015, 1, b, sizeof b);
    CHECK(strcmp(b, "2014-09-01 00:00:00.002") == 0 || strcmp(b, "2014-09-01 00:00:00.001") == 0);
    time_format(-0.5, 1, b, sizeof b);
    CHECK(strcmp(b, "1969-12-31 23:59:59.500") == 0);
    time_format(-0.5, 0, b, sizeof b);
    CHECK(strcmp(b, "1969-12-31 23:59:59") == 0);
    time_format(-62167219200.0, 0, b, sizeof b);
    CHECK(strcmp(b, "0000-01-01 00:00:00") == 0);
    time_format(253402300799.0, 0, b, sizeof b);
    CHECK(strcmp(b, "9999-12-31 23:59:59") == 0);
    time_format(253402300799.9996, 1, b, sizeof b);
    CHECK(strcmp(b, "9999-12-31 23:59:59") == 0);
    time_format(253402300800.0, 0, b, sizeof b);
    CHECK(strcmp(b, "invalid time") == 0);
    time_format(-62167219201.0, 0, b, sizeof b);
    CHECK(strcmp(b, "invalid time") == 0);
    time_format(NAN, 0, b, sizeof b);
    CHECK(strcmp(b, "invalid time") == 0);
    time_format(INFINITY, 1, b, sizeof b);
    CHECK(strcmp(b, "invalid time") == 0);
    char small[5] = "xxxx";
    time_format(1409529600.0, 0, small, sizeof small);
    CHECK(strcmp(small, "2014") == 0);
    time_format(1409529600.0, 0, small, 0); /* writes nothing */
    CHECK(strcmp(small, "2014") == 0);
    char exact[24];
    time_format(253402300799.999, 1, exact, sizeof exact);
    CHECK(strcmp(exact, "9999-12-31 23:59:59.999") == 0);
}

static void test_unix_seconds(void)
{
    double t = 0;
    CHECK(time_parse_unix("1409529600", 10, &t) == 1 && t == 1409529600.0);
    CHECK(time_parse_unix("1409529600.25", 13, &t) == 1 && t == 1409529600.25);
    CHECK(time_parse_unix(" 12 ", 4, &t) == 1 && t == 12.0);
    CHECK(time_parse_unix("-3.25", 5, &t) == 1 && t == -3.25);
    CHECK(time_parse_unix(".5", 2, &t) == 1 && t == 0.5);
    CHECK(time_parse_unix("7.", 2, &t) == 1 && t == 7.0);
    CHECK(time_parse_unix("0", 1, &t) == 1 && t == 0.0);
    CHECK(time_parse_unix("1409529600123", 10, &t) == 1 && t == 1409529600.0); /* len bytes */
    CHECK(time_parse_unix("1409529600.123456", 17, &t) == 1);
    CHECK_NEAR(t, 1409529600.123456, 1e-6);
    static const char *const bad[] = {"",     " ",     "-",   ".",         "abc", "1e9",
                                      "0x10", "1.2.3", "nan", "inf",       "1 2", "+5",
                                      "--1",  "5s",    "1,5", "2014-09-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = -7;
        if (time_parse_unix(bad[i], strlen(bad[i]), &t) || t != -7) {
            fprintf(stderr, "  \"%s\" accepted\n", bad[i]);
            CHECK(!"rejected");
        }
    }
}

static void test_durations(void)
{
    static const struct {
        const char *s;
        double v;
    } ok[] = {
        {"60", 60},      {"60s", 60},   {"5m", 300},       {"1h", 3600},   {"1d", 86400},
        {"500ms", 0.5},  {"1.5s", 1.5}, {"2min", 120},     {" 10m ", 600}, {".5h", 1800},
        {"0.001", 1e-3}, {"1ms", 1e-3}, {"1.25d", 108000}, {"90", 90},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -1;
        if (!time_parse_duration(ok[i].s, &v) || fabs(v - ok[i].v) > 1e-12 * ok[i].v) {
            fprintf(stderr, "  \"%s\": %g, want %g\n", ok[i].s, v, ok[i].v);
            CHECK(!"parsed as expected");
        }
    }
    static const char *const bad[] = {"",      "0",      "0s",  "0.0", "0ms", "-5",  "-5s", "s",
                                      "ms",    "5x",     "5 m", "1e3", "abc", "5mm", "5M",  "5S",
                                      "1h30m", "5m ago", ".",   "5..", "+5",  "inf", "nan", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = -7;
        if (time_parse_duration(bad[i], &v) || v != -7) {
            fprintf(stderr, "  \"%s\" accepted as %g\n", bad[i], v);
            CHECK(!"rejected");
        }
    }
}

static void test_period_regular_and_noise(void)
{
    enum { N = 10000 };
    double *t = malloc(N * sizeof *t);
    CHECK(t != NULL);
    if (!t) return;
    double p = 0;
    size_t irr = 99, back = 99;
    for (int i = 0; i < N; i++)
        t[i] = 1409529600.0 + 60.0 * i;
    CHECK(time_period(t, N, &p, &irr, &back) == 1);
    CHECK(p == 60.0 && irr == 0 && back == 0);

    /* float noise: times that went through float32 and back, at 1 s from a small origin */
    for (int i = 0; i < N; i++)
        t[i] = (double)(float)(1000.0 + i * 1.0 + 1e-4);
    CHECK(time_period(t, N, &p, &irr, &back) == 1);
    CHECK_NEAR(p, 1.0, 1e-3);
    CHECK(irr == 0 && back == 0);

    /* jitter of up to +-0.25 ms on each time: steps within 0.5 ms of 60 s */
    uint64_t seed = 3;
    for (int i = 0; i < N; i++)
        t[i] = 1409529600.0 + 60.0 * i + (unif(&seed) - 0.5) * 5e-4;
    CHECK(time_period(t, N, &p, &irr, &back) == 1);
    CHECK_NEAR(p, 60.0, 5e-4);
    CHECK(irr == 0 && back == 0);

    /* NULL counts are fine */
    CHECK(time_period(t, N, &p, NULL, NULL) == 1);
    CHECK_NEAR(p, 60.0, 5e-4);
    free(t);
}

static void test_period_gaps_and_backwards(void)
{
    enum { N = 1000 };
    double t[N], p;
    size_t irr, back;
    /* three gaps (outages of 10, 1 and 500 rows) */
    double now = 0;
    for (int i = 0; i < N; i++) {
        t[i] = now;
        now += i == 100 ? 11 * 60.0 : i == 300 ? 2 * 60.0 : i == 700 ? 501 * 60.0 : 60.0;
    }
    CHECK(time_period(t, N, &p, &irr, &back) == 1);
    CHECK(p == 60.0 && irr == 3 && back == 0);

    /* a repeated time: a step of 0, then one of 120 s */
    t[500] = t[499];
    CHECK(time_period(t, N, &p, &irr, &back) == 1);
    CHECK(p == 60.0 && back == 1 && irr == 4);

    /* a backward step: ..., a, c, b, d: steps 120, -60, 120 */
    for (int i = 0; i < N; i++)
        t[i] = 60.0 * i;
    double x = t[200];
    t[200] = t[201];
    t[201] = x;
    CHECK(time_period(t, N, &p, &irr, &back) == 1);
    CHECK(p == 60.0 && back == 1 && irr == 2);

    /* a shorter step counts as irregular too */
    for (int i = 0; i < N; i++)
        t[i] = 60.0 * i;
    t[10] += 30.0; /* steps 90 and 30 */
    CHECK(time_period(t, N, &p, &irr, &back) == 1);
    CHECK(p == 60.0 && irr == 2 && back == 0);

    /* a NaN time: the two steps touching it are irregular */
    t[10] = NAN;
    CHECK(time_period(t, N, &p, &irr, &back) == 1);
    CHECK(p == 60.0 && irr == 2 && back == 0);
}

static void test_period_ties_and_edges(void)
{
    double p = -1;
    size_t irr = 99, back = 99;
    /* five steps of 30 and five of 60 (and one of 45): the smaller wins */
    double t[12];
    t[0] = 0;
    for (int i = 1; i < 12; i++)
        t[i] = t[i - 1] + (i <= 5 ? 60.0 : i == 6 ? 45.0 : 30.0);
    CHECK(time_period(t, 12, &p, &irr, &back) == 1);
    CHECK(p == 30.0 && irr == 6 && back == 0);
    /* the majority wins over the smaller */
    double u[5] = {0, 1, 3, 5, 7};
    CHECK(time_period(u, 5, &p, &irr, &back) == 1);
    CHECK(p == 2.0 && irr == 1);
    /* steps 1 ms apart count as one; 1.5 ms apart do not */
    double v[4] = {0, 10.0, 20.001, 30.001};
    CHECK(time_period(v, 4, &p, &irr, &back) == 1);
    CHECK(p == 10.0 && irr == 0);
    double w[5] = {0, 10.0, 20.0, 30.0015, 40.003}; /* 10, 10, 10.0015, 10.0015: a tie */
    CHECK(time_period(w, 5, &p, &irr, &back) == 1);
    CHECK(p == 10.0 && irr == 2);

    /* no answer */
    p = -1;
    CHECK(time_period(t, 1, &p, &irr, &back) == 0 && p == 0 && back == 0 && irr == 0);
    CHECK(time_period(t, 0, &p, &irr, &back) == 0 && p == 0);
    double same[4] = {5, 5, 5, 5};
    CHECK(time_period(same, 4, &p, &irr, &back) == 0 && p == 0 && back == 3 && irr == 0);
    double down[3] = {3, 2, 1};
    CHECK(time_period(down, 3, &p, &irr, &back) == 0 && back == 2);
    double two[2] = {0, 0.25};
    CHECK(time_period(two, 2, &p, &irr, &back) == 1 && p == 0.25 && irr == 0 && back == 0);
}

/* Millions of steps: regular (most radix passes skipped) and all distinct (every pass runs);
 * both in well under a second here, far from quadratic. */
static void test_period_large(void)
{
    const size_t n = 4000000;
    double *t = malloc(n * sizeof *t);
    CHECK(t != NULL);
    if (!t) return;
    for (size_t i = 0; i < n; i++)
        t[i] = 1.4e9 + 60.0 * (double)i;
    for (size_t i = 1000; i < n; i += 1000)
        t[i] += 0.5; /* two irregular steps each */
    double p;
    size_t irr, back;
    double t0 = now_seconds();
    CHECK(time_period(t, n, &p, &irr, &back) == 1);
    double t1 = now_seconds();
    CHECK(p == 60.0 && back == 0 && irr == 2 * (n / 1000 - 1));

    uint64_t seed = 11;
    t[0] = 0;
    for (size_t i = 1; i < n; i++)
        t[i] = t[i - 1] + 1.0 + unif(&seed) * 1000.0;
    double t2 = now_seconds();
    CHECK(time_period(t, n, &p, &irr, &back) == 1);
    double t3 = now_seconds();
    CHECK(p > 1.0 && p < 1001.0 && back == 0 && irr > n - 100);
    printf("  time_period on %zu times: %.3f s regular, %.3f s all steps distinct\n", n, t1 - t0,
           t3 - t2);
    free(t);
}

int main(void)
{
    RUN(test_known_values);
    RUN(test_formats);
    RUN(test_invalid);
    RUN(test_leap_years);
    RUN(test_every_day_against_calendar);
    RUN(test_round_trip);
    RUN(test_format);
    RUN(test_unix_seconds);
    RUN(test_durations);
    RUN(test_period_regular_and_noise);
    RUN(test_period_gaps_and_backwards);
    RUN(test_period_ties_and_edges);
    RUN(test_period_large);
    return test_report("test_timecol");
}
