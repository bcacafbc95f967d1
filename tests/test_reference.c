/*
 * test_reference.c — the model against PyTorch (llm.c test_gpt2.c style, failing through the exit
 * code). tests/ref/make_ref.py builds nn.LSTM(num_layers=2) + nn.Linear with set weights and
 * writes inputs, logits, loss, every gradient in our flat layout, the losses over 5 Adam steps
 * and the final parameters, with and without clip_grad_norm_. The fixtures are committed, so this
 * test needs no Python. One training step here is what training does: zero the grads, forward,
 * loss (mean: BCE norm 1/(B*K), CE norm 1/B), backward, optional clipping, adam_step(t).
 * The gradients are also checked through the fused model_train_step that training runs.
 *
 * Bidirectional fixtures (ref_bi*.txt, records dirs = 2 and label_offset): 1 or 2 layers, the top
 * one nn.LSTM(bidirectional=True) with the head nn.Linear(2H, K) on its output at the labelled row
 * (centred or last), both losses; the reverse direction maps to wr/br (see make_ref.py).
 *
 * Tolerances, |got - want| <= atol + rtol*|want| per element:
 *   forward (logits, loss)          rtol 1e-5, atol 1e-6
 *   gradients                       rtol 1e-4, atol 1e-7 (float sums in another order; the
 *                                   largest gradients are ~0.3, the smallest ~1e-6)
 *   losses after Adam steps         rtol 1e-5, atol 1e-6
 *   parameters after 5 Adam steps   rtol 0,    atol 2e-6 (each step moves a parameter by ~lr =
 *                                   1e-2 whatever its gradient's size, so errors are absolute)
 * Measured (gcc, own GEMM and OpenBLAS alike), unidirectional / bidirectional fixtures: logits
 * 2.9e-8 / 9.1e-8, loss 1.2e-7 / 2.3e-7, grads 1.7e-8 / 4.1e-8 absolute, losses over the steps
 * 2.4e-7 / 2.3e-7, parameters after 5 steps 2.5e-6 / 4.8e-7.
 */
#include <stdint.h>
#include <string.h>

#include "nn/head.h"
#include "nn/kernels.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "test.h"

#define FWD_RTOL 1e-5
#define FWD_ATOL 1e-6
#define GRAD_RTOL 1e-4
#define GRAD_ATOL 1e-7
#define STEP_RTOL 1e-5
#define STEP_ATOL 1e-6
/* Adam divides each gradient by its own running RMS, so a gradient of 1e-8 that differs in the
 * last bits moves its parameter as far as a large one; with our polynomial activations (absolute
 * error ~1e-7) parameters after 5 steps at lr 1e-2 differ from torch's by up to ~3e-6. 1e-5 is
 * still 80x below the smallest shift that clipping causes, which the test also asserts. */
#define PARAM_ATOL 1e-5
#define STEPS 5

/* ============================== fixture reader ============================== */

/* One record "name count v1 ... v_count". */
struct rec {
    char name[32];
    size_t n;
    double *v; /* (n) */
};

struct fixture {
    struct rec r[32];
    int nrec;
};

static void fixture_free(struct fixture *fx)
{
    for (int i = 0; i < fx->nrec; i++)
        free(fx->r[i].v);
    fx->nrec = 0;
}

/* Reads the whole file; returns 1 on success, 0 (with a message) on any malformed record. */
static int fixture_load(const char *path, struct fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "%s: cannot open (run from the repository root)\n", path);
        return 0;
    }
    char *buf = NULL;
    long len = -1;
    if (fseek(fp, 0, SEEK_END) == 0) len = ftell(fp);
    if (len >= 0 && fseek(fp, 0, SEEK_SET) == 0) buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len) {
        fprintf(stderr, "%s: read failed\n", path);
        free(buf);
        fclose(fp);
        return 0;
    }
    fclose(fp);
    buf[len] = '\0';

    int ok = 1;
    char *p = buf;
    while (ok && *p) {
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
            p++;
        if (!*p) break;
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (fx->nrec == (int)(sizeof fx->r / sizeof fx->r[0])) {
            fprintf(stderr, "%s: too many records\n", path);
            ok = 0;
            break;
        }
        struct rec *r = &fx->r[fx->nrec];
        size_t k = 0;
        while (*p && *p != ' ' && *p != '\n' && k + 1 < sizeof r->name)
            r->name[k++] = *p++;
        r->name[k] = '\0';
        char *end;
        long n = strtol(p, &end, 10);
        if (end == p || n < 1 || n > 100000) {
            fprintf(stderr, "%s: record '%s': bad count\n", path, r->name);
            ok = 0;
            break;
        }
        p = end;
        r->n = (size_t)n;
        r->v = malloc(r->n * sizeof *r->v);
        if (!r->v) {
            ok = 0;
            break;
        }
        fx->nrec++;
        for (size_t i = 0; i < r->n; i++) {
            r->v[i] = strtod(p, &end);
            if (end == p) {
                fprintf(stderr, "%s: record '%s': value %zu of %zu missing\n", path, r->name, i + 1,
                        r->n);
                ok = 0;
                break;
            }
            p = end;
        }
        while (ok && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        if (ok && *p && *p != '\n') {
            fprintf(stderr, "%s: record '%s': more values than its count\n", path, r->name);
            ok = 0;
        }
    }
    free(buf);
    if (!ok) fixture_free(fx);
    return ok;
}

/* The record `name`, which must hold exactly n values (n = 0: any count); NULL otherwise. */
static const struct rec *fx_get(const struct fixture *fx, const char *name, size_t n)
{
    for (int i = 0; i < fx->nrec; i++) {
        if (strcmp(fx->r[i].name, name) != 0) continue;
        if (n && fx->r[i].n != n) {
            fprintf(stderr, "fixture record '%s' has %zu values, expected %zu\n", name, fx->r[i].n,
                    n);
            return NULL;
        }
        return &fx->r[i];
    }
    fprintf(stderr, "fixture record '%s' missing\n", name);
    return NULL;
}

static int fx_int(const struct fixture *fx, const char *name)
{
    const struct rec *r = fx_get(fx, name, 1);
    return r ? (int)r->v[0] : -1;
}

/* An optional one-value record: its value, def when absent, -1 when present with another count. */
static int fx_int_or(const struct fixture *fx, const char *name, int def)
{
    for (int i = 0; i < fx->nrec; i++)
        if (strcmp(fx->r[i].name, name) == 0) return fx_int(fx, name);
    return def;
}

/* ============================== comparison ============================== */

/* Counts elements with |got - want| > atol + rtol*|want|, prints the first few and the maxima. */
static size_t compare(const char *what, const float *got, const double *want, size_t n, double rtol,
                      double atol)
{
    size_t bad = 0;
    double max_abs = 0.0, max_rel = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        double rel = d / (fabs(want[i]) > 1e-12 ? fabs(want[i]) : 1e-12);
        if (d > max_abs) max_abs = d;
        if (fabs(want[i]) > 1e-4 && rel > max_rel) max_rel = rel;
        if (!(d <= atol + rtol * fabs(want[i]))) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: got %.9g, torch %.9g, |diff| %.3g\n", what, i,
                        (double)got[i], want[i], d);
            bad++;
        }
    }
    printf("  %-24s n=%-4zu max |diff| %.3g  max rel (|ref|>1e-4) %.3g  %s\n", what, n, max_abs,
           max_rel, bad ? "MISMATCH" : "ok");
    return bad;
}

/* ============================== one case ============================== */

struct ref_case {
    struct fixture fx;
    enum lstmsrc_task task;
    int T, B, F, H, K, L;
    int D, label_offset; /* directions of the top layer; rows from the labelled row to the last */
    struct lstmsrc_model *m;
    struct model_ws *ws;
    float *x;          /* (T, B, F) */
    float *y;          /* (B, K) multi-label targets */
    int32_t *cls;      /* (B) multi-class targets */
    float *pos_weight; /* (K) or NULL */
    float *params0;    /* (n_params) initial */
    float *grads, *dlogits, *mom, *vel;
};

static void case_free(struct ref_case *c)
{
    lstmsrc_model_free(c->m);
    model_ws_free(c->ws);
    free(c->x);
    free(c->y);
    free(c->cls);
    free(c->pos_weight);
    free(c->params0);
    free(c->grads);
    free(c->dlogits);
    free(c->mom);
    free(c->vel);
    fixture_free(&c->fx);
}

static float *to_float(const struct rec *r)
{
    float *f = malloc(r->n * sizeof *f);
    if (f)
        for (size_t i = 0; i < r->n; i++)
            f[i] = (float)r->v[i];
    return f;
}

/* Loads the fixture and builds the model; returns 0 (after failing a CHECK) if it cannot. */
static int case_open(struct ref_case *c, const char *path, enum lstmsrc_task task)
{
    memset(c, 0, sizeof *c);
    c->task = task;
    if (!fixture_load(path, &c->fx)) {
        CHECK(!"fixture loads");
        return 0;
    }
    c->T = fx_int(&c->fx, "T");
    c->B = fx_int(&c->fx, "B");
    c->F = fx_int(&c->fx, "F");
    c->H = fx_int(&c->fx, "H");
    c->K = fx_int(&c->fx, "K");
    c->L = fx_int(&c->fx, "layers");
    c->D = fx_int_or(&c->fx, "dirs", 1);
    c->label_offset = fx_int_or(&c->fx, "label_offset", 0);
    CHECK(c->T > 0 && c->B > 0 && c->F > 0 && c->H > 0 && c->K > 0 && c->L > 0);
    if (!(c->T > 0 && c->B > 0 && c->F > 0 && c->H > 0 && c->K > 0 && c->L > 0)) return 0;
    CHECK((c->D == 1 && c->label_offset == 0) || (c->D == 2 && c->label_offset >= 0));
    if (!((c->D == 1 && c->label_offset == 0) || (c->D == 2 && c->label_offset >= 0))) return 0;

    struct lstmsrc_error err;
    int multi = task == LSTMSRC_TASK_MULTILABEL;
    enum lstmsrc_status st =
        model_create(c->F, c->H, c->L, c->D, c->K, c->T, multi ? c->K : 1, task,
                     multi ? LSTMSRC_LABELS_SOURCES : LSTMSRC_LABELS_CLASS, &c->m, &err);
    CHECK(st == LSTMSRC_OK);
    if (st != LSTMSRC_OK) return 0;
    /* torch's head reads row T-1-label_offset; ours is set by the label framing, so the
     * fixture's offset must be what --label-at gives for this window */
    enum lstmsrc_label_at at = c->label_offset ? LSTMSRC_LABEL_CENTER : LSTMSRC_LABEL_LAST;
    CHECK(model_set_framing(c->m, LSTMSRC_FEATURE_RAW, at));
    CHECK(c->m->label_offset == c->label_offset);
    if (c->m->label_offset != c->label_offset) return 0;
    const size_t n = c->m->n_params;
    const size_t TBF = (size_t)c->T * c->B * c->F, BK = (size_t)c->B * c->K;
    const struct rec *px = fx_get(&c->fx, "x", TBF), *pp = fx_get(&c->fx, "params", n);
    const struct rec *py = fx_get(&c->fx, "y", multi ? BK : (size_t)c->B);
    const struct rec *pw = multi ? fx_get(&c->fx, "pos_weight", (size_t)c->K) : NULL;
    CHECK(px && pp && py && (!multi || pw));
    if (!px || !pp || !py || (multi && !pw)) return 0;

    c->ws = model_ws_create(c->m, c->B, 1);
    c->x = to_float(px);
    c->params0 = to_float(pp);
    c->grads = calloc(n, sizeof *c->grads);
    c->mom = calloc(n, sizeof *c->mom);
    c->vel = calloc(n, sizeof *c->vel);
    c->dlogits = calloc(BK, sizeof *c->dlogits);
    if (multi) {
        c->y = to_float(py);
        c->pos_weight = to_float(pw);
    } else {
        c->cls = malloc((size_t)c->B * sizeof *c->cls);
        if (c->cls)
            for (int r = 0; r < c->B; r++)
                c->cls[r] = (int32_t)py->v[r];
    }
    int ok = c->ws && c->x && c->params0 && c->grads && c->mom && c->vel && c->dlogits &&
             (multi ? c->y && c->pos_weight : c->cls != NULL);
    CHECK(ok);
    if (!ok) return 0;
    if (!multi)
        for (int r = 0; r < c->B; r++)
            CHECK(c->cls[r] >= 0 && c->cls[r] < c->K);
    memcpy(c->m->params, c->params0, n * sizeof(float));
    if (multi) /* model_train_step weighs positives with the model's own pos_weight */
        memcpy(c->m->pos_weight, c->pos_weight, (size_t)c->K * sizeof(float));
    return 1;
}

/* Mean loss of the current params; writes dlogits (scaled for the mean) and, if logits_out is
 * non-NULL, copies the logits there. */
static double case_loss(struct ref_case *c, float *logits_out)
{
    model_weights_changed(c->m); /* the params were set or stepped since the last call */
    const float *logits = model_forward(c->m, c->ws, c->x, c->B);
    const int B = c->B, K = c->K;
    if (logits_out) memcpy(logits_out, logits, (size_t)B * K * sizeof *logits_out);
    if (c->task == LSTMSRC_TASK_MULTILABEL)
        return loss_bce_logits(c->dlogits, logits, c->y, c->pos_weight, B, K,
                               1.0f / (float)(B * K)) /
               (double)(B * K);
    return loss_softmax_ce(c->dlogits, logits, c->cls, B, K, 1.0f / (float)B) / (double)B;
}

/* The training loop: from params0, STEPS Adam steps (optionally clipped). losses (STEPS+1): loss
 * after k steps; norms (STEPS): gradient norm before clipping. */
static void case_train(struct ref_case *c, float max_norm, float lr, float b1, float b2, float eps,
                       double *losses, double *norms)
{
    const size_t n = c->m->n_params;
    memcpy(c->m->params, c->params0, n * sizeof(float));
    memset(c->mom, 0, n * sizeof *c->mom);
    memset(c->vel, 0, n * sizeof *c->vel);
    for (long t = 1; t <= STEPS; t++) {
        memset(c->grads, 0, n * sizeof *c->grads);
        losses[t - 1] = case_loss(c, NULL);
        model_backward(c->m, c->ws, c->grads, c->dlogits, c->B);
        norms[t - 1] = max_norm > 0 ? clip_grad_norm(c->grads, n, max_norm) : 0.0;
        adam_step(c->m->params, c->grads, c->mom, c->vel, n, lr, b1, b2, eps, t);
    }
    losses[STEPS] = case_loss(c, NULL);
}

static void compare_doubles(const char *what, const double *got, const struct rec *want, size_t n,
                            double rtol, double atol)
{
    float g[16];
    CHECK(want != NULL && n <= 16);
    if (!want || n > 16) return;
    for (size_t i = 0; i < n; i++)
        g[i] = (float)got[i];
    /* losses are compared in float: torch reports float32 values */
    CHECK(compare(what, g, want->v, n, rtol, atol) == 0);
}

static void run_case(const char *path, enum lstmsrc_task task)
{
    struct ref_case c;
    printf("%s\n", path);
    if (!case_open(&c, path, task)) {
        case_free(&c);
        return;
    }
    const size_t n = c.m->n_params, BK = (size_t)c.B * c.K;
    const struct fixture *fx = &c.fx;

    /* forward, loss, backward */
    float logits[64];
    CHECK(BK <= 64);
    if (BK > 64) goto done;
    memset(c.grads, 0, n * sizeof *c.grads);
    double loss = case_loss(&c, logits);
    model_backward(c.m, c.ws, c.grads, c.dlogits, c.B);
    const struct rec *r;
    CHECK((r = fx_get(fx, "logits", BK)) != NULL);
    if (r) CHECK(compare("logits", logits, r->v, BK, FWD_RTOL, FWD_ATOL) == 0);
    CHECK((r = fx_get(fx, "loss", 1)) != NULL);
    if (r) compare_doubles("loss", &loss, r, 1, FWD_RTOL, FWD_ATOL);
    CHECK((r = fx_get(fx, "grads", n)) != NULL);
    if (r) {
        struct model_layout lay;
        CHECK(model_layout_fill(&lay, c.F, c.H, c.L, c.D, c.K));
        CHECK(lay.total == n);
        CHECK(compare("grads (all)", c.grads, r->v, n, GRAD_RTOL, GRAD_ATOL) == 0);
        /* per tensor, so a failure names the block */
        char name[32];
        for (int l = 0; l < c.L; l++) {
            size_t nw = lay.b[l] - lay.w[l];
            snprintf(name, sizeof name, "  grad w_%d", l);
            compare(name, c.grads + lay.w[l], r->v + lay.w[l], nw, GRAD_RTOL, GRAD_ATOL);
            snprintf(name, sizeof name, "  grad b_%d", l);
            compare(name, c.grads + lay.b[l], r->v + lay.b[l], 4 * (size_t)c.H, GRAD_RTOL,
                    GRAD_ATOL);
        }
        if (c.D == 2) {
            compare("  grad w_rev", c.grads + lay.wr, r->v + lay.wr, lay.br - lay.wr, GRAD_RTOL,
                    GRAD_ATOL);
            compare("  grad b_rev", c.grads + lay.br, r->v + lay.br, 4 * (size_t)c.H, GRAD_RTOL,
                    GRAD_ATOL);
        }
        compare("  grad wd", c.grads + lay.wd, r->v + lay.wd, lay.bd - lay.wd, GRAD_RTOL,
                GRAD_ATOL);
        compare("  grad bd", c.grads + lay.bd, r->v + lay.bd, (size_t)c.K, GRAD_RTOL, GRAD_ATOL);

        /* the fused step training runs: same loss and gradients */
        memset(c.grads, 0, n * sizeof *c.grads);
        const int multi = c.task == LSTMSRC_TASK_MULTILABEL;
        const float norm = multi ? 1.0f / (float)BK : 1.0f / (float)c.B;
        double fused = model_train_step(c.m, c.ws, c.grads, c.x, multi ? c.y : NULL,
                                        multi ? NULL : c.cls, c.B, norm) /
                       (double)(multi ? BK : (size_t)c.B);
        const struct rec *rl = fx_get(fx, "loss", 1);
        if (rl) compare_doubles("loss (train_step)", &fused, rl, 1, FWD_RTOL, FWD_ATOL);
        CHECK(compare("grads (train_step)", c.grads, r->v, n, GRAD_RTOL, GRAD_ATOL) == 0);
    }

    /* Adam, then Adam with clipping */
    const struct rec *rlr = fx_get(fx, "lr", 1), *rb1 = fx_get(fx, "beta1", 1);
    const struct rec *rb2 = fx_get(fx, "beta2", 1), *reps = fx_get(fx, "eps", 1);
    const struct rec *rmax = fx_get(fx, "max_norm", 1);
    CHECK(rlr && rb1 && rb2 && reps && rmax);
    if (!(rlr && rb1 && rb2 && reps && rmax)) goto done;
    const float lr = (float)rlr->v[0], b1 = (float)rb1->v[0], b2 = (float)rb2->v[0];
    const float eps = (float)reps->v[0];
    double losses[STEPS + 1], norms[STEPS];

    case_train(&c, 0.0f, lr, b1, b2, eps, losses, norms);
    compare_doubles("adam_losses", losses, fx_get(fx, "adam_losses", STEPS + 1), STEPS + 1,
                    STEP_RTOL, STEP_ATOL);
    const struct rec *adam_params = fx_get(fx, "adam_params", n);
    CHECK(adam_params != NULL);
    if (adam_params)
        CHECK(compare("adam_params", c.m->params, adam_params->v, n, 0.0, PARAM_ATOL) == 0);

    case_train(&c, (float)rmax->v[0], lr, b1, b2, eps, losses, norms);
    compare_doubles("clip_norms", norms, fx_get(fx, "clip_norms", STEPS), STEPS, STEP_RTOL,
                    STEP_ATOL);
    compare_doubles("clip_losses", losses, fx_get(fx, "clip_losses", STEPS + 1), STEPS + 1,
                    STEP_RTOL, STEP_ATOL);
    const struct rec *clip_params = fx_get(fx, "clip_params", n);
    CHECK(clip_params != NULL);
    if (clip_params && adam_params) {
        CHECK(compare("clip_params", c.m->params, clip_params->v, n, 0.0, PARAM_ATOL) == 0);
        /* Adam is nearly invariant to the gradient's scale, so clipping only shifts the
         * parameters a little: make sure that shift is well above the tolerance, i.e. a run
         * that forgot to clip would fail the comparison above. */
        double shift = 0.0;
        for (size_t i = 0; i < n; i++)
            shift = fmax(shift, fabs(clip_params->v[i] - adam_params->v[i]));
        printf("  clipping moves params by up to %.3g (tolerance %.3g)\n", shift, PARAM_ATOL);
        CHECK(shift > 3 * PARAM_ATOL);
    }
done:
    case_free(&c);
}

static void test_reference_multilabel(void)
{
    run_case("tests/fixtures/ref_multilabel.txt", LSTMSRC_TASK_MULTILABEL);
}

static void test_reference_multiclass(void)
{
    run_case("tests/fixtures/ref_multiclass.txt", LSTMSRC_TASK_MULTICLASS);
}

/* nn.LSTM(bidirectional=True) as the top layer, the head at the labelled row */
static void test_reference_bidirectional(void)
{
    run_case("tests/fixtures/ref_bi1_center_multilabel.txt", LSTMSRC_TASK_MULTILABEL);
    run_case("tests/fixtures/ref_bi1_last_multilabel.txt", LSTMSRC_TASK_MULTILABEL);
    run_case("tests/fixtures/ref_bi2_center_multilabel.txt", LSTMSRC_TASK_MULTILABEL);
    run_case("tests/fixtures/ref_bi2_center_multiclass.txt", LSTMSRC_TASK_MULTICLASS);
    run_case("tests/fixtures/ref_bi1_last_multiclass.txt", LSTMSRC_TASK_MULTICLASS);
}

/* The reader rejects what it cannot parse instead of reading garbage. */
static void test_fixture_reader(void)
{
    const char *path = "tests/fixtures/ref_multilabel.txt";
    struct fixture fx;
    CHECK(fixture_load(path, &fx));
    CHECK(fx_int(&fx, "T") == 4 && fx_int(&fx, "layers") == 2);
    CHECK(fx_get(&fx, "x", 1) == NULL); /* wrong count */
    CHECK(fx_get(&fx, "no_such_record", 0) == NULL);
    fixture_free(&fx);
    CHECK(!fixture_load("tests/fixtures/no_such_file.txt", &fx));
}

int main(void)
{
    RUN(test_fixture_reader);
    RUN(test_reference_multilabel);
    RUN(test_reference_multiclass);
    RUN(test_reference_bidirectional);
    return test_report("test_reference");
}
