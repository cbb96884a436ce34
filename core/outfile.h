/* core/outfile.h - how bplab writes a file it was given a path for.
 *
 * Every file bplab or an experiment writes (checkpoints, metrics, tables,
 * plots, provenance) goes through here, and the path decides how:
 *
 *   "-"                      standard output (fd 1)
 *   /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N
 *                            that descriptor of this process, written
 *                            where it stands (a shell's `> log` keeps
 *                            working)
 *   a symbolic link          followed (up to 40 links, dangling ones too);
 *                            the rules below apply to what it points at,
 *                            and the link itself is left as it was
 *   a regular file, or none  replaced atomically: the data goes to a
 *                            temporary of its own in the same folder
 *                            (<name>.tmp.XXXXXX), is synced, and is
 *                            renamed over the name, so a reader sees the
 *                            old file or the new one, never a mix; two
 *                            writers of one path each finish with a
 *                            complete file (the last rename wins)
 *   a FIFO, a device, ...    opened and written in place (never replaced,
 *                            never truncated)
 *   a directory              an error
 *
 * A writer killed half-way leaves its temporary behind; the next write of
 * the same path removes it. A temporary is locked (flock) while it is
 * written, so only those of dead writers are removed, never the one a
 * concurrent writer is filling.
 *
 * A write error (ENOSPC on /dev/full, EPIPE, a full disk) is a BP_ERR_IO
 * naming the path and the reason.
 */
#ifndef BPLAB_OUTFILE_H
#define BPLAB_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* Write `size` bytes as the whole content of `path` by the rules above. */
bp_status bp_write_file(const char *path, const void *data, size_t size,
                        bp_err *err);

/* Check before a long run that `path` can be written: not a directory, a
 * folder that exists and is writable for a file to be replaced, a target
 * that is writable for one written in place. Creates nothing. */
bp_status bp_output_check(const char *path, bp_err *err);

/* True when `path` is written where it stands (standard output, a
 * descriptor, a FIFO or a device) rather than replaced. Sets *fd to the
 * inherited descriptor it names, or -1 when it is opened by name. */
bool bp_output_in_place(const char *path, int *fd);

/* A file that is written again and again as it grows (the metrics CSV,
 * rewritten after every epoch). A replaced file gets the whole content
 * each time; a stream (standard output, a FIFO, a device) gets only what
 * follows the part it has already been sent, so a reader of a pipe sees
 * each row once. The content must therefore only grow. The stream is
 * opened at the first write and stays open until bp_outfile_close. */
typedef struct bp_outfile bp_outfile;

bp_status bp_outfile_open(const char *path, bp_outfile **out, bp_err *err);
bp_status bp_outfile_write(bp_outfile *f, const void *data, size_t size,
                           bp_err *err);
/* Close; reports a failure of the final close. NULL is a no-op. */
bp_status bp_outfile_close(bp_outfile *f, bp_err *err);

#endif
