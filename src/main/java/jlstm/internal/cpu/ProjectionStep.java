package jlstm.internal.cpu;

/**
 * The projection of an LSTM with {@code proj_size} (one layer and direction), on the engine's
 * row-stored arrays:
 * <pre>
 * forward:   h_t  = m_t · W_hrᵀ          m_t = o ⊙ tanh(c_t) [n, H],  W_hr [P, H],  h_t [n, P]
 * backward:  dm_t = dh_t · W_hr          (then the cell's backward takes dm_t where it takes dh without projection)
 *            dW_hr = Σ_t dh_tᵀ · m_t     (one product over all packed rows after the time loop)
 * </pre>
 * h_t is what the next step's recurrent product and the layer's output read, so W_hh is [4H, P].
 */
final class ProjectionStep {
    private final int hidden;
    private final int proj;
    private final float[][] weightT; // [H][P]: W_hrᵀ, for the forward product
    private final float[][] weight;  // [P][H]: W_hr, for dm = dh · W_hr

    /** @param hidden H @param proj P */
    ProjectionStep(int hidden, int proj) {
        this.hidden = hidden;
        this.proj = proj;
        this.weightT = new float[hidden][proj];
        this.weight = new float[proj][hidden];
    }

    /** Copies W_hr [P, H] (flat, PyTorch's layout) into both row-stored forms. */
    void pack(float[] weightHr) {
        for (int p = 0; p < proj; p++) {
            System.arraycopy(weightHr, p * hidden, weight[p], 0, hidden);
            for (int j = 0; j < hidden; j++) {
                weightT[j][p] = weightHr[p * hidden + j];
            }
        }
    }

    /**
     * h rows [h0, h0 + n) = m rows [m0, m0 + n) · W_hrᵀ.
     *
     * @param m [·][H] (read only)
     * @param h [·][P], overwritten; must not share rows with m
     */
    void forward(int n, float[][] m, int m0, float[][] h, int h0) {
        for (int r = 0; r < n; r++) {
            java.util.Arrays.fill(h[h0 + r], 0, proj, 0f);
        }
        Gemm.nnRows(n, hidden, 0, proj, m, m0, 0, weightT, 0, h, h0);
    }

    /**
     * dm rows [dm0, dm0 + n) = dh rows [dh0, dh0 + n) · W_hr.
     *
     * @param dh [·][P] (read only)
     * @param dm [·][H], overwritten
     */
    void backward(int n, float[][] dh, int dh0, float[][] dm, int dm0) {
        for (int r = 0; r < n; r++) {
            java.util.Arrays.fill(dm[dm0 + r], 0, hidden, 0f);
        }
        Gemm.nnRows(n, proj, 0, hidden, dh, dh0, 0, weight, 0, dm, dm0);
    }

    /**
     * Rows [p0, p1) of dW_hr = dHᵀ · M over the first {@code rows} rows.
     *
     * @param dh       [rows][P]: dh_t of every packed row (read only)
     * @param m        [rows][H]: m_t of every packed row (read only)
     * @param gradient [P][H] scratch; rows [p0, p1) overwritten
     */
    void weightGradient(int rows, float[][] dh, float[][] m, float[][] gradient, int p0, int p1) {
        for (int p = p0; p < p1; p++) {
            java.util.Arrays.fill(gradient[p], 0f);
        }
        Gemm.tnRows(p1 - p0, rows, 0, hidden, dh, 0, p0, m, 0, gradient, p0);
    }
}
