package jlstm;

/**
 * Thrown before a large allocation that the Java heap cannot hold: the message says how much is
 * needed, how much the heap can still give, and how to give Java more ({@code -Xmx}); or, for the
 * CPU kernels' native workspace (outside the heap), how much the machine has available. Nothing
 * has been allocated or changed when it is thrown.
 */
public final class InsufficientMemoryException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final long neededBytes;
    private final long availableBytes;

    /** Public for {@code jlstm.internal.MemoryBudget}, which checks the budgets and throws it. */
    public InsufficientMemoryException(String message, long neededBytes, long availableBytes) {
        super(message);
        this.neededBytes = neededBytes;
        this.availableBytes = availableBytes;
    }

    /** Bytes the operation was estimated to need. */
    public long neededBytes() {
        return neededBytes;
    }

    /** Bytes the heap (or, for native memory, the machine) could still provide when the estimate was checked. */
    public long availableBytes() {
        return availableBytes;
    }
}
