/*
 * test_abi.c — the public structs a caller allocates keep their size (include/lstmsrc.h,
 * "Conventions"): a field added later comes out of the reserved space at the end, so a program
 * built against an older header passes a struct of the size the library expects. The sizes are
 * those of x86-64 and AArch64 Linux (LP64); elsewhere the checks are skipped with the reason.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lstmsrc.h"
#include "test.h"

/* reserved_ is the last member, and the _default calls leave it zero */
#define LAST(T) (offsetof(T, reserved_) + sizeof(((T *)0)->reserved_) == sizeof(T))

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

static void test_reserved_last(void)
{
    CHECK(LAST(struct lstmsrc_columns));
    CHECK(LAST(struct lstmsrc_train_config));
    CHECK(LAST(struct lstmsrc_gen_config));
    CHECK(LAST(struct lstmsrc_model_info));
}

static void test_defaults_zero_reserved(void)
{
    struct lstmsrc_train_config t;
    struct lstmsrc_gen_config g;
    memset(&t, 0xa5, sizeof t);
    memset(&g, 0xa5, sizeof g);
    lstmsrc_train_config_default(&t);
    lstmsrc_gen_config_default(&g);
    CHECK(all_zero(t.reserved_, sizeof t.reserved_));
    CHECK(all_zero(g.reserved_, sizeof g.reserved_));
}

/* the sizes of version 0.1 on LP64 Linux */
#define ABI_COLUMNS 224
#define ABI_TRAIN_CONFIG 280
#define ABI_GEN_CONFIG 96
#define ABI_MODEL_INFO 352

static void test_sizes(void)
{
#if defined(__LP64__) && (defined(__x86_64__) || defined(__aarch64__)) && defined(__linux__)
    /* a change of one of these breaks programs built against the header before it: take the
     * room for a new field out of reserved_ instead (and say so in the header) */
    CHECK(sizeof(struct lstmsrc_columns) == ABI_COLUMNS);
    CHECK(sizeof(struct lstmsrc_train_config) == ABI_TRAIN_CONFIG);
    CHECK(sizeof(struct lstmsrc_gen_config) == ABI_GEN_CONFIG);
    CHECK(sizeof(struct lstmsrc_model_info) == ABI_MODEL_INFO);
    printf("  sizes: columns %zu, train_config %zu, gen_config %zu, model_info %zu bytes\n",
           sizeof(struct lstmsrc_columns), sizeof(struct lstmsrc_train_config),
           sizeof(struct lstmsrc_gen_config), sizeof(struct lstmsrc_model_info));
#else
    SKIP("the recorded struct sizes are those of LP64 Linux (x86-64, AArch64)");
#endif
}

int main(void)
{
    RUN(test_reserved_last);
    RUN(test_defaults_zero_reserved);
    RUN(test_sizes);
    return test_report("test_abi");
}
