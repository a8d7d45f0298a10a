package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuCtxPopCurrent;
import static jcuda.driver.JCudaDriver.cuCtxPushCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuFuncGetAttribute;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpy2DAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;
import static jlstm.internal.cuda.CudaCalls.check;
import static jlstm.internal.cuda.DeviceAddress.FLOAT;

import java.util.function.Supplier;

import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmemorytype;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;

/**
 * One GPU (by ordinal) through JCuda for one engine: its primary context (retained), two non-blocking streams — lane
 * 0, the main one, and lane 1, where the reverse direction of a bidirectional layer runs beside
 * the forward one — each with its own cuBLAS handle and workspace, the kernel module, and the
 * events that fork lane 1 off lane 0 and join it back, and the pinned staging buffer through
 * which host arrays move ({@link PinnedStaging}, on lane 0). Every call is checked (see
 * {@link CudaCalls}); addresses are {@code long}s (see {@link DeviceAddress}). All calls except
 * {@link #inContext} must be made inside {@link #inContext}.
 */
final class CudaDevice implements AutoCloseable {
    /** cuBLAS workspace per handle: what cuBLAS asks for on Hopper, so captured GEMMs never allocate. */
    private static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;
    /** The stand-in's GEMMs use no workspace; a small one keeps its NaN-filled allocations cheap. */
    private static final long STANDIN_CUBLAS_WORKSPACE_BYTES = 1L << 16;
    /** Dynamic shared memory every kernel may use without opting in. */
    private static final int DEFAULT_DYNAMIC_SHARED = 48 * 1024;

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream[] streams = {new CUstream(), new CUstream()};
    private final Cublas[] blas = new Cublas[2];
    private final long[] blasWorkspace = new long[2];
    private final CUevent fork = new CUevent();
    private final CUevent join = new CUevent();
    private boolean contextRetained;
    private int streamsCreated;
    private boolean eventsCreated;
    private CudaModule module;
    private PinnedStaging staging;
    private boolean closed;
    private long allocations;
    private final int[] maxDynamicShared = new int[Kernel.values().length];
    /** Streaming multiprocessors of the device. */
    final int multiprocessors;
    /** The GPU's ordinal in the driver's order. */
    final int ordinal;

    /** GPU 0. */
    CudaDevice() {
        this(0);
    }

    /** GPU {@code ordinal} (its primary context, retained). */
    CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        try {
            check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
            int[] sms = new int[1];
            check(cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
                    "cuDeviceGetAttribute(multiprocessors)");
            multiprocessors = Math.max(1, sms[0]);
            check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
            contextRetained = true;
            inContext(() -> {
                // Non-blocking streams: they never wait for the legacy default stream, nor it for
                // them, so another thread's (or library's) legacy-stream work can neither break one
                // of our captures nor be broken by it. Host copies are async on lane 0 itself
                // (PinnedStaging), so stream order alone puts each input before its kernels.
                for (CUstream s : streams) {
                    check(cuStreamCreate(s, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
                    streamsCreated++;
                }
                staging = new PinnedStaging(streams[0]);
                check(cuEventCreate(fork, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
                check(cuEventCreate(join, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
                eventsCreated = true;
                long workspaceBytes = CudaStandIn.active() ? STANDIN_CUBLAS_WORKSPACE_BYTES : CUBLAS_WORKSPACE_BYTES;
                for (int lane = 0; lane < 2; lane++) {
                    blasWorkspace[lane] = alloc(workspaceBytes / FLOAT, "cuBLAS workspace");
                    blas[lane] = new Cublas(streams[lane], blasWorkspace[lane], workspaceBytes);
                }
                byte[] fatbin = CudaModule.readFatbin();
                if (fatbin == null) {
                    throw new IllegalStateException(CudaProbe.KERNELS_NOT_BUILT);
                }
                module = new CudaModule(fatbin);
                raiseSharedMemoryLimits();
                return null;
            });
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Runs {@code body} with the device's context current on this thread. */
    <T> T inContext(Supplier<T> body) {
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

    /** The stream of a lane (0 main, 1 beside it). */
    CUstream stream(int lane) {
        return streams[lane];
    }

    /** The cuBLAS handle bound to a lane's stream. */
    Cublas blas(int lane) {
        return blas[lane];
    }

    /** The reusable launcher of a kernel. */
    KernelLauncher kernel(Kernel kernel) {
        return module.launcher(kernel);
    }

    /** Allocates {@code floats} floats; returns the address. */
    long alloc(long floats, String what) {
        long address = DeviceAddress.of(CudaCalls.allocFloats(floats, what));
        allocations++;
        return address;
    }

    /**
     * Device allocations made through this device so far (its own included): tests check that a
     * repeated call allocates nothing, since cuMemAlloc and cuMemFree synchronise the whole device.
     */
    long allocations() {
        return allocations;
    }

    /** Frees an allocation from {@link #alloc}; 0 is ignored. */
    void free(long address, String what) {
        if (address != 0) {
            CudaCalls.free(DeviceAddress.pointer(address), what);
        }
    }

    /**
     * Queues a copy of a host array to the device on lane 0 (through pinned staging: the array may
     * be reused at once; lane 0's later work sees the data).
     */
    void upload(long dst, float[] src) {
        staging.upload(dst, src);
    }

    /** Queues a copy of a host int array (index arrays) to the device on lane 0. */
    void upload(long dst, int[] src) {
        staging.upload(dst, src);
    }

    /** Waits for both lanes, then copies device memory into a host array (through lane 0's staging). */
    void download(float[] dst, long src) {
        synchronize("before a download");
        staging.download(dst, src);
    }

    /** Waits for both lanes, then reads one double from device memory. */
    double downloadDouble(long src) {
        synchronize("before a download");
        return staging.downloadDouble(src);
    }

    /** Stream-ordered device-to-device copy on a lane. */
    void copy(long dst, long src, long floats, int lane) {
        int result = cuMemcpyDtoDAsync(DeviceAddress.pointer(dst), DeviceAddress.pointer(src), floats * FLOAT,
                streams[lane]);
        if (result != CUresult.CUDA_SUCCESS) {
            check(result, "cuMemcpyDtoDAsync(" + floats + " floats)");
        }
    }

    /** Stream-ordered fill of {@code floats} 32-bit words with {@code bits} on lane 0 (0: zeros). */
    void fill(long dst, long floats, int bits) {
        int result = cuMemsetD32Async(DeviceAddress.pointer(dst), bits, floats, streams[0]);
        if (result != CUresult.CUDA_SUCCESS) {
            check(result, "cuMemsetD32Async(" + floats + " floats)");
        }
    }

    /** Copies {@code rows} rows of {@code width} floats between matrices with row strides dstLd, srcLd. */
    void copyRows(long dst, int dstLd, long src, int srcLd, int width, int rows, int lane) {
        CUDA_MEMCPY2D copy = new CUDA_MEMCPY2D();
        copy.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.srcDevice = DeviceAddress.pointer(src);
        copy.srcPitch = srcLd * FLOAT;
        copy.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.dstDevice = DeviceAddress.pointer(dst);
        copy.dstPitch = dstLd * FLOAT;
        copy.WidthInBytes = width * FLOAT;
        copy.Height = rows;
        int result = cuMemcpy2DAsync(copy, streams[lane]);
        if (result != CUresult.CUDA_SUCCESS) {
            check(result, "cuMemcpy2DAsync(" + rows + " rows of " + width + " floats)");
        }
    }

    /** Lane 1 waits for everything lane 0 has issued so far. */
    void fork() {
        check(cuEventRecord(fork, streams[0]), "cuEventRecord(fork)");
        check(cuStreamWaitEvent(streams[1], fork, 0), "cuStreamWaitEvent(fork)");
    }

    /** Lane 0 waits for everything lane 1 has issued so far. */
    void join() {
        check(cuEventRecord(join, streams[1]), "cuEventRecord(join)");
        check(cuStreamWaitEvent(streams[0], join, 0), "cuStreamWaitEvent(join)");
    }

    /** Waits until all work of both lanes is done. */
    void synchronize(String where) {
        int result = cuStreamSynchronize(streams[0]);
        if (result == CUresult.CUDA_SUCCESS) {
            result = cuStreamSynchronize(streams[1]);
        }
        if (result != CUresult.CUDA_SUCCESS) {
            check(result, "cuStreamSynchronize(" + where + ")");
        }
    }

    /** Blocks of a kernel that fit on one multiprocessor at once with this block size and shared memory. */
    int activeBlocksPerMultiprocessor(Kernel kernel, int threads, long sharedBytes) {
        int[] blocks = new int[1];
        check(cuOccupancyMaxActiveBlocksPerMultiprocessor(blocks, module.function(kernel), threads, sharedBytes),
                "cuOccupancyMaxActiveBlocksPerMultiprocessor(" + kernel.entryName() + ")");
        return blocks[0];
    }

    /** Dynamic shared memory a launch of the kernel may use, bytes (set once, see the constructor). */
    int maxDynamicShared(Kernel kernel) {
        return maxDynamicShared[kernel.ordinal()];
    }

    /**
     * Raises the dynamic shared memory limit of the kernels that keep weights on chip (the persistent
     * ones) from the default 48 KiB to what the device allows a block to opt in to, minus their
     * static shared memory, so each launch can take what its plan computed.
     */
    private void raiseSharedMemoryLimits() {
        int[] optIn = new int[1];
        check(cuDeviceGetAttribute(optIn, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                device), "cuDeviceGetAttribute(shared memory per block, opt-in)");
        for (Kernel kernel : Kernel.values()) {
            int[] staticBytes = new int[1];
            check(cuFuncGetAttribute(staticBytes, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                    module.function(kernel)), "cuFuncGetAttribute(" + kernel.entryName() + ")");
            int limit = DEFAULT_DYNAMIC_SHARED - staticBytes[0];
            if (kernel.keepsWeightsOnChip() && optIn[0] - staticBytes[0] > limit) {
                limit = optIn[0] - staticBytes[0];
                check(cuFuncSetAttribute(module.function(kernel),
                        CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, limit),
                        "cuFuncSetAttribute(" + kernel.entryName() + ", dynamic shared memory " + limit + ")");
            }
            maxDynamicShared[kernel.ordinal()] = limit;
        }
    }

    /**
     * Starts capturing lane 0's work (and lane 1's once forked from it) into a graph. Thread-local
     * mode: only this thread is kept from calls that cannot be captured, not the JVM's others.
     */
    void beginCapture() {
        check(cuStreamBeginCapture(streams[0], CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture");
    }

    /** Ends the capture and returns the instantiated graph. */
    CUgraphExec endCapture() {
        CUgraph graph = new CUgraph();
        check(cuStreamEndCapture(streams[0], graph), "cuStreamEndCapture");
        try {
            CUgraphExec exec = new CUgraphExec();
            check(cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate");
            return exec;
        } finally {
            check(cuGraphDestroy(graph), "cuGraphDestroy");
        }
    }

    /**
     * Captures what {@code issue} launches (from lane 0) as one instantiated graph. When
     * {@code issue} fails, the broken capture is ended and freed and the failure rethrown.
     */
    CUgraphExec capture(Runnable issue) {
        beginCapture();
        try {
            issue.run();
        } catch (RuntimeException | Error e) {
            try {
                destroy(endCapture());
            } catch (RuntimeException ignored) {
                // the capture is broken anyway; the original failure is what matters
            }
            throw e;
        }
        return endCapture();
    }

    /** Replays a graph on lane 0. */
    void launch(CUgraphExec graph) {
        int result = cuGraphLaunch(graph, streams[0]);
        if (result != CUresult.CUDA_SUCCESS) {
            check(result, "cuGraphLaunch");
        }
    }

    /** Frees an instantiated graph. */
    void destroy(CUgraphExec graph) {
        check(cuGraphExecDestroy(graph), "cuGraphExecDestroy");
    }

    /** Free device memory in bytes. */
    long freeMemory() {
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
            for (int s = 0; s < streamsCreated; s++) {
                check(cuStreamSynchronize(streams[s]), "cuStreamSynchronize(close)");
            }
            if (staging != null) {
                staging.close();
            }
            for (int lane = 0; lane < 2; lane++) {
                if (blas[lane] != null) {
                    blas[lane].close();
                }
                free(blasWorkspace[lane], "cuBLAS workspace");
            }
            if (module != null) {
                module.close();
            }
            if (eventsCreated) {
                check(cuEventDestroy(fork), "cuEventDestroy");
                check(cuEventDestroy(join), "cuEventDestroy");
            }
            for (int s = 0; s < streamsCreated; s++) {
                check(cuStreamDestroy(streams[s]), "cuStreamDestroy");
            }
        } finally {
            closed = true;
            check(cuCtxPopCurrent(new CUcontext()), "cuCtxPopCurrent(close)");
            check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
        }
    }
}
