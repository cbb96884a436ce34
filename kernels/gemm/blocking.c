/* kernels/gemm/blocking.c - the caches this CPU reports and the GEMM cache
 * blocking derived from them (kernels.h: bp_caches, bp_gemm_blocking).
 *
 * Detection, in order: CPUID leaf 4 (Intel) or 0x8000001D (AMD, with
 * TOPOEXT), which give each cache's ways, partitions, line size and sets;
 * on AMD without an answer from 0x8000001D (some hypervisors return
 * zeros there), the older leaves 0x80000005 and 0x80000006, which give
 * size, line and an encoded associativity (bp_caches_from_amd_legacy);
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
 *   These are the direct nest's, which reads A in place (the MLP shapes,
 *   whose C fits in L2). The packed nest (C of more than 2 * MC rows) has
 *   its own KC and MC:
 *   PKC: departs from the model. There C outgrows L2, and every KC block
 *       sends each C tile to where C lives (L3 or memory; one page per
 *       row when the row stride is a multiple of 4 KiB) and back, between
 *       chains of only KC FMAs. So PKC is as long as it can be with an A
 *       block of 8 tiles (8 * MR rows) in half of L2, at most
 *       BP_GEMM_PKC_MAX; the B micro-panel (PKC x NR) then streams from
 *       L2, which the tiles' 176 bytes per 24 FMAs allow. Measured on a
 *       Zen 5 (48 KiB 12-way L1d, 1 MiB L2, FMA peak 217 GFLOP/s), the
 *       two alternating in one process: KC 256 and MC 768 -> PKC 1024
 *       and PMC 192 took NN 1024^3 from 145 to 166 GFLOP/s and 2048^3
 *       from 167 to 189 (medians of 15 and 9 rounds); AVX2's 1024^3 and
 *       2048^3 gained 2-4%. A micro-kernel alone over a C of 1024 x 1024
 *       floats ran 10% slower than over one with 1040-float rows;
 *   PMC: the MC rule with PKC for KC;
 *   NC: a block of B (PKC x NC) stays in L3 beside the A block (PMC x
 *       PKC), likewise, rounded down to a multiple of NR (no L3: the
 *       workspace's bound, since the block stays in no cache and a wider
 *       one packs A fewer times).
 * Each is then held within the bounds the workspace is sized for
 * (BP_GEMM_KC_MAX, BP_GEMM_PKC_MAX, BP_GEMM_MC_MAX, BP_GEMM_NC_MAX,
 * and the packed blocks' APACK and BPACK floats). The blocking only
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

/* The ways an L2 or L3 associativity code of leaf 0x80000006 stands for
 * (AMD's CPUID specification): 0 for "disabled", for "see 0x8000001D"
 * (9) and for the reserved codes; fully associative (15) counted as 16,
 * which is all the model needs of it. */
static size_t amd_legacy_ways(unsigned code)
{
    static const unsigned char ways[16] = {0,  1,  2,  3,   4,   6,  8,  0,
                                           16, 0,  32, 48,  64,  96, 128,
                                           16};
    return ways[code & 15];
}

/* One level from size in KiB, ways and line bytes (false: not usable). */
static bool legacy_level(size_t kib, size_t ways, size_t line,
                         bp_cache_level *l)
{
    if (!kib || !line)
        return false;
    l->size = kib << 10;
    l->line = line;
    l->ways = ways ? ways : 16; /* unreported: the model needs some */
    l->sets = l->size / (l->ways * l->line);
    return l->sets > 0;
}

bool bp_caches_from_amd_legacy(uint32_t l1_ecx, uint32_t l2_ecx,
                               uint32_t l3_edx, bp_caches *c)
{
    memset(c, 0, sizeof *c);
    /* 0x80000005 ECX: L1d KiB [31:24], ways [23:16] (0xFF: fully), line
     * bytes [7:0] */
    unsigned l1w = (l1_ecx >> 16) & 0xFF;
    bool ok = legacy_level(l1_ecx >> 24, l1w == 0xFF ? 16 : l1w,
                           l1_ecx & 0xFF, &c->l1d);
    /* 0x80000006 ECX: L2 KiB [31:16], ways code [15:12], line [7:0] */
    unsigned l2code = (l2_ecx >> 12) & 15; /* 0: no L2 */
    ok = ok && l2code != 0 &&
         legacy_level(l2_ecx >> 16, amd_legacy_ways(l2code), l2_ecx & 0xFF,
                      &c->l2);
    /* EDX: L3 in 512 KiB units [31:18], ways code [15:12], line [7:0];
     * code 9 (ways in 0x8000001D only) still gives a size worth using */
    unsigned l3code = (l3_edx >> 12) & 15;
    if (ok && l3code != 0 &&
        !legacy_level((size_t)(l3_edx >> 18) * 512, amd_legacy_ways(l3code),
                      l3_edx & 0xFF, &c->l3))
        memset(&c->l3, 0, sizeof c->l3);
    if (!ok)
        memset(c, 0, sizeof *c);
    else
        c->source = c->l3.size && l3code == 9
                        ? "cpuid 0x80000005/6, L3 ways taken as 16"
                        : "cpuid 0x80000005/6";
    return ok;
}

#ifdef BLK_X86
/* A believable L1d: 4 KiB - 4 MiB with 32 - 256 byte lines. */
static bool plausible_l1(const bp_cache_level *l)
{
    return l->size >= 4096 && l->size <= (4u << 20) && l->line >= 32 &&
           l->line <= 256;
}

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
        /* 0x8000001D is defined when TOPOEXT is set; hypervisors may hide
         * the flag and still answer it (a Zen 4 VM bplab was tested on
         * did), so without the flag its answer is taken only when it
         * looks like caches. Others hide the flag and answer zeros (a
         * Zen 5 VM did): then the legacy leaves. */
        __cpuid(0x80000001u, a, b, cx, d);
        bool topoext = (cx >> 22) & 1;
        c->source = topoext ? "cpuid 0x8000001d"
                            : "cpuid 0x8000001d, TOPOEXT flag hidden";
        if (ext >= 0x8000001Du && cpuid_caches(0x8000001Du, c) &&
            (topoext || plausible_l1(&c->l1d)))
            return true;
        memset(c, 0, sizeof *c);
        if (ext < 0x80000006u)
            return false;
        unsigned l1_ecx, l2_ecx, l3_edx;
        __cpuid(0x80000005u, a, b, l1_ecx, d);
        __cpuid(0x80000006u, a, b, l2_ecx, l3_edx);
        return bp_caches_from_amd_legacy(l1_ecx, l2_ecx, l3_edx, c) &&
               plausible_l1(&c->l1d);
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

/* Rows of an A block (rows x kc floats) in the L2 ways a B micro-panel
 * (kc x nr floats) and one more way leave (at least one way). */
static size_t l2_rows(const bp_cache_level *l2, size_t kc, size_t nr)
{
    size_t w2 = way_bytes(l2), s = sizeof(float);
    size_t bways = (kc * nr * s + w2 - 1) / w2;
    size_t aways = l2->ways > bways + 1 ? l2->ways - 1 - bways : 1;
    return aways * w2 / (kc * s);
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
    r.mc = l2_rows(l2, kc, nr);
    size_t mc = clamp_multiple(r.mc, mr, mr, BP_GEMM_MC_MAX);
    /* the packed nest: PKC as long as an A block of 8 tiles allows in
     * half of L2, PMC by the MC rule with it */
    r.pkc = l2->size / 2 / (8 * mr * s);
    size_t pkc = clamp_multiple(r.pkc, 16, 16, BP_GEMM_PKC_MAX);
    r.pmc = l2_rows(l2, pkc, nr);
    size_t pmc = clamp_multiple(r.pmc, mr, mr,
                                min_sz(BP_GEMM_MC_MAX,
                                         BP_GEMM_APACK_FLOATS / pkc));
    /* NC from L3 beside the packed A block (no L3: the workspace's) */
    if (c->l3.size) {
        size_t w3 = way_bytes(&c->l3);
        size_t ab = (pmc * pkc * s + w3 - 1) / w3;
        size_t bw = c->l3.ways > ab + 1 ? c->l3.ways - 1 - ab : 1;
        r.nc = bw * w3 / (pkc * s);
    } else {
        r.nc = BP_GEMM_BPACK_FLOATS / pkc;
    }
    out->kc = kc;
    out->mc = mc;
    out->pkc = pkc;
    out->pmc = pmc;
    out->nc = clamp_multiple(r.nc, nr, nr,
                             min_sz(BP_GEMM_NC_MAX,
                                      BP_GEMM_BPACK_FLOATS / pkc));
    if (raw)
        *raw = r;
    return true;
}

bp_status bp_gemm_blocking_parse(const char *text, const char *what,
                                 bp_gemm_blocking *out, bp_err *err)
{
    size_t v[5] = {0, 0, 0, 0, 0};
    const char *p = text;
    static const char *const names[5] = {"kc", "mc", "nc", "pkc", "pmc"};
    static const size_t hi[5] = {BP_GEMM_KC_MAX, BP_GEMM_MC_MAX,
                                 BP_GEMM_NC_MAX, BP_GEMM_PKC_MAX,
                                 BP_GEMM_MC_MAX};
    for (int i = 0; i < 5; i++) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        bool ends_ok = *end == ',' ? i < 4 : *end == '\0' && (i == 2 || i == 4);
        if (end == p || *p == '-' || *p == '+' || errno || !ends_ok)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s=%.40s: expected KC,MC,NC or KC,MC,NC,PKC,PMC "
                           "(positive integers, e.g. 256,192,1024)",
                           what, text);
        if (x < 1 || x > hi[i])
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s=%.40s: %s must be between 1 and %zu", what,
                           text, names[i], hi[i]);
        v[i] = (size_t)x;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *out = (bp_gemm_blocking){v[0], v[1], v[2], v[3], v[4]};
    return BP_OK;
}

bp_gemm_blocking bp_gemm_blocking_default(int isa)
{
    bp_gemm_blocking b = {0, 0, 0, 0, 0};
    const bp_gemm_arch *arch = arch_of(isa);
    if (arch)
        b = (bp_gemm_blocking){arch->kc, arch->mc, arch->nc, arch->kc_packed,
                               arch->mc};
    return b;
}
