/*
 * train_says.c — what `lstmsrc train` says from the data doctor on stderr: before training,
 * lstmsrc_doctor's findings that bear on this run, one line each in the doctor's own words;
 * after training, a warning per source the validation windows never saw on
 * (lstmsrc_validation_support). Only the wording lives here; the analysis is the library's.
 */
#include <stdio.h>

#include "cli.h"

/* the labels `lstmsrc doctor` prints */
static const char *sev_label(enum lstmsrc_severity s)
{
    return s == LSTMSRC_SEVERITY_PROBLEM ? "PROBLEM" : s == LSTMSRC_SEVERITY_WARN ? "WARN" : "note";
}

int train_say_findings(const char *cmd, const struct lstmsrc_report *r,
                       const struct lstmsrc_train_config *cfg)
{
    struct lstmsrc_train_config def;
    lstmsrc_train_config_default(&def);
    int said = 0;
    for (int i = 0; i < r->n_findings; i++) {
        const struct lstmsrc_finding *f = &r->findings[i];
        int say = f->severity == LSTMSRC_SEVERITY_PROBLEM;
        /* a step the first difference cannot hold: training stops on it with its own located
         * error when the channel is used, and it does not matter without the channel */
        if (f->code == LSTMSRC_FINDING_OVERFLOW) say = 0;
        /* the doctor examines the default validation part: its finding holds for this run
         * only when the run keeps that fraction (else train said which --val it took) */
        if (f->code == LSTMSRC_FINDING_VALIDATION) say = cfg->val_fraction == def.val_fraction;
        if (!say) continue;
        fprintf(stderr, "lstmsrc: %s: %s %s: %s", cmd, sev_label(f->severity),
                lstmsrc_finding_code_str(f->code), f->message);
        if (f->advice && f->advice[0]) fprintf(stderr, " -> %s", f->advice);
        fputc('\n', stderr);
        said++;
    }
    return said;
}

int train_say_validation(const char *cmd, const struct lstmsrc_model *m,
                         const struct lstmsrc_dataset *ds, const struct lstmsrc_train_config *cfg)
{
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    if (info.task != LSTMSRC_TASK_MULTILABEL) return 0;
    size_t on[LSTMSRC_MAX_CLASSES], train_on[LSTMSRC_MAX_CLASSES], windows = 0;
    if (lstmsrc_validation_support(m, ds, on, train_on, &windows, NULL) || windows == 0) return 0;
    int said = 0;
    for (int j = 0; j < info.outputs; j++) {
        if (on[j]) continue;
        said++;
        if (!train_on[j]) {
            fprintf(stderr,
                    "lstmsrc: %s: warning: \"%s\" is never on, in the training or the "
                    "validation windows: the model learned nothing about it\n",
                    cmd, info.output_names[j]);
            continue;
        }
        fprintf(stderr,
                "lstmsrc: %s: warning: \"%s\" is never on in the validation part (%zu windows "
                "from row %llu on): ",
                cmd, info.output_names[j], windows, (unsigned long long)info.rows_train + 1);
        if (cfg->tune_thresholds)
            fprintf(stderr,
                    "its threshold %.3f was tuned on the training windows instead "
                    "(in-sample: likely too high), ",
                    (double)info.thresholds[j]);
        if (cfg->tune_durations) fprintf(stderr, "its minimum durations stayed 1/1, ");
        fprintf(stderr, "its validation F1 is 0 whatever the model does (and so is its share "
                        "of the validation macro F1), and early stopping could not see it; use "
                        "a larger --val, or data whose last part has it on\n");
    }
    return said;
}
