package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuCtxPopCurrent;
import static jcuda.driver.JCudaDriver.cuCtxPushCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jlstm.internal.cuda.CudaCalls.check;

import java.util.Locale;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jlstm.LstmBackend.Availability;

/**
 * The one GPU probe: natives load, driver ≥ 12.0, a device exists, cuBLAS loads (through the
 * forwarding library when only cuBLAS 13 is installed), the kernel module loads and a tiny kernel
 * runs with the right result, on one GPU. Run once per GPU and JVM by {@link CudaBackend}; catches every
 * {@code Throwable}, so a broken CUDA installation can never take the JVM down.
 */
final class CudaProbe {
    /** Oldest driver API version JCuda 12.6 runs on. */
    static final int MIN_DRIVER_VERSION = 12000;

    /** Reason when the jar holds no fatbin. */
    static final String KERNELS_NOT_BUILT = "kernels not built (this jar was built without nvcc; rebuild with the "
            + "CUDA toolkit on PATH, e.g. mvn package -Djlstm.requireNvcc=true)";

    private CudaProbe() {
    }

    /** Runs the whole probe for GPU {@code ordinal}; never throws. */
    static Availability run(int ordinal) {
        try {
            return probe(ordinal);
        } catch (Throwable t) {
            return Availability.no("probe failed: " + describe(t));
        }
    }

    /**
     * GPUs the driver reports; 0 when there is no usable driver. GPU 0's probe runs first: it loads
     * the driver (or the stand-in, which must come before JCuda's natives) and initialises it.
     */
    static int deviceCount() {
        CudaBackend.instance().availability();
        try {
            int[] count = new int[1];
            return cuDeviceGetCount(count) == CUresult.CUDA_SUCCESS ? count[0] : 0;
        } catch (Throwable t) {
            return 0;   // no natives or no driver: GPU 0's probe says why
        }
    }

    private static Availability probe(int ordinal) {
        String os = System.getProperty("os.name", "?").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "?");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return Availability.no("no JCuda natives for " + os + "/" + arch + " (this build ships linux-x86_64 only)");
        }
        // 0. The CPU stand-in, when selected: its libcuda.so.1 must be loaded before JCudaDriver's natives.
        try {
            CudaStandIn.loadDriverIfSelected();
        } catch (IllegalStateException | UnsatisfiedLinkError e) {
            return Availability.no("CUDA stand-in: " + e.getMessage());
        }
        // 1. Natives: JCudaDriver's library needs libcuda.so.1, which only the NVIDIA driver installs.
        int initResult;
        try {
            initResult = cuInit(0);
        } catch (UnsatisfiedLinkError e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("libcuda.so")) {
                return Availability.no("no CUDA driver (libcuda.so.1 not found)");
            }
            return Availability.no("JCuda natives do not load: " + message);
        }
        // 2. Driver version.
        int[] version = new int[1];
        int versionResult = cuDriverGetVersion(version);
        if (versionResult == CUresult.CUDA_SUCCESS && version[0] < MIN_DRIVER_VERSION) {
            return Availability.no("CUDA driver too old: supports CUDA " + versionText(version[0])
                    + ", JCuda 12.6 needs ≥ 12.0 (install NVIDIA driver ≥ 525)");
        }
        // 3. A device.
        if (initResult == CUresult.CUDA_ERROR_NO_DEVICE) {
            return Availability.no("no CUDA device (driver " + versionText(version[0]) + " found, no GPU visible)");
        }
        if (initResult != CUresult.CUDA_SUCCESS) {
            return Availability.no("CUDA driver does not initialise: cuInit failed with "
                    + CUresult.stringFor(initResult));
        }
        int[] count = new int[1];
        check(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            return Availability.no("no CUDA device (driver " + versionText(version[0]) + " found, 0 devices)");
        }
        if (ordinal >= count[0]) {
            return Availability.no("no CUDA device " + ordinal + " (the driver reports " + count[0] + ", ordinals 0 to "
                    + (count[0] - 1) + ")");
        }
        CUdevice device = new CUdevice();
        check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        String deviceText = deviceDescription(device);
        // 4. cuBLAS: before any JCublas2 class is touched.
        String cublasSource;
        try {
            cublasSource = CublasLoader.ensureLoaded();
        } catch (IllegalStateException | UnsatisfiedLinkError e) {
            return Availability.no(e.getMessage().startsWith("cuBLAS library missing")
                    ? e.getMessage() : "cuBLAS library missing: " + e.getMessage());
        }
        // 5. Kernels.
        byte[] fatbin = CudaModule.readFatbin();
        if (fatbin == null) {
            return Availability.no(KERNELS_NOT_BUILT);
        }
        CUcontext context = new CUcontext();
        check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        try {
            check(cuCtxPushCurrent(context), "cuCtxPushCurrent");
            try {
                return probeInContext(fatbin, deviceText, version[0], cublasSource);
            } finally {
                check(cuCtxPopCurrent(new CUcontext()), "cuCtxPopCurrent");
            }
        } finally {
            check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
        }
    }

    private static Availability probeInContext(byte[] fatbin, String deviceText, int driverVersion,
                                               String cublasSource) {
        // A non-blocking stream of its own, and copies through pinned staging on it: nothing here
        // touches the legacy default stream, so a probe never disturbs another engine's capture.
        CUstream stream = new CUstream();
        check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate(probe)");
        try (PinnedStaging staging = new PinnedStaging(stream)) {
            return probeOnStream(fatbin, deviceText, driverVersion, cublasSource, stream, staging);
        } finally {
            check(cuStreamDestroy(stream), "cuStreamDestroy(probe)");
        }
    }

    private static Availability probeOnStream(byte[] fatbin, String deviceText, int driverVersion,
                                              String cublasSource, CUstream stream, PinnedStaging staging) {
        int cublasVersion;
        try {
            try (Cublas cublas = new Cublas(stream)) {
                cublasVersion = cublas.version();
            }
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return Availability.no("cuBLAS library missing: " + e.getMessage());
        }
        CudaModule module;
        try {
            module = new CudaModule(fatbin);
        } catch (RuntimeException e) {
            return Availability.no("kernel module does not load on " + deviceText + ": " + e.getMessage());
        }
        try (module) {
            int n = 37;
            CUdeviceptr out = CudaCalls.allocFloats(n, "probe output");
            try {
                module.launcher(Kernel.PROBE_FILL).begin().i(n).f(0.5f).f(1f).p(DeviceAddress.of(out))
                        .launch(CudaModule.ceilDiv(n, 128), 1, 128, 1, 0, stream);
                float[] host = new float[n];
                staging.download(host, DeviceAddress.of(out));   // waits for the kernel: same stream
                for (int i = 0; i < n; i++) {
                    if (host[i] != 0.5f * i + 1f) {
                        return Availability.no("probe kernel gave a wrong result on " + deviceText + ": out[" + i
                                + "] = " + host[i] + ", expected " + (0.5f * i + 1f));
                    }
                }
            } finally {
                CudaCalls.free(out, "probe output");
            }
        }
        if (CudaStandIn.active()) {
            return Availability.yes(deviceText + ", from " + CudaStandIn.describeSource() + ": the real kernels run on "
                    + "the CPU, for correctness only (times mean nothing; -D" + CudaStandIn.PROPERTY + ")");
        }
        return Availability.yes(deviceText + ", driver " + versionText(driverVersion) + ", cuBLAS " + cublasVersion
                + " (" + cublasSource + ")");
    }

    private static String deviceDescription(CUdevice device) {
        byte[] name = new byte[256];
        check(cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int[] major = new int[1];
        int[] minor = new int[1];
        check(cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
                "cuDeviceGetAttribute(compute capability major)");
        check(cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
                "cuDeviceGetAttribute(compute capability minor)");
        int end = 0;
        while (end < name.length && name[end] != 0) {
            end++;
        }
        return new String(name, 0, end, java.nio.charset.StandardCharsets.UTF_8) + " (sm_" + major[0] + minor[0] + ")";
    }

    /** 12040 → "12.4". */
    static String versionText(int driverVersion) {
        return driverVersion / 1000 + "." + (driverVersion % 1000) / 10;
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
