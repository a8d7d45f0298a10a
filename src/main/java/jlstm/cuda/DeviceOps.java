package jlstm.cuda;

import java.util.function.Supplier;

/**
 * The device operations {@link CudaLstmEngine} is written against: memory, copies, the row-major
 * GEMM and kernel launches, all ordered on one stream. {@link CudaDevice} is the real one (JCuda);
 * the tests add an emulation in plain Java that runs the engine's exact schedule without a GPU.
 * All calls except {@link #inContext} must be made inside {@link #inContext}.
 */
interface DeviceOps extends AutoCloseable {

    /** Runs {@code body} with the device's context current on this thread. */
    <T> T inContext(Supplier<T> body);

    /** Allocates {@code floats} floats. */
    DevPtr alloc(long floats, String what);

    /** Frees an allocation from {@link #alloc}; null is ignored. */
    void free(DevPtr p, String what);

    /** Copies a host array to the device (complete before any later stream work starts). */
    void upload(DevPtr dst, float[] src);

    /** Waits for the stream, then copies device memory into a host array. */
    void download(float[] dst, DevPtr src);

    /** Stream-ordered device-to-device copy. */
    void copy(DevPtr dst, DevPtr src, long floats);

    /** Stream-ordered fill with 0f. */
    void zero(DevPtr dst, long floats);

    /** Copies {@code rows} rows of {@code width} floats between matrices with row strides dstLd, srcLd. */
    void copyRows(DevPtr dst, int dstLd, DevPtr src, int srcLd, int width, int rows);

    /** Row-major C = op(A)·op(B) (+ C when accumulate); see {@link Cublas#gemm}. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, DevPtr a, int lda, DevPtr b, int ldb,
              boolean accumulate, DevPtr c, int ldc);

    /** Launches a kernel; arguments are Integer, Float or DevPtr in the kernel's parameter order. */
    void launch(Kernel kernel, int gridX, int gridY, int blockX, int blockY, Object... args);

    /** Waits until all stream work is done. */
    void synchronize(String where);

    /** Free device memory in bytes. */
    long freeMemory();

    @Override
    void close();
}
