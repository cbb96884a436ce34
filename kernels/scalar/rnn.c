/* kernels/scalar/rnn.c - the reference LSTM cell, one time step forward and
 * backward (formulas, shapes and aliasing: bp_lstm_fwd_fn and
 * bp_lstm_bwd_fn in kernels/kernels.h).
 *
 * The gate non-linearities are the reference sigmoid and tanh of act.c
 * (expf, tanhf); every other value is one float operation per formula term,
 * in the order the SIMD template kernels/simd/rnn.inc uses.
 */
#include <math.h>

#include "kernels/scalar/scalar.h"

static float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

void bp_lstm_fwd__scalar(size_t rows, size_t h, float *z, size_t ldz,
                         const float *c_prev, float *c, size_t ldc,
                         float *hout, size_t ldh)
{
    for (size_t r = 0; r < rows; r++) {
        float *zi = z + r * ldz, *zf = zi + h, *zg = zf + h, *zo = zg + h;
        const float *cp = c_prev ? c_prev + r * ldc : NULL;
        float *cr = c + r * ldc, *hr = hout + r * ldh;
        for (size_t j = 0; j < h; j++) {
            float i = sigmoid(zi[j]), f = sigmoid(zf[j]);
            float g = tanhf(zg[j]), o = sigmoid(zo[j]);
            zi[j] = i, zf[j] = f, zg[j] = g, zo[j] = o;
            float fc = f * (cp ? cp[j] : 0.0f);
            float cn = fc + i * g;
            cr[j] = cn;
            hr[j] = o * tanhf(cn);
        }
    }
}

void bp_lstm_bwd__scalar(size_t rows, size_t h, float *gz, size_t ldz,
                         const float *c_prev, const float *c, size_t ldc,
                         const float *dh, size_t ldh, float *dc, size_t lddc)
{
    for (size_t r = 0; r < rows; r++) {
        float *gi = gz + r * ldz, *gf = gi + h, *gg = gf + h, *go = gg + h;
        const float *cp = c_prev ? c_prev + r * ldc : NULL;
        const float *cr = c + r * ldc, *dhr = dh + r * ldh;
        float *dcr = dc + r * lddc;
        for (size_t j = 0; j < h; j++) {
            float i = gi[j], f = gf[j], g = gg[j], o = go[j];
            float cpj = cp ? cp[j] : 0.0f;
            float tc = tanhf(cr[j]);
            float d = dcr[j] + (dhr[j] * o) * (1.0f - tc * tc);
            gi[j] = (d * g) * (i * (1.0f - i));
            gf[j] = (d * cpj) * (f * (1.0f - f));
            gg[j] = (d * i) * (1.0f - g * g);
            go[j] = (dhr[j] * tc) * (o * (1.0f - o));
            dcr[j] = d * f;
        }
    }
}
