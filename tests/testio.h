/*
 * testio.h — what the file-format tests and the model-loader fuzz target share: a bitwise CRC-32
 * (independent of the library's table), little-endian byte editing, re-sealing an edited file's
 * checksum, reading and writing whole files, and counting or emptying a scratch directory.
 * Header-only (static inline), so each test stays one translation unit.
 */
#ifndef LSTMSRC_TESTIO_H
#define LSTMSRC_TESTIO_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* zlib's CRC-32, one bit at a time. */
static inline uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static inline void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void put32(unsigned char *p, uint32_t v)
{
    put_le(p, v, 4);
}
static inline void put64(unsigned char *p, uint64_t v)
{
    put_le(p, v, 8);
}
static inline uint32_t get32(const unsigned char *p)
{
    return (uint32_t)get_le(p, 4);
}

/* Rewrites the trailing CRC so a deliberate edit passes the checksum. */
static inline void fix_crc(unsigned char *b, size_t n)
{
    put_le(b + n - 4, crc_bitwise(b, n - 4), 4);
}

/* The whole file (NULL if unreadable); *len its size. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    unsigned char *buf = NULL;
    long n = -1;
    if (fseek(fp, 0, SEEK_END) == 0) n = ftell(fp);
    if (n >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
        fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *len = n > 0 ? (size_t)n : 0;
    return buf;
}

static inline int spit(const char *path, const unsigned char *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    int ok = fwrite(b, 1, n, fp) == n;
    return fclose(fp) == 0 && ok;
}

/* Entries in dir (excluding . and ..), to prove failures leave no temporary files; -1 if
 * unreadable. */
static inline int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Removes what dir holds (files and empty directories), not dir itself. */
static inline void clean_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char p[512];
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0) rmdir(p);
    }
    closedir(d);
}

#endif
