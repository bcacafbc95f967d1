/*
 * test.h — the project's tiny test harness (sds testhelp.h style).
 *
 *   static void test_something(void) { CHECK(1 + 1 == 2); CHECK_NEAR(x, 0.5, 1e-6); }
 *   int main(void) { RUN(test_something); return test_report("test_foo"); }
 *
 * A test passes when none of its CHECKs failed. A test that cannot run here (an instruction set
 * this CPU lacks) calls SKIP("reason") and returns: it counts as skipped, with the reason printed.
 * test_report prints "N passed, N failed" (", N skipped" when any were) and returns non-zero when
 * anything failed, so every test binary fails through its exit code.
 * Header-only; state is per test binary.
 */
#ifndef LSTMSRC_TEST_H
#define LSTMSRC_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_passed_, test_failed_, test_skipped_, test_cur_failed_, test_cur_skipped_;
static const char *test_cur_name_ = "?";

static void test_fail_(const char *file, int line, const char *what)
{
    fprintf(stderr, "  FAIL %s: %s:%d: %s\n", test_cur_name_, file, line, what);
    test_cur_failed_ = 1;
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) test_fail_(__FILE__, __LINE__, #cond);                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                             \
        if (!(fabs(a_ - b_) <= t_)) {                                                              \
            char m_[256];                                                                          \
            snprintf(m_, sizeof m_, "%s = %.9g, %s = %.9g, |diff| %.3g > %.3g", #a, a_, #b, b_,    \
                     fabs(a_ - b_), t_);                                                           \
            test_fail_(__FILE__, __LINE__, m_);                                                    \
        }                                                                                          \
    } while (0)

/* marks the current test skipped (the caller returns); prints why */
#define SKIP(reason)                                                                               \
    do {                                                                                           \
        printf("  SKIP %s: %s\n", test_cur_name_, reason);                                         \
        test_cur_skipped_ = 1;                                                                     \
    } while (0)

#define RUN(fn) test_run_(#fn, fn)

static void test_run_(const char *name, void (*fn)(void))
{
    test_cur_name_ = name;
    test_cur_failed_ = 0;
    test_cur_skipped_ = 0;
    fn();
    if (test_cur_skipped_ && !test_cur_failed_) {
        test_skipped_++;
        fprintf(stderr, "skip %s\n", name);
    } else if (test_cur_failed_) {
        test_failed_++;
        fprintf(stderr, "not ok %s\n", name);
    } else {
        test_passed_++;
        fprintf(stderr, "ok %s\n", name);
    }
}

static int test_report(const char *suite)
{
    if (test_skipped_)
        printf("%s: %d passed, %d failed, %d skipped\n", suite, test_passed_, test_failed_,
               test_skipped_);
    else
        printf("%s: %d passed, %d failed\n", suite, test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

#endif
