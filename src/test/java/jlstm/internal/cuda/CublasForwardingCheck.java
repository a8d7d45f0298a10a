package jlstm.internal.cuda;

import java.nio.file.Path;

import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;

/**
 * Run in a fresh JVM by {@link CublasForwardingTest} (loaded native libraries cannot be unloaded,
 * so each scenario needs its own process). Prints one "key=value" line per observation.
 *
 * <pre>
 * forward STANDIN   load STANDIN (a libcublas.so.13) and the forwarding library, then call JCublas2
 * ensure            let CublasLoader.ensureLoaded() find libcublas.so.13 (-Djlstm.cublas13.path), then call
 * direct            call JCublas2 with nothing prepared
 * </pre>
 */
public final class CublasForwardingCheck {
    private CublasForwardingCheck() {
    }

    public static void main(String[] args) {
        try {
            if (args[0].equals("forward")) {
                CublasLoader.loadForwarding(Path.of(args[1]));
            } else if (args[0].equals("ensure")) {
                System.out.println("loader=" + CublasLoader.ensureLoaded());
            }
            cublasHandle handle = new cublasHandle();
            System.out.println("create=" + JCublas2.cublasCreate(handle));
            int[] version = new int[1];
            int status = JCublas2.cublasGetVersion(handle, version);
            System.out.println("getVersion=" + status + " version=" + version[0]);
            // Absent from the stand-in: the forwarding library answers CUBLAS_STATUS_NOT_SUPPORTED.
            System.out.println("destroy=" + JCublas2.cublasDestroy(handle));
        } catch (Throwable t) {
            System.out.println("error=" + t.getClass().getName() + ": " + t.getMessage());
        }
        System.out.flush();
    }
}
