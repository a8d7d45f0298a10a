package jlstm.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A float address in device memory: an allocation and a float offset into it. The engine computes
 * with these; {@link DeviceOps} implementations turn them into real pointers (or, in tests, into
 * indices of an emulated memory).
 *
 * @param base   the allocation (or a caller's pointer); null for the null pointer
 * @param offset floats from {@code base}
 */
record DevPtr(CUdeviceptr base, long offset) {
    /** The null pointer, for optional kernel arguments (absent biases). */
    static final DevPtr NULL = new DevPtr(null, 0);

    /** A caller's pointer, or null. */
    static DevPtr of(CUdeviceptr pointer) {
        return pointer == null ? null : new DevPtr(pointer, 0);
    }

    /** This address advanced by {@code floats} floats. */
    DevPtr plus(long floats) {
        return new DevPtr(base, offset + floats);
    }

    /** The JCuda pointer. */
    CUdeviceptr cu() {
        if (base == null) {
            return new CUdeviceptr();
        }
        return offset == 0 ? base : base.withByteOffset(offset * Float.BYTES);
    }
}
