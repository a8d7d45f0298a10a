package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.jcublas.cublasStatus;

/**
 * The one error path for CUDA driver and cuBLAS calls: every return code goes through
 * {@link #check} or {@link #checkCublas}, and a failure names the call and the error.
 *
 * <p>JCuda's {@code setExceptionsEnabled} is global to the JVM, so this package never changes it;
 * it reads return codes instead (and still works when someone else enabled exceptions).
 */
final class CudaCalls {
    /** Bytes per float. */
    static final long FLOAT_BYTES = Float.BYTES;

    private CudaCalls() {
    }

    /** Throws when a driver call failed: "cuMemAlloc(…) failed: CUDA_ERROR_OUT_OF_MEMORY". */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + CUresult.stringFor(result));
        }
    }

    /** Throws when a cuBLAS call failed. */
    static void checkCublas(int status, String call) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(call + " failed: " + cublasStatus.stringFor(status));
        }
    }

    /** Allocates {@code floats} floats of device memory. */
    static CUdeviceptr allocFloats(long floats, String what) {
        CUdeviceptr p = new CUdeviceptr();
        long bytes = Math.max(1, floats) * FLOAT_BYTES;
        check(cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + " bytes for " + what + ")");
        return p;
    }

    /** Frees a device allocation made by {@link #allocFloats}; null is ignored. */
    static void free(CUdeviceptr p, String what) {
        if (p != null) {
            check(cuMemFree(p), "cuMemFree(" + what + ")");
        }
    }

    /** {@code base} advanced by {@code floats} floats. */
    static CUdeviceptr at(CUdeviceptr base, long floats) {
        return base.withByteOffset(floats * FLOAT_BYTES);
    }
}
