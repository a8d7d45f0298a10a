// cuda_bf16.h — the part of CUDA's bfloat16 type the jlstm kernels use, for the CPU stand-in
// (cuda/standin): storage, and the conversions to and from float. Found before the toolkit's
// header because the stand-in compiles cuda/*.cu with -I cuda/standin/include.
//
// __float2bfloat16_rn rounds to nearest with ties to even, as cvt.rn.bf16.f32 does (NaN stays a
// quiet NaN, overflow goes to ±Inf); __bfloat162float is exact.
#pragma once

#include <cstring>

struct __nv_bfloat16 {
    unsigned short __x;   // the upper 16 bits of a float32
};

inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    unsigned int u;
    std::memcpy(&u, &f, sizeof u);
    __nv_bfloat16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        r.__x = (unsigned short) ((u | 0x00400000u) >> 16);
    } else {
        r.__x = (unsigned short) ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
    return r;
}

inline __nv_bfloat16 __float2bfloat16(float f) {
    return __float2bfloat16_rn(f);
}

inline float __bfloat162float(__nv_bfloat16 h) {
    unsigned int u = (unsigned int) h.__x << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}
