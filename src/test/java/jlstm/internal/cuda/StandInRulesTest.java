package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuFuncGetAttribute;
import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jcuda.Pointer;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jlstm.internal.Backends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA rules the CPU stand-in enforces because they bit (docs/GPU.md): legacy-stream work
 * while a blocking stream captures fails from any thread and invalidates the capture, while a
 * non-blocking stream's capture is untouched by it; an async copy of pageable memory cannot be
 * captured, one of pinned memory can; occupancy counts the per-block shared-memory reservation and
 * the kernel's registers. Runs on the stand-in only (a GPU obeys the rules by itself).
 */
@Tag("cuda")
class StandInRulesTest {
    private static final int FLOATS = 16;

    @BeforeEach
    void requireStandIn() {
        assumeTrue(Backends.cuda().availability().available() && CudaStandIn.active(), "stand-in rules: stand-in only");
    }

    @Test
    void legacyStreamWorkDuringABlockingCaptureFailsAndInvalidatesIt() throws InterruptedException {
        try (CudaDevice device = new CudaDevice()) {
            int[] blocking = captureWhileAnotherThreadCopies(device, CUstream_flags.CU_STREAM_DEFAULT);
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, blocking[0], "the other thread's cuMemcpyHtoD");
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, blocking[1], "the capture is invalidated");
            int[] nonBlocking = captureWhileAnotherThreadCopies(device, CUstream_flags.CU_STREAM_NON_BLOCKING);
            assertEquals(CUresult.CUDA_SUCCESS, nonBlocking[0], "a non-blocking capture does not involve the legacy stream");
            assertEquals(CUresult.CUDA_SUCCESS, nonBlocking[1], "and it ends with its graph");
        }
    }

    /** {the other thread's synchronous copy result, the end-of-capture result}. */
    private static int[] captureWhileAnotherThreadCopies(CudaDevice device, int streamFlags)
            throws InterruptedException {
        int[] results = new int[2];
        long target = device.inContext(() -> device.alloc(FLOATS, "target"));
        CUstream stream = new CUstream();
        device.inContext(() -> {
            CudaCalls.check(cuStreamCreate(stream, streamFlags), "cuStreamCreate");
            CudaCalls.check(cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                    "cuStreamBeginCapture");
            return null;
        });
        Thread other = new Thread(() -> results[0] = device.inContext(() ->
                cuMemcpyHtoD(DeviceAddress.pointer(target), Pointer.to(new float[FLOATS]), FLOATS * 4L)));
        other.start();
        other.join();
        device.inContext(() -> {
            CUgraph graph = new CUgraph();
            results[1] = cuStreamEndCapture(stream, graph);
            if (results[1] == CUresult.CUDA_SUCCESS) {
                cuGraphDestroy(graph);
            }
            CudaCalls.check(cuStreamDestroy(stream), "cuStreamDestroy");
            device.free(target, "target");
            return null;
        });
        return results;
    }

    @Test
    void pageableAsyncCopiesCannotBeCapturedPinnedOnesCan() {
        try (CudaDevice device = new CudaDevice()) {
            device.inContext(() -> {
                long target = device.alloc(FLOATS, "target");
                Pointer pinned = new Pointer();
                CudaCalls.check(cuMemAllocHost(pinned, FLOATS * 4L), "cuMemAllocHost");
                try {
                    assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                            capturedCopy(device, target, Pointer.to(new float[FLOATS]))[0], "a pageable Java array");
                    assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED,
                            capturedCopy(device, target, Pointer.to(new float[FLOATS]))[1], "invalidates the capture");
                    int[] fromPinned = capturedCopy(device, target, pinned);
                    assertEquals(CUresult.CUDA_SUCCESS, fromPinned[0], "page-locked memory");
                    assertEquals(CUresult.CUDA_SUCCESS, fromPinned[1], "is captured");
                } finally {
                    cuMemFreeHost(pinned);
                    device.free(target, "target");
                }
                return null;
            });
        }
    }

    /** {the captured cuMemcpyHtoDAsync's result, the end-of-capture result}; inside the device's context. */
    private static int[] capturedCopy(CudaDevice device, long target, Pointer host) {
        CUstream stream = device.stream(0);
        device.beginCapture();
        int copy = cuMemcpyHtoDAsync(DeviceAddress.pointer(target), host, FLOATS * 4L, stream);
        CUgraph graph = new CUgraph();
        int end = cuStreamEndCapture(stream, graph);
        if (end == CUresult.CUDA_SUCCESS) {
            cuGraphDestroy(graph);
        }
        return new int[] {copy, end};
    }

    @Test
    void occupancyCountsTheBlockReservationAndRegisters() {
        try (CudaDevice device = new CudaDevice()) {
            device.inContext(() -> {
                // Shared memory: blocks of 76 KiB in all would fit 3 to an SM's 228 KiB, but each block
                // also takes the 1 KiB the system reserves, so 2 fit.
                try (CudaModule small = new CudaModule(CudaModule.readFatbin())) {
                    int[] staticBytes = new int[1];
                    cuFuncGetAttribute(staticBytes, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                            small.function(Kernel.MULTIPLY));
                    int[] blocks = new int[1];
                    CudaCalls.check(cuOccupancyMaxActiveBlocksPerMultiprocessor(blocks, small.function(Kernel.MULTIPLY),
                            32, 76 * 1024 - staticBytes[0]), "occupancy");
                    assertEquals(2, blocks[0], "228 KiB / (76 KiB + 1 KiB reserved)");

                    // Registers: the persistent kernel's count as ptxas gives it for sm_90.
                    int[] registers = new int[1];
                    cuFuncGetAttribute(registers, CUfunction_attribute.CU_FUNC_ATTRIBUTE_NUM_REGS,
                            small.function(Kernel.PERSISTENT_FORWARD_TRAINING));
                    assumeTrue(registers[0] > 0, "registers not counted (stand-in built without nvcc)");
                    int perWarp = (registers[0] * 32 + 255) / 256 * 256;
                    for (int threads : new int[] {256, 512, 1024}) {
                        int warps = threads / 32;
                        int byThreads = 2048 / threads;
                        int byRegisters = 65536 / (perWarp * warps);
                        CudaCalls.check(cuOccupancyMaxActiveBlocksPerMultiprocessor(blocks,
                                small.function(Kernel.PERSISTENT_FORWARD_TRAINING), threads, 0), "occupancy");
                        assertEquals(Math.min(byThreads, byRegisters), blocks[0], threads + " threads, "
                                + registers[0] + " registers per thread");
                    }
                    assertTrue(65536 / (perWarp * 32) < 2, "at 1024 threads registers, not threads, limit the "
                            + "persistent kernel (" + registers[0] + " registers per thread)");
                }
                return null;
            });
        }
    }
}
