package jlstm.internal.cpu;

/**
 * The matrix products of the CPU engine.
 *
 * <p>{@link #nnRows}, {@link #tnRows}: the products of the engine and of {@link CellWeights} (the
 * cell's step), on matrices stored as arrays of rows ({@code float[rows][cols]}); both accumulate
 * into C. (Plain loops on flat arrays with offsets, once kept here as a reference, ran scalar and
 * are gone: the cell, their last user, moved to these.)
 *
 * <p>Why rows: the fast kernel's inner loop is an "axpy" along a row of C and rows of B,
 * {@code c[j] = fma(a, b[j], c[j])}, which HotSpot's C2 compiles to vector FMAs — but only when
 * it can rule out a loop-carried dependence between the arrays it loads and stores. With one
 * flat array and different offsets for B and C (c[cOff + j], b[bOff + j]) C2 (JDK 17) cannot,
 * and the loop stays scalar (measured: 5 vs 55 GFLOP/s on one core). With every row its own
 * array and B and C indexed by the same column j, the distance is zero even if two rows were the
 * same array, and the loop vectorises. C2 does not vectorise float reductions either, so there
 * are no dot-product inner loops.
 *
 * <p>Blocking: 2 rows of C are updated from 2 rows of B per pass (4 FMAs per 4 loads and 2
 * stores); C2 gives up on larger register blocks (4×4 measured at a quarter of the speed). The
 * column range is cut into blocks of {@value #NC} and the depth into blocks of {@value #KC} so
 * that the B panel in use (KC × NC floats, 512 KiB) stays in L2 while the rows of A sweep it.
 * The summation order differs from a plain loop, so results differ in the last bits.
 */
public final class Gemm {
    /** Depth of a B panel (rows of B) kept in L2 while the rows of C sweep it. */
    private static final int KC = 256;
    /** Width of a B panel and of the slice of the C rows being updated. */
    private static final int NC = 512;

    private Gemm() {
    }

    /**
     * C[c0 + r][j] += Σ_p A[a0 + r][aCol0 + p] · B[b0 + p][j] for r &lt; m, p &lt; k and j in
     * [colStart, colEnd): C rows += A · B on arrays of rows.
     *
     * @param a A rows; row a0 + r holds A(r, ·) from column aCol0 (read only)
     * @param b B rows [≥ b0 + k][≥ colEnd] (read only)
     * @param c C rows [≥ c0 + m][≥ colEnd]; updated in place; must not be a row of B
     */
    public static void nnRows(int m, int k, int colStart, int colEnd, float[][] a, int a0, int aCol0,
                              float[][] b, int b0, float[][] c, int c0) {
        multiplyRows(m, k, colStart, colEnd, a, a0, aCol0, false, b, b0, c, c0);
    }

    /**
     * C[c0 + r][j] += Σ_p A[a0 + p][aCol0 + r] · B[b0 + p][j]: C rows += Aᵀ · B, where A is
     * stored k rows of (at least aCol0 + m) columns. Used for weight gradients dW = dGᵀ · X.
     *
     * @param a A rows [≥ a0 + k] (read only)
     * @param b B rows [≥ b0 + k][≥ colEnd] (read only)
     * @param c C rows [≥ c0 + m][≥ colEnd]; updated in place; must not be a row of B
     */
    public static void tnRows(int m, int k, int colStart, int colEnd, float[][] a, int a0, int aCol0,
                              float[][] b, int b0, float[][] c, int c0) {
        multiplyRows(m, k, colStart, colEnd, a, a0, aCol0, true, b, b0, c, c0);
    }

    // nn and tn are written out separately (rather than one routine with a "transposed" flag):
    // each then gets its own JIT profile, so a process that runs nn for a while and then tn does
    // not deoptimise and recompile the shared code into a slower, more cautious version.

    private static void multiplyRows(int m, int k, int colStart, int colEnd, float[][] a, int a0, int aCol0,
                                     boolean transposedA, float[][] b, int b0, float[][] c, int c0) {
        for (int jc = colStart; jc < colEnd; jc += NC) {
            int jEnd = Math.min(colEnd, jc + NC);
            for (int pc = 0; pc < k; pc += KC) {
                int pEnd = Math.min(k, pc + KC);
                int r = 0;
                for (; r + 2 <= m; r += 2) {
                    if (transposedA) {
                        rowPairTransposedA(jc, jEnd, pc, pEnd, a, a0, aCol0 + r, b, b0, c[c0 + r], c[c0 + r + 1]);
                    } else {
                        rowPair(jc, jEnd, pc, pEnd, a[a0 + r], a[a0 + r + 1], aCol0, b, b0, c[c0 + r], c[c0 + r + 1]);
                    }
                }
                if (r < m) {
                    if (transposedA) {
                        singleRowTransposedA(jc, jEnd, pc, pEnd, a, a0, aCol0 + r, b, b0, c[c0 + r]);
                    } else {
                        singleRow(jc, jEnd, pc, pEnd, a[a0 + r], aCol0, b, b0, c[c0 + r]);
                    }
                }
            }
        }
    }

    /** Rows c0, c1 [from, to) += A rows x0, x1 (columns aCol0 + [pc, pEnd)) · B rows b0 + [pc, pEnd). */
    private static void rowPair(int from, int to, int pc, int pEnd, float[] x0, float[] x1, int aCol0,
                                float[][] b, int b0, float[] c0, float[] c1) {
        int p = pc;
        for (; p + 2 <= pEnd; p += 2) {
            int q = aCol0 + p;
            kernel2x2(from, to, x0[q], x0[q + 1], x1[q], x1[q + 1], b[b0 + p], b[b0 + p + 1], c0, c1);
        }
        if (p < pEnd) {
            kernel2x1(from, to, x0[aCol0 + p], x1[aCol0 + p], b[b0 + p], c0, c1);
        }
    }

    /** As rowPair, with A(r, p) = a[a0 + p][col + r] (A stored transposed). */
    private static void rowPairTransposedA(int from, int to, int pc, int pEnd, float[][] a, int a0, int col,
                                           float[][] b, int b0, float[] c0, float[] c1) {
        int p = pc;
        for (; p + 2 <= pEnd; p += 2) {
            float[] ap0 = a[a0 + p], ap1 = a[a0 + p + 1];
            kernel2x2(from, to, ap0[col], ap1[col], ap0[col + 1], ap1[col + 1], b[b0 + p], b[b0 + p + 1], c0, c1);
        }
        if (p < pEnd) {
            float[] ap = a[a0 + p];
            kernel2x1(from, to, ap[col], ap[col + 1], b[b0 + p], c0, c1);
        }
    }

    /** One row of C (B = 1: a vector times a matrix), four rows of B per pass. */
    private static void singleRow(int from, int to, int pc, int pEnd, float[] x, int aCol0, float[][] b, int b0,
                                  float[] c) {
        int p = pc;
        for (; p + 4 <= pEnd; p += 4) {
            int q = aCol0 + p;
            kernel1x4(from, to, x[q], x[q + 1], x[q + 2], x[q + 3], b[b0 + p], b[b0 + p + 1], b[b0 + p + 2],
                    b[b0 + p + 3], c);
        }
        for (; p < pEnd; p++) {
            kernel1x1(from, to, x[aCol0 + p], b[b0 + p], c);
        }
    }

    private static void singleRowTransposedA(int from, int to, int pc, int pEnd, float[][] a, int a0, int col,
                                             float[][] b, int b0, float[] c) {
        for (int p = pc; p < pEnd; p++) {
            kernel1x1(from, to, a[a0 + p][col], b[b0 + p], c);
        }
    }

    /** c0[j] += a00·b0[j] + a01·b1[j]; c1[j] += a10·b0[j] + a11·b1[j] for j in [from, to). */
    private static void kernel2x2(int from, int to, float a00, float a01, float a10, float a11,
                                  float[] b0, float[] b1, float[] c0, float[] c1) {
        for (int j = from; j < to; j++) {
            float x0 = b0[j], x1 = b1[j];
            c0[j] = Math.fma(a01, x1, Math.fma(a00, x0, c0[j]));
            c1[j] = Math.fma(a11, x1, Math.fma(a10, x0, c1[j]));
        }
    }

    private static void kernel2x1(int from, int to, float a0, float a1, float[] b0, float[] c0, float[] c1) {
        for (int j = from; j < to; j++) {
            float x = b0[j];
            c0[j] = Math.fma(a0, x, c0[j]);
            c1[j] = Math.fma(a1, x, c1[j]);
        }
    }

    /** One row of C from four rows of B (the B = 1 case: a vector times a matrix). */
    private static void kernel1x4(int from, int to, float x0, float x1, float x2, float x3,
                                  float[] b0, float[] b1, float[] b2, float[] b3, float[] c) {
        for (int j = from; j < to; j++) {
            c[j] = Math.fma(x3, b3[j], Math.fma(x2, b2[j], Math.fma(x1, b1[j], Math.fma(x0, b0[j], c[j]))));
        }
    }

    private static void kernel1x1(int from, int to, float x, float[] b, float[] c) {
        for (int j = from; j < to; j++) {
            c[j] = Math.fma(x, b[j], c[j]);
        }
    }
}
