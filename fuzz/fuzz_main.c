/*
 * fuzz_main.c — runs a libFuzzer target without libFuzzer (stb tests/fuzz_main.c): every file
 * named on the command line, every file in a named directory, or, with no arguments, the
 * target's seed directories (fuzz_seed_dirs, relative to the repository root) plus an empty
 * input. This is how `make test` replays the corpus under the ordinary and sanitizer builds.
 * A failing input aborts inside the target (or trips a sanitizer); reaching the end means every
 * input passed. Deliberately no mutation, no coverage, no timing: that is libFuzzer's job.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* NULL-terminated, defined by each target next to LLVMFuzzerTestOneInput. */
extern const char *const fuzz_seed_dirs[];

#ifndef FUZZ_NAME
#define FUZZ_NAME "fuzz"
#endif

/* Corpus files are small; anything bigger is not a seed and is refused rather than read. */
#define MAX_INPUT ((size_t)16 << 20)

static long replayed;

/* Feeds one file to the target in a buffer of exactly its size, so ASan sees reads past it.
 * Returns 0 when the file could not be read. */
static int replay_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "%s: cannot open %s\n", FUZZ_NAME, path);
        return 0;
    }
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        if (len == cap) {
            unsigned char *nb = cap < MAX_INPUT ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    int ok = buf && !ferror(fp);
    fclose(fp);
    if (!ok) {
        fprintf(stderr, "%s: cannot read %s\n", FUZZ_NAME, path);
        free(buf);
        return 0;
    }
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return 0;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    replayed++;
    return 1;
}

/* A file, or every regular file directly inside a directory. */
static int replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: no such file or directory: %s\n", FUZZ_NAME, path);
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) return replay_file(path);
    DIR *d = opendir(path);
    if (!d) return 0;
    int ok = 1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (!p) {
            ok = 0;
            break;
        }
        snprintf(p, n, "%s/%s", path, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) ok &= replay_file(p);
        free(p);
    }
    closedir(d);
    return ok;
}

int main(int argc, char **argv)
{
    int ok = 1;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            ok &= replay_path(argv[i]);
    } else {
        LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
        replayed++;
        for (int i = 0; fuzz_seed_dirs[i]; i++)
            ok &= replay_path(fuzz_seed_dirs[i]);
    }
    /* an empty corpus proves nothing: count it as a failure */
    int failed = !ok || replayed < 2;
    printf("%s replay: %ld passed, %d failed\n", FUZZ_NAME, replayed, failed);
    return failed;
}
