/* kernels/scalar/bias.c - reference bias add and bias gradient.
 *
 * bias_add:  y[r][c] += b[c]                 (rows x cols, in place on y)
 * bias_act:  y[r][c] = act(y[r][c] + b[c])   (the same, then the
 *                                             activation of act.c)
 * bias_grad: db[c] = sum_r dy[r][c]          (column sums, db overwritten)
 * The column sums run over r in increasing order, in float.
 */
#include "kernels/scalar/scalar.h"

void bp_bias_add__scalar(size_t rows, size_t cols, const float *b, float *y,
                         size_t ldy)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            y[r * ldy + c] += b[c];
}

void bp_bias_act__scalar(size_t rows, size_t cols, const float *b,
                         bp_kact act, float *y, size_t ldy)
{
    for (size_t r = 0; r < rows; r++) {
        float *yr = y + r * ldy;
        if (b)
            bp_bias_add__scalar(1, cols, b, yr, cols);
        switch (act) {
        case BP_KACT_NONE: break;
        case BP_KACT_RELU: bp_relu_fwd__scalar(cols, yr, yr); break;
        case BP_KACT_SIGMOID: bp_sigmoid_fwd__scalar(cols, yr, yr); break;
        case BP_KACT_TANH: bp_tanh_fwd__scalar(cols, yr, yr); break;
        }
    }
}

void bp_bias_grad__scalar(size_t rows, size_t cols, const float *dy,
                          size_t lddy, float *db)
{
    for (size_t c = 0; c < cols; c++) {
        float s = 0.0f;
        for (size_t r = 0; r < rows; r++)
            s += dy[r * lddy + c];
        db[c] = s;
    }
}
