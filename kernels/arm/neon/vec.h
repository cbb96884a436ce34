/* kernels/arm/neon/vec.h - the NEON (AArch64 AdvSIMD) vector layer.
 *
 * See kernels/x86/avx512/vec.h for the contract the kernels/simd/ (.inc)
 * templates rely on; this file provides the same API over float32x4_t.
 * AdvSIMD is baseline on AArch64, so nothing here needs extra flags.
 *
 * What differs from x86 and why it is still the same contract:
 *   - tails: AdvSIMD has no masked loads or stores, so a tail of n < 4
 *     lanes is moved one 64-bit or 32-bit piece at a time (vld1_f32,
 *     vld1q_lane_f32, vst1q_lane_f32): nothing past n is read or written;
 *   - v_max/v_min are FMAX/FMIN, which return NaN when either input is
 *     NaN. The templates only need v_max(lo, x) and v_min(hi, x) to return
 *     x when x is NaN (a NaN input stays NaN through the clamps), which
 *     holds;
 *   - v_recip is a true division (FDIV, correctly rounded), not an
 *     estimate plus Newton steps;
 *   - there is no register table for exp (V_EXP_TBL_BITS stays undefined),
 *     so kernels/simd/vmath.inc uses its polynomial exp with v_round
 *     (FRINTN, ties to even) and v_ldexp (exponent built in two halves, as
 *     in kernels/x86/avx2/vec.h: exact, gradual underflow, overflow to
 *     inf);
 *   - horizontal reductions use FADDP/FMAXP in a fixed lane order.
 * vd2 holds 4 double lanes as two float64x2_t (lanes 0-1, lanes 2-3).
 */
#ifndef BPLAB_NEON_VEC_H
#define BPLAB_NEON_VEC_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#define VW 4
#define BP_FN(name) bp_##name##__neon

typedef float32x4_t vf;
typedef uint32x4_t vi;
typedef uint32x4_t vmask; /* all-ones or all-zeros per lane */

static inline vf v_load(const float *p) { return vld1q_f32(p); }
static inline void v_store(float *p, vf x) { vst1q_f32(p, x); }

/* The first n < 4 lanes from p, the others taken from `rest`; nothing at
 * or past p + n is read. */
static inline vf v_load_part(const float *p, size_t n, vf rest)
{
    switch (n) {
    case 1: return vld1q_lane_f32(p, rest, 0);
    case 2: return vcombine_f32(vld1_f32(p), vget_high_f32(rest));
    case 3: return vld1q_lane_f32(p + 2,
                                  vcombine_f32(vld1_f32(p), vget_high_f32(rest)), 2);
    default: return rest;
    }
}

/* n < VW lanes; the rest read as 0 and are never touched in memory */
static inline vf v_load_tail(const float *p, size_t n)
{
    return v_load_part(p, n, vdupq_n_f32(0.0f));
}

/* n < VW lanes from memory, the other lanes set to `fill` */
static inline vf v_load_tail_or(const float *p, size_t n, float fill)
{
    return v_load_part(p, n, vdupq_n_f32(fill));
}

/* store the first n < VW lanes; nothing at or past p + n is written */
static inline void v_store_tail(float *p, vf x, size_t n)
{
    switch (n) {
    case 1: vst1q_lane_f32(p, x, 0); break;
    case 2: vst1_f32(p, vget_low_f32(x)); break;
    case 3:
        vst1_f32(p, vget_low_f32(x));
        vst1q_lane_f32(p + 2, x, 2);
        break;
    default: break;
    }
}

static inline vf v_set1(float a) { return vdupq_n_f32(a); }
/* base, base+1, base+2, base+3 (exact below 2^24) */
static inline vf v_iota(float base)
{
    static const float ramp[4] = {0.0f, 1.0f, 2.0f, 3.0f};
    return vaddq_f32(vdupq_n_f32(base), vld1q_f32(ramp));
}
static inline vf v_zero(void) { return vdupq_n_f32(0.0f); }
static inline vf v_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf v_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf v_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf v_div(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf v_sqrt(vf a) { return vsqrtq_f32(a); }
static inline vf v_fma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }  /* a*b+c */
static inline vf v_fnma(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); } /* c-a*b */
static inline vf v_max(vf a, vf b) { return vmaxq_f32(a, b); }
static inline vf v_min(vf a, vf b) { return vminq_f32(a, b); }
static inline vf v_abs(vf a) { return vabsq_f32(a); }
static inline vf v_neg(vf a) { return vnegq_f32(a); }
/* x <= 0 ? +0 : x (-0 -> +0, NaN stays NaN): clear the lanes where the
 * ordered compare x <= 0 holds, which never includes a NaN */
static inline vf v_relu(vf x)
{
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(x),
                                           vcleq_f32(x, vdupq_n_f32(0.0f))));
}
/* copy the sign of s onto |m| */
static inline vf v_copysign(vf m, vf s)
{
    return vbslq_f32(vdupq_n_u32(0x80000000u), s, m);
}

/* comparisons (ordered: false when either input is NaN) and selection */
static inline vmask v_gt(vf a, vf b) { return vcgtq_f32(a, b); }
static inline vmask v_lt(vf a, vf b) { return vcltq_f32(a, b); }
static inline vmask v_eq(vf a, vf b) { return vceqq_f32(a, b); }
static inline vf v_select(vmask m, vf a, vf b) { return vbslq_f32(m, a, b); } /* m ? a : b */
static inline vmask v_mask_and(vmask a, vmask b) { return vandq_u32(a, b); }
static inline vmask v_mask_or(vmask a, vmask b) { return vorrq_u32(a, b); }

/* 1/d, correctly rounded (FDIV) */
static inline vf v_recip(vf d) { return vdivq_f32(vdupq_n_f32(1.0f), d); }

/* round to nearest integer (ties to even), as float */
static inline vf v_round(vf a) { return vrndnq_f32(a); }

/* 2^k as a float for integral k in [-126, 127] */
static inline vf pow2i(int32x4_t k)
{
    return vreinterpretq_f32_s32(
        vshlq_n_s32(vaddq_s32(k, vdupq_n_s32(127)), 23));
}

/* p * 2^n for integral n in [-150, 130], split as 2^(n/2) * 2^(n - n/2) so
 * each factor is a normal float; the second product rounds correctly into
 * the denormal range or overflows to inf. */
static inline vf v_ldexp(vf p, vf n)
{
    int32x4_t k = vcvtq_s32_f32(n);
    int32x4_t k1 = vshrq_n_s32(k, 1);
    int32x4_t k2 = vsubq_s32(k, k1);
    return vmulq_f32(vmulq_f32(p, pow2i(k1)), pow2i(k2));
}

/* horizontal reductions in a fixed order: (a0 + a1) + (a2 + a3) */
static inline float v_hsum(vf a)
{
    float32x4_t s = vpaddq_f32(a, a);
    return vgetq_lane_f32(vpaddq_f32(s, s), 0);
}
static inline float v_hmax(vf a)
{
    float32x4_t s = vpmaxq_f32(a, a);
    return vgetq_lane_f32(vpmaxq_f32(s, s), 0);
}

/* double accumulation of sums and squares: lanes 0-1 in lo, 2-3 in hi */
typedef struct { float64x2_t lo, hi; } vd2;
static inline vd2 vd2_zero(void)
{
    vd2 r = {vdupq_n_f64(0.0), vdupq_n_f64(0.0)};
    return r;
}
static inline vd2 vd2_add(vd2 acc, vf x)
{
    acc.lo = vaddq_f64(acc.lo, vcvt_f64_f32(vget_low_f32(x)));
    acc.hi = vaddq_f64(acc.hi, vcvt_high_f64_f32(x));
    return acc;
}
/* acc += x^2, squared in double (exact) */
static inline vd2 vd2_addsq(vd2 acc, vf x)
{
    float64x2_t lo = vcvt_f64_f32(vget_low_f32(x)), hi = vcvt_high_f64_f32(x);
    acc.lo = vfmaq_f64(acc.lo, lo, lo);
    acc.hi = vfmaq_f64(acc.hi, hi, hi);
    return acc;
}
/* (lane0 + lane2) + (lane1 + lane3) */
static inline double vd2_hsum(vd2 acc)
{
    float64x2_t s = vaddq_f64(acc.lo, acc.hi);
    return vgetq_lane_f64(vpaddq_f64(s, s), 0);
}
/* the VW double lanes to p[0..VW), in lane order */
static inline void vd2_store(double *p, vd2 acc)
{
    vst1q_f64(p, acc.lo);
    vst1q_f64(p + 2, acc.hi);
}

/* 32-bit integer lanes, for the dropout hash */
static inline vi vi_set1(uint32_t a) { return vdupq_n_u32(a); }
static inline vi vi_iota(uint32_t base)
{
    static const uint32_t ramp[4] = {0, 1, 2, 3};
    return vaddq_u32(vdupq_n_u32(base), vld1q_u32(ramp));
}
static inline vi vi_add(vi a, vi b) { return vaddq_u32(a, b); }
static inline vi vi_xor(vi a, vi b) { return veorq_u32(a, b); }
static inline vi vi_mul(vi a, vi b) { return vmulq_u32(a, b); } /* low 32 bits */
/* logical shift right by s in [0, 31]; USHL by -s, so s need not be an
 * immediate (GCC folds a constant s into USHR) */
static inline vi vi_srl(vi a, int s) { return vshlq_u32(a, vdupq_n_s32(-s)); }
/* a >= b as signed 32-bit (callers keep values below 2^31) */
static inline vmask vi_ge(vi a, vi b)
{
    return vcgeq_s32(vreinterpretq_s32_u32(a), vreinterpretq_s32_u32(b));
}

#endif
