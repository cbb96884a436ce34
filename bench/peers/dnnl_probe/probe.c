/* bench/peers/dnnl_probe/probe.c - links against oneDNN, nothing more. */
#include <dnnl.h>

int main(void) { return dnnl_version()->major > 0 ? 0 : 1; }
