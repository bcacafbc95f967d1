/*
 * binio.h — what the model file and the checkpoint share to write and check their bytes:
 * little-endian integers and floats regardless of the host, a resumable CRC-32 (zlib's), a write
 * loop that survives short writes, and the recorded-size check. No allocation.
 */
#ifndef LSTMSRC_BINIO_H
#define LSTMSRC_BINIO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static inline uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float bits_f32(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline uint64_t f64_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double bits_f64(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Writes all n bytes to fd, retrying short writes and EINTR; returns 0 or an errno value. */
int write_all(int fd, const unsigned char *p, size_t n);

/* Thread-safe strerror into buf (the XSI strerror_r that _POSIX_C_SOURCE selects). */
const char *errno_str(int e, char *buf, size_t cap);

/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320, as zlib's crc32), resumable: pass 0 to start,
 * then the previous result. */
uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n);

/* The model file and the checkpoint both record their total size: 0 when it equals len (the
 * bytes read), else 1 with a one-line reason naming `name` in why (truncated, or trailing data
 * or a corrupted size). */
int check_file_size(const char *name, size_t len, uint64_t file_size, char *why, size_t cap);

#endif
