package jlstm.cuda;

import static jcuda.driver.JCudaDriver.cuCtxPopCurrent;
import static jcuda.driver.JCudaDriver.cuCtxPushCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpy2DAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jlstm.cuda.CudaCalls.FLOAT_BYTES;
import static jlstm.cuda.CudaCalls.check;

import java.util.function.Supplier;

import jcuda.Pointer;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUmemorytype;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * GPU 0 through JCuda: the primary context (retained), one blocking stream, a cuBLAS handle bound
 * to it and the kernel module. Every call is checked (see {@link CudaCalls}).
 */
final class CudaDevice implements DeviceOps {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private boolean contextRetained;
    private boolean streamCreated;
    private Cublas cublas;
    private CudaModule module;
    private boolean closed;

    CudaDevice() {
        try {
            check(cuDeviceGet(device, 0), "cuDeviceGet(0)");
            check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
            contextRetained = true;
            inContext(() -> {
                // A blocking stream: it waits for the legacy default stream, on which the synchronous
                // host copies (cuMemcpyHtoD of pageable Java arrays) run, so a kernel never starts
                // before its input has fully arrived.
                check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
                streamCreated = true;
                cublas = new Cublas(stream);
                byte[] fatbin = CudaModule.readFatbin();
                if (fatbin == null) {
                    throw new IllegalStateException(CudaProbe.KERNELS_NOT_BUILT);
                }
                module = new CudaModule(fatbin);
                return null;
            });
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    public <T> T inContext(Supplier<T> body) {
        if (closed) {
            throw new IllegalStateException("this CUDA engine is closed");
        }
        check(cuCtxPushCurrent(context), "cuCtxPushCurrent");
        try {
            return body.get();
        } finally {
            check(cuCtxPopCurrent(new CUcontext()), "cuCtxPopCurrent");
        }
    }

    @Override
    public DevPtr alloc(long floats, String what) {
        return new DevPtr(CudaCalls.allocFloats(floats, what), 0);
    }

    @Override
    public void free(DevPtr p, String what) {
        if (p != null) {
            CudaCalls.free(p.base(), what);
        }
    }

    @Override
    public void upload(DevPtr dst, float[] src) {
        check(cuMemcpyHtoD(dst.cu(), Pointer.to(src), src.length * FLOAT_BYTES),
                "cuMemcpyHtoD(" + src.length + " floats)");
    }

    @Override
    public void download(float[] dst, DevPtr src) {
        synchronize("before a download");
        check(cuMemcpyDtoH(Pointer.to(dst), src.cu(), dst.length * FLOAT_BYTES),
                "cuMemcpyDtoH(" + dst.length + " floats)");
    }

    @Override
    public void copy(DevPtr dst, DevPtr src, long floats) {
        check(cuMemcpyDtoDAsync(dst.cu(), src.cu(), floats * FLOAT_BYTES, stream),
                "cuMemcpyDtoDAsync(" + floats + " floats)");
    }

    @Override
    public void zero(DevPtr dst, long floats) {
        check(cuMemsetD32Async(dst.cu(), 0, floats, stream), "cuMemsetD32Async(" + floats + " floats)");
    }

    @Override
    public void copyRows(DevPtr dst, int dstLd, DevPtr src, int srcLd, int width, int rows) {
        CUDA_MEMCPY2D copy = new CUDA_MEMCPY2D();
        copy.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.srcDevice = src.cu();
        copy.srcPitch = srcLd * FLOAT_BYTES;
        copy.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.dstDevice = dst.cu();
        copy.dstPitch = dstLd * FLOAT_BYTES;
        copy.WidthInBytes = width * FLOAT_BYTES;
        copy.Height = rows;
        check(cuMemcpy2DAsync(copy, stream), "cuMemcpy2DAsync(" + rows + " rows of " + width + " floats)");
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, DevPtr a, int lda, DevPtr b, int ldb,
                     boolean accumulate, DevPtr c, int ldc) {
        cublas.gemm(transA, transB, m, n, k, a.cu(), lda, b.cu(), ldb, accumulate, c.cu(), ldc);
    }

    @Override
    public void launch(Kernel kernel, int gridX, int gridY, int blockX, int blockY, Object... args) {
        Object[] converted = new Object[args.length];
        for (int n = 0; n < args.length; n++) {
            converted[n] = args[n] instanceof DevPtr p ? p.cu() : args[n];
        }
        module.launch(kernel, gridX, gridY, blockX, blockY, stream, converted);
    }

    @Override
    public void synchronize(String where) {
        check(cuStreamSynchronize(stream), "cuStreamSynchronize(" + where + ")");
    }

    @Override
    public long freeMemory() {
        long[] free = new long[1];
        long[] total = new long[1];
        check(cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    @Override
    public void close() {
        if (closed || !contextRetained) {
            closed = true;
            return;
        }
        check(cuCtxPushCurrent(context), "cuCtxPushCurrent(close)");
        try {
            if (streamCreated) {
                check(cuStreamSynchronize(stream), "cuStreamSynchronize(close)");
            }
            if (cublas != null) {
                cublas.close();
            }
            if (module != null) {
                module.close();
            }
            if (streamCreated) {
                check(cuStreamDestroy(stream), "cuStreamDestroy");
            }
        } finally {
            closed = true;
            check(cuCtxPopCurrent(new CUcontext()), "cuCtxPopCurrent(close)");
            check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
        }
    }
}
