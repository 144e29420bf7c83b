/* Conversions between float32 and the 16-bit float formats, as torch does them:
 * round-to-nearest-even, overflow to infinity, NaN kept NaN, subnormals exact. */
#ifndef CKPTDB_FP_H
#define CKPTDB_FP_H

#include <stdint.h>

uint16_t ckpt_f32_to_f16(float f);
float ckpt_f16_to_f32(uint16_t h);
uint16_t ckpt_f32_to_bf16(float f);
float ckpt_bf16_to_f32(uint16_t h);
/* From double, rounding once (not through float): used by the merge arithmetic. */
uint16_t ckpt_f64_to_f16(double d);
uint16_t ckpt_f64_to_bf16(double d);
float ckpt_f64_to_f32(double d);

#endif
