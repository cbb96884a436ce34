/* core/prof.h - where the time of a run goes: a profiling kernel table.
 *
 * A profiler wraps a kernel table: its table has one wrapper per entry of
 * kernels/kernel_list.h (generated from that list, so a new kernel cannot
 * be missed) that reads the monotonic clock, calls the wrapped table's
 * entry, reads the clock again and records the call: which kernel, its
 * shape (from which its flops and bytes follow), the calling thread, and
 * where in the run it was made. A run profiles by computing in a context
 * whose table is the profiler's (bp_ctx_profile); the network, optimizer
 * and trainer do not change, and a run without a profiler runs the plain
 * table with nothing in between.
 *
 * Where a call was made comes from marks: the network marks the layer and
 * the pass (forward, loss, backward, update) before it runs each layer,
 * the trainer marks each training step and epoch, and an evaluation marks
 * itself. The marks go through the context (bp_prof_at and friends are
 * no-ops without a profiler), and are made on the thread that runs the
 * network, outside parallel regions; kernel calls inside a parallel
 * region read them.
 *
 * Recording never allocates and takes no lock: each thread of the context
 * has its own counters (calls, nanoseconds, flops and bytes per kernel,
 * layer, pass and scope; a log2 histogram per kernel for the median). The
 * wall time of calls made on several threads at once is the busiest
 * thread's. A trace (bp_prof_opts.trace_steps > 0) also keeps every call
 * of the first steps as an event, for bp_prof_write_trace.
 *
 * The wrappers find the profiler through one process-wide pointer (a
 * function pointer carries no data), so one profiler records at a time:
 * a second bp_prof_create fails until the first is destroyed.
 */
#ifndef BPLAB_PROF_H
#define BPLAB_PROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/ctx.h"
#include "core/status.h"

struct bp_net;

typedef enum bp_pass {
    BP_PASS_FORWARD,
    BP_PASS_LOSS,
    BP_PASS_BACKWARD,
    BP_PASS_UPDATE,
    BP_PASS_COUNT
} bp_pass;

typedef struct bp_prof_opts {
    int threads;        /* threads of the context it will serve */
    size_t layers;      /* layers of the network (marks 0 .. layers-1) */
    size_t trace_steps; /* keep every call as a trace event until N
                           training steps have ended (a run without
                           steps, such as bplab eval: all of it, up to
                           the buffer); 0: no trace */
    bool counters;      /* try hardware counters (perf_event_open) */
} bp_prof_opts;

/* A profiler of table `inner`. Calibrates at once (about 0.2 s): the FMA
 * peak of one thread on the best table this CPU runs, the copy bandwidth
 * of one thread at four working-set sizes, and the cost of timing a call.
 * BP_ERR_INVALID_ARG when another profiler is live, BP_ERR_NOMEM. */
bp_status bp_prof_create(const bp_kernels *inner, const bp_prof_opts *o,
                         bp_prof **out, bp_err *err);
void bp_prof_destroy(bp_prof *p);

/* Its table: the wrappers, with inner's ISA and impl[]. */
const bp_kernels *bp_prof_table(const bp_prof *p);

/* Let context c (not yet computing) run through a new profiler of its
 * table and threads (o->threads is taken from c): c->k becomes the
 * profiler's table and c owns it (bp_ctx_destroy frees it). Fails as
 * bp_prof_create does, leaving c as it was. */
bp_status bp_ctx_profile(bp_ctx *c, const bp_prof_opts *o, bp_err *err);

/* Marks (the hooks below call them only when the context has a profiler). */
void bp_prof_mark(bp_prof *p, long layer, bp_pass pass);
void bp_prof_step(bp_prof *p, bool begin);
void bp_prof_epoch(bp_prof *p, bool begin, unsigned long long epoch);
void bp_prof_eval(bp_prof *p, bool begin);
void bp_prof_gather(bp_prof *p, bool begin);

/* Layer `layer` (-1: none, as for the loss and the updates of biases)
 * starts pass `pass`. */
static inline void bp_prof_at(const bp_ctx *c, long layer, bp_pass pass)
{
    if (c->prof)
        bp_prof_mark(c->prof, layer, pass);
}

/* A training step, an epoch (from 1), an evaluation pass begins or ends. */
static inline void bp_prof_step_mark(const bp_ctx *c, bool begin)
{
    if (c->prof)
        bp_prof_step(c->prof, begin);
}
static inline void bp_prof_epoch_mark(const bp_ctx *c, bool begin,
                                      unsigned long long epoch)
{
    if (c->prof)
        bp_prof_epoch(c->prof, begin, epoch);
}
static inline void bp_prof_eval_mark(const bp_ctx *c, bool begin)
{
    if (c->prof)
        bp_prof_eval(c->prof, begin);
}
/* The trainer gathers a step's batch (no kernel: timed apart). */
static inline void bp_prof_gather_mark(const bp_ctx *c, bool begin)
{
    if (c->prof)
        bp_prof_gather(c->prof, begin);
}

/* The profile as text: the calibration, then per scope (training steps,
 * evaluation) a table per kernel and a table per layer and pass. `net`
 * names the layers (NULL: a profiler of no layers). */
void bp_prof_report(const bp_prof *p, const struct bp_net *net, FILE *out);

/* The recorded events as a Chrome trace (JSON, the trace-event format
 * Perfetto and chrome://tracing open) to `path` (core/outfile.h rules).
 * Fails with BP_ERR_IO naming the path, or BP_ERR_INVALID_ARG when the
 * profiler keeps no trace. */
bp_status bp_prof_write_trace(const bp_prof *p, const struct bp_net *net,
                              const char *path, bp_err *err);

/* Counts for tests: kernel calls recorded (all scopes), trace events kept
 * and dropped (a full buffer), and the time in training steps and in
 * kernels within them (ns; the busiest thread's). */
typedef struct bp_prof_totals {
    unsigned long long calls, events, dropped, steps;
    double step_ns, kernel_ns;
} bp_prof_totals;
void bp_prof_get_totals(const bp_prof *p, bp_prof_totals *t);

#endif
