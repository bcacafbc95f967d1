/*
 * doctor_val.c — what the doctor can tell once a model is trained: per output, how often it was
 * on in the validation windows training held out (lstmsrc_validation_support). A source never on
 * there had its threshold tuned on training windows (in-sample), kept minimum durations 1/1,
 * and was invisible to validation F1 and early stopping; `lstmsrc train` warns about it.
 * Uses the public API only: the validation windows are the ones the model's metadata records.
 */
#include "base/common.h"
#include "nn/model.h"

/* adds 1 to on[j] for every row of first..first+count-1 where output j is on */
static void count_on(const uint8_t *y, const int32_t *cls, int k, size_t first, size_t count,
                     size_t *on)
{
    for (size_t t = first; t < first + count; t++) {
        if (y) {
            for (int j = 0; j < k; j++)
                on[j] += y[t * (size_t)k + (size_t)j] != 0;
        } else if (cls[t] >= 0 && cls[t] < k) {
            on[cls[t]]++;
        }
    }
}

enum lstmsrc_status lstmsrc_validation_support(const struct lstmsrc_model *m,
                                               const struct lstmsrc_dataset *ds, size_t *val_on,
                                               size_t *train_on, size_t *windows,
                                               struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m && ds && val_on && windows);
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    const size_t n = lstmsrc_dataset_rows(ds);
    const int k = info.outputs;
    const uint8_t *y = lstmsrc_dataset_labels_data(ds);
    const int32_t *cls = lstmsrc_dataset_classes_data(ds);
    for (int j = 0; j < k; j++)
        val_on[j] = 0;
    if (train_on)
        for (int j = 0; j < k; j++)
            train_on[j] = 0;
    *windows = 0;
    /* right after training: the trainer's own split (segments, files) */
    if (m->val_on && m->train_on && lstmsrc_dataset_outputs(ds) == k &&
        info.rows_train + info.rows_val == lstmsrc_dataset_rows(ds)) {
        for (int j = 0; j < k; j++) {
            val_on[j] = m->val_on[j];
            if (train_on) train_on[j] = m->train_on[j];
        }
        *windows = (size_t)info.windows_val;
        return LSTMSRC_OK;
    }
    if (lstmsrc_dataset_outputs(ds) != k || lstmsrc_dataset_task(ds) != info.task ||
        (info.task == LSTMSRC_TASK_MULTILABEL ? !y : !cls))
        return set_error(err, LSTMSRC_ERR_ARG, "the data set has not the model's %d %s", k,
                         info.task == LSTMSRC_TASK_MULTILABEL ? "label columns" : "classes");
    if (info.rows_train + info.rows_val != n)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "the model was trained on %llu rows, the data "
                         "set has %zu",
                         (unsigned long long)(info.rows_train + info.rows_val), n);
    if (info.seq_len < 1 || info.label_offset < 0 || info.label_offset >= info.seq_len)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "the model's label offset %d does not fit its "
                         "window of %d rows",
                         info.label_offset, info.seq_len);
    /* window w of a part starts at the part's row w; its label is the state at the row
     * label_offset before its last. Training windows: every one the training part holds (the
     * stride only thins them out). */
    const size_t lab = (size_t)(info.seq_len - 1 - info.label_offset);
    const size_t val_first = (size_t)info.rows_train + lab;
    const size_t train_windows = (size_t)info.rows_train >= (size_t)info.seq_len
                                     ? (size_t)info.rows_train - (size_t)info.seq_len + 1
                                     : 0;
    if (info.windows_val && (info.windows_val > n || val_first > n - (size_t)info.windows_val))
        return set_error(err, LSTMSRC_ERR_ARG,
                         "the model's %llu validation windows from row "
                         "%llu do not fit the data set's %zu rows",
                         (unsigned long long)info.windows_val,
                         (unsigned long long)info.rows_train + 1, n);
    count_on(y, cls, k, val_first, (size_t)info.windows_val, val_on);
    if (train_on) count_on(y, cls, k, lab, train_windows, train_on);
    *windows = (size_t)info.windows_val;
    return LSTMSRC_OK;
}
