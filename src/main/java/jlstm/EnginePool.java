package jlstm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engines behind one {@link LstmLayer}, so that many threads can call it at once: an engine
 * is single-caller state (its workspace, and on CUDA its stream and cuBLAS handle), so each call
 * borrows an idle engine for its duration, opening another when none is idle, up to a bound;
 * beyond the bound a caller waits for one to come back. Engines are opened lazily: a layer used
 * from one thread only ever has one.
 *
 * <p>A training pass pins its engine from {@code forwardTraining} to the end of its
 * {@code backward} (the activations live in it), so inference on other threads meanwhile uses
 * other engines or waits for that backward. A finished pass pins nothing: after its backward the
 * engine is lendable again and keeps the pass's activations only until it is lent (a repeated
 * backward works while nobody borrowed it), so with one engine every thread is served in turn. A
 * pass whose thread has ended is dropped as well.
 *
 * <p>Parameter changes are announced once ({@link #parametersUpdated}) and passed on to each
 * engine the next time it is borrowed, so an engine idle at the time misses nothing.
 */
final class EnginePool implements AutoCloseable {
    /** One engine and what the pool knows of it. */
    static final class Slot {
        final LstmEngine engine;
        /** The parameter version this engine has seen. */
        long version;
        /** Running a call for a borrower. */
        boolean running;
        /** Reserved for a training pass between its forwardTraining and the end of its backward. */
        boolean pinned;
        /**
         * The training pass whose activations the engine holds (0 when none; kept after the pass
         * finishes, until the engine is lent) and the thread that ran its forwardTraining.
         */
        long pass;
        Thread pinnedBy;
        /** Handed out by {@link LstmLayer#engine()}: never lent again. */
        boolean dedicated;
        /** The heap estimate of its current workspace (see {@link LstmBackend#workspaceBytes}). */
        long workspaceBytes;
        /** The estimate of its native workspace (see {@link LstmBackend#nativeWorkspaceBytes}). */
        long nativeWorkspaceBytes;
        int steps = -1;
        int batch = -1;
        boolean trainingWorkspace;

        Slot(LstmEngine engine, long version) {
            this.engine = engine;
            this.version = version;
        }

        boolean lendable() {
            return !running && !pinned && !dedicated;
        }
    }

    private final LstmBackend backend;
    private final LstmParameters parameters;
    private final EngineOptions options;
    private final int maxEngines;
    /** Fair: a caller woken when an engine comes back is served before one that arrives just then. */
    private final ReentrantLock lock = new ReentrantLock(true);
    private final Condition changed = lock.newCondition();
    private final List<Slot> slots = new ArrayList<>();
    private int opening;
    private long version;
    private boolean closed;

    /** Opens the first engine now, so that a backend that cannot run fails at creation. */
    EnginePool(LstmBackend backend, LstmParameters parameters, EngineOptions options) {
        this.backend = backend;
        this.parameters = parameters;
        this.options = options;
        this.maxEngines = options.resolvedMaxEngines();
        slots.add(new Slot(backend.open(parameters, options), 0));
    }

    LstmBackend backend() {
        return backend;
    }

    EngineOptions options() {
        return options;
    }

    /** The first engine, which the caller then owns (see {@link LstmLayer#engine()}). */
    LstmEngine dedicateFirst() {
        lock.lock();
        try {
            requireOpen();
            Slot first = slots.get(0);
            while (first.running) {
                awaitChange();
            }
            first.pinned = false; // a training pass it held is discarded (its backward then says so)
            first.pass = 0;
            first.pinnedBy = null;
            first.dedicated = true;
            if (first.version != version) {
                first.engine.parametersUpdated();
                first.version = version;
            }
            return first.engine;
        } finally {
            lock.unlock();
        }
    }

    /**
     * An engine for one call, marked running: an idle one; else the engine holding the calling
     * thread's own training pass (which that pass then loses, as it would with a single engine:
     * a thread's forward after its forwardTraining discards the pass); else a new one while under
     * the bound; else the next to come back. Its parameters are brought up to date first.
     */
    Slot borrow() {
        Thread caller = Thread.currentThread();
        Slot slot = null;
        boolean interrupted = false;
        lock.lock();
        try {
            while (slot == null) {
                requireOpen();
                dropPassesOfEndedThreads();
                for (Slot s : slots) { // an idle engine, one holding no finished pass's activations first
                    if (s.lendable() && (slot == null || slot.pass != 0)) {
                        slot = s;
                    }
                }
                for (int i = 0; slot == null && i < slots.size(); i++) {
                    Slot s = slots.get(i);
                    if (s.pinned && s.pinnedBy == caller && !s.running && !s.dedicated) {
                        slot = s;
                    }
                }
                if (slot == null && slots.size() + opening < maxEngines) {
                    slot = openAnother();
                }
                if (slot == null) {
                    interrupted |= awaitChange(anyPinned());
                }
            }
            slot.running = true;
            slot.pinned = false;
            slot.pass = 0;
            slot.pinnedBy = null;
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt(); // kept for the caller, as an uninterruptible wait does
            }
        }
        refresh(slot);
        return slot;
    }

    /** Opens an engine outside the lock (opening a CUDA engine takes a while); the lock is held on entry and exit. */
    private Slot openAnother() {
        opening++;
        LstmEngine engine = null;
        long seen = version;
        lock.unlock();
        try {
            engine = backend.open(parameters, options);
        } finally {
            lock.lock();
            opening--;
            if (engine == null) {
                changed.signalAll(); // a waiter may open one instead
            }
        }
        Slot slot = new Slot(engine, seen);
        if (closed) {
            engine.close();
            requireOpen();
        }
        slots.add(slot);
        return slot;
    }

    /** Passes a parameter change on to an engine that has not seen it (the caller holds the slot). */
    private void refresh(Slot slot) {
        long now;
        lock.lock();
        try {
            now = version;
        } finally {
            lock.unlock();
        }
        if (slot.version != now) {
            try {
                slot.engine.parametersUpdated();
                slot.version = now;
            } catch (RuntimeException | Error e) {
                giveBack(slot, 0);
                throw e;
            }
        }
    }

    /**
     * Returns a borrowed engine: idle again, or pinned to training pass {@code pass} (&gt; 0) of the
     * calling thread, which has yet to run its backward.
     */
    void giveBack(Slot slot, long pass) {
        lock.lock();
        try {
            slot.running = false;
            slot.pinned = pass > 0;
            slot.pass = pass;
            slot.pinnedBy = pass > 0 ? Thread.currentThread() : null;
            if (closed) {
                slot.engine.close();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns the engine of training pass {@code pass} after its backward: lendable again, still
     * holding the pass's activations until it is lent (so a backward may be repeated meanwhile).
     */
    void finish(Slot slot, long pass) {
        lock.lock();
        try {
            slot.running = false;
            slot.pinned = false;
            slot.pass = pass;
            slot.pinnedBy = Thread.currentThread();
            if (closed) {
                slot.engine.close();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the engine of training pass {@code pass} for its backward, marked running and pinned;
     * false when the engine no longer holds that pass (a later forward on the owning thread
     * discarded it, or after the pass's backward the engine served another call).
     */
    boolean resume(Slot slot, long pass) {
        lock.lock();
        try {
            requireOpen();
            if (slot.pass != pass || slot.running || slot.dedicated) {
                return false;
            }
            slot.running = true;
            slot.pinned = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Releases the engine of a training pass that a new one replaces (no-op when it was released already). */
    void unpin(Slot slot, long pass) {
        lock.lock();
        try {
            if (slot.pass == pass && !slot.running) {
                slot.pinned = false;
                slot.pass = 0;
                slot.pinnedBy = null;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records that the parameters changed; every engine picks the change up when next borrowed.
     *
     * @throws IllegalStateException when a call is running: parameters must not change under it
     */
    void parametersUpdated() {
        lock.lock();
        try {
            requireOpen();
            int running = 0;
            for (Slot s : slots) {
                running += s.running ? 1 : 0;
            }
            if (running > 0) {
                throw new IllegalStateException("parametersUpdated() while " + running + " call(s) on this LstmLayer"
                        + " are running: change the parameters (and call parametersUpdated) only when no call is in"
                        + " progress, or the running calls see a mix of old and new weights");
            }
            version++;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for an engine to come back; with a pass pinned, at most a tenth of a second at a time,
     * so that the pass of a thread that ended without its backward is noticed and dropped.
     */
    private boolean awaitChange(boolean pollForEndedThreads) {
        if (!pollForEndedThreads) {
            changed.awaitUninterruptibly();
            return false;
        }
        try {
            changed.await(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            return false;
        } catch (InterruptedException e) {
            return true; // waiting goes on; the caller restores the flag once it has an engine
        }
    }

    private void awaitChange() {
        awaitChange(false);
    }

    private boolean anyPinned() {
        for (Slot s : slots) {
            if (s.pinned) {
                return true;
            }
        }
        return false;
    }

    /** Unpins passes whose thread ended before their backward (no backward can come any more). */
    private void dropPassesOfEndedThreads() {
        for (Slot s : slots) {
            if (s.pinned && !s.running && s.pinnedBy != null && !s.pinnedBy.isAlive()) {
                s.pinned = false;
                s.pass = 0;
                s.pinnedBy = null;
            }
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this LstmLayer is closed");
        }
    }

    /** Closes idle and pinned engines now and running ones as they come back; idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            RuntimeException first = null;
            for (Slot s : slots) {
                if (!s.running) {
                    try {
                        s.engine.close();
                    } catch (RuntimeException e) {
                        first = first == null ? e : first;
                    }
                }
            }
            changed.signalAll();
            if (first != null) {
                throw first;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Engines opened so far (for tests). */
    int size() {
        lock.lock();
        try {
            return slots.size();
        } finally {
            lock.unlock();
        }
    }
}
