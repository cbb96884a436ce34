/* kernels/scalar/bias.c - reference bias add and bias gradient.
 *
 * bias_add:  y[r][c] += b[c]                 (rows x cols, in place on y)
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
