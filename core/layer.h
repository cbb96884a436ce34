/* core/layer.h - layers as operations: the interface every layer kind
 * implements, and the one list of kinds.
 *
 * A layer kind is one file under core/layers/ exporting one bp_layer_ops
 * (KANN's op list is the model): how its token in a network spec is read
 * and written, its plan, init, forward and backward, and the named tensors
 * it exports. The network (core/net.c) walks a list of layers and never
 * asks which kind a layer is. Adding a kind: one file, one line in
 * core/layers/list.h, and its gradient check (tests/check_net.c
 * runs the generic one over every kind).
 *
 * plan() maps the input shape to the output shape and declares the
 * tensors the layer needs, in a fixed order, each with a role:
 *   BP_T_WEIGHT  trained, decayed by L1/L2, its gradient norm reported
 *                (at most one per layer: the layer's "weights");
 *   BP_T_PARAM   trained, not decayed (biases, batch-norm scale/shift);
 *   BP_T_BUFFER  saved with the model, not trained (running statistics);
 *   BP_T_ACT     per batch (sized for max_batch), kept from the forward
 *                pass to the backward one; tensor 0 is the layer's output
 *                unless the layer runs in place;
 *   BP_T_WORK    scratch for the duration of one forward or backward call
 *                (an im2col buffer), at most one per layer, one copy per
 *                thread of the network's context (bp_layer_work): every
 *                layer's points at the same block, whose copies are as
 *                large as the largest.
 * The optimizer's state follows from the trained tensors (none for SGD,
 * one float per parameter for momentum, two for Adam).
 * One layout pass (core/net.c) sums the plans to size the arenas and the
 * same pass assigns them, so the sizes and the offsets cannot disagree.
 * The parameter arena holds every WEIGHT tensor first, in layer order,
 * then every PARAM tensor, each padded to 16 floats; the optimizer walks
 * that list (bp_net.wt) and the contiguous rest.
 */
#ifndef BPLAB_LAYER_H
#define BPLAB_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "core/shape.h"
#include "core/status.h"

/* Tensors one layer may declare. */
#define BP_LAYER_TENSORS 8

typedef enum bp_role {
    BP_T_WEIGHT,
    BP_T_PARAM,
    BP_T_BUFFER,
    BP_T_ACT,
    BP_T_WORK
} bp_role;

typedef enum bp_act { BP_ACT_RELU, BP_ACT_SIGMOID, BP_ACT_TANH } bp_act;
/* dense weights: He N(0, 2/fan_in); Xavier U(+-sqrt(6/(fan_in+fan_out)));
 * uniform U(+-1/sqrt(fan_in)), the heuristic Glorot & Bengio (2010) call
 * standard; normal N(0, 0.01^2), "small random numbers"; each times the
 * gain. Recurrent layers keep their own U(+-1/sqrt(H)). */
typedef enum bp_init {
    BP_INIT_AUTO, BP_INIT_HE, BP_INIT_XAVIER, BP_INIT_UNIFORM, BP_INIT_NORMAL
} bp_init;

extern const char *const bp_act_names[];  /* "relu", "sigmoid", "tanh", NULL */
extern const char *const bp_init_names[]; /* "auto", "he", "xavier", ...  */

typedef struct bp_layer_ops bp_layer_ops;

/* One layer as a network spec names it: "dense:256", "dropout:0.2". */
typedef struct bp_layer_spec {
    const bp_layer_ops *ops;
    size_t units; /* dense, rnn, lstm: output width; conv: channels out */
    float rate;   /* dropout: the probability of dropping */
    size_t kernel, stride, pad; /* conv, maxpool: the k x k window, its
                                   step and the zero padding per side */
} bp_layer_spec;

typedef struct bp_tensor_req {
    bp_role role;
    size_t n; /* floats (SIZE_MAX: too many; the layout refuses it) */
} bp_tensor_req;

typedef struct bp_layer_plan {
    bp_shape out;
    size_t ntensors;
    bp_tensor_req t[BP_LAYER_TENSORS];
    bool in_place; /* the output overwrites the input (no tensor 0 needed;
                      the layout gives the first layer one anyway, so the
                      data is never written) */
    size_t nsteps; /* per-step gradient norms it reports (recurrent: T) */
} bp_layer_plan;

/* Weight initialisation, as the network resolves it for each layer. */
typedef struct bp_init_args {
    uint64_t seed;  /* the run's seed */
    int wl;         /* the layer's number among layers with weights: its
                       generator stream is 1000 + wl */
    bp_init rule;   /* HE or XAVIER (auto resolved by the network) */
    float gain;     /* multiplies the initial weights */
    float forget_bias; /* lstm: the forget gate's initial bias */
} bp_init_args;

/* A layer of a built network: its spec, shapes, and its tensors. */
typedef struct bp_layer {
    const bp_layer_ops *ops;
    bp_layer_spec spec;
    bp_shape in, out;
    size_t index;   /* position in the network (keys dropout masks) */
    int wl;         /* number among layers with weights, or -1 */
    size_t ntensors;
    bp_role role[BP_LAYER_TENSORS];
    size_t n[BP_LAYER_TENSORS];   /* true lengths (the arena pads them) */
    size_t off[BP_LAYER_TENSORS]; /* WEIGHT/PARAM: offset in the parameter
                                     arena; BUFFER: in the buffer arena */
    float *t[BP_LAYER_TENSORS];   /* the tensors */
    float *g[BP_LAYER_TENSORS];   /* gradients of WEIGHT/PARAM, else NULL */
    float *y;       /* the output, max_batch x size(out) */
    double *steps;  /* nsteps: ||dL/dh_t||^2 of the last backward pass */
    size_t nsteps;
    /* Fusion (net.c links them; a context with `unfused` ignores them):
     * act_after, the activation layer right after a layer whose ops
     * absorb one (ops->absorbs_act), applied by this layer's forward
     * GEMM as its epilogue; absorbed, set on that activation layer,
     * whose own forward is then skipped (and its backward, when the
     * layer's ops->absorbs_act_grad). Same bits either way.
     * pool_after, the max-pooling layer right after act_after (a ReLU)
     * when this is the network's first layer and its ops absorb that too
     * (ops->absorbs_pool): this layer's forward writes the pool's output
     * image by image, its own output only in its work tensor, and its
     * backward takes the pool's and the ReLU's backward as its own (the
     * pool's and the ReLU's passes are skipped). */
    const struct bp_layer *act_after;
    const struct bp_layer *pool_after;
    bool absorbed;
    bool unwritten; /* its output is not written while fused (the layer
                       with pool_after, and its ReLU) */
    /* BP_T_WORK: `work_copies` copies (the threads of the network's
     * context), `work_stride` floats apart, the first at its t[] */
    int work_copies;
    size_t work_stride;
} bp_layer;

/* Copy `i` (0 <= i < l->work_copies) of the layer's work tensor `t`. */
static inline float *bp_layer_work(const bp_layer *l, size_t t, int i)
{
    return l->t[t] + (size_t)i * l->work_stride;
}

/* The kernels' name for an activation (kernels.h bp_kact). */
static inline bp_kact bp_kact_of(bp_act a)
{
    switch (a) {
    case BP_ACT_RELU: return BP_KACT_RELU;
    case BP_ACT_SIGMOID: return BP_KACT_SIGMOID;
    case BP_ACT_TANH: return BP_KACT_TANH;
    }
    return BP_KACT_NONE;
}

/* The table's derivative kernel of activation a (kernels.h
 * bp_unary_bwd_fn: dx = dy * f'(y), from the output y). */
static inline bp_unary_bwd_fn *bp_act_bwd_of(const bp_kernels *k, bp_act a)
{
    return a == BP_ACT_RELU      ? k->relu_bwd
           : a == BP_ACT_SIGMOID ? k->sigmoid_bwd
                                 : k->tanh_bwd;
}

/* Does the layer's forward apply the activation after it (act_after)? */
static inline bool bp_layer_fuses_act(const bp_layer *l, const bp_ctx *c)
{
    return l->act_after && !c->unfused;
}

/* A named view of a tensor for export ("dense.weight", 2-D in x out). */
typedef struct bp_tensor_view {
    const char *name;
    size_t ndim, dim[2];
    const float *data;
} bp_tensor_view;

struct bp_layer_ops {
    const char *name;  /* its token in a network spec: "dense" */
    const char *title; /* in messages: "batch norm" */
    const char *syntax; /* `bplab train --help`: "dense:N" */
    const char *help;   /* and what it is, one line */
    bool sequence;     /* consumes a sequence (T x 1 x C): messages show
                          its input width per time step */

    /* Read the token's arguments (what follows "name:", NULL if none) into
     * s->units / s->rate; the message names the token and the rule. */
    bp_status (*parse)(const char *args, bp_layer_spec *s, bp_err *err);
    /* Write the token back ("dense:256"); returns snprintf's count. */
    int (*format)(const bp_layer_spec *s, char *buf, size_t size);
    /* Output shape and tensors for an input shape and a batch bound. */
    bp_status (*plan)(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err);
    /* Fill the parameters and buffers (they start at zero); NULL: zeros. */
    void (*init)(bp_layer *l, const bp_init_args *a);
    /* Forward `batch` rows of x into l->y. train: dropout on, batch norm
     * on batch statistics; key: the step's dropout key. */
    void (*forward)(bp_layer *l, const bp_ctx *c, const float *x,
                    size_t batch, bool train, uint64_t key);
    /* Backward from d = dL/dy (batch x size(out); it may be overwritten):
     * fill the gradients of the layer's tensors and return where dL/dx
     * is: d itself (in place) or dx (batch x size(in), another buffer).
     * With !need_dx (the first layer) the input gradient may be skipped. */
    float *(*backward)(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t batch, float *d, float *dx, bool need_dx);
    /* The tensors to export, in order; returns their count (<= 4). */
    size_t (*views)(const bp_layer *l, const float *params,
                    const float *buffers, bp_tensor_view *v);
    /* In a one-line description of a network "784-256-128-10 relu ce":
     * the text this layer adds to the chain of widths (dense "-256", lstm
     * "-lstm128"; NULL: nothing) and the word it adds after it (an
     * activation's name, "batchnorm", "dropout"; NULL: nothing). */
    int (*chain)(const bp_layer_spec *s, char *buf, size_t size);
    const char *word;
    bool is_activation; /* its word is an activation (for the description
                           and for initialisation's auto rule) */
    bool absorbs_act;   /* its forward can apply the activation layer
                           that follows it (bp_layer act_after) */
    bool absorbs_act_grad; /* and its backward that activation's
                              derivative, before its own (the activation
                              layer's backward is then skipped) */
    /* and a max pool after that activation, when it is a ReLU and this
     * layer is the first (bp_layer pool_after); NULL: never */
    bool (*absorbs_pool)(const bp_layer *l);
    /* A max pool's passes over images [i0, i0 + n) of a batch, for the
     * layer that absorbs it (pool_after): forward from x (those images'
     * input) into its output and argmax; backward from d (those images'
     * output gradient) into dx (their input gradient). NULL: not a max
     * pool. */
    void (*max_images_fwd)(const bp_layer *pool, const bp_ctx *c,
                           const float *x, size_t i0, size_t n);
    void (*max_images_bwd)(const bp_layer *pool, const bp_ctx *c,
                           const float *d, size_t i0, size_t n, float *dx);
    bp_act act;         /* which, when is_activation */
    const void *impl;   /* constants of the kind's file (a recurrent cell) */
};

/* Every kind (core/layers/list.h), as bp_layer_<name>, and all of them in
 * a NULL-ended list. */
#include "core/layers/list.h"
#define BP__LAYER_DECL(name) extern const bp_layer_ops bp_layer_##name;
BP_LAYER_KINDS(BP__LAYER_DECL)
#undef BP__LAYER_DECL
extern const bp_layer_ops *const bp_layer_kinds[];

/* The kind whose token is `name` (n characters), or NULL. */
const bp_layer_ops *bp_layer_find(const char *name, size_t n);

/* Shared helpers for layer files ------------------------------------- */

/* a * b, saturating at SIZE_MAX. */
static inline size_t bp_satmul(size_t a, size_t b)
{
    return a && b > (size_t)-1 / a ? (size_t)-1 : a * b;
}

/* Append a tensor request to a plan. */
static inline void bp_plan_add(bp_layer_plan *p, bp_role role, size_t n)
{
    p->t[p->ntensors].role = role;
    p->t[p->ntensors].n = n;
    p->ntensors++;
}

/* Arguments: none; a width 1..BP_MAX_WIDTH; a rate in [0, BP_MAX_RATE]. */
bp_status bp_layer_parse_none(const char *args, bp_layer_spec *s, bp_err *err);
bp_status bp_layer_parse_units(const char *args, bp_layer_spec *s,
                               bp_err *err);
bp_status bp_layer_parse_rate(const char *args, bp_layer_spec *s, bp_err *err);
/* A window "K[:sS][:pP]" (after conv's "C:"; maxpool's whole argument):
 * kernel K, stride S (default def_stride, or K when def_stride is 0),
 * padding P (default def_pad, or K/2 when def_pad is SIZE_MAX); the
 * padding must stay below K, K and S at most BP_MAX_KERNEL. `what`
 * completes the message "'maxpool:...': maxpool needs <what>". */
bp_status bp_layer_parse_window(const char *args, bp_layer_spec *s,
                                size_t def_stride, size_t def_pad,
                                const char *what, bp_err *err);
int bp_layer_format_name(const bp_layer_spec *s, char *buf, size_t size);
int bp_layer_format_units(const bp_layer_spec *s, char *buf, size_t size);
/* A pooling window's token, "maxpool:3:s2:p1": the stride when not K, the
 * padding when not 0 (the defaults bp_layer_parse_window gives pools). */
int bp_layer_format_pool(const bp_layer_spec *s, char *buf, size_t size);
int bp_layer_format_rate(const bp_layer_spec *s, char *buf, size_t size);

/* The backward pass of a layer whose second tensor is a mask of its
 * output's shape (dropout, dropout2d): d *= mask, in place. */
float *bp_layer_mask_backward(bp_layer *l, const bp_ctx *c, const float *x,
                              size_t b, float *d, float *dx, bool need_dx);

/* Weights w[0:n] by the rule of a (layer.h bp_init: He or normal draw
 * N(0, sd^2), Xavier or uniform U(-r, r)) for a layer with fan_in inputs
 * and fan_out outputs per weight, from the layer's stream of the seed. */
void bp_layer_init_weights(float *w, size_t n, size_t fan_in, size_t fan_out,
                           const bp_init_args *a);

/* The window geometry (kernels.h bp_conv_geom) of a conv or maxpool spec
 * on b images of shape in; oh and ow are 0 when the window does not fit. */
bp_conv_geom bp_layer_window(const bp_layer_spec *s, bp_shape in, size_t b);

/* Threads that share a batch of n images, `elems` elements in all, image
 * by image (a window kernel gives each image the same bits alone): the
 * context's, at most n, and one below BP_PAR_MAP_CHUNKS chunks (core/
 * par.h). Thread t of T takes images [n t / T, n (t + 1) / T). */
int bp_layer_image_threads(const bp_ctx *c, size_t n, size_t elems);

/* Largest layer width and parameter count a spec may ask for. */
#define BP_MAX_WIDTH 65536
#define BP_MAX_PARAMS ((size_t)1 << 30)
/* Longest sequence a recurrent layer unrolls. */
#define BP_MAX_STEPS 1000
/* Largest window and stride of conv and maxpool. */
#define BP_MAX_KERNEL 64
/* Highest dropout rate (1/(1-p) must stay a sane scale). */
#define BP_MAX_RATE 0.99

#endif
