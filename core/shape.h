/* core/shape.h - the shape of one sample.
 *
 * Every data set and every layer describes a sample as height x width x
 * channels, stored channels-last (NHWC for a batch): element (y, x, c) of
 * sample n is at ((n*H + y)*W + x)*C + c.
 *   a feature vector    1 x 1 x C
 *   an image            H x W x C   (Fashion-MNIST: 28 x 28 x 1)
 *   a sequence          T x 1 x C   (T time steps of C features)
 * Why channels-last: a batch of N images is then a matrix of N*H*W rows and
 * C columns, so bias, batch-norm and activation kernels written for dense
 * layers (rows x columns) apply to convolutions unchanged (per channel =
 * per column), and a convolution is an im2col matrix times the (k*k*Cin) x
 * Cout weight matrix on the same GEMM; a sample's flattened features are
 * its memory as it lies, so a dense layer after a convolution needs no
 * copy. (oneDNN and XNNPACK prefer NHWC on CPUs for the same reasons.)
 */
#ifndef BPLAB_SHAPE_H
#define BPLAB_SHAPE_H

#include <stddef.h>

typedef struct bp_shape {
    size_t h, w, c;
} bp_shape;

static inline bp_shape bp_shape_vec(size_t c)
{
    return (bp_shape){1, 1, c};
}

/* Elements per sample (saturates at SIZE_MAX instead of wrapping). */
static inline size_t bp_shape_size(bp_shape s)
{
    size_t hw = s.h && s.w > (size_t)-1 / s.h ? (size_t)-1 : s.h * s.w;
    return hw && s.c > (size_t)-1 / hw ? (size_t)-1 : hw * s.c;
}

/* "28x28x1" */
int bp_shape_text(bp_shape s, char *buf, size_t size);

#endif
