/*
 * test_seams.c — values and names where one part of the library hands over to another:
 *   - export-c: every name a header defines is its prefix as given, '_' and a suffix, and no
 *     suffix is another one behind "T_" unless a prefix ending in "_T" is refused, so two
 *     prefixes never share a name (kettle and Kettle, m and m_state); the messages for a
 *     prefix that is too long or clashes.
 *   - CSV messages: a NUL inside a cell is quoted as \0 with the text after it; a file whose
 *     lines end in CR alone is told so, not read as one header of hundreds of columns.
 *   - training: a tuned threshold is a probability (0 to 1) even where "always on" wins; finite
 *     readings whose first difference overflows a float (3.4e38 then -3.4e38), or that the
 *     scaler maps beyond one, are named by FILE:LINE before any step, and the doctor flags the
 *     first; a loss that turns non-finite stops training at once (LSTMSRC_ERR_DIVERGED).
 *   - model files: a scaler std below the smallest normal float (1e-45) is refused at its
 *     offset, on load and on save, where it used to load and predict NaN.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "nn/model.h"
#include "test.h"
#include "testio.h"

/* ============================== export-c names ============================== */

/* A model with every optional part of a header: two inputs with both channels, centred label,
 * bidirectional top of two layers (multi-label), or one plain layer (multi-class). */
static struct lstmsrc_model *export_model(int multiclass)
{
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    if (model_create(4, 4, multiclass ? 1 : 2, multiclass ? 1 : 2, multiclass ? 4 : 2, 5,
                     multiclass ? 1 : 2,
                     multiclass ? LSTMSRC_TASK_MULTICLASS : LSTMSRC_TASK_MULTILABEL,
                     multiclass ? LSTMSRC_LABELS_CLASS : LSTMSRC_LABELS_SOURCES, &m, &err))
        return NULL;
    if (!model_set_framing(m, LSTMSRC_FEATURES_ALL, LSTMSRC_LABEL_CENTER)) {
        lstmsrc_model_free(m);
        return NULL;
    }
    for (int i = 0; i < m->f; i++) {
        m->input_names[i] = str_dup(i % 2 ? "b" : "a");
        m->scale_std[i] = 1.0f;
    }
    for (int j = 0; j < m->n_labels; j++)
        m->label_names[j] = str_dup("y");
    for (int k = 0; k < m->k; k++)
        m->output_names[k] = str_dup("o");
    return m;
}

/* The header for `m` under `prefix` as a string (malloc'd), or NULL. */
static char *export_text(const struct lstmsrc_model *m, const char *prefix,
                         struct lstmsrc_error *err)
{
    FILE *fp = tmpfile();
    if (!fp) return NULL;
    char *text = NULL;
    if (lstmsrc_export_c_file(m, prefix, fp, err) == LSTMSRC_OK) {
        long n = ftell(fp);
        rewind(fp);
        if (n > 0 && (text = malloc((size_t)n + 1))) {
            size_t got = fread(text, 1, (size_t)n, fp);
            text[got] = '\0';
        }
    }
    fclose(fp);
    return text;
}

struct suffixes {
    char *s[512];
    int n;
};

static int has_suffix(const struct suffixes *x, const char *s, size_t len)
{
    for (int i = 0; i < x->n; i++)
        if (strlen(x->s[i]) == len && memcmp(x->s[i], s, len) == 0) return 1;
    return 0;
}

static int is_ident(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* Every identifier in text that starts with prefix + "_", its suffix into x (no repeats). */
static void collect(struct suffixes *x, const char *text, const char *prefix)
{
    const size_t pn = strlen(prefix);
    for (const char *p = text; *p;) {
        if (!is_ident(*p, 1) || (p > text && is_ident(p[-1], 0))) {
            p++;
            continue;
        }
        const char *e = p;
        while (is_ident(*e, 0))
            e++;
        size_t len = (size_t)(e - p);
        if (len > pn + 1 && memcmp(p, prefix, pn) == 0 && p[pn] == '_' &&
            !has_suffix(x, p + pn + 1, len - pn - 1) && x->n < 512)
            x->s[x->n++] = str_ndup(p + pn + 1, len - pn - 1);
        p = e;
    }
}

static void test_export_names_unique(void)
{
    struct lstmsrc_model *ml = export_model(0), *mc = export_model(1);
    struct lstmsrc_error err;
    CHECK(ml && mc);
    if (!ml || !mc) goto done;
    struct suffixes x = {{0}, 0};
    for (int i = 0; i < 2; i++) {
        char *t = export_text(i ? mc : ml, "zq", &err);
        CHECK(t != NULL);
        if (!t) continue;
        collect(&x, t, "zq");
        /* macros and the include guard keep the prefix as given */
        char *u = export_text(i ? mc : ml, "Zq", &err);
        CHECK(u && strstr(u, "#define Zq_INPUTS 2\n") &&
              strstr(u, "#ifndef LSTMSRC_EXPORT_Zq_H\n"));
        CHECK(u && !strstr(u, "ZQ_") && !strstr(u, "zq_"));
        free(u);
        free(t);
    }
    CHECK(x.n > 40 && has_suffix(&x, "push", 4) && has_suffix(&x, "INPUTS", 6) &&
          has_suffix(&x, "filter_init", 11));
    /* Prefixes P and P_T give the same name only when a suffix is T_ + another suffix. Each
     * such T must be refused as the tail of a prefix; then no two prefixes share a name. */
    int clashes = 0;
    for (int i = 0; i < x.n; i++) {
        const char *s = x.s[i];
        CHECK(s[0] != '_');
        for (const char *u = strchr(s, '_'); u; u = strchr(u + 1, '_')) {
            if (!has_suffix(&x, u + 1, strlen(u + 1))) continue;
            clashes++;
            char bad[80];
            snprintf(bad, sizeof bad, "zq_%.*s", (int)(u - s), s);
            char *t = export_text(ml, bad, &err);
            CHECK(t == NULL && err.code == LSTMSRC_ERR_ARG && strstr(err.msg, "clash"));
            if (t || !strstr(err.msg, "clash"))
                fprintf(stderr, "  %s and zq share zq_%s (%s)\n", bad, s, t ? "accepted" : err.msg);
            free(t);
        }
    }
    CHECK(clashes > 0); /* filter_init = filter + init: the check above did run */
    for (int i = 0; i < x.n; i++)
        free(x.s[i]);

    /* near misses are fine: only the tail "_filter" is refused */
    const char *ok[] = {"m_state", "filter", "_filter", "m_filter2", "m_filters", "model_"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *t = export_text(ml, ok[i], &err);
        CHECK(t != NULL);
        free(t);
    }
    char *t = export_text(ml, "m_filter", &err);
    CHECK(!t && strstr(err.msg, "\"m_filter\" ends in \"_filter\"") &&
          strstr(err.msg, "prefix \"m\""));
    free(t);
    /* a prefix one character too long is shown as such, not cut to the limit */
    char longp[LSTMSRC_MAX_PREFIX + 2];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    t = export_text(ml, longp, &err);
    CHECK(!t && err.code == LSTMSRC_ERR_ARG && strstr(err.msg, "has 65 characters") &&
          strstr(err.msg, "1 to 64"));
    free(t);
done:
    lstmsrc_model_free(ml);
    lstmsrc_model_free(mc);
}

/* ============================== CSV messages ============================== */

static enum lstmsrc_status load_text(const char *text, size_t len, struct lstmsrc_error *err)
{
    struct lstmsrc_dataset *ds = NULL;
    enum lstmsrc_status st = lstmsrc_dataset_load_mem("t.csv", text, len, NULL, &ds, err);
    lstmsrc_dataset_free(ds);
    return st;
}

static void test_csv_messages(void)
{
    struct lstmsrc_error err;
    static const char nul[] = "reading,a\n1,0\n1\0"
                              "2,1\n";
    CHECK(load_text(nul, sizeof nul - 1, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strstr(err.msg, "t.csv:3:1: expected a number, found \"1\\02\"") != NULL);
    static const char nul_label[] = "reading,a\n1,0\n2,\0"
                                    "1\n";
    CHECK(load_text(nul_label, sizeof nul_label - 1, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strstr(err.msg, "t.csv:3:2: expected 0 or 1, found \"\\01\"") != NULL);

    /* 300 rows with CR line ends: one line of 301 x 2 fields before */
    char cr[4096];
    size_t n = (size_t)snprintf(cr, sizeof cr, "reading,a\r");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(cr + n, sizeof cr - n, "%d,%d\r", i % 7, i % 2);
    CHECK(load_text(cr, n, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strstr(err.msg, "t.csv: the file has no line ends but CR") != NULL);
    CHECK(strstr(err.msg, "label columns") == NULL);
    static const char mixed[] = "reading,a\r1,0\n2,1\n";
    CHECK(load_text(mixed, sizeof mixed - 1, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strstr(err.msg, "t.csv:1: a CR (\\r) inside the header line") != NULL);
    /* CRLF, a CR before the end of a one-line file, and a quoted CR stay fine */
    static const char ok1[] = "reading,a\r\n1,0\r\n2,1\r\n";
    CHECK(load_text(ok1, sizeof ok1 - 1, &err) == LSTMSRC_OK);
    static const char ok2[] = "\"read\ring\",a\n1,0\n";
    CHECK(load_text(ok2, sizeof ok2 - 1, &err) == LSTMSRC_OK);
    static const char hdr_only[] = "reading,a\r";
    CHECK(load_text(hdr_only, sizeof hdr_only - 1, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strstr(err.msg, "no data rows") != NULL);
}

/* ============================== training ============================== */

/* n rows "reading,a": readings that say nothing about a, which is on in about `on_share` of
 * the rows (a fixed pseudo-random sequence). */
static char *noise_csv(int n, double on_share, size_t *len)
{
    char *b = malloc((size_t)n * 24 + 32);
    if (!b) return NULL;
    size_t w = (size_t)sprintf(b, "reading,a\n");
    uint32_t s = 12345;
    for (int i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        int on = (double)(s >> 8) / 16777216.0 < on_share;
        s = s * 1664525u + 1013904223u;
        w += (size_t)sprintf(b + w, "%u,%d\n", 200 + (s >> 24) % 17, on);
    }
    *len = w;
    return b;
}

static void small_config(struct lstmsrc_train_config *cfg)
{
    lstmsrc_train_config_default(cfg);
    cfg->seq_len = 2;
    cfg->hidden = 2;
    cfg->epochs = 1;
    cfg->batch = 32;
    cfg->threads = 1;
    cfg->val_fraction = 0.25f;
}

static void test_tuned_thresholds_in_range(void)
{
    size_t len;
    char *csv = noise_csv(600, 0.95, &len);
    struct lstmsrc_error err;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_model *m = NULL;
    CHECK(csv && lstmsrc_dataset_load_mem("noise.csv", csv, len, NULL, &ds, &err) == LSTMSRC_OK);
    struct lstmsrc_train_config cfg;
    small_config(&cfg);
    CHECK(ds && lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_OK);
    if (m) {
        struct lstmsrc_model_info info;
        lstmsrc_model_get_info(m, &info);
        /* on in 95 % of the rows, unpredictable: "always on" has the best F1 */
        CHECK(info.thresholds[0] >= 0.0f && info.thresholds[0] <= 1.0f);
        if (!(info.thresholds[0] >= 0.0f))
            fprintf(stderr, "  threshold %g\n", (double)info.thresholds[0]);
    }
    lstmsrc_model_free(m);
    lstmsrc_dataset_free(ds);
    free(csv);
}

/* 40 rows, "reading,a"; row `bad` (1-based) jumps from 3.4e38 to -3.4e38 when bad > 1 */
static char *overflow_csv(int bad, size_t *len)
{
    char *b = malloc(40 * 24 + 32);
    if (!b) return NULL;
    size_t w = (size_t)sprintf(b, "reading,a\n");
    for (int i = 1; i <= 40; i++)
        w += (size_t)sprintf(b + w, "%s,%d\n",
                             i == bad - 1 ? "3.4e38"
                             : i == bad   ? "-3.4e38"
                             : i % 3      ? "210"
                                          : "1500",
                             i % 3 == 0);
    *len = w;
    return b;
}

static void test_diff_overflow_located(void)
{
    size_t len;
    char *csv = overflow_csv(7, &len);
    struct lstmsrc_error err;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_model *m = NULL;
    CHECK(csv && lstmsrc_dataset_load_mem("ovf.csv", csv, len, NULL, &ds, &err) == LSTMSRC_OK);
    if (!ds) goto done;
    struct lstmsrc_train_config cfg;
    small_config(&cfg);
    cfg.epochs = 3;
    /* row 7 is line 8; the difference -3.4e38 - 3.4e38 is -inf in float */
    CHECK(lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_ERR_PARSE && !m);
    CHECK(strstr(err.msg, "ovf.csv:8:1: the step from 3.4e+38 to -3.4e+38 overflows a float") !=
          NULL);
    /* the doctor says so */
    struct lstmsrc_report *r = NULL;
    CHECK(lstmsrc_doctor(ds, &r, &err) == LSTMSRC_OK);
    int found = 0;
    for (int i = 0; r && i < r->n_findings; i++)
        if (r->findings[i].code == LSTMSRC_FINDING_OVERFLOW) {
            found++;
            CHECK(r->findings[i].severity == LSTMSRC_SEVERITY_PROBLEM);
            CHECK(r->findings[i].value == 7.0 && r->findings[i].input == 0);
            CHECK(strstr(r->findings[i].message, "row 7 (line 8)") != NULL);
        }
    CHECK(found == 1);
    CHECK(!strcmp(lstmsrc_finding_code_str(LSTMSRC_FINDING_OVERFLOW), "overflow"));
    lstmsrc_report_free(r);
    /* the raw channel alone holds those readings: the mean of +-3.4e38 stays near 0 */
    cfg.features = LSTMSRC_FEATURE_RAW;
    CHECK(lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_OK);
    lstmsrc_model_free(m);
    m = NULL;
    lstmsrc_dataset_free(ds);
    ds = NULL;

    /* readings the scaler maps beyond a float: 3.4e38 in a column mostly at -3.4e38 */
    char big[4096];
    size_t n = (size_t)sprintf(big, "reading,a\n");
    for (int i = 0; i < 60; i++)
        n += (size_t)sprintf(big + n, "%s,%d\n", i % 10 < 3 ? "3.4e38" : "-3.4e38", i % 10 < 3);
    CHECK(lstmsrc_dataset_load_mem("big.csv", big, n, NULL, &ds, &err) == LSTMSRC_OK);
    CHECK(ds && lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_ERR_PARSE && !m);
    CHECK(strstr(err.msg, "big.csv:2: the reading of \"reading\" is 3.4e+38, which the scaler") !=
          NULL);
done:
    lstmsrc_model_free(m);
    lstmsrc_dataset_free(ds);
    free(csv);
}

static void count_epochs(const struct lstmsrc_progress *p, void *user)
{
    if (p->end_of_epoch) ++*(int *)user;
}

static void test_nonfinite_loss_stops(void)
{
    size_t len;
    char *csv = noise_csv(600, 0.3, &len);
    struct lstmsrc_error err;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_model *m = NULL;
    CHECK(csv && lstmsrc_dataset_load_mem("noise.csv", csv, len, NULL, &ds, &err) == LSTMSRC_OK);
    struct lstmsrc_train_config cfg;
    small_config(&cfg);
    cfg.epochs = 5;
    /* a learning rate a float barely holds: the first step sends the weights to about 1e38,
     * the second step's sums overflow, and its loss is not finite */
    cfg.lr = 1e38f;
    int epochs = 0;
    cfg.progress = count_epochs;
    cfg.progress_user = &epochs;
    CHECK(ds && lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_ERR_DIVERGED && !m);
    CHECK(strstr(err.msg, "noise.csv: epoch 1, step 2: the training loss is") != NULL);
    CHECK(epochs == 0);
    CHECK(!strcmp(lstmsrc_status_str(LSTMSRC_ERR_DIVERGED), "training diverged"));
    if (!strstr(err.msg, "epoch 1, step 2")) fprintf(stderr, "  %s\n", err.msg);
    lstmsrc_model_free(m);
    lstmsrc_dataset_free(ds);
    free(csv);
}

/* ============================== model files ============================== */

static void test_subnormal_std_refused(void)
{
    struct lstmsrc_model *m = export_model(1);
    struct lstmsrc_error err;
    CHECK(m != NULL);
    if (!m) return;
    char dir[] = "/tmp/lstmsrc_seams_XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/m.lsm", dir);
    m->scale_std[2] = 3.25f; /* 0x40500000, found again in the file below */
    CHECK(lstmsrc_model_save(m, path, &err) == LSTMSRC_OK);
    size_t n = 0;
    unsigned char *b = slurp(path, &n);
    size_t at = 0;
    for (size_t i = 60; b && i + 4 <= n; i++)
        if (get32(b + i) == 0x40500000u) {
            at = i;
            break;
        }
    CHECK(at > 0);
    if (b && at) {
        put32(b + at, 1u); /* 1.4e-45, the smallest subnormal */
        fix_crc(b, n);
        struct lstmsrc_model *r = NULL;
        CHECK(lstmsrc_model_load_mem("m.lsm", b, n, &r, &err) == LSTMSRC_ERR_FORMAT && !r);
        char want[96];
        snprintf(want, sizeof want, "m.lsm: input 2 scaler at offset %zu (mean 0, std 1.4013e-45)",
                 at);
        CHECK(strstr(err.msg, want) != NULL);
        if (!strstr(err.msg, want)) fprintf(stderr, "  %s\n", err.msg);
        put32(b + at, 0x00800000u); /* FLT_MIN, the smallest normal float: fine */
        fix_crc(b, n);
        CHECK(lstmsrc_model_load_mem("m.lsm", b, n, &r, &err) == LSTMSRC_OK);
        lstmsrc_model_free(r);
    }
    free(b);
    /* nor is such a model saved */
    m->scale_std[2] = 1e-45f;
    CHECK(lstmsrc_model_save(m, path, &err) == LSTMSRC_ERR_ARG &&
          strstr(err.msg, "std 1.4013e-45"));
    unlink(path);
    rmdir(dir);
    lstmsrc_model_free(m);
}

int main(void)
{
    RUN(test_export_names_unique);
    RUN(test_csv_messages);
    RUN(test_tuned_thresholds_in_range);
    RUN(test_subnormal_std_refused);
    RUN(test_diff_overflow_located);
    RUN(test_nonfinite_loss_stops);
    return test_report("test_seams");
}
