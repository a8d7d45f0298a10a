/**
 * The pure-Java engine: the reference every other backend is checked against, and the fallback
 * without a GPU. Float32 storage; the input projection of all steps is one matrix product; the
 * recurrent product and the fused cell update run per step on reused workspaces.
 *
 * <p>Speed without native code: matrices of the hot path are stored as arrays of rows so that
 * C2 vectorises the products ({@link jlstm.cpu.Gemm}); the activations are computed in
 * vectorisable passes ({@link jlstm.cpu.CellMath}); work is split across a persistent pool of
 * daemon threads ({@link jlstm.cpu.WorkerPool}, system property {@code jlstm.cpu.threads},
 * default: all available processors). Benchmarks and the comparison with PyTorch:
 * {@code benchmarks/RESULTS.md}. Glossary and layouts: see {@link jlstm}.
 */
package jlstm.cpu;
