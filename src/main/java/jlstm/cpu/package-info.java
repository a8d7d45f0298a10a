/**
 * The CPU engine: pure Java, the reference every other backend is checked against, and the
 * fallback without a GPU; optionally with native BLAS for its large products. Float32 storage; the input projection of all steps is one matrix product; the
 * recurrent product and the fused cell update run per step on reused workspaces.
 *
 * <p>Speed without native code: matrices of the hot path are stored as arrays of rows so that
 * C2 vectorises the products ({@link jlstm.cpu.Gemm}); the activations are computed in
 * vectorisable passes ({@link jlstm.cpu.CellMath}); work is split across a persistent pool of
 * daemon threads ({@link jlstm.cpu.WorkerPool}, system property {@code jlstm.cpu.threads},
 * default: all available processors). Benchmarks and the comparison with PyTorch:
 * {@code benchmarks/RESULTS.md}. Glossary and layouts: see {@link jlstm}.
 *
 * <p>Optional native BLAS ({@link jlstm.cpu.NativeBlas}, system property {@code jlstm.cpu.blas}
 * = auto | native | java, default auto): when netlib's JNI binding to the system
 * {@code libblas.so.3} (e.g. OpenBLAS) loads and passes a self-check, a layer's input projection,
 * dW_ih, dW_hh and dX (from {@code jlstm.cpu.blas.minFlops}, default 2e7 FLOPs) and the per-step
 * recurrent products (from {@code jlstm.cpu.blas.stepFlops}, default 4e6 FLOPs a step) use it;
 * the cell math stays in Java. Best with {@code OPENBLAS_NUM_THREADS=1}: the workers then split the
 * native work as they split the Java work. Without the library everything runs in pure Java.
 */
package jlstm.cpu;
