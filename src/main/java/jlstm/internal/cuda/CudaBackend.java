package jlstm.internal.cuda;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import jlstm.EngineOptions;
import jlstm.LstmBackend;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The JCuda backend of one GPU (by ordinal, in the driver's order). Its availability is the result
 * of {@link CudaProbe} for that GPU, run once per JVM on first use and cached; when unavailable,
 * the detail says why (no CUDA driver, no such device, cuBLAS library missing, kernels not built,
 * …). Its engines run on that GPU's primary context.
 */
public final class CudaBackend implements LstmBackend {
    private static final ConcurrentMap<Integer, CudaBackend> BY_ORDINAL = new ConcurrentHashMap<>();

    private final int ordinal;
    private volatile Availability probed;
    /** The device every {@link CudaCellEngine} of this backend steps on, while any is open. */
    private CudaDevice cellDevice;
    private int cellDeviceUsers;

    private CudaBackend(int ordinal) {
        this.ordinal = ordinal;
    }

    /**
     * The device the cells of this backend share (opened by the first cell, closed when the last
     * one closes): one context, streams, cuBLAS handles, module and pinned staging for all cells,
     * never one per cell. Callers serialise their work on the returned object.
     */
    synchronized CudaDevice acquireCellDevice() {
        if (cellDevice == null) {
            cellDevice = new CudaDevice(ordinal);
        }
        cellDeviceUsers++;
        return cellDevice;
    }

    /** A cell is done with the shared device; the last one closes it. */
    synchronized void releaseCellDevice() {
        if (--cellDeviceUsers == 0) {
            CudaDevice device = cellDevice;
            cellDevice = null;
            synchronized (device) {
                device.close();
            }
        }
    }

    /** The backend of GPU 0. */
    public static CudaBackend instance() {
        return forDevice(0);
    }

    /** The backend of GPU {@code ordinal} (one instance per ordinal). */
    public static CudaBackend forDevice(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("a GPU ordinal is ≥ 0, got " + ordinal);
        }
        return BY_ORDINAL.computeIfAbsent(ordinal, CudaBackend::new);
    }

    /** GPUs the CUDA driver reports (0 when there is no usable driver). */
    public static int deviceCount() {
        return CudaProbe.deviceCount();
    }

    /** The GPU's ordinal. */
    public int ordinal() {
        return ordinal;
    }

    /** {@code cuda} for GPU 0 (as before GPUs could be chosen), {@code cuda:N} for the others. */
    @Override
    public String name() {
        return ordinal == 0 ? "cuda" : "cuda:" + ordinal;
    }

    /** The probe's result; the options change nothing (the probe checks the machine). */
    @Override
    public Availability availability(EngineOptions options) {
        return availability();
    }

    @Override
    public Availability availability() {
        Availability a = probed;
        if (a == null) {
            synchronized (this) {
                if (probed == null) {
                    probed = CudaProbe.run(ordinal);
                }
                a = probed;
            }
        }
        return a;
    }

    /**
     * Whether this backend runs on the CPU stand-in ({@code -Djlstm.cuda.standin}) rather than a
     * GPU: results are the kernels' results, times mean nothing.
     */
    public boolean onStandIn() {
        return availability().available() && CudaStandIn.active();
    }

    /** Opens a {@link CudaLstmEngine} on this GPU; fails with the probe's reason when it is unusable. */
    @Override
    public LstmEngine open(LstmParameters parameters, EngineOptions options) {
        return CudaLstmEngine.open(parameters, options, ordinal);
    }
}
