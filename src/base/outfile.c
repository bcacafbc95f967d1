/*
 * outfile.c — see outfile.h: temporary name, fsync, rename, directory sync; devices, FIFOs and
 * stdout written where they are.
 */
#define _POSIX_C_SOURCE 200809L
#include "base/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/binio.h"
#include "base/common.h"

enum lstmsrc_status outfile_open(struct outfile *o, const char *path, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(o && path);
    char eb[128];
    struct stat st;
    memset(o, 0, sizeof *o);
    o->path = path;
    if (!strcmp(path, "-")) {
        o->fp = stdout;
        o->is_stdout = 1;
        return LSTMSRC_OK;
    }
    const int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        if (!(o->fp = fopen(path, "wb"))) {
            int e = errno;
            return set_error(err, LSTMSRC_ERR_IO, "%s: cannot open: %s", path,
                             errno_str(e, eb, sizeof eb));
        }
        return LSTMSRC_OK;
    }
    size_t cap;
    if (!add_size(strlen(path), 48, &cap) || !(o->tmp = malloc(cap)))
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", path);
    int fd = -1;
    for (int n = 0; n < 1000; n++) {
        snprintf(o->tmp, cap, "%s.tmp.%ld.%d", path, (long)getpid(), n);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) break;
    }
    /* the file that replaces PATH keeps its permissions (a read-only model stays read-only);
     * best effort: a failure leaves the mode open() gave */
    if (fd >= 0 && exists) (void)fchmod(fd, st.st_mode & 0777);
    if (fd >= 0 && !(o->fp = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        errno = e;
        fd = -1;
    }
    if (fd < 0) {
        int e = errno;
        enum lstmsrc_status st2 = set_error(err, LSTMSRC_ERR_IO, "%s: cannot create %s: %s", path,
                                            o->tmp, errno_str(e, eb, sizeof eb));
        free(o->tmp);
        o->tmp = NULL; /* not ours: nothing to remove */
        return st2;
    }
    return LSTMSRC_OK;
}

enum lstmsrc_status outfile_probe(const char *path, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(path);
    char eb[128];
    struct stat st;
    if (!path[0]) return set_error(err, LSTMSRC_ERR_ARG, "empty file name");
    if (!strcmp(path, "-")) return LSTMSRC_OK;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return set_error(err, LSTMSRC_ERR_IO, "%s: is a directory", path);
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) return LSTMSRC_OK;
    struct outfile o;
    enum lstmsrc_status s = outfile_open(&o, path, err);
    if (s) return s;
    errno = 0;
    int e = 0;
    if (fputc('\n', o.fp) == EOF || fflush(o.fp) != 0) e = errno ? errno : EIO;
    if (fclose(o.fp) != 0 && !e) e = errno ? errno : EIO;
    o.fp = NULL;
    outfile_abort(&o);
    if (e)
        return set_error(err, LSTMSRC_ERR_IO, "%s: cannot write in its directory: %s", path,
                         errno_str(e, eb, sizeof eb));
    return LSTMSRC_OK;
}

int outfile_fd(const struct outfile *o)
{
    return fileno(o->fp);
}

/* Makes a finished rename durable; a failure here loses nothing already written. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? str_ndup(path, slash == path ? 1 : (size_t)(slash - path)) : str_dup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

enum lstmsrc_status outfile_commit(struct outfile *o, int werr, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(o && o->fp);
    char eb[128];
    const char *what = "cannot write";
    int e = werr;
    errno = 0;
    if (fflush(o->fp) != 0 || ferror(o->fp)) {
        if (!e) e = errno ? errno : -1;
    }
    if (o->is_stdout) {
        o->fp = NULL;
    } else {
        /* fsync on a device or FIFO is meaningless (EINVAL): only a temporary's is checked */
        if (fsync(fileno(o->fp)) != 0 && o->tmp && !e) e = errno;
        if (fclose(o->fp) != 0 && !e) e = errno ? errno : -1;
        o->fp = NULL;
        if (!e && o->tmp && rename(o->tmp, o->path) != 0) {
            e = errno;
            what = "cannot replace";
        }
    }
    if (e) {
        enum lstmsrc_status st =
            set_error(err, LSTMSRC_ERR_IO, "%s: %s: %s", o->is_stdout ? "stdout" : o->path, what,
                      e > 0 ? errno_str(e, eb, sizeof eb) : "write error");
        outfile_abort(o);
        return st;
    }
    if (o->tmp) {
        free(o->tmp);
        o->tmp = NULL;
        sync_parent_dir(o->path);
    }
    return LSTMSRC_OK;
}

void outfile_abort(struct outfile *o)
{
    if (!o) return;
    if (o->fp && !o->is_stdout) fclose(o->fp);
    o->fp = NULL;
    if (o->tmp) {
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
    }
}
