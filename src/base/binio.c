/*
 * binio.c — the CRC-32 behind the model file's and the checkpoint's checksums, and the raw write
 * loop both use.
 */
#include "base/binio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (r == 0) return EIO;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

const char *errno_str(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0) snprintf(buf, cap, "error %d", e);
    return buf;
}

uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    /* four bits at a time: a 16-entry constant table is small enough to read and about four
     * times faster than bitwise */
    static const uint32_t t[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
    };
    uint32_t c = ~crc;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ t[c & 15];
        c = (c >> 4) ^ t[c & 15];
    }
    return ~c;
}

int check_file_size(const char *name, size_t len, uint64_t file_size, char *why, size_t cap)
{
    if (file_size > len)
        snprintf(why, cap, "%s: truncated: file has %zu bytes, header promises %" PRIu64, name, len,
                 file_size);
    else if (file_size < len)
        snprintf(why, cap,
                 "%s: file has %zu bytes, header promises %" PRIu64
                 " (trailing data or corrupted size)",
                 name, len, file_size);
    return file_size != len;
}
