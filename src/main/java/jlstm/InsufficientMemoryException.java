package jlstm;

/**
 * Thrown before a large allocation that the Java heap cannot hold: the message says how much is
 * needed, how much the heap can still give, and how to give Java more ({@code -Xmx}); or, for the
 * CPU kernels' native workspace (outside the heap), how much the machine has available. Nothing
 * has been allocated or changed when it is thrown.
 */
public final class InsufficientMemoryException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** The estimate of what the operation needs, in bytes (serialized). */
    private final long neededBytes;
    /** What could still be provided, in bytes (serialized). */
    private final long availableBytes;

    /**
     * An exception with its numbers (public for the library's internal memory check, which
     * throws it; applications need not).
     *
     * @param message        what was refused, how much it needs and how to give Java more
     * @param neededBytes    the estimate of what the operation needs
     * @param availableBytes what the heap (or the machine) could still provide
     */
    public InsufficientMemoryException(String message, long neededBytes, long availableBytes) {
        super(message);
        this.neededBytes = neededBytes;
        this.availableBytes = availableBytes;
    }

    /**
     * What the operation was estimated to need.
     *
     * @return bytes
     */
    public long neededBytes() {
        return neededBytes;
    }

    /**
     * What the heap (or, for native memory, the machine) could still provide when the estimate was checked.
     *
     * @return bytes
     */
    public long availableBytes() {
        return availableBytes;
    }
}
