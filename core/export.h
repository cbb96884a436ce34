/* core/export.h - a network's weights as .npz (NumPy) or .safetensors.
 *
 * Every parameter tensor of the network, under a name made of its layer's
 * index in net->layers and its role, in row-major float32 little-endian
 * ('<f4', safetensors "F32") with its true shape (the arena's padding to
 * 16 floats per tensor is dropped):
 *   <i>.dense.weight        in x out      y = x W + b (PyTorch's
 *   <i>.dense.bias          out           nn.Linear.weight is W^T)
 *   <i>.bn.weight           out           gamma
 *   <i>.bn.bias             out           beta
 *   <i>.bn.running_mean     out           inference: (x - mean)
 *   <i>.bn.running_var      out           / sqrt(var + 1e-5) * gamma + beta
 *                                         (var unbiased, as PyTorch's)
 *   <i>.rnn.weight_ih       F x H         z_t = x_t Wih + h_{t-1} Whh + b,
 *   <i>.rnn.weight_hh       H x H         h_t = tanh(z_t), h_0 = 0
 *   <i>.rnn.bias            H
 *   <i>.lstm.weight_ih      F x 4H        z_t = x_t Wih + h_{t-1} Whh + b,
 *   <i>.lstm.weight_hh      H x 4H        columns in gate order [i f g o]
 *   <i>.lstm.bias           4H            (PyTorch's order), one bias
 * Activation and dropout layers have no tensors but keep their index, so
 * the numbers have gaps. Besides the tensors, three strings: "format"
 * ("bplab"), "net" (bp_net_describe) and "spec" (the run's options, as in
 * the checkpoint). In an .npz they are 0-d unicode arrays ('<U'), which
 * numpy.load reads without allow_pickle; in a .safetensors file they are
 * the "__metadata__" map.
 *
 * .npz: an uncompressed (STORED) ZIP of one .npy (version 1.0) per entry,
 * "<name>.npy"; no ZIP64, so at most 4 GiB. .safetensors: u64 header size,
 * the JSON header (tensors in layer order, data offsets contiguous from 0),
 * padded with spaces to a multiple of 8, then the data.
 * The bytes depend only on the network and the text: no time stamps.
 */
#ifndef BPLAB_EXPORT_H
#define BPLAB_EXPORT_H

#include <stddef.h>

#include "core/net.h"
#include "core/status.h"

typedef enum bp_export_format {
    BP_EXPORT_NPZ,
    BP_EXPORT_SAFETENSORS
} bp_export_format;

/* The format named by the end of `path` (".npz" or ".safetensors", any
 * case); BP_ERR_INVALID_ARG otherwise. */
bp_status bp_export_format_of(const char *path, bp_export_format *fmt,
                              bp_err *err);

/* The whole file in memory: *out (free with bp_free) and *size. On failure
 * *out is NULL. `spec` is the options text (NULL: empty). */
bp_status bp_export_build(const bp_net *net, const char *spec,
                          bp_export_format fmt, void **out, size_t *size,
                          bp_err *err);

/* Build the file and write it to `path` (core/outfile.h: a regular file
 * is replaced atomically). */
bp_status bp_export(const bp_net *net, const char *spec, const char *path,
                    bp_export_format fmt, bp_err *err);

#endif
