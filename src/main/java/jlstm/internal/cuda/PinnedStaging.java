package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jlstm.internal.cuda.CudaCalls.check;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jcuda.Pointer;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * Host↔device copies of Java arrays through one page-locked (pinned) host buffer, as async copies
 * on one stream. Why: a synchronous {@code cuMemcpyHtoD} of a pageable Java array runs on the
 * legacy default stream, which CUDA forbids while any blocking stream of the context is capturing a
 * graph (another thread's capture fails with {@code CUDA_ERROR_STREAM_CAPTURE_IMPLICIT}); an async
 * copy from pinned memory on the engine's own (non-blocking) stream touches no other stream and is
 * ordered with the kernels that read it.
 *
 * <p>Uploads are packed one after another into the buffer and return once the array has been
 * copied into it (the caller may reuse the array at once); the copies to the device run later, in
 * stream order. The buffer is reused only after the stream has been synchronized: when it is full,
 * and at every download (which must wait for its data anyway). Transfers larger than the buffer go
 * in chunks. The buffer starts small and grows to at most {@link #MAX_BYTES}.
 *
 * <p>Not thread-safe: one per stream, used by the thread that owns the engine at the time. Never
 * used while the stream captures a graph (a captured copy would bake in the buffer's address): the
 * engines copy inputs in before a captured pass and results out after it.
 */
final class PinnedStaging implements AutoCloseable {
    /** The largest the buffer grows to: 8 MiB per engine lane, whatever the size of a transfer. */
    static final long MAX_BYTES = 8L << 20;
    private static final long FIRST_BYTES = 64L << 10;
    /** Each transfer starts on a 256-byte boundary, as the copy engines like. */
    private static final long ALIGN = 256;

    private final CUstream stream;
    private Pointer host;
    private ByteBuffer buffer;
    private long capacity;
    /** Bytes of the buffer that pending copies may still read or write. */
    private long used;
    private boolean closed;

    /** Stages transfers for {@code stream} (which must belong to the context current at every call). */
    PinnedStaging(CUstream stream) {
        this.stream = stream;
    }

    /** Copies {@code src} into the buffer and queues its copy to device address {@code dst}. */
    void upload(long dst, float[] src) {
        int done = 0;
        while (done < src.length) {
            int count = (int) Math.min(src.length - done, MAX_BYTES / Float.BYTES);
            long offset = reserve((long) count * Float.BYTES);
            buffer.position((int) offset);
            buffer.asFloatBuffer().put(src, done, count);
            copyToDevice(DeviceAddress.at(dst, done), offset, (long) count * Float.BYTES, "floats");
            done += count;
        }
    }

    /** Copies {@code src} (an index array) into the buffer and queues its copy to {@code dst}. */
    void upload(long dst, int[] src) {
        int done = 0;
        while (done < src.length) {
            int count = (int) Math.min(src.length - done, MAX_BYTES / Integer.BYTES);
            long offset = reserve((long) count * Integer.BYTES);
            buffer.position((int) offset);
            buffer.asIntBuffer().put(src, done, count);
            copyToDevice(DeviceAddress.at(dst, done), offset, (long) count * Integer.BYTES, "ints");
            done += count;
        }
    }

    /**
     * Copies device floats at {@code src} into {@code dst} once all work queued on the stream before
     * is done; returns when {@code dst} holds them.
     */
    void download(float[] dst, long src) {
        int done = 0;
        while (done < dst.length) {
            int count = (int) Math.min(dst.length - done, MAX_BYTES / Float.BYTES);
            long offset = reserve((long) count * Float.BYTES);
            copyToHost(offset, DeviceAddress.at(src, done), (long) count * Float.BYTES);
            buffer.position((int) offset);
            buffer.asFloatBuffer().get(dst, done, count);
            done += count;
        }
    }

    /** Reads one double at {@code src} once all work queued on the stream before is done. */
    double downloadDouble(long src) {
        long offset = reserve(Double.BYTES);
        copyToHost(offset, src, Double.BYTES);
        return buffer.getDouble((int) offset);
    }

    /** Bytes of pinned host memory held now (for tests: bounded by {@link #MAX_BYTES}). */
    long capacity() {
        return capacity;
    }

    /**
     * Space for {@code bytes} in the buffer: after what pending copies use, or, when that does not
     * fit, from the start once the stream has drained (growing the buffer if it is too small).
     */
    private long reserve(long bytes) {
        long start = (used + ALIGN - 1) / ALIGN * ALIGN;
        if (buffer != null && start + bytes <= capacity) {
            used = start + bytes;
            return start;
        }
        drain("before reusing the staging buffer");
        if (bytes > capacity) {
            grow(bytes);
        }
        used = bytes;
        return 0;
    }

    private void grow(long bytes) {
        long size = Math.min(MAX_BYTES, Math.max(bytes, Math.max(FIRST_BYTES, capacity * 2)));
        release();
        Pointer fresh = new Pointer();
        check(cuMemAllocHost(fresh, size), "cuMemAllocHost(" + size + " bytes of staging)");
        host = fresh;
        capacity = size;
        buffer = fresh.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
    }

    private void copyToDevice(long dst, long offset, long bytes, String what) {
        int result = cuMemcpyHtoDAsync(DeviceAddress.pointer(dst), host.withByteOffset(offset), bytes, stream);
        if (result != CUresult.CUDA_SUCCESS) {
            check(result, "cuMemcpyHtoDAsync(" + bytes + " bytes of " + what + ")");
        }
    }

    private void copyToHost(long offset, long src, long bytes) {
        int result = cuMemcpyDtoHAsync(host.withByteOffset(offset), DeviceAddress.pointer(src), bytes, stream);
        if (result != CUresult.CUDA_SUCCESS) {
            check(result, "cuMemcpyDtoHAsync(" + bytes + " bytes)");
        }
        drain("after a download");
    }

    /** Waits for the stream: every copy that reads or writes the buffer is done. */
    private void drain(String where) {
        if (used > 0 || buffer != null) {
            int result = cuStreamSynchronize(stream);
            if (result != CUresult.CUDA_SUCCESS) {
                check(result, "cuStreamSynchronize(" + where + ")");
            }
        }
        used = 0;
    }

    private void release() {
        if (host != null) {
            check(cuMemFreeHost(host), "cuMemFreeHost(staging)");
            host = null;
            buffer = null;
            capacity = 0;
        }
    }

    /** Frees the buffer; the stream must have drained (the owner synchronizes it before closing). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }
}
