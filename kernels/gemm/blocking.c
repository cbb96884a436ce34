/* kernels/gemm/blocking.c - the caches this CPU reports and the GEMM cache
 * blocking derived from them (kernels.h: bp_caches, bp_gemm_blocking).
 *
 * Detection, in order: CPUID leaf 4 (Intel) or 0x8000001D (AMD, with
 * TOPOEXT), which give each cache's ways, partitions, line size and sets;
 * else Linux's /sys/devices/system/cpu/cpu0/cache (any architecture);
 * else the defaults below (32 KiB 8-way L1d, 1 MiB 16-way L2, no L3).
 *
 * The model is the one BLIS uses (Low, Igual, Smith and Quintana-Orti,
 * "Analytical modeling is enough for high-performance BLIS", ACM TOMS
 * 43(2), 2016), for a register tile of MR rows and NR columns with the
 * roles of bplab's loop nest (kernels/gemm/gemm_internal.h):
 *   KC: a B micro-panel (KC x NR) stays in L1 while the A tiles (MR x KC)
 *       stream past it. With W ways of N sets of C bytes, the A tile may
 *       take CA = floor((W - 1) / (1 + NR/MR)) ways (B takes NR/MR times
 *       as many, one way is left for C and the rest), so
 *       KC = CA * N * C / (MR * 4); but never below the arch's own KC
 *       (bp_gemm_arch.kc, 256 for every tile here). A small L1 does not
 *       starve these tiles: the AVX-512 one reads 176 bytes per 24 FMAs,
 *       which L2 delivers at the FMA peak, while a short KC makes every
 *       tile load and store its C block more often. Measured on a Zen 4
 *       (32 KiB 8-way L1d, where the L1 rule gives 85 for 12 x 32): KC
 *       85 -> 256 took NN 128x256x784 from 76% to 87% of the FMA peak and
 *       1024^3 from 58% to 78%;
 *   MC: a block of A (MC x KC) stays in L2 beside the B micro-panel: it
 *       may take W2 - 1 - ceil(KC * NR * 4 / (N2 * C2)) ways of L2, so
 *       MC = that * N2 * C2 / (KC * 4), rounded down to a multiple of MR;
 *   NC: a block of B (KC x NC) stays in L3 beside the A block, likewise,
 *       rounded down to a multiple of NR (no L3: NC from L2's leftover).
 * Each is then held within the bounds the workspace is sized for
 * (BP_GEMM_KC_MAX, BP_GEMM_MC_MAX, BP_GEMM_NC_MAX). The blocking only
 * decides speed: every element of C gets the same bits whatever it is
 * (gemm_internal.h), so two machines with the same ISA agree to the bit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm/gemm_internal.h"
#include "isas_built.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define BLK_X86 1
#endif

static const bp_cache_level default_l1 = {32768, 8, 64, 64};
static const bp_cache_level default_l2 = {1048576, 16, 64, 1024};

/* ---- detection */

/* Record a data or unified cache of level 1, 2 or 3 (false: another). */
static bool put_level(bp_caches *c, size_t level, const bp_cache_level *l)
{
    bp_cache_level *dst = level == 1   ? &c->l1d
                          : level == 2 ? &c->l2
                          : level == 3 ? &c->l3
                                       : NULL;
    if (dst)
        *dst = *l;
    return dst != NULL;
}

#ifdef BLK_X86
/* Walk a deterministic cache-parameters leaf (4 or 0x8000001D). */
static bool cpuid_caches(unsigned leaf, bp_caches *c)
{
    bool any = false;
    for (unsigned i = 0; i < 16; i++) {
        unsigned a, b, cx, d;
        __cpuid_count(leaf, i, a, b, cx, d);
        unsigned type = a & 31, level = (a >> 5) & 7;
        if (type == 0)
            break;
        if (type == 2) /* instruction cache */
            continue;
        bp_cache_level l = {.ways = ((b >> 22) & 1023) + 1,
                            .line = (b & 4095) + 1,
                            .sets = (size_t)cx + 1};
        l.size = l.ways * (((b >> 12) & 1023) + 1) * l.line * l.sets;
        any |= put_level(c, level, &l);
    }
    return any && c->l1d.size && c->l2.size;
}

static bool detect_cpuid(bp_caches *c)
{
    unsigned a, b, cx, d;
    __cpuid(0, a, b, cx, d);
    unsigned max = a;
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &cx, 4);
    vendor[12] = '\0';
    if (strcmp(vendor, "GenuineIntel") == 0 && max >= 4) {
        c->source = "cpuid leaf 4";
        return cpuid_caches(4, c);
    }
    if (strcmp(vendor, "AuthenticAMD") == 0 ||
        strcmp(vendor, "HygonGenuine") == 0) {
        unsigned ext = __get_cpuid_max(0x80000000u, NULL);
        if (ext < 0x8000001Du)
            return false;
        /* the leaf is defined when TOPOEXT is set; hypervisors may hide
         * the flag and still answer it (the VMs bplab was tested on do),
         * so without the flag its answer is taken only when it looks
         * like caches: a 4 KiB - 4 MiB L1d with 32 - 256 byte lines */
        __cpuid(0x80000001u, a, b, cx, d);
        bool topoext = (cx >> 22) & 1;
        c->source = topoext ? "cpuid 0x8000001d"
                            : "cpuid 0x8000001d, TOPOEXT flag hidden";
        return cpuid_caches(0x8000001Du, c) &&
               (topoext ||
                (c->l1d.size >= 4096 && c->l1d.size <= (4u << 20) &&
                 c->l1d.line >= 32 && c->l1d.line <= 256));
    }
    return false;
}
#endif

/* One number from a sysfs file; "48K" and "1024K" style sizes. */
static size_t sysfs_num(const char *dir, const char *name)
{
    char path[160], buf[32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t v = 0;
    if (fgets(buf, sizeof buf, f)) {
        char *end;
        unsigned long long x = strtoull(buf, &end, 10);
        if (end != buf) {
            v = (size_t)x;
            if (*end == 'K')
                v <<= 10;
            else if (*end == 'M')
                v <<= 20;
        }
    }
    fclose(f);
    return v;
}

static bool detect_sysfs(bp_caches *c)
{
    bool any = false;
    for (int i = 0; i < 8; i++) {
        char dir[96], type[16] = "";
        snprintf(dir, sizeof dir, "/sys/devices/system/cpu/cpu0/cache/index%d",
                 i);
        char path[128];
        snprintf(path, sizeof path, "%s/type", dir);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        if (!fgets(type, sizeof type, f))
            type[0] = '\0';
        fclose(f);
        if (strncmp(type, "Instruction", 11) == 0)
            continue;
        bp_cache_level l = {sysfs_num(dir, "size"),
                            sysfs_num(dir, "ways_of_associativity"),
                            sysfs_num(dir, "coherency_line_size"),
                            sysfs_num(dir, "number_of_sets")};
        if (!l.size || !l.line)
            continue;
        if (!l.ways || !l.sets) { /* fully associative or unreported */
            l.ways = l.ways ? l.ways : 8;
            l.sets = l.size / (l.ways * l.line);
        }
        size_t level = sysfs_num(dir, "level");
        any |= put_level(c, level, &l);
    }
    c->source = "sysfs";
    return any && c->l1d.size && c->l2.size;
}

void bp_caches_detect(bp_caches *c)
{
    memset(c, 0, sizeof *c);
#ifdef BLK_X86
    if (detect_cpuid(c))
        return;
    memset(c, 0, sizeof *c);
#endif
    if (detect_sysfs(c))
        return;
    memset(c, 0, sizeof *c);
    c->l1d = default_l1;
    c->l2 = default_l2;
    c->source = "defaults (no cache reported)";
}

/* ---- the model */

static const bp_gemm_arch *arch_of(int isa)
{
    switch ((bp_isa)isa) {
#define X(name, ENUM)                                                         \
    case BP_ISA_##ENUM:                                                       \
        return &bp_gemm_arch__##name;
        BP_BUILT_ISAS(X)
#undef X
    default:
        return NULL;
    }
}

/* Bytes of one way of a cache (sets x line). */
static size_t way_bytes(const bp_cache_level *l)
{
    return l->sets * l->line;
}

static size_t clamp_multiple(size_t v, size_t unit, size_t lo, size_t hi)
{
    if (v > hi)
        v = hi;
    v = v / unit * unit;
    return v < lo ? lo : v;
}

bool bp_gemm_blocking_model(int isa, const bp_caches *c,
                            bp_gemm_blocking *out, bp_gemm_blocking *raw)
{
    const bp_gemm_arch *arch = arch_of(isa);
    memset(out, 0, sizeof *out);
    if (raw)
        memset(raw, 0, sizeof *raw);
    if (!arch)
        return false;
    const size_t mr = arch->wide.mr, nr = arch->wide.nr, s = sizeof(float);
    const bp_cache_level *l1 = c->l1d.size ? &c->l1d : &default_l1;
    const bp_cache_level *l2 = c->l2.size ? &c->l2 : &default_l2;
    bp_gemm_blocking r;
    /* KC from L1: the A tile's ways CA, B's NR/MR times as many, one
     * left over */
    size_t w1 = l1->ways > 1 ? l1->ways : 2;
    size_t ca = (size_t)((double)(w1 - 1) / (1.0 + (double)nr / (double)mr));
    if (ca == 0)
        ca = 1;
    r.kc = ca * way_bytes(l1) / (mr * s);
    size_t kc = clamp_multiple(r.kc > arch->kc ? r.kc : arch->kc, 1, 16,
                               BP_GEMM_KC_MAX);
    /* MC from L2, beside the B micro-panel */
    size_t w2 = way_bytes(l2);
    size_t bways = (kc * nr * s + w2 - 1) / w2;
    size_t aways = l2->ways > bways + 1 ? l2->ways - 1 - bways : 1;
    r.mc = aways * w2 / (kc * s);
    size_t mc = clamp_multiple(r.mc, mr, mr, BP_GEMM_MC_MAX);
    /* NC from L3 beside the A block (no L3: what L2 leaves) */
    if (c->l3.size) {
        size_t w3 = way_bytes(&c->l3);
        size_t ab = (mc * kc * s + w3 - 1) / w3;
        size_t bw = c->l3.ways > ab + 1 ? c->l3.ways - 1 - ab : 1;
        r.nc = bw * w3 / (kc * s);
    } else {
        size_t left = l2->size > mc * kc * s ? l2->size - mc * kc * s : 0;
        r.nc = left / (kc * s);
    }
    out->kc = kc;
    out->mc = mc;
    out->nc = clamp_multiple(r.nc, nr, nr, BP_GEMM_NC_MAX);
    if (raw)
        *raw = r;
    return true;
}

bp_status bp_gemm_blocking_parse(const char *text, const char *what,
                                 bp_gemm_blocking *out, bp_err *err)
{
    size_t v[3];
    const char *p = text;
    static const char *const names[3] = {"kc", "mc", "nc"};
    static const size_t hi[3] = {BP_GEMM_KC_MAX, BP_GEMM_MC_MAX,
                                 BP_GEMM_NC_MAX};
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p || *p == '-' || *p == '+' || errno ||
            *end != (i < 2 ? ',' : '\0'))
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s=%.40s: expected KC,MC,NC (three positive "
                           "integers, e.g. 256,192,1024)",
                           what, text);
        if (x < 1 || x > hi[i])
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s=%.40s: %s must be between 1 and %zu", what,
                           text, names[i], hi[i]);
        v[i] = (size_t)x;
        p = end + 1;
    }
    out->kc = v[0];
    out->mc = v[1];
    out->nc = v[2];
    return BP_OK;
}

bp_gemm_blocking bp_gemm_blocking_default(int isa)
{
    bp_gemm_blocking b = {0, 0, 0};
    const bp_gemm_arch *arch = arch_of(isa);
    if (arch)
        b = (bp_gemm_blocking){arch->kc, arch->mc, arch->nc};
    return b;
}
