package jlstm.internal.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A small persistent pool that runs one task on every worker at once (the caller is worker 0)
 * and offers a barrier inside the task, so that the per-step loop of a layer runs as one task
 * with one barrier per step instead of a thread hand-off per step.
 *
 * <p>Size: {@link jlstm.EngineOptions#cpuThreads()} (system property {@code jlstm.cpu.threads}),
 * default the number of available processors; one pool per size, shared by the engines that ask for it. Helper threads are daemons, so an
 * application that forgets the pool still exits. Waiting spins briefly (a step takes microseconds)
 * and then yields or parks, so an oversubscribed machine does not burn its cores.
 */
public final class WorkerPool {
    /** Work run on every worker: {@code worker} in [0, workers). */
    @FunctionalInterface
    public interface Task {
        void run(int worker, int workers);
    }

    private static final int SPINS = 1 << 12;
    private static final java.util.Map<Integer, WorkerPool> POOLS = new java.util.concurrent.ConcurrentHashMap<>();

    private final int size;
    private final Thread[] helpers;
    private final ReentrantLock callerLock = new ReentrantLock();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger arrived = new AtomicInteger();
    private volatile int generation;
    private volatile int barrierPhase;
    private volatile Task task;
    private volatile Throwable failure;

    private WorkerPool(int size) {
        this.size = size;
        this.helpers = new Thread[size - 1];
        for (int w = 1; w < size; w++) {
            int worker = w;
            Thread thread = new Thread(() -> helperLoop(worker), "jlstm-cpu-" + w);
            thread.setDaemon(true);
            helpers[w - 1] = thread;
            thread.start();
        }
    }

    /**
     * The process-wide pool of this many workers (the caller included), started on first use and
     * shared by every engine that asks for the same count ({@link jlstm.EngineOptions#cpuThreads()}).
     */
    public static WorkerPool forThreads(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("CPU threads must be from 1 to 1024, got " + threads);
        }
        return POOLS.computeIfAbsent(threads, WorkerPool::new);
    }

    /** The pool of {@link jlstm.EngineOptions#fromSystemProperties()}'s thread count. */
    public static WorkerPool shared() {
        return forThreads(jlstm.EngineOptions.fromSystemProperties().resolvedCpuThreads());
    }

    /** Number of workers, the caller included. */
    public int size() {
        return size;
    }

    /** Runs the task on all workers and returns when every one has finished; rethrows the first failure. */
    public void run(Task work) {
        if (size == 1) {
            work.run(0, 1);
            return;
        }
        callerLock.lock();
        try {
            failure = null;
            arrived.set(0);
            task = work;
            pending.set(size - 1);
            generation++; // volatile write: publishes task to the helpers
            for (Thread helper : helpers) {
                LockSupport.unpark(helper);
            }
            try {
                work.run(0, size);
            } catch (Throwable t) {
                fail(t);
            }
            for (int spins = 0; pending.get() != 0; spins++) {
                pause(spins);
            }
            task = null;
            Throwable t = failure;
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        } finally {
            callerLock.unlock();
        }
    }

    /** Waits until every worker of the running task has reached this barrier. */
    public void barrier() {
        if (size == 1) {
            return;
        }
        int phase = barrierPhase;
        if (arrived.incrementAndGet() == size) {
            arrived.set(0);
            barrierPhase = phase + 1;
            return;
        }
        for (int spins = 0; barrierPhase == phase; spins++) {
            if (failure != null) {
                throw new IllegalStateException("another worker failed", failure);
            }
            pause(spins);
        }
    }

    /** [start, end) of worker w's share of n items, starts aligned to a multiple of align. */
    public static int start(int n, int worker, int workers, int align) {
        if (worker >= workers) {
            return n;
        }
        long raw = (long) n * worker / workers;
        int aligned = (int) (raw / align * align);
        return Math.min(n, aligned);
    }

    private void helperLoop(int worker) {
        int seen = 0;
        while (true) {
            for (int spins = 0; generation == seen; spins++) {
                if (spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this); // run() unparks; a permit given before this returns at once
                }
            }
            seen = generation;
            Task work = task;
            try {
                work.run(worker, size);
            } catch (Throwable t) {
                fail(t);
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    private void fail(Throwable t) {
        if (failure == null) {
            failure = t;
        }
        // Release anyone waiting at a barrier so the task can unwind.
        barrierPhase = barrierPhase + 1;
    }

    private static void pause(int spins) {
        if (spins < SPINS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
