/* core/outfile.c - writing the files bplab is given paths for (rules in
 * outfile.h). */
#include "core/outfile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"

/* Longest chain of symbolic links followed (Linux's own limit). */
#define MAX_LINKS 40
/* "<name>.tmp." then this many characters: a writer's temporary. */
#define TMP_SUFFIX ".tmp."
#define TMP_RANDOM 6

typedef enum out_kind {
    OUT_REPLACE, /* a regular file or a new one: atomic replace */
    OUT_FD,      /* a descriptor this process already holds */
    OUT_OPEN     /* a FIFO, device or socket: opened and written in place */
} out_kind;

typedef struct out_target {
    out_kind kind;
    int fd;       /* OUT_FD */
    char *path;   /* OUT_REPLACE, OUT_OPEN: the file at the end of the links */
} out_target;

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = bp_alloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* The descriptor a path names by itself: "-", /dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N; -1 for any other path. */
static int named_fd(const char *p)
{
    if (strcmp(p, "-") == 0 || strcmp(p, "/dev/stdout") == 0)
        return 1;
    if (strcmp(p, "/dev/stderr") == 0)
        return 2;
    const char *n = NULL;
    if (strncmp(p, "/dev/fd/", 8) == 0)
        n = p + 8;
    else if (strncmp(p, "/proc/self/fd/", 14) == 0)
        n = p + 14;
    if (!n || !*n || strlen(n) > 9)
        return -1;
    for (const char *c = n; *c; c++)
        if (!isdigit((unsigned char)*c))
            return -1;
    return atoi(n);
}

/* Follow `path` to what it names. `shown` is the path as the user gave it,
 * for messages. */
static bp_status resolve(const char *path, out_target *t, bp_err *err)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    char *cur = dup_str(path);
    if (!cur)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory");
    for (int hops = 0;; hops++) {
        int fd = named_fd(cur);
        if (fd >= 0) {
            bp_free(cur);
            t->kind = OUT_FD;
            t->fd = fd;
            return BP_OK;
        }
        struct stat st;
        if (lstat(cur, &st) != 0) {
            if (errno == ENOENT) { /* a new file (its folder is checked
                                      when it is created) */
                t->kind = OUT_REPLACE;
                t->path = cur;
                return BP_OK;
            }
            bp_status s = bp_fail(err, BP_ERR_IO, "%s: cannot write: %s", path,
                                  strerror(errno));
            bp_free(cur);
            return s;
        }
        if (S_ISLNK(st.st_mode)) {
            if (hops == MAX_LINKS) {
                bp_free(cur);
                return bp_fail(err, BP_ERR_IO, "%s: cannot write: %s", path,
                               strerror(ELOOP));
            }
            size_t cap = (size_t)(st.st_size > 0 ? st.st_size : 255) + 1;
            char *link = bp_alloc(cap + 1);
            if (!link) {
                bp_free(cur);
                return bp_fail(err, BP_ERR_NOMEM, "out of memory");
            }
            ssize_t n = readlink(cur, link, cap);
            if (n < 0 || (size_t)n >= cap) { /* gone or grown meanwhile */
                int e = n < 0 ? errno : EAGAIN;
                bp_free(link);
                bp_free(cur);
                return bp_fail(err, BP_ERR_IO, "%s: cannot follow the link: %s",
                               path, strerror(e));
            }
            link[n] = '\0';
            char *next;
            if (link[0] == '/') {
                next = link;
            } else { /* relative to the folder holding the link */
                const char *slash = strrchr(cur, '/');
                size_t dlen = slash ? (size_t)(slash - cur) + 1 : 0;
                next = bp_alloc(dlen + (size_t)n + 1);
                if (next) {
                    memcpy(next, cur, dlen);
                    memcpy(next + dlen, link, (size_t)n + 1);
                }
                bp_free(link);
                if (!next) {
                    bp_free(cur);
                    return bp_fail(err, BP_ERR_NOMEM, "out of memory");
                }
            }
            bp_free(cur);
            cur = next;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            bp_free(cur);
            return bp_fail(err, BP_ERR_IO, "%s: is a directory", path);
        }
        t->kind = S_ISREG(st.st_mode) ? OUT_REPLACE : OUT_OPEN;
        t->path = cur;
        return BP_OK;
    }
}

static int write_all(int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size) {
        ssize_t w = write(fd, p, size);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += w;
        size -= (size_t)w;
    }
    return 0;
}

static bp_status write_fd(int fd, const char *shown, const void *data,
                          size_t size, bp_err *err)
{
    /* what stdio holds for the same descriptor goes first */
    if (fd == 1)
        fflush(stdout);
    else if (fd == 2)
        fflush(stderr);
    int e = write_all(fd, data, size);
    if (e)
        return bp_fail(err, BP_ERR_IO, "%s: cannot write: %s", shown,
                       strerror(e));
    return BP_OK;
}

/* ---------------------------------------------------------------------- */
/* Atomic replace                                                          */

static void random_suffix(char out[TMP_RANDOM + 1])
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static _Atomic uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* splitmix64 of (pid, time, a per-process count): unique enough that
     * O_EXCL almost never has to retry */
    uint64_t z = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^
                 ((uint64_t)ts.tv_sec << 20) ^ (++counter * 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (int i = 0; i < TMP_RANDOM; i++, z /= 62)
        out[i] = abc[z % 62];
    out[TMP_RANDOM] = '\0';
}

/* Remove the temporaries of <dir>/<base> that dead writers left: a live
 * writer holds the lock on its own until its rename, so a temporary whose
 * lock can be taken belongs to nobody. */
static void remove_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t blen = strlen(base), plen = blen + strlen(TMP_SUFFIX);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strlen(n) != plen + TMP_RANDOM || strncmp(n, base, blen) != 0 ||
            strncmp(n + blen, TMP_SUFFIX, plen - blen) != 0)
            continue;
        int fd = openat(dirfd(d), n, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                         O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat a, b;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 &&
            S_ISREG(a.st_mode) && fstatat(dirfd(d), n, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            unlinkat(dirfd(d), n, 0);
        close(fd);
    }
    closedir(d);
}

static bp_status replace(const char *target, const char *shown,
                         const void *data, size_t size, bp_err *err)
{
    size_t len = strlen(target);
    char *tmp = bp_alloc(len + strlen(TMP_SUFFIX) + TMP_RANDOM + 1);
    char *dir = bp_alloc(len + 2);
    bp_status s = BP_OK;
    int fd = -1;
    if (!tmp || !dir) {
        s = bp_fail(err, BP_ERR_NOMEM, "out of memory");
        goto done;
    }
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    if (!slash)
        strcpy(dir, ".");
    else if (slash == target)
        strcpy(dir, "/");
    else {
        memcpy(dir, target, (size_t)(slash - target));
        dir[slash - target] = '\0';
    }
    remove_stale(dir, base);
    for (int attempt = 0; fd < 0; attempt++) {
        char r[TMP_RANDOM + 1];
        random_suffix(r);
        sprintf(tmp, "%s" TMP_SUFFIX "%s", target, r);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            if (errno == EEXIST && attempt < 100)
                continue;
            s = bp_fail(err, BP_ERR_IO, "%s: cannot create: %s", shown,
                        strerror(errno));
            goto done;
        }
        /* Locked before anything is written. Another writer's clean-up may
         * have taken the lock first and removed the name (between open and
         * flock): then the file has no link left, and we start over. */
        struct stat st;
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
            ;
        if (fstat(fd, &st) != 0 || st.st_nlink == 0) {
            close(fd);
            fd = -1;
            if (attempt >= 100) {
                s = bp_fail(err, BP_ERR_IO, "%s: cannot create a temporary",
                            shown);
                goto done;
            }
        }
    }
    int e = write_all(fd, data, size);
    if (e)
        s = bp_fail(err, BP_ERR_IO, "%s: cannot write: %s", shown, strerror(e));
    if (s == BP_OK && fsync(fd) != 0)
        s = bp_fail(err, BP_ERR_IO, "%s: cannot sync: %s", shown,
                    strerror(errno));
    /* renamed while still locked, so no clean-up can take it for stale */
    if (s == BP_OK && rename(tmp, target) != 0)
        s = bp_fail(err, BP_ERR_IO, "%s: cannot replace: %s", shown,
                    strerror(errno));
    if (s != BP_OK)
        unlink(tmp);
    if (close(fd) != 0 && s == BP_OK)
        s = bp_fail(err, BP_ERR_IO, "%s: cannot close: %s", shown,
                    strerror(errno));
    if (s == BP_OK) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
done:
    bp_free(tmp);
    bp_free(dir);
    return s;
}

/* ---------------------------------------------------------------------- */
/* One-shot writes and checks                                              */

static bp_status open_in_place(const char *target, const char *shown, int *fd,
                               bp_err *err)
{
    /* no O_TRUNC: a FIFO or a device is written, never emptied */
    *fd = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (*fd < 0)
        return bp_fail(err, BP_ERR_IO, "%s: cannot open for writing: %s",
                       shown, strerror(errno));
    return BP_OK;
}

bp_status bp_write_file(const char *path, const void *data, size_t size,
                        bp_err *err)
{
    out_target t;
    bp_status s = resolve(path, &t, err);
    if (s != BP_OK)
        return s;
    int fd = -1;
    switch (t.kind) {
    case OUT_FD:
        s = write_fd(t.fd, path, data, size, err);
        break;
    case OUT_OPEN:
        if ((s = open_in_place(t.path, path, &fd, err)) == BP_OK) {
            s = write_fd(fd, path, data, size, err);
            close(fd);
        }
        break;
    case OUT_REPLACE:
        s = replace(t.path, path, data, size, err);
        break;
    }
    bp_free(t.path);
    return s;
}

bp_status bp_output_check(const char *path, bp_err *err)
{
    out_target t;
    bp_status s = resolve(path, &t, err);
    if (s != BP_OK)
        return s;
    if (t.kind == OUT_FD && fcntl(t.fd, F_GETFL) < 0) {
        s = bp_fail(err, BP_ERR_IO, "%s: descriptor %d is not open", path,
                    t.fd);
    } else if (t.kind == OUT_OPEN && access(t.path, W_OK) != 0) {
        s = bp_fail(err, BP_ERR_IO, "%s: cannot open for writing: %s", path,
                    strerror(errno));
    } else if (t.kind == OUT_REPLACE) {
        char *slash = strrchr(t.path, '/');
        const char *dir = ".";
        if (slash == t.path)
            dir = "/";
        else if (slash)
            *slash = '\0', dir = t.path;
        struct stat st;
        int e = 0;
        if (stat(dir, &st) != 0)
            e = errno;
        else if (!S_ISDIR(st.st_mode))
            e = ENOTDIR;
        else if (access(dir, W_OK) != 0)
            e = errno;
        if (e)
            s = bp_fail(err, BP_ERR_IO, "%s: cannot create: %s", path,
                        strerror(e));
    }
    bp_free(t.path);
    return s;
}

bool bp_output_in_place(const char *path, int *fd)
{
    out_target t;
    *fd = -1;
    if (resolve(path, &t, NULL) != BP_OK)
        return false;
    bp_free(t.path);
    *fd = t.kind == OUT_FD ? t.fd : -1;
    return t.kind != OUT_REPLACE;
}

/* ---------------------------------------------------------------------- */
/* Growing files                                                           */

struct bp_outfile {
    char *shown;  /* the path as given */
    out_target t;
    int fd;       /* OUT_OPEN: opened at the first write */
    size_t sent;  /* streams: bytes already written */
};

bp_status bp_outfile_open(const char *path, bp_outfile **out, bp_err *err)
{
    *out = NULL;
    bp_outfile *f = bp_alloc_zero(sizeof *f);
    if (!f || !(f->shown = dup_str(path))) {
        bp_free(f);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory");
    }
    f->fd = -1;
    bp_status s = resolve(path, &f->t, err);
    if (s != BP_OK) {
        bp_free(f->shown);
        bp_free(f);
        return s;
    }
    *out = f;
    return BP_OK;
}

bp_status bp_outfile_write(bp_outfile *f, const void *data, size_t size,
                           bp_err *err)
{
    if (f->t.kind == OUT_REPLACE)
        return replace(f->t.path, f->shown, data, size, err);
    if (size < f->sent)
        return bp_fail(err, BP_ERR_IO, "%s: cannot take back what a stream "
                                       "was sent", f->shown);
    int fd = f->t.fd;
    if (f->t.kind == OUT_OPEN) {
        if (f->fd < 0) {
            bp_status s = open_in_place(f->t.path, f->shown, &f->fd, err);
            if (s != BP_OK)
                return s;
        }
        fd = f->fd;
    }
    bp_status s = write_fd(fd, f->shown, (const char *)data + f->sent,
                           size - f->sent, err);
    if (s == BP_OK)
        f->sent = size;
    return s;
}

bp_status bp_outfile_close(bp_outfile *f, bp_err *err)
{
    if (!f)
        return BP_OK;
    bp_status s = BP_OK;
    if (f->fd >= 0 && close(f->fd) != 0)
        s = bp_fail(err, BP_ERR_IO, "%s: cannot close: %s", f->shown,
                    strerror(errno));
    bp_free(f->t.path);
    bp_free(f->shown);
    bp_free(f);
    return s;
}
