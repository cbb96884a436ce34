/* tests/fuzz/fuzz_util.h - helpers for the libFuzzer targets: the loaders
 * take paths, so a fuzz input becomes an in-memory file (memfd) reached
 * through /proc/self/fd. */
#ifndef BPLAB_FUZZ_UTIL_H
#define BPLAB_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct memfile {
    int fd;
    char path[64];
} memfile;

static inline int memfile_open(memfile *m, const uint8_t *data, size_t size)
{
    m->fd = memfd_create("bplab-fuzz", 0);
    if (m->fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(m->fd, data + off, size - off);
        if (w <= 0) {
            close(m->fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(m->path, sizeof m->path, "/proc/self/fd/%d", m->fd);
    return 0;
}

static inline void memfile_close(memfile *m)
{
    close(m->fd);
}

#endif
