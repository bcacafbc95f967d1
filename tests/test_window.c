/*
 * test_window.c — window counts, the chronological split, the scaler fit and the time-major
 * gather, on tiny hand-checked shapes.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "data/window.h"
#include "test.h"

static void test_window_count(void)
{
    CHECK(window_count(10, 5) == 6);
    CHECK(window_count(5, 5) == 1);
    CHECK(window_count(4, 5) == 0);
    CHECK(window_count(0, 1) == 0);
    CHECK(window_count(7, 1) == 7);
}

static void test_split(void)
{
    struct window_split s;
    window_split(100, 5, 0.1f, &s);
    CHECK(s.train_rows == 90 && s.val_rows == 10 && s.val_first == 90);
    CHECK(s.train_windows == 86 && s.val_windows == 6);

    /* floor: 0.1 * 57 = 5.7 -> 5 rows, exactly one window of 5 */
    window_split(57, 5, 0.1f, &s);
    CHECK(s.val_rows == 5 && s.train_rows == 52 && s.val_windows == 1 && s.train_windows == 48);

    /* too short for one window: folded back into training */
    window_split(40, 5, 0.1f, &s);
    CHECK(s.val_rows == 0 && s.train_rows == 40 && s.val_windows == 0 && s.train_windows == 36);
    CHECK(s.val_first == 40);

    /* 0.7f is 0.69999998...: the split still means 7 of 10 rows */
    window_split(10, 1, 0.7f, &s);
    CHECK(s.val_rows == 7 && s.train_rows == 3);
    window_split(100, 1, 0.29f, &s);
    CHECK(s.val_rows == 29);

    window_split(100, 5, 0.0f, &s);
    CHECK(s.val_rows == 0 && s.train_windows == 96 && s.val_windows == 0);
    window_split(3, 5, 0.5f, &s);
    CHECK(s.train_rows == 3 && s.train_windows == 0 && s.val_windows == 0);
    window_split(0, 5, 0.2f, &s);
    CHECK(s.train_rows == 0 && s.val_rows == 0 && s.train_windows == 0);
}

/* No window of either part straddles the boundary, and together they are every window that
 * fits inside its part. */
static void test_split_no_straddle(void)
{
    for (size_t n = 0; n < 60; n++)
        for (int seq = 1; seq <= 7; seq++) {
            struct window_split s;
            window_split(n, seq, 0.25f, &s);
            CHECK(s.train_rows + s.val_rows == n && s.val_first == s.train_rows);
            CHECK(s.val_rows == 0 || s.val_rows >= (size_t)seq);
            /* last training window ends before val_first; validation windows start at it */
            if (s.train_windows) CHECK(s.train_windows - 1 + (size_t)seq <= s.val_first);
            if (s.val_windows) CHECK(s.val_first + s.val_windows - 1 + (size_t)seq <= n);
            CHECK(s.train_windows + s.val_windows <= window_count(n, seq));
        }
}

static void test_scale_fit(void)
{
    /* x (4, 3): channel 0 = 1,2,3,4; channel 1 constant 5; channel 2 all zero */
    const float x[12] = {1, 5, 0, 2, 5, 0, 3, 5, 0, 4, 5, 0};
    float mean[3], sd[3];
    scale_fit(mean, sd, x, 4, 3);
    CHECK_NEAR(mean[0], 2.5, 1e-7);
    CHECK_NEAR(sd[0], sqrt(1.25), 1e-7); /* population std */
    CHECK(mean[1] == 5.0f && sd[1] == 1.0f);
    CHECK(mean[2] == 0.0f && sd[2] == 1.0f);

    /* only the first `rows` rows count */
    scale_fit(mean, sd, x, 2, 3);
    CHECK_NEAR(mean[0], 1.5, 1e-7);
    CHECK_NEAR(sd[0], 0.5, 1e-7);

    /* large offsets keep their precision in double */
    float big[4] = {1e6f, 1e6f + 2, 1e6f, 1e6f + 2};
    scale_fit(mean, sd, big, 4, 1);
    CHECK_NEAR(mean[0], 1e6 + 1, 1e-1);
    CHECK_NEAR(sd[0], 1.0, 1e-6);

    scale_fit(mean, sd, NULL, 0, 1);
    CHECK(mean[0] == 0.0f && sd[0] == 1.0f);
}

static void test_gather(void)
{
    /* x (6, 2): row r = (r, 10 r) */
    float x[12];
    for (int r = 0; r < 6; r++) {
        x[2 * r] = (float)r;
        x[2 * r + 1] = 10.0f * (float)r;
    }
    const float mean[2] = {1.0f, 0.0f}, sd[2] = {2.0f, 10.0f};
    const size_t starts[2] = {3, 0};
    float xb[3 * 2 * 2]; /* (T=3, B=2, F=2) */
    memset(xb, 0xff, sizeof xb);
    window_gather(xb, x, 2, starts, 2, 3, mean, sd);
    int ok = 1;
    for (int t = 0; t < 3; t++)
        for (int b = 0; b < 2; b++) {
            int row = (int)starts[b] + t;
            const float *v = xb + (t * 2 + b) * 2;
            ok &= v[0] == ((float)row - 1.0f) / 2.0f;
            ok &= v[1] == (float)row;
        }
    CHECK(ok);
    CHECK(xb[0] == 1.0f && xb[1] == 3.0f);   /* t=0, b=0: row 3 */
    CHECK(xb[2] == -0.5f && xb[3] == 0.0f);  /* t=0, b=1: row 0 */
    CHECK(xb[10] == 0.5f && xb[11] == 2.0f); /* t=2, b=1: row 2 */
}

int main(void)
{
    RUN(test_window_count);
    RUN(test_split);
    RUN(test_split_no_straddle);
    RUN(test_scale_fit);
    RUN(test_gather);
    return test_report("test_window");
}
