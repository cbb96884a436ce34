/* core/layers/list.h - every layer kind, one line each, in the order
 * `bplab train --help` lists them: X(name) stands for the bp_layer_ops
 * bp_layer_<name> that one file of this folder defines. Adding a kind:
 * its file, its line here, and its reference in tests/check_net.c. */
#define BP_LAYER_KINDS(X)                                                     \
    X(dense)      /* dense.c */                                               \
    X(conv)       /* conv.c */                                                \
    X(maxpool)    /* maxpool.c */                                             \
    X(avgpool)    /* avgpool.c */                                             \
    X(gap)        /* gap.c */                                                 \
    X(bn)         /* batchnorm.c */                                           \
    X(relu)       /* activation.c */                                          \
    X(sigmoid)    /* activation.c */                                          \
    X(tanh)       /* activation.c */                                          \
    X(dropout)    /* dropout.c */                                             \
    X(dropout2d)  /* dropout2d.c */                                           \
    X(rnn)        /* rnn.c */                                                 \
    X(lstm)       /* lstm.c */
