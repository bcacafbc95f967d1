/*
 * test_model_io.c — the model file: save -> load round trips field by field and byte for byte;
 * a file cut at every offset, or with any header byte (and a sample of body bytes) flipped, fails
 * with LSTMSRC_ERR_FORMAT/VERSION and never crashes or leaks; a newer version is named in the
 * message; failed saves leave nothing behind and never damage the model already in place;
 * devices and FIFOs are written in place, never replaced. A bidirectional model is written as
 * version 3 with flag bit 0 and round-trips byte for byte; a model with one direction is still
 * version 2; flag bit 0 in a version-2 file and any other bit in version 3 are refused. Works
 * in a private mkdtemp directory.
 * Offsets below follow docs/FORMAT.md; the CRC is recomputed here bitwise, independently of the
 * library's table, so corrupted-but-checksummed files reach the semantic checks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/common.h"
#include "nn/model.h"
#include "test.h"
#include "testio.h"

static char dir[64];

/* ============================== helpers ============================== */

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* f=2, h=3, 2 layers, 3 sources, seq 5, `dirs` directions in the top layer; every field set to
 * something recognisable. Parameters include -0.0, a subnormal and large magnitudes, which only
 * a bit-exact writer keeps. */
static struct lstmsrc_model *make_model_dirs(int dirs)
{
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    if (model_create(2, 3, 2, dirs, 3, 5, 3, LSTMSRC_TASK_MULTILABEL, LSTMSRC_LABELS_SOURCES, &m,
                     &err))
        return NULL;
    const char *in[] = {"reading", "power, \"kW\""};
    const char *lab[] = {"Kettle", "Microwave", ""};
    const char *outn[] = {"Kettle", "Microwave", "\xc3\xa9t\xc3\xa9"};
    for (int i = 0; i < 2; i++) {
        m->input_names[i] = str_dup(in[i]);
        m->scale_mean[i] = 100.25f * (float)(i + 1);
        m->scale_std[i] = 3.5f + (float)i;
    }
    for (int j = 0; j < 3; j++) {
        m->label_names[j] = str_dup(lab[j]);
        m->output_names[j] = str_dup(outn[j]);
        m->threshold[j] = 0.3f + 0.1f * (float)j;
        m->base_threshold[j] = 1234.5f - (float)j;
        m->pos_weight[j] = 2.0f + (float)j;
        m->min_on[j] = 1 + 4 * j;   /* 1, 5, 9 */
        m->min_off[j] = 30 - 7 * j; /* 30, 23, 16 */
    }
    m->meta = (struct model_train_meta){.seed = 0x0123456789abcdefull,
                                        .rows_train = 90000,
                                        .rows_val = 10000,
                                        .windows_train = 89996,
                                        .windows_val = 9996,
                                        .epochs_run = 7,
                                        .best_epoch = 5,
                                        .batch = 512,
                                        .threads = -1,
                                        .lr = 1e-3f,
                                        .val_loss = 0.125f,
                                        .val_macro_f1 = -1.0f};
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = sinf((float)i) * (float)(i + 1);
    m->params[0] = -0.0f;
    m->params[1] = 1e-40f;
    m->params[2] = 3.0e38f;
    return m;
}

static struct lstmsrc_model *make_model(void)
{
    return make_model_dirs(1);
}

/* Saves the test model (with `dirs` directions) and returns the file's bytes. */
static unsigned char *model_bytes(int dirs, size_t *len)
{
    char p[512];
    struct lstmsrc_error err;
    struct lstmsrc_model *m = make_model_dirs(dirs);
    path_in(p, sizeof p, "good.lsm");
    unsigned char *b = NULL;
    if (m && lstmsrc_model_save(m, p, &err) == LSTMSRC_OK) b = slurp(p, len);
    lstmsrc_model_free(m);
    unlink(p);
    return b;
}

static unsigned char *good_bytes(size_t *len)
{
    return model_bytes(1, len);
}

/* Loads a private copy of exactly n bytes, so ASan sees any read past the end. */
static enum lstmsrc_status load_copy(const unsigned char *b, size_t n, struct lstmsrc_error *err)
{
    struct lstmsrc_model *m = NULL;
    if (n > ((size_t)1 << 30)) return LSTMSRC_ERR_ARG; /* never: keeps -O3's size analysis quiet */
    unsigned char *c = malloc(n ? n : 1);
    if (!c) return LSTMSRC_ERR_NOMEM;
    if (n) memcpy(c, b, n);
    enum lstmsrc_status st = lstmsrc_model_load_mem("model.lsm", c, n, &m, err);
    free(c);
    if (st == LSTMSRC_OK) {
        lstmsrc_model_free(m);
    } else if (m != NULL) {
        return LSTMSRC_ERR_ARG; /* *out written on failure: flag it as wrong */
    }
    return st;
}

static int same_names(char *const *a, char *const *b, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(a[i], b[i])) return 0;
    return 1;
}

static int same_floats(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* ============================== tests ============================== */

static void test_round_trip(void)
{
    char p1[512], p2[512];
    struct lstmsrc_error err;
    struct lstmsrc_model *m = make_model(), *r = NULL;
    CHECK(m != NULL);
    if (!m) return;
    path_in(p1, sizeof p1, "a.lsm");
    path_in(p2, sizeof p2, "b.lsm");
    CHECK(lstmsrc_model_save(m, p1, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_model_load(p1, &r, &err) == LSTMSRC_OK);
    if (!r) {
        fprintf(stderr, "  load: %s\n", err.msg);
        lstmsrc_model_free(m);
        return;
    }
    CHECK(r->task == m->task && r->label_mode == m->label_mode);
    CHECK(r->f == 2 && r->h == 3 && r->layers == 2 && r->k == 3 && r->seq_len == 5);
    CHECK(r->n_labels == 3 && r->n_params == m->n_params);
    CHECK(same_names(r->input_names, m->input_names, 2));
    CHECK(same_names(r->label_names, m->label_names, 3));
    CHECK(same_names(r->output_names, m->output_names, 3));
    CHECK(same_floats(r->scale_mean, m->scale_mean, 2));
    CHECK(same_floats(r->scale_std, m->scale_std, 2));
    CHECK(same_floats(r->threshold, m->threshold, 3));
    CHECK(same_floats(r->base_threshold, m->base_threshold, 3));
    CHECK(same_floats(r->pos_weight, m->pos_weight, 3));
    CHECK(r->min_on[0] == 1 && r->min_on[1] == 5 && r->min_on[2] == 9);
    CHECK(r->min_off[0] == 30 && r->min_off[1] == 23 && r->min_off[2] == 16);
    CHECK(same_floats(r->params, m->params, m->n_params));
    CHECK(signbit(r->params[0]));
    CHECK(r->meta.seed == m->meta.seed && r->meta.rows_train == 90000 && r->meta.rows_val == 10000);
    CHECK(r->meta.windows_train == 89996 && r->meta.windows_val == 9996);
    CHECK(r->meta.epochs_run == 7 && r->meta.best_epoch == 5 && r->meta.batch == 512);
    CHECK(r->meta.threads == -1);
    CHECK(r->meta.lr == m->meta.lr && r->meta.val_loss == 0.125f && r->meta.val_macro_f1 == -1.0f);

    /* save -> load -> save is byte-identical, and loading the bytes from memory agrees */
    CHECK(lstmsrc_model_save(r, p2, &err) == LSTMSRC_OK);
    size_t n1 = 0, n2 = 0;
    unsigned char *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    /* one direction: still version 2 with no flags, which builds before version 3 read */
    CHECK(b1 && memcmp(b1, "LSRCMDL\0", 8) == 0 && get32(b1 + 8) == 2 && get32(b1 + 24) == 0);
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(r, &info);
    CHECK(info.directions == 1 && info.n_params == 168);
    CHECK(b1 && get32(b1 + n1 - 4) == crc_bitwise(b1, n1 - 4)); /* library CRC == reference */
    CHECK(b1 && load_copy(b1, n1, &err) == LSTMSRC_OK);
    CHECK(dir_entries(dir) == 2); /* no temporary files left */
    free(b1);
    free(b2);
    lstmsrc_model_free(m);
    lstmsrc_model_free(r);
    unlink(p1);
    unlink(p2);
}

static void test_multiclass_round_trip(void)
{
    char p[512];
    struct lstmsrc_error err;
    struct lstmsrc_model *m = NULL, *r = NULL;
    CHECK(model_create(1, 4, 1, 1, 4, 3, 2, LSTMSRC_TASK_MULTICLASS, LSTMSRC_LABELS_COMBINED, &m,
                       &err) == LSTMSRC_OK);
    if (!m) return;
    const char *cls[] = {"none", "b", "a", "a+b"};
    m->input_names[0] = str_dup("reading");
    m->label_names[0] = str_dup("a");
    m->label_names[1] = str_dup("b");
    for (int j = 0; j < 4; j++)
        m->output_names[j] = str_dup(cls[j]);
    path_in(p, sizeof p, "mc.lsm");
    CHECK(lstmsrc_model_save(m, p, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_model_load(p, &r, &err) == LSTMSRC_OK);
    CHECK(r && r->task == LSTMSRC_TASK_MULTICLASS && r->label_mode == LSTMSRC_LABELS_COMBINED);
    CHECK(r && r->k == 4 && r->n_labels == 2 && same_names(r->output_names, m->output_names, 4));
    lstmsrc_model_free(m);
    lstmsrc_model_free(r);
    unlink(p);
}

static void test_truncated_everywhere(void)
{
    size_t n = 0;
    unsigned char *b = good_bytes(&n);
    CHECK(b != NULL && n > 100);
    if (!b || n <= 100) {
        free(b);
        return;
    }
    struct lstmsrc_error err;
    int bad = 0;
    for (size_t cut = 0; cut < n; cut++) {
        err.msg[0] = '\0';
        if (load_copy(b, cut, &err) != LSTMSRC_ERR_FORMAT || err.code != LSTMSRC_ERR_FORMAT ||
            strncmp(err.msg, "model.lsm: ", 11) != 0) {
            if (bad++ < 5) fprintf(stderr, "  cut at %zu: %s\n", cut, err.msg);
        }
    }
    CHECK(bad == 0);
    /* the message names both sizes */
    CHECK(load_copy(b, n - 1, &err) == LSTMSRC_ERR_FORMAT);
    char want[128];
    snprintf(want, sizeof want, "truncated: file has %zu bytes, header promises %zu", n - 1, n);
    CHECK(strstr(err.msg, want) != NULL);
    CHECK(load_copy(b, 4, &err) == LSTMSRC_ERR_FORMAT);
    CHECK(lstmsrc_model_load_mem("x", NULL, 0, &(struct lstmsrc_model *){NULL}, &err) ==
          LSTMSRC_ERR_FORMAT);
    free(b);
}

static void test_byte_flips(void)
{
    size_t n = 0;
    unsigned char *b = good_bytes(&n);
    CHECK(b != NULL);
    if (!b) return;
    static const unsigned char masks[] = {0x01, 0x10, 0x80, 0xff};
    struct lstmsrc_error err;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (i >= 60 && i % 7 != 0 && i < n - 4) continue; /* header, CRC, every 7th body byte */
        for (size_t mk = 0; mk < sizeof masks; mk++) {
            b[i] ^= masks[mk];
            enum lstmsrc_status st = load_copy(b, n, &err);
            b[i] ^= masks[mk];
            if (st != LSTMSRC_ERR_FORMAT && st != LSTMSRC_ERR_VERSION) {
                if (bad++ < 5) fprintf(stderr, "  flip %zu ^ %02x: status %d\n", i, masks[mk], st);
            }
        }
    }
    CHECK(bad == 0);
    CHECK(load_copy(b, n, &err) == LSTMSRC_OK);
    b[n / 2] ^= 0x04;
    CHECK(load_copy(b, n, &err) == LSTMSRC_ERR_FORMAT);
    CHECK(strcmp(err.msg, "model.lsm: checksum mismatch (file corrupted)") == 0);
    b[0] = 'X';
    CHECK(load_copy(b, n, &err) == LSTMSRC_ERR_FORMAT);
    CHECK(strcmp(err.msg, "model.lsm: not an lstmsrc model file (bad magic)") == 0);
    free(b);
}

static void test_version(void)
{
    size_t n = 0;
    unsigned char *b = good_bytes(&n);
    CHECK(b != NULL);
    if (!b) return;
    struct lstmsrc_error err;
    put32(b + 8, 7);
    fix_crc(b, n);
    CHECK(load_copy(b, n, &err) == LSTMSRC_ERR_VERSION && err.code == LSTMSRC_ERR_VERSION);
    CHECK(strcmp(err.msg, "model.lsm: file version 7, this build reads up to 6") == 0);
    /* a newer file is recognised by its version even when too short to hold our header */
    CHECK(load_copy(b, 12, &err) == LSTMSRC_ERR_VERSION);
    put32(b + 8, 0);
    fix_crc(b, n);
    CHECK(load_copy(b, n, &err) == LSTMSRC_ERR_FORMAT);
    free(b);
}

/* A version 1 file (no input or post block) still loads, with no filtering (1/1 for every
 * source). It is made from a version 2 file by cutting both blocks out (docs/FORMAT.md). */
static void test_version1_loads(void)
{
    size_t n = 0;
    unsigned char *b = good_bytes(&n);
    CHECK(b != NULL);
    if (!b) return;
    const size_t names_end =
        60 + (4 + 7) + (4 + 11) + (4 + 6) + (4 + 9) + 4 + (4 + 6) + (4 + 9) + (4 + 5);
    const size_t post = names_end + 16 + 36 + 68, cut = 16 + 3 * 8; /* input + post blocks */
    unsigned char *c = malloc(n);
    struct lstmsrc_error err;
    struct lstmsrc_model *m = NULL;
    memcpy(c, b, post);
    memcpy(c + post, b + post + cut, n - post - cut);
    size_t n1 = n - cut;
    put32(c + 8, 1);
    put64(c + 16, n1);
    fix_crc(c, n1);
    CHECK(lstmsrc_model_load_mem("v1.lsm", c, n1, &m, &err) == LSTMSRC_OK);
    if (m) {
        CHECK(m->k == 3 && m->min_on[0] == 1 && m->min_on[2] == 1 && m->min_off[1] == 1);
        CHECK(m->params[2] == 3.0e38f);
        struct lstmsrc_model_info info;
        lstmsrc_model_get_info(m, &info);
        CHECK(info.decision_delay == 0);
        lstmsrc_model_free(m);
    } else {
        fprintf(stderr, "  v1: %s\n", err.msg);
    }
    /* the same bytes labelled version 2 lack both blocks: refused, not misread */
    put32(c + 8, 2);
    fix_crc(c, n1);
    CHECK(load_copy(c, n1, &err) == LSTMSRC_ERR_FORMAT);
    /* and a version 2 file labelled 1 has 40 bytes too many for its parameters */
    memcpy(c, b, n);
    put32(c + 8, 1);
    fix_crc(c, n);
    CHECK(load_copy(c, n, &err) == LSTMSRC_ERR_FORMAT && strstr(err.msg, "params section"));
    free(c);
    free(b);
}

/* Edits that keep a valid checksum must still be refused by the semantic checks. */
static void test_checked_contents(void)
{
    size_t n = 0;
    unsigned char *b = good_bytes(&n);
    CHECK(b != NULL);
    if (!b) return;
    unsigned char *c = malloc(n);
    struct lstmsrc_error err;
    /* offsets from docs/FORMAT.md for make_model's names (7 + 11, 6 + 9 + 0, 6 + 9 + 5 bytes) */
    const size_t names_end =
        60 + (4 + 7) + (4 + 11) + (4 + 6) + (4 + 9) + 4 + (4 + 6) + (4 + 9) + (4 + 5);
    const size_t scale_std = names_end + 8, pos_weight = names_end + 16 + 24;
    const size_t input_block = pos_weight + 12 + 68, post = input_block + 16,
                 n_params_at = post + 3 * 8;
    const size_t params = n_params_at + 8;
    CHECK(get32(b + n_params_at) == 168 && params + 168 * 4 + 4 == n);
    struct {
        size_t off;
        uint32_t v;
        const char *want;
    } edits[] = {
        {28, 2, "task 2"},                   /* task */
        {32, 1, "does not go with"},         /* multi-label with class column */
        {36, 65, "inputs 65 outside 1..64"}, /* f */
        {40, 0, "hidden units 0"},           /* h */
        {40, 4096, "architecture needs"},    /* big shape, small file: refused before allocating */
        {44, 17, "layers 17"},               /* layers */
        {52, 100001, "sequence length"},     /* seq_len */
        {56, 2, "3 sources with 2 label"},   /* n_labels */
        {24, 1, "unknown flags"},            /* flags */
        {60, 257, "has 257 bytes, limit 256"}, /* first name length */
        {60, 200, "contains NUL"},             /* first name swallowing the floats after it */
        {scale_std, 0, "std 0"},               /* std must be > 0 */
        {scale_std, 0xbf800000u, "std -1"},    /* negative std */
        {pos_weight, 0x7fc00000u, "positive weight nan"},
        {post, 0, "post block entry 0 at offset"}, /* min_on 0 */
        {post + 4, 0, "minimum durations on 1, off 0 rows; need 1..10000"},
        {post + 8, 10001, "post block entry 1 at offset"}, /* absurd min_on */
        {post + 20, 0xffffffffu, "off 4294967295 rows"},   /* absurd min_off */
        {n_params_at, 167, "params section has 167 floats, architecture needs 168"},
        {input_block, 0, "features 0x0, expected bit 0 (raw)"},
        {input_block, 4, "features 0x4"},
        {input_block, 3, "channel 1 is named \"power, \"kW\"\", its column is \"reading\""},
        {input_block + 4, 2, "label_at 2 is not 0 (last) or 1 (center)"},
        {input_block + 4, 1, "label offset 0, a window of 5 labelled at its centre has 2"},
        {input_block + 8, 1, "label offset 1, a window of 5 labelled at its last row has 0"},
        {input_block + 12, 100001, "stride 100001 outside 0..100000"},
        {params + 40, 0x7f800000u, "parameter 10 of 168 is not finite"},
        {params, 0xff800000u, "parameter 0 of 168 is not finite"},
    };
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        memcpy(c, b, n);
        put32(c + edits[e].off, edits[e].v);
        fix_crc(c, n);
        enum lstmsrc_status st = load_copy(c, n, &err);
        CHECK(st == LSTMSRC_ERR_FORMAT);
        if (st != LSTMSRC_ERR_FORMAT || !strstr(err.msg, edits[e].want)) {
            fprintf(stderr, "  edit %zu (offset %zu): status %d, \"%s\"\n", e, edits[e].off, st,
                    err.msg);
            CHECK(!"message");
        }
    }
    /* a NUL inside a name */
    memcpy(c, b, n);
    c[64 + 2] = '\0';
    fix_crc(c, n);
    CHECK(load_copy(c, n, &err) == LSTMSRC_ERR_FORMAT && strstr(err.msg, "contains NUL"));
    /* the size field disagreeing with the real length, either way */
    memcpy(c, b, n);
    put64(c + 16, (uint64_t)n - 1);
    fix_crc(c, n);
    CHECK(load_copy(c, n, &err) == LSTMSRC_ERR_FORMAT && strstr(err.msg, "trailing"));
    put64(c + 16, UINT64_MAX);
    CHECK(load_copy(c, n, &err) == LSTMSRC_ERR_FORMAT && strstr(err.msg, "truncated"));
    free(c);
    free(b);
}

/* A model with derived channels, a centred label and a stride: the input block round-trips,
 * and the loaded model computes its channels as the saved one did. */
static void test_v2_input_block_round_trip(void)
{
    char p1[512], p2[512];
    struct lstmsrc_error err;
    struct lstmsrc_model *m = NULL, *r = NULL;
    CHECK(model_create(4, 3, 1, 1, 2, 7, 2, LSTMSRC_TASK_MULTILABEL, LSTMSRC_LABELS_SOURCES, &m,
                       &err) == LSTMSRC_OK);
    if (!m) return;
    CHECK(model_set_framing(m, LSTMSRC_FEATURES_ALL, LSTMSRC_LABEL_CENTER));
    CHECK(m->n_raw == 2 && m->label_offset == 3);
    const char *in[] = {"a", "b", "a", "b"};
    for (int i = 0; i < 4; i++) {
        m->input_names[i] = str_dup(in[i]);
        m->scale_mean[i] = (float)i;
        m->scale_std[i] = 1.0f + (float)i;
    }
    for (int j = 0; j < 2; j++) {
        m->label_names[j] = str_dup(j ? "y" : "x");
        m->output_names[j] = str_dup(j ? "y" : "x");
    }
    m->meta.stride = 4;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = cosf((float)i);
    path_in(p1, sizeof p1, "v2a.lsm");
    path_in(p2, sizeof p2, "v2b.lsm");
    CHECK(lstmsrc_model_save(m, p1, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_model_load(p1, &r, &err) == LSTMSRC_OK);
    if (r) {
        CHECK(r->f == 4 && r->n_raw == 2 && r->features == LSTMSRC_FEATURES_ALL);
        CHECK(r->label_at == LSTMSRC_LABEL_CENTER && r->label_offset == 3);
        CHECK(r->meta.stride == 4);
        CHECK(same_names(r->input_names, m->input_names, 4));
        CHECK(same_floats(r->scale_std, m->scale_std, 4));
        CHECK(same_floats(r->params, m->params, m->n_params));
        struct lstmsrc_model_info info;
        lstmsrc_model_get_info(r, &info);
        CHECK(info.inputs == 2 && info.channels == 4 && info.label_offset == 3);
        CHECK(info.features == LSTMSRC_FEATURES_ALL && info.stride == 4);
        CHECK(info.label_at == LSTMSRC_LABEL_CENTER);
        struct lstmsrc_columns cols;
        lstmsrc_model_columns(r, 1, &cols);
        CHECK(cols.n_input_names == 2 && !strcmp(cols.input_names[1], "b"));
        CHECK(lstmsrc_model_save(r, p2, &err) == LSTMSRC_OK);
        size_t n1 = 0, n2 = 0;
        unsigned char *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2);
        CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
        free(b1);
        free(b2);
    }
    /* the writer refuses what the reader would refuse */
    m->meta.stride = 100001;
    CHECK(lstmsrc_model_save(m, p2, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "stride 100001"));
    m->meta.stride = 1;
    free(m->input_names[2]);
    m->input_names[2] = str_dup("c");
    CHECK(lstmsrc_model_save(m, p2, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "channel 2"));
    /* names are quoted into messages with their control bytes escaped: still one line */
    free(m->input_names[2]);
    m->input_names[2] = str_dup("a\nb\tc\x01");
    CHECK(lstmsrc_model_save(m, p2, &err) == LSTMSRC_ERR_ARG);
    CHECK(strstr(err.msg, "named \"a\\nb\\tc\\x01\", its column is \"a\"") != NULL);
    CHECK(!strchr(err.msg, '\n') && !strchr(err.msg, '\t') && !strchr(err.msg, '\x01'));
    lstmsrc_model_free(m);
    lstmsrc_model_free(r);
    unlink(p1);
    unlink(p2);
}

/* Version 1 (no input block) still loads: raw channels, labelled at the last row, stride 1.
 * Made here from a version-2 file by cutting the block out, and read from a file the version-1
 * writer made (tests/fixtures/model_v1.lsm). */
static void test_v1_still_loads(void)
{
    size_t n = 0;
    unsigned char *b = good_bytes(&n);
    CHECK(b != NULL);
    if (!b) return;
    struct lstmsrc_error err;
    struct lstmsrc_model *r = NULL, *ref = NULL;
    const size_t names_end =
        60 + (4 + 7) + (4 + 11) + (4 + 6) + (4 + 9) + 4 + (4 + 6) + (4 + 9) + (4 + 5);
    const size_t input_block = names_end + 16 + 36 + 68;
    CHECK(get32(b + input_block) == LSTMSRC_FEATURE_RAW && get32(b + input_block + 4) == 0);
    unsigned char *v1 = malloc(n);
    memcpy(v1, b, input_block);
    /* version 1 has neither the input block nor the post block (3 outputs x 8 bytes) */
    memcpy(v1 + input_block, b + input_block + 16 + 24, n - input_block - 16 - 24);
    size_t n1 = n - 16 - 24;
    put32(v1 + 8, 1);
    put64(v1 + 16, n1);
    fix_crc(v1, n1);
    CHECK(lstmsrc_model_load_mem("v1", v1, n1, &r, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_model_load_mem("v2", b, n, &ref, &err) == LSTMSRC_OK);
    if (r && ref) {
        CHECK(r->features == LSTMSRC_FEATURE_RAW && r->label_at == LSTMSRC_LABEL_LAST);
        CHECK(r->label_offset == 0 && r->meta.stride == 1 && r->n_raw == r->f);
        CHECK(ref->meta.stride == 0); /* the test model's metadata records none */
        CHECK(same_floats(r->params, ref->params, ref->n_params));
        CHECK(r->meta.val_loss == ref->meta.val_loss);
    }
    lstmsrc_model_free(r);
    r = NULL;
    /* a version-1 file is never read as holding an input block, nor a version-2 one without */
    put32(v1 + 8, 2);
    fix_crc(v1, n1);
    CHECK(lstmsrc_model_load_mem("v1as2", v1, n1, &r, &err) == LSTMSRC_ERR_FORMAT);
    put32(b + 8, 1);
    fix_crc(b, n);
    CHECK(lstmsrc_model_load_mem("v2as1", b, n, &r, &err) == LSTMSRC_ERR_FORMAT);
    CHECK(r == NULL);

    /* the version-1 writer's own file */
    CHECK(lstmsrc_model_load("tests/fixtures/model_v1.lsm", &r, &err) == LSTMSRC_OK);
    if (r) {
        struct lstmsrc_model_info info;
        lstmsrc_model_get_info(r, &info);
        CHECK(info.inputs == 1 && info.channels == 1 && info.features == LSTMSRC_FEATURE_RAW);
        CHECK(info.label_at == LSTMSRC_LABEL_LAST && info.label_offset == 0 && info.stride == 1);
        CHECK(info.seq_len == 4 && info.hidden == 3);
    } else {
        fprintf(stderr, "  %s\n", err.msg);
    }
    lstmsrc_model_free(r);
    lstmsrc_model_free(ref);
    free(v1);
    free(b);
}

/* A bidirectional top layer: version 3 with header flag bit 0, the reverse direction's weights
 * after the layers and a (K, 2H) head (docs/FORMAT.md); save -> load -> save gives the same
 * bytes, and a cut anywhere is refused. */
static void test_bidirectional_round_trip(void)
{
    char p1[512], p2[512];
    struct lstmsrc_error err;
    struct model_layout l;
    struct lstmsrc_model *m = make_model_dirs(2), *r = NULL;
    CHECK(m != NULL);
    if (!m) return;
    /* 4H(in + H) + 4H per unit: layer 0 (in 2) 72, layer 1 (in 3) 84, layer 1 reverse 84; head
     * K x 2H + K = 21 */
    CHECK(m->n_params == 72 + 84 + 84 + 21);
    CHECK(model_layout_fill(&l, 2, 3, 2, 2, 3) && l.w[1] == 72 && l.wr == 156 && l.br == 228 &&
          l.wd == 240 && l.bd == 258 && l.total == 261);
    path_in(p1, sizeof p1, "bi_a.lsm");
    path_in(p2, sizeof p2, "bi_b.lsm");
    CHECK(lstmsrc_model_save(m, p1, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_model_load(p1, &r, &err) == LSTMSRC_OK);
    if (!r) {
        fprintf(stderr, "  load: %s\n", err.msg);
        lstmsrc_model_free(m);
        return;
    }
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(r, &info);
    CHECK(r->dirs == 2 && info.directions == 2 && info.n_params == 261);
    CHECK(info.layers == 2 && info.hidden == 3 && info.outputs == 3 && info.seq_len == 5);
    CHECK(r->n_params == m->n_params && same_floats(r->params, m->params, m->n_params));
    CHECK(signbit(r->params[0]) && r->params[2] == 3.0e38f);
    CHECK(same_floats(r->threshold, m->threshold, 3) && r->min_on[2] == 9);

    CHECK(lstmsrc_model_save(r, p2, &err) == LSTMSRC_OK);
    size_t n1 = 0, n2 = 0, nu = 0;
    unsigned char *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2), *u = good_bytes(&nu);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    CHECK(b1 && get32(b1 + 8) == 3 && get32(b1 + 24) == 1); /* version 3, flag bit 0 */
    /* the same model with one direction: 93 floats fewer, nothing else differs in size */
    CHECK(b1 && u && n1 == nu + 93 * 4);
    CHECK(b1 && n1 > 261 * 4 + 12 && get32(b1 + n1 - 4 - 261 * 4 - 8) == 261);
    CHECK(b1 && get32(b1 + n1 - 4) == crc_bitwise(b1, n1 - 4));
    int bad = 0;
    for (size_t cut = 0; b1 && cut < n1; cut++) {
        err.msg[0] = '\0';
        if (load_copy(b1, cut, &err) != LSTMSRC_ERR_FORMAT && bad++ < 5)
            fprintf(stderr, "  cut at %zu: %s\n", cut, err.msg);
    }
    CHECK(bad == 0);
    CHECK(dir_entries(dir) == 2);
    free(b1);
    free(b2);
    free(u);
    lstmsrc_model_free(m);
    lstmsrc_model_free(r);
    unlink(p1);
    unlink(p2);
}

/* Flag bit 0 exists from version 3 on, and no other bit does; the flag decides the parameter
 * layout, so a file whose flag and parameter count disagree is refused. */
static void test_bidirectional_flags(void)
{
    size_t n = 0, nu = 0;
    unsigned char *b = model_bytes(2, &n), *u = good_bytes(&nu);
    unsigned char *c = b ? malloc(n) : NULL;
    struct lstmsrc_error err;
    char want[128];
    CHECK(b && u && c);
    if (!b || !u || !c) goto done;
    CHECK(load_copy(b, n, &err) == LSTMSRC_OK);

    /* a version-2 file with flag bit 0: the bidirectional file labelled 2, and a unidirectional
     * version-2 file with the bit set */
    memcpy(c, b, n);
    put32(c + 8, 2);
    fix_crc(c, n);
    CHECK(load_copy(c, n, &err) == LSTMSRC_ERR_FORMAT && err.code == LSTMSRC_ERR_FORMAT);
    CHECK(strcmp(err.msg, "model.lsm: unknown flags 0x00000001 for version 2") == 0);
    put32(u + 24, 1);
    fix_crc(u, nu);
    CHECK(load_copy(u, nu, &err) == LSTMSRC_ERR_FORMAT);
    CHECK(strcmp(err.msg, "model.lsm: unknown flags 0x00000001 for version 2") == 0);
    CHECK(!strchr(err.msg, '\n'));

    /* version 3: any bit but bit 0 is unknown, alone or with it */
    const uint32_t unknown[] = {0x2u, 0x3u, 0x100u, 0x80000001u, 0xffffffffu};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        memcpy(c, b, n);
        put32(c + 24, unknown[i]);
        fix_crc(c, n);
        CHECK(load_copy(c, n, &err) == LSTMSRC_ERR_FORMAT);
        snprintf(want, sizeof want, "model.lsm: unknown flags 0x%08x for version 3",
                 (unsigned)unknown[i]);
        if (strcmp(err.msg, want) != 0) {
            fprintf(stderr, "  flags 0x%08x: \"%s\"\n", (unsigned)unknown[i], err.msg);
            CHECK(!"message");
        }
        CHECK(!strchr(err.msg, '\n'));
    }

    /* the flag cleared: one direction's layout has 93 floats fewer than the file holds */
    memcpy(c, b, n);
    put32(c + 24, 0);
    fix_crc(c, n);
    CHECK(load_copy(c, n, &err) == LSTMSRC_ERR_FORMAT);
    CHECK(strstr(err.msg, "params section has 261 floats, architecture needs 168") != NULL);
    /* a unidirectional file labelled version 3 with the flag: too few parameters */
    put32(u + 8, 3);
    fix_crc(u, nu);
    CHECK(load_copy(u, nu, &err) == LSTMSRC_ERR_FORMAT && strstr(err.msg, "261") != NULL);
    /* and without the flag a version-3 reader takes it as one direction */
    put32(u + 24, 0);
    fix_crc(u, nu);
    CHECK(load_copy(u, nu, &err) == LSTMSRC_OK);
done:
    free(b);
    free(u);
    free(c);
}

static void test_save_refuses_invalid_model(void)
{
    char p[512];
    struct lstmsrc_error err;
    struct lstmsrc_model *m = make_model();
    if (!m) return;
    path_in(p, sizeof p, "nan.lsm");
    m->params[5] = NAN;
    CHECK(lstmsrc_model_save(m, p, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "parameter 5"));
    m->params[5] = 0.0f;
    m->scale_std[1] = 0.0f;
    CHECK(lstmsrc_model_save(m, p, &err) == LSTMSRC_ERR_ARG);
    m->scale_std[1] = 1.0f;
    m->min_off[2] = 0;
    CHECK(lstmsrc_model_save(m, p, &err) == LSTMSRC_ERR_ARG &&
          strstr(err.msg, "minimum durations"));
    CHECK(access(p, F_OK) != 0 && dir_entries(dir) == 0);
    lstmsrc_model_free(m);
}

static void test_save_into_file_fails(void)
{
    char f[512], p[600];
    struct lstmsrc_error err;
    struct lstmsrc_model *m = make_model();
    if (!m) return;
    path_in(f, sizeof f, "file");
    FILE *fp = fopen(f, "w");
    CHECK(fp != NULL);
    if (fp) fclose(fp);
    snprintf(p, sizeof p, "%s/model.lsm", f);
    CHECK(lstmsrc_model_save(m, p, &err) == LSTMSRC_ERR_IO && err.code == LSTMSRC_ERR_IO);
    CHECK(strncmp(err.msg, p, strlen(p)) == 0 && strstr(err.msg, "Not a directory"));
    CHECK(dir_entries(dir) == 1);
    struct lstmsrc_model *r = NULL;
    CHECK(lstmsrc_model_load(p, &r, &err) == LSTMSRC_ERR_IO && r == NULL);
    CHECK(lstmsrc_model_load(dir, &r, &err) == LSTMSRC_ERR_IO && r == NULL);   /* a directory */
    CHECK(lstmsrc_model_load(f, &r, &err) == LSTMSRC_ERR_FORMAT && r == NULL); /* empty file */
    unlink(f);
    lstmsrc_model_free(m);
}

/* A save that fails midway (file size limit: works even as root, unlike permissions) leaves the
 * good model already at PATH untouched and no temporary file. */
static void test_failed_save_keeps_old(void)
{
    char p[512];
    struct lstmsrc_error err;
    struct lstmsrc_model *m = make_model();
    if (!m) return;
    path_in(p, sizeof p, "model.lsm");
    CHECK(lstmsrc_model_save(m, p, &err) == LSTMSRC_OK);
    size_t n0 = 0, n1 = 0;
    unsigned char *before = slurp(p, &n0);

    struct rlimit old, small;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    small = old;
    small.rlim_cur = 100;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    m->params[3] = 42.0f;
    if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
        enum lstmsrc_status st = lstmsrc_model_save(m, p, &err);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK(st == LSTMSRC_ERR_IO && strstr(err.msg, "model.lsm: cannot write:"));
    } else {
        fprintf(stderr, "  skipped: setrlimit(RLIMIT_FSIZE) failed\n");
    }
    signal(SIGXFSZ, prev);
    unsigned char *after = slurp(p, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    CHECK(dir_entries(dir) == 1);
    free(before);
    free(after);
    unlink(p);
    lstmsrc_model_free(m);
}

static void test_fifo_written_in_place(void)
{
    char p[512];
    struct lstmsrc_error err;
    struct stat st;
    size_t n = 0;
    unsigned char *want = good_bytes(&n);
    struct lstmsrc_model *m = make_model();
    path_in(p, sizeof p, "fifo");
    if (!m || !want || mkfifo(p, 0600) != 0) {
        fprintf(stderr, "  skipped: mkfifo failed\n");
        lstmsrc_model_free(m);
        free(want);
        return;
    }
    /* a reader must exist or opening for writing blocks; the model fits the pipe buffer */
    int rfd = open(p, O_RDONLY | O_NONBLOCK);
    CHECK(rfd >= 0);
    CHECK(lstmsrc_model_save(m, p, &err) == LSTMSRC_OK);
    unsigned char *got = malloc(n + 16);
    ssize_t r = rfd >= 0 && got ? read(rfd, got, n + 16) : -1;
    CHECK(r == (ssize_t)n && memcmp(got, want, n) == 0);
    CHECK(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK(dir_entries(dir) == 1);
    if (rfd >= 0) close(rfd);
    free(got);
    free(want);
    unlink(p);
    lstmsrc_model_free(m);
}

/* Private device nodes (root only): a full device fails with ERR_IO, a null device takes the
 * bytes; both are still character devices afterwards. Never touches /dev itself. */
static void test_device_written_in_place(void)
{
    char full[512], null[512];
    struct lstmsrc_error err;
    struct stat st;
    struct lstmsrc_model *m = make_model();
    if (!m) return;
    path_in(full, sizeof full, "full");
    path_in(null, sizeof null, "null");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mknod '%s' c 1 7 2>/dev/null && mknod '%s' c 1 3 2>/dev/null", full,
             null);
    if (system(cmd) != 0 || lstat(full, &st) != 0 || !S_ISCHR(st.st_mode)) {
        fprintf(stderr, "  skipped: mknod failed (needs root)\n");
    } else {
        CHECK(lstmsrc_model_save(m, full, &err) == LSTMSRC_ERR_IO);
        CHECK(strstr(err.msg, "full: cannot write: No space left on device") != NULL);
        CHECK(lstat(full, &st) == 0 && S_ISCHR(st.st_mode));
        CHECK(lstmsrc_model_save(m, null, &err) == LSTMSRC_OK);
        CHECK(lstat(null, &st) == 0 && S_ISCHR(st.st_mode));
        CHECK(dir_entries(dir) == 2);
    }
    unlink(full);
    unlink(null);
    lstmsrc_model_free(m);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lstmsrc_model_io_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_round_trip);
    RUN(test_multiclass_round_trip);
    RUN(test_truncated_everywhere);
    RUN(test_byte_flips);
    RUN(test_version);
    RUN(test_version1_loads);
    RUN(test_checked_contents);
    RUN(test_v2_input_block_round_trip);
    RUN(test_v1_still_loads);
    RUN(test_bidirectional_round_trip);
    RUN(test_bidirectional_flags);
    RUN(test_save_refuses_invalid_model);
    RUN(test_save_into_file_fails);
    RUN(test_failed_save_keeps_old);
    RUN(test_fifo_written_in_place);
    RUN(test_device_written_in_place);
    clean_dir(dir);
    rmdir(dir);
    return test_report("test_model_io");
}
