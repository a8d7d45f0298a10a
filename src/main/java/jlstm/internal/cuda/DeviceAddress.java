package jlstm.internal.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * Device addresses as plain {@code long}s, so the engine computes offsets without allocating a
 * JCuda pointer object per offset, and kernel arguments are written into reused arrays. JCuda
 * resolves a pointer as its native address plus its byte offset; this class reads that sum and
 * builds pointers from it.
 */
final class DeviceAddress extends CUdeviceptr {
    /** Bytes per float. */
    static final long FLOAT = Float.BYTES;

    private DeviceAddress(CUdeviceptr other) {
        super(other, 0);
    }

    /** The address a JCuda device pointer stands for (0 for null). */
    static long of(CUdeviceptr pointer) {
        if (pointer == null) {
            return 0;
        }
        DeviceAddress copy = new DeviceAddress(pointer);
        return copy.getNativePointer() + copy.getByteOffset();
    }

    /** A JCuda pointer for an address (for the driver and cuBLAS calls that take one). */
    static CUdeviceptr pointer(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }

    /** {@code address} advanced by {@code floats} floats. */
    static long at(long address, long floats) {
        return address + floats * FLOAT;
    }
}
