/**
 * The CPU engine: native kernels shipped in the jar for speed, and a pure-Java path that is the
 * reference every other path and backend is checked against and the fallback where the kernels
 * cannot run. Float32 storage; the input projection of all steps is one matrix product; the
 * recurrent product and the fused cell update run per step on reused workspaces. Both paths run
 * one recurrence over the packed layout of {@link jlstm.internal.cpu.LengthSchedule} (padded batches are its
 * case of every length T), with the projection ({@code proj_size}) and dropout masks as steps of
 * the same loop ({@link jlstm.internal.cpu.CpuLstmEngine}).
 *
 * <p>Native kernels ({@link jlstm.internal.cpu.NativeKernels}, {@link jlstm.internal.cpu.NativeLstm}; C++ in
 * {@code src/main/native}, built with g++ when the jar is packaged): one JNI library with the
 * kernels for AVX-512 and for AVX2 + FMA, chosen by cpuid at start-up. Weights are packed once (per
 * change of the parameters) into the panels the register tile reads; the recurrent product and the
 * cell update are fused per step; backward computes dG per step and the weight gradients and dX
 * as big products after the time loop. No BLAS and no environment variable is involved.
 * {@link jlstm.EngineOptions#cpuKernels()} ({@code -Djlstm.cpu.kernels}) = auto (default) | avx512 |
 * avx2 | java; {@link jlstm.EngineOptions#cpuThreads()} ({@code -Djlstm.cpu.threads}) the workers.
 *
 * <p>Threads: one persistent pool of daemon threads per thread count ({@link jlstm.internal.cpu.WorkerPool},
 * default: all available processors) runs both paths; nothing else
 * starts threads, so nothing oversubscribes the cores (no BLAS pool, whatever
 * {@code OPENBLAS_NUM_THREADS} says). The big products split their rows or columns; a time loop
 * is split by hidden units (one barrier per step), by whole sequences (no barrier), or run by one
 * worker, as the package-private {@code CpuTuning} decides from the shape.
 *
 * <p>Pure Java: matrices of the hot path are stored as arrays of rows so that C2 vectorises the
 * products ({@link jlstm.internal.cpu.Gemm}); the activations are computed in vectorisable passes
 * ({@link jlstm.internal.cpu.CellMath}). {@code jlstm info} says which path runs and why. Benchmarks against
 * oneDNN and PyTorch: {@code benchmarks/RESULTS.md}. Glossary and layouts: see {@link jlstm}.
 */
package jlstm.internal.cpu;
