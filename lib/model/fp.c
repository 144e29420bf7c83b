/* Float format conversions with correct rounding. Not for quantized (GGUF) types. */
#include "ckptdb/fp.h"

#include <math.h>
#include <string.h>

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float ckpt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    if (exp == 0x1F)
        return bits_f32(sign | 0x7F800000u | (man << 13));
    if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

/* Round a double to the nearest f16 (ties to even). */
uint16_t ckpt_f64_to_f16(double d)
{
    uint16_t sign = signbit(d) ? 0x8000 : 0;
    if (isnan(d))
        return sign | 0x7E00;
    double a = fabs(d);
    if (isinf(a))
        return sign | 0x7C00;
    if (a == 0)
        return sign;
    int e;
    frexp(a, &e);    /* a = m * 2^e, m in [0.5, 1) */
    int exp = e - 1; /* a in [2^exp, 2^(exp+1)) */
    if (exp < -14)
        exp = -14;                   /* subnormal range: quantum 2^-24 */
    double q = ldexp(1.0, exp - 10); /* spacing of f16 values in this binade */
    double n = nearbyint(a / q);     /* ties to even under the default rounding mode */
    double r = n * q;
    if (r >= 65520.0 || r > 65504.0)
        return sign | 0x7C00;
    /* encode r */
    if (r < ldexp(1.0, -14))
        return sign | (uint16_t)(r / ldexp(1.0, -24));
    int re;
    double m = frexp(r, &re); /* r = m*2^re, m in [0.5,1) */
    int bexp = re - 1 + 15;
    uint16_t man = (uint16_t)((m * 2.0 - 1.0) * 1024.0);
    return sign | (uint16_t)(bexp << 10) | man;
}

uint16_t ckpt_f32_to_f16(float f)
{
    return ckpt_f64_to_f16((double)f);
}

float ckpt_bf16_to_f32(uint16_t h)
{
    return bits_f32((uint32_t)h << 16);
}

uint16_t ckpt_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u)
        return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    uint32_t lsb = (u >> 16) & 1;
    u += 0x7FFFu + lsb;
    return (uint16_t)(u >> 16);
}

uint16_t ckpt_f64_to_bf16(double d)
{
    if (isnan(d))
        return signbit(d) ? 0xFFC0 : 0x7FC0;
    double a = fabs(d);
    uint16_t sign = signbit(d) ? 0x8000 : 0;
    if (isinf(a))
        return sign | 0x7F80;
    if (a == 0)
        return sign;
    int e;
    frexp(a, &e);
    int exp = e - 1;
    if (exp < -126)
        exp = -126;
    double q = ldexp(1.0, exp - 7);
    double r = nearbyint(a / q) * q;
    /* max bf16 = (2 - 2^-7) * 2^127; values that round above it overflow */
    if (r > ldexp(2.0 - ldexp(1.0, -7), 127))
        return sign | 0x7F80;
    float fr = (float)r; /* exact: r has at most 8 significant bits */
    return sign | (uint16_t)(f32_bits(fr) >> 16);
}

float ckpt_f64_to_f32(double d)
{
    return (float)d; /* C conversion rounds to nearest-even under the default mode */
}
