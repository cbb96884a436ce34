/* kernels/x86/avx512/vec.h - the AVX-512 vector layer.
 *
 * The element-wise and row-wise kernels are written once, in
 * kernels/simd/ templates (*.inc), against the small API below (v_* functions on vf, a
 * vector of VW floats); each ISA folder supplies its own vec.h and compiles
 * the templates with its own flags. Everything ISA-specific lives here:
 * AVX-512 handles tails with masked loads and stores (masked-out lanes are
 * never touched, so nothing is read past the end), scales by 2^n with
 * vscalefps and refines a 14-bit reciprocal with one Newton step.
 *
 * NaN rules the templates rely on: v_max/v_min return their *second*
 * argument when either is NaN (x86 semantics), so v_clamp(x, lo, hi)
 * propagates a NaN x.
 */
#ifndef BPLAB_AVX512_VEC_H
#define BPLAB_AVX512_VEC_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define VW 16
#define BP_FN(name) bp_##name##__avx512

typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vmask;

static inline vmask v_tailmask(size_t n) { return (vmask)((1u << n) - 1u); }

static inline vf v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, vf x) { _mm512_storeu_ps(p, x); }
/* n < VW lanes; the rest read as 0 and are never touched in memory */
static inline vf v_load_tail(const float *p, size_t n)
{
    return _mm512_maskz_loadu_ps(v_tailmask(n), p);
}
static inline void v_store_tail(float *p, vf x, size_t n)
{
    _mm512_mask_storeu_ps(p, v_tailmask(n), x);
}

/* n < VW lanes from memory, the other lanes set to `fill` */
static inline vf v_load_tail_or(const float *p, size_t n, float fill)
{
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), v_tailmask(n), p);
}

static inline vf v_set1(float a) { return _mm512_set1_ps(a); }
/* base, base+1, ..., base+VW-1 (exact below 2^24) */
static inline vf v_iota(float base)
{
    return _mm512_add_ps(_mm512_set1_ps(base),
                         _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                        12, 13, 14, 15));
}
static inline vf v_zero(void) { return _mm512_setzero_ps(); }
static inline vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf v_sqrt(vf a) { return _mm512_sqrt_ps(a); }
static inline vf v_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }   /* a*b+c */
static inline vf v_fnma(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); } /* c-a*b */
static inline vf v_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf v_abs(vf a) { return _mm512_abs_ps(a); }
/* x <= 0 ? +0 : x (-0 -> +0, NaN stays NaN): keep the lanes where
 * "not less than or equal" holds, which includes the unordered ones */
static inline vf v_relu(vf x)
{
    return _mm512_maskz_mov_ps(
        _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NLE_UQ), x);
}
static inline vf v_neg(vf a)
{
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}
/* copy the sign of s onto |m| */
static inline vf v_copysign(vf m, vf s)
{
    __m512i sign = _mm512_set1_epi32(INT32_MIN);
    __m512i mag = _mm512_andnot_si512(sign, _mm512_castps_si512(m));
    return _mm512_castsi512_ps(
        _mm512_or_si512(mag, _mm512_and_si512(sign, _mm512_castps_si512(s))));
}

/* comparisons and selection */
static inline vmask v_gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
static inline vmask v_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline vmask v_eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline vf v_select(vmask m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); } /* m ? a : b */
static inline vmask v_mask_and(vmask a, vmask b) { return (vmask)(a & b); }
static inline vmask v_mask_or(vmask a, vmask b) { return (vmask)(a | b); }

/* a-priori accurate reciprocal: 14-bit estimate, one Newton step (~1 ulp) */
static inline vf v_recip(vf d)
{
    vf r = _mm512_rcp14_ps(d);
    vf e = _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f));
    return _mm512_fmadd_ps(r, e, r);
}

/* round to nearest integer (ties to even), as float */
static inline vf v_round(vf a)
{
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* p * 2^n for integral n in [-150, 130]: exact scaling, gradual underflow,
 * overflow to inf */
static inline vf v_ldexp(vf p, vf n) { return _mm512_scalef_ps(p, n); }

/* exp's table step (kernels/simd/vmath.inc): p * 2^(n/16) for integral
 * n, given nm = n + 1.5*2^23 (whose low 4 mantissa bits are n mod 16):
 * one vpermps picks 2^(j/16), vscalefps applies 2^floor(n/16). */
#define V_EXP_TBL_BITS 4
static inline vf v_exp_tbl_scale(vf p, vf nm, vf n)
{
    const __m512 tbl = _mm512_setr_ps(
        1.000000000e+00f, 1.044273734e+00f, 1.090507746e+00f, 1.138788581e+00f,
        1.189207077e+00f, 1.241857767e+00f, 1.296839595e+00f, 1.354255557e+00f,
        1.414213538e+00f, 1.476826191e+00f, 1.542210817e+00f, 1.610490322e+00f,
        1.681792855e+00f, 1.756252170e+00f, 1.834008098e+00f, 1.915206552e+00f);
    __m512 t = _mm512_permutexvar_ps(_mm512_castps_si512(nm), tbl);
    return _mm512_scalef_ps(_mm512_mul_ps(p, t),
                            _mm512_mul_ps(n, _mm512_set1_ps(0.0625f)));
}

/* horizontal reductions, in a fixed order (lane tree) */
static inline float v_hsum(vf a) { return _mm512_reduce_add_ps(a); }
static inline float v_hmax(vf a) { return _mm512_reduce_max_ps(a); }

/* double accumulation of squares / sums: acc[0..1] hold 2 x 8 doubles */
typedef struct { __m512d lo, hi; } vd2;
static inline vd2 vd2_zero(void) { vd2 r = {_mm512_setzero_pd(), _mm512_setzero_pd()}; return r; }
static inline vd2 vd2_add(vd2 acc, vf x)
{
    acc.lo = _mm512_add_pd(acc.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(x)));
    acc.hi = _mm512_add_pd(acc.hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1)));
    return acc;
}
/* acc += x^2, squared in double (exact) */
static inline vd2 vd2_addsq(vd2 acc, vf x)
{
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(x)), hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1));
    acc.lo = _mm512_fmadd_pd(lo, lo, acc.lo);
    acc.hi = _mm512_fmadd_pd(hi, hi, acc.hi);
    return acc;
}
static inline double vd2_hsum(vd2 acc)
{
    return _mm512_reduce_add_pd(_mm512_add_pd(acc.lo, acc.hi));
}
/* the VW double lanes to p[0..VW), in lane order */
static inline void vd2_store(double *p, vd2 acc)
{
    _mm512_storeu_pd(p, acc.lo);
    _mm512_storeu_pd(p + 8, acc.hi);
}

/* 32-bit integer lanes, for the dropout hash */
static inline vi vi_set1(uint32_t a) { return _mm512_set1_epi32((int)a); }
static inline vi vi_iota(uint32_t base)
{
    return _mm512_add_epi32(_mm512_set1_epi32((int)base),
                            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                              11, 12, 13, 14, 15));
}
static inline vi vi_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
static inline vi vi_xor(vi a, vi b) { return _mm512_xor_si512(a, b); }
static inline vi vi_mul(vi a, vi b) { return _mm512_mullo_epi32(a, b); }
static inline vi vi_srl(vi a, int s) { return _mm512_srli_epi32(a, (unsigned)s); }
/* a >= b as signed 32-bit (callers keep values below 2^31) */
static inline vmask vi_ge(vi a, vi b) { return _mm512_cmp_epi32_mask(a, b, _MM_CMPINT_NLT); }

#endif
