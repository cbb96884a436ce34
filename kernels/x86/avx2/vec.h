/* kernels/x86/avx2/vec.h - the AVX2 + FMA vector layer.
 *
 * See kernels/x86/avx512/vec.h for the contract. AVX2 handles tails with
 * vmaskmovps (masked-out lanes are neither read nor written, and cannot
 * fault), scales by 2^n by building the exponent in two halves (exact,
 * with gradual underflow and overflow to inf), and refines the 12-bit
 * vrcpps estimate with one Newton step.
 */
#ifndef BPLAB_AVX2_VEC_H
#define BPLAB_AVX2_VEC_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define VW 8
#define BP_FN(name) bp_##name##__avx2

typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vmask; /* all-ones or all-zeros per lane */

static inline __m256i v_tailmask_i(size_t n)
{
    static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                     0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256((const __m256i *)(ramp + 8 - n));
}

static inline vf v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, vf x) { _mm256_storeu_ps(p, x); }
static inline vf v_load_tail(const float *p, size_t n)
{
    return _mm256_maskload_ps(p, v_tailmask_i(n));
}
static inline void v_store_tail(float *p, vf x, size_t n)
{
    _mm256_maskstore_ps(p, v_tailmask_i(n), x);
}

static inline vf v_load_tail_or(const float *p, size_t n, float fill)
{
    __m256i m = v_tailmask_i(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m),
                            _mm256_castsi256_ps(m));
}

static inline vf v_set1(float a) { return _mm256_set1_ps(a); }
static inline vf v_iota(float base)
{
    return _mm256_add_ps(_mm256_set1_ps(base),
                         _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline vf v_zero(void) { return _mm256_setzero_ps(); }
static inline vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf v_sqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf v_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf v_fnma(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
static inline vf v_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf v_abs(vf a)
{
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a);
}
static inline vf v_neg(vf a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
/* x <= 0 ? +0 : x (-0 -> +0, NaN stays NaN), see avx512/vec.h */
static inline vf v_relu(vf x)
{
    return _mm256_and_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NLE_UQ), x);
}
static inline vf v_copysign(vf m, vf s)
{
    vf sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, m), _mm256_and_ps(sign, s));
}

static inline vmask v_gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline vmask v_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline vmask v_eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static inline vf v_select(vmask m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
static inline vmask v_mask_and(vmask a, vmask b) { return _mm256_and_ps(a, b); }
static inline vmask v_mask_or(vmask a, vmask b) { return _mm256_or_ps(a, b); }

static inline vf v_recip(vf d)
{
    vf r = _mm256_rcp_ps(d);
    vf e = _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f));
    r = _mm256_fmadd_ps(r, e, r);
    e = _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f));
    return _mm256_fmadd_ps(r, e, r);
}

static inline vf v_round(vf a)
{
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* 2^k as a float for integral k in [-126, 127] */
static inline vf pow2i(__m256i k)
{
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
}

/* p * 2^n for integral n in [-150, 130], split as 2^(n/2) * 2^(n - n/2) so
 * each factor is a normal float; the second product rounds correctly into
 * the denormal range or overflows to inf. */
static inline vf v_ldexp(vf p, vf n)
{
    __m256i k = _mm256_cvttps_epi32(n);
    __m256i k1 = _mm256_srai_epi32(k, 1);
    __m256i k2 = _mm256_sub_epi32(k, k1);
    return _mm256_mul_ps(_mm256_mul_ps(p, pow2i(k1)), pow2i(k2));
}

/* exp's table step (kernels/simd/vmath.inc): p * 2^(n/8) for integral n
 * in [-1200, 1016], given nm = n + 1.5*2^23 (low 3 mantissa bits: n mod 8):
 * one vpermps picks 2^(j/8); 2^floor(n/8) is built in two halves as in
 * v_ldexp. */
#define V_EXP_TBL_BITS 3
static inline vf v_exp_tbl_scale(vf p, vf nm, vf n)
{
    (void)n;
    const __m256 tbl = _mm256_setr_ps(1.000000000e+00f, 1.090507746e+00f,
                                      1.189207077e+00f, 1.296839595e+00f,
                                      1.414213538e+00f, 1.542210817e+00f,
                                      1.681792855e+00f, 1.834008098e+00f);
    __m256i bits = _mm256_castps_si256(nm);
    __m256 t = _mm256_permutevar8x32_ps(tbl, bits);
    __m256i k = _mm256_srai_epi32(
        _mm256_sub_epi32(bits, _mm256_set1_epi32(0x4b400000)), 3);
    __m256i k1 = _mm256_srai_epi32(k, 1);
    __m256i k2 = _mm256_sub_epi32(k, k1);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(p, t), pow2i(k1)),
                         pow2i(k2));
}

static inline float v_hsum(vf a)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float v_hmax(vf a)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

typedef struct { __m256d lo, hi; } vd2;
static inline vd2 vd2_zero(void) { vd2 r = {_mm256_setzero_pd(), _mm256_setzero_pd()}; return r; }
static inline vd2 vd2_add(vd2 acc, vf x)
{
    acc.lo = _mm256_add_pd(acc.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(x)));
    acc.hi = _mm256_add_pd(acc.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
    return acc;
}
/* acc += x^2, squared in double (exact) */
static inline vd2 vd2_addsq(vd2 acc, vf x)
{
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
    acc.lo = _mm256_fmadd_pd(lo, lo, acc.lo);
    acc.hi = _mm256_fmadd_pd(hi, hi, acc.hi);
    return acc;
}
static inline double vd2_hsum(vd2 acc)
{
    __m256d s = _mm256_add_pd(acc.lo, acc.hi);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

/* the VW double lanes to p[0..VW), in lane order */
static inline void vd2_store(double *p, vd2 acc)
{
    _mm256_storeu_pd(p, acc.lo);
    _mm256_storeu_pd(p + 4, acc.hi);
}

static inline vi vi_set1(uint32_t a) { return _mm256_set1_epi32((int)a); }
static inline vi vi_iota(uint32_t base)
{
    return _mm256_add_epi32(_mm256_set1_epi32((int)base),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline vi vi_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
static inline vi vi_xor(vi a, vi b) { return _mm256_xor_si256(a, b); }
static inline vi vi_mul(vi a, vi b) { return _mm256_mullo_epi32(a, b); }
static inline vi vi_srl(vi a, int s) { return _mm256_srli_epi32(a, s); }
static inline vmask vi_ge(vi a, vi b)
{
    /* a >= b  <=>  !(b > a), signed */
    return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpgt_epi32(b, a),
                                                _mm256_set1_epi32(-1)));
}

#endif
