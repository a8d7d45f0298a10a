package jlstm.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The data section of a safetensors file, memory-mapped in a few large windows that every tensor
 * shares, instead of one mapping per tensor: a process may hold only so many mappings (Linux:
 * {@code vm.max_map_count}, 65,530 by default), and a valid file may list more tensors than that.
 * A file of D data bytes takes ⌈D / chunk⌉ mappings, one for a file under the chunk size.
 *
 * <p>Window k starts at data offset k · chunk and is 2 · chunk − 1 bytes long (shorter at the end):
 * windows overlap, so that any piece of at most {@code chunk} bytes lies wholly inside the window
 * where it starts. A tensor is cut into pieces of at most {@code chunk} bytes measured from its own
 * start, so with {@code chunk} a multiple of 8 no element is ever split between two pieces.
 * Overlapping windows cost address space only; pages are read from disk when touched.
 */
final class MappedData {
    private final ByteBuffer[] windows;
    private final long chunk;

    /**
     * Maps {@code length} bytes of {@code channel} from {@code start}.
     *
     * @param chunk the largest piece handed out, a multiple of 8 of at most 1 GiB (a window of
     *              2 · chunk − 1 bytes must fit one buffer)
     */
    MappedData(FileChannel channel, long start, long length, long chunk) throws IOException {
        if (chunk < 8 || chunk % 8 != 0 || chunk > (1L << 30)) {
            throw new IllegalArgumentException("chunk must be a multiple of 8 in [8, 1 GiB], got " + chunk);
        }
        this.chunk = chunk;
        int count = (int) ((length + chunk - 1) / chunk);
        windows = new ByteBuffer[count];
        for (int k = 0; k < count; k++) {
            long from = k * chunk;
            long size = Math.min(2 * chunk - 1, length - from);
            windows[k] = channel.map(FileChannel.MapMode.READ_ONLY, start + from, size);
        }
    }

    /** Mappings this data section holds. */
    int mappings() {
        return windows.length;
    }

    /**
     * The bytes [begin, end) of the data section as views of the shared windows, in order, each
     * at most {@code chunk} bytes; no copy and no new mapping.
     */
    ByteBuffer[] pieces(long begin, long end) {
        int count = (int) ((end - begin + chunk - 1) / chunk);
        ByteBuffer[] out = new ByteBuffer[count];
        for (int j = 0; j < count; j++) {
            long at = begin + j * chunk;
            long n = Math.min(chunk, end - at);
            int k = (int) (at / chunk);
            out[j] = windows[k].slice((int) (at - k * chunk), (int) n);
        }
        return out;
    }
}
