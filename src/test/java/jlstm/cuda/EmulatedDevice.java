package jlstm.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.cublasOperation;

/**
 * A device in plain Java, so the tests can run {@link CudaLstmEngine}'s exact schedule (offsets,
 * leading dimensions, argument order, grid sizes) on a machine without a GPU.
 *
 * <ul>
 *   <li>Memory: one float[] per allocation, filled with NaN (fresh device memory is garbage, so a
 *       read before write shows up in the results); a pointer past its allocation throws.</li>
 *   <li>GEMM: the arguments {@link Cublas.ColumnMajorCall} would hand to cuBLAS, fed to the
 *       column-major SGEMM definition — so the row/column-major mapping is exercised too.</li>
 *   <li>Kernels: transcriptions of {@code cuda/*.cu}, thread by thread (block/thread indices,
 *       bounds checks, the fused kernel's warp-lane sums and butterfly reduction). Every launch is
 *       checked against the parameter list parsed from the {@code extern "C"} signature in the
 *       .cu file (count and int/float/pointer kinds) and against CUDA's launch limits.</li>
 * </ul>
 * What it cannot show: real concurrency (races), the CUDA compiler's code, GPU math libraries.
 */
final class EmulatedDevice implements DeviceOps {
    private static final int WARP = 32;
    private static final long CAPACITY_BYTES = 1L << 34;

    private final Map<CUdeviceptr, float[]> memory = new IdentityHashMap<>();
    private final Map<Kernel, String> signatures = new EnumMap<>(Kernel.class);
    private long allocatedBytes;
    private boolean closed;
    int launches;

    private final int fusedWarpsPerBlock = parseConstant("lstm_fused_step.cu", "kWarpsPerBlock");
    private final int biasColumnsPerBlock = parseConstant("lstm_bias_grad.cu", "kColumnsPerBlock");
    private final int biasRowLanes = parseConstant("lstm_bias_grad.cu", "kRowLanes");

    EmulatedDevice() {
        for (Kernel k : Kernel.values()) {
            signatures.put(k, parseSignature(k.entryName()));
        }
    }

    /** {@code static constexpr int NAME = VALUE;} from a kernel file. */
    static int parseConstant(String file, String name) {
        try {
            Matcher m = Pattern.compile("static constexpr int " + name + " = (\\d+);")
                    .matcher(Files.readString(Path.of("cuda", file)));
            if (!m.find()) {
                throw new AssertionError("no constant " + name + " in cuda/" + file);
            }
            return Integer.parseInt(m.group(1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "i", "f" or "p" per parameter of {@code extern "C" __global__ void name(...)} in cuda/*.cu. */
    static String parseSignature(String name) {
        Pattern declaration = Pattern.compile("extern \"C\" __global__ void " + name + "\\(([^)]*)\\)");
        Pattern comment = Pattern.compile("//[^\n]*");
        try (var files = Files.list(Path.of("cuda"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".cu")).sorted()::iterator) {
                Matcher m = declaration.matcher(comment.matcher(Files.readString(file)).replaceAll(""));
                if (m.find()) {
                    StringBuilder kinds = new StringBuilder();
                    for (String param : m.group(1).split(",")) {
                        String p = param.trim();
                        kinds.append(p.contains("*") ? 'p' : p.startsWith("int ") ? 'i' : p.startsWith("float ") ? 'f' : '?');
                    }
                    return kinds.toString();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no extern \"C\" __global__ void " + name + "(…) in cuda/*.cu");
    }

    int liveAllocations() {
        return memory.size();
    }

    // ---------------------------------------------------------------- DeviceOps

    @Override
    public <T> T inContext(Supplier<T> body) {
        if (closed) {
            throw new IllegalStateException("emulated device closed");
        }
        return body.get();
    }

    @Override
    public DevPtr alloc(long floats, String what) {
        float[] block = new float[Math.toIntExact(Math.max(1, floats))];
        Arrays.fill(block, Float.NaN);
        CUdeviceptr key = new CUdeviceptr();
        memory.put(key, block);
        allocatedBytes += block.length * 4L;
        return new DevPtr(key, 0);
    }

    @Override
    public void free(DevPtr p, String what) {
        if (p == null) {
            return;
        }
        float[] block = memory.remove(p.base());
        if (block == null || p.offset() != 0) {
            throw new AssertionError("free of a pointer that is not an allocation: " + what);
        }
        allocatedBytes -= block.length * 4L;
    }

    /** Memory and start index of a pointer, checked against its allocation for {@code floats} floats. */
    private View view(DevPtr p, long floats) {
        if (p == null || p.base() == null) {
            throw new AssertionError("null device pointer dereferenced");
        }
        float[] block = memory.get(p.base());
        if (block == null) {
            throw new AssertionError("pointer into freed or foreign memory");
        }
        if (p.offset() < 0 || p.offset() + floats > block.length) {
            throw new AssertionError("access [" + p.offset() + ", " + (p.offset() + floats) + ") outside an allocation of "
                    + block.length + " floats");
        }
        return new View(block, (int) p.offset());
    }

    private record View(float[] a, int off) {
        float get(long i) {
            return a[Math.toIntExact(off + i)];
        }

        void set(long i, float v) {
            a[Math.toIntExact(off + i)] = v;
        }
    }

    @Override
    public void upload(DevPtr dst, float[] src) {
        View v = view(dst, src.length);
        System.arraycopy(src, 0, v.a, v.off, src.length);
    }

    @Override
    public void download(float[] dst, DevPtr src) {
        View v = view(src, dst.length);
        System.arraycopy(v.a, v.off, dst, 0, dst.length);
    }

    @Override
    public void copy(DevPtr dst, DevPtr src, long floats) {
        View s = view(src, floats);
        View d = view(dst, floats);
        System.arraycopy(s.a, s.off, d.a, d.off, Math.toIntExact(floats));
    }

    @Override
    public void zero(DevPtr dst, long floats) {
        View d = view(dst, floats);
        Arrays.fill(d.a, d.off, Math.toIntExact(d.off + floats), 0f);
    }

    @Override
    public void copyRows(DevPtr dst, int dstLd, DevPtr src, int srcLd, int width, int rows) {
        View s = view(src, (long) (rows - 1) * srcLd + width);
        View d = view(dst, (long) (rows - 1) * dstLd + width);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(s.a, s.off + r * srcLd, d.a, d.off + r * dstLd, width);
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, DevPtr a, int lda, DevPtr b, int ldb,
                     boolean accumulate, DevPtr c, int ldc) {
        Cublas.ColumnMajorCall call = Cublas.ColumnMajorCall.of(transA, transB, m, n, k, lda, ldb, ldc);
        // Column-major operands X = first (B), Y = second (A): op(X) is [call.m, k], op(Y) is [k, call.n].
        boolean xn = call.opFirst() == cublasOperation.CUBLAS_OP_N;
        boolean yn = call.opSecond() == cublasOperation.CUBLAS_OP_N;
        if (k < 1 || call.m() < 1 || call.n() < 1) {
            throw new AssertionError("degenerate GEMM m=" + m + " n=" + n + " k=" + k);
        }
        if (call.ldFirst() < (xn ? call.m() : k) || call.ldSecond() < (yn ? k : call.n()) || call.ldc() < call.m()) {
            throw new AssertionError("cuBLAS would reject the leading dimensions: " + call);
        }
        View x = view(b, (long) ((xn ? k : call.m()) - 1) * call.ldFirst() + (xn ? call.m() : k));
        View y = view(a, (long) ((yn ? call.n() : k) - 1) * call.ldSecond() + (yn ? k : call.n()));
        View cv = view(c, (long) (call.n() - 1) * call.ldc() + call.m());
        for (int i = 0; i < call.m(); i++) {
            for (int j = 0; j < call.n(); j++) {
                float sum = 0;
                for (int p = 0; p < k; p++) {
                    float xv = xn ? x.get(i + (long) p * call.ldFirst()) : x.get(p + (long) i * call.ldFirst());
                    float yv = yn ? y.get(p + (long) j * call.ldSecond()) : y.get(j + (long) p * call.ldSecond());
                    sum += xv * yv;
                }
                long at = i + (long) j * call.ldc();
                cv.set(at, accumulate ? cv.get(at) + sum : sum);
            }
        }
    }

    @Override
    public void launch(Kernel kernel, int gridX, int gridY, int blockX, int blockY, Object... args) {
        String kinds = signatures.get(kernel);
        if (kinds.length() != args.length) {
            throw new AssertionError(kernel.entryName() + ": " + args.length + " arguments, the kernel takes "
                    + kinds.length());
        }
        for (int n = 0; n < args.length; n++) {
            char expected = kinds.charAt(n);
            char got = args[n] instanceof Integer ? 'i' : args[n] instanceof Float ? 'f' : args[n] instanceof DevPtr ? 'p' : '?';
            if (expected != got) {
                throw new AssertionError(kernel.entryName() + ": argument " + n + " is '" + got + "', the kernel expects '"
                        + expected + "'");
            }
        }
        if (gridX < 1 || gridY < 1 || gridY > 65535 || blockX < 1 || blockY < 1 || blockX * blockY > 1024) {
            throw new AssertionError(kernel.entryName() + ": invalid launch grid " + gridX + "×" + gridY + ", block "
                    + blockX + "×" + blockY);
        }
        launches++;
        switch (kernel) {
            case FORWARD_POINTWISE_INFERENCE, FORWARD_POINTWISE_TRAINING -> forwardPointwise(gridX, blockX, args,
                    kernel == Kernel.FORWARD_POINTWISE_TRAINING);
            case FUSED_STEP_INFERENCE, FUSED_STEP_TRAINING -> {
                // The kernel derives the hidden unit from kWarpsPerBlock, not from blockDim.
                requireBlock(kernel, blockX == fusedWarpsPerBlock * WARP && blockY == 1, blockX, blockY);
                fusedStep(gridX, gridY, blockX, args,
                        kernel == Kernel.FUSED_STEP_TRAINING);
            }
            case BACKWARD_POINTWISE -> backwardPointwise(gridX, blockX, args);
            case BIAS_GRAD -> {
                // Its shared memory is sized by kColumnsPerBlock × kRowLanes.
                requireBlock(kernel, blockX == biasColumnsPerBlock && blockY == biasRowLanes, blockX, blockY);
                biasGrad(gridX, blockX, blockY, args);
            }
            case PROBE_FILL -> throw new AssertionError("the engine does not launch the probe kernel");
        }
    }

    private static void requireBlock(Kernel kernel, boolean ok, int blockX, int blockY) {
        if (!ok) {
            throw new AssertionError(kernel.entryName() + ": block " + blockX + "×" + blockY
                    + " does not match the kernel's compile-time configuration");
        }
    }

    @Override
    public void synchronize(String where) {
        // Emulated operations complete immediately.
    }

    @Override
    public long freeMemory() {
        return CAPACITY_BYTES - allocatedBytes;
    }

    @Override
    public void close() {
        closed = true;
    }

    // ---------------------------------------------------------------- kernels (transcribed from cuda/*.cu)

    private static float sigmoid(float x) {
        return 1.0f / (1.0f + (float) Math.exp(-x));
    }

    private static float tanh(float x) {
        return (float) Math.tanh(x);
    }

    private View arg(Object[] args, int n, long floats) {
        DevPtr p = (DevPtr) args[n];
        return p.base() == null ? null : view(p, floats);
    }

    /** lstm_forward_pointwise.cu */
    private void forwardPointwise(int grid, int block, Object[] args, boolean training) {
        int batch = (Integer) args[0], hidden = (Integer) args[1], hLd = (Integer) args[9];
        long gates = (long) batch * 4 * hidden, state = (long) batch * hidden;
        View xp = arg(args, 2, gates), rec = arg(args, 3, gates);
        View bih = arg(args, 4, 4L * hidden), bhh = arg(args, 5, 4L * hidden);
        View cPrev = arg(args, 6, state), cOut = arg(args, 7, state);
        View hOut = arg(args, 8, (long) (batch - 1) * hLd + hidden);
        View gatesOut = training ? arg(args, 10, gates) : null;
        for (int bx = 0; bx < grid; bx++) {
            for (int tx = 0; tx < block; tx++) {
                int element = bx * block + tx;
                if (element >= batch * hidden) {
                    continue;
                }
                int b = element / hidden, j = element % hidden;
                int row = b * 4 * hidden;
                int gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
                float pi = xp.get(gi) + rec.get(gi), pf = xp.get(gf) + rec.get(gf);
                float pg = xp.get(gg) + rec.get(gg), po = xp.get(go) + rec.get(go);
                if (bih != null) {
                    pi += bih.get(j) + bhh.get(j);
                    pf += bih.get(hidden + j) + bhh.get(hidden + j);
                    pg += bih.get(2 * hidden + j) + bhh.get(2 * hidden + j);
                    po += bih.get(3 * hidden + j) + bhh.get(3 * hidden + j);
                }
                float i = sigmoid(pi), f = sigmoid(pf), g = tanh(pg), o = sigmoid(po);
                float c = f * cPrev.get(element) + i * g;
                cOut.set(element, c);
                hOut.set((long) b * hLd + j, o * tanh(c));
                if (training) {
                    gatesOut.set(gi, i);
                    gatesOut.set(gf, f);
                    gatesOut.set(gg, g);
                    gatesOut.set(go, o);
                }
            }
        }
    }

    /** lstm_fused_step.cu: warp per hidden unit, lanes stride k, butterfly reduction. */
    private void fusedStep(int gridX, int gridY, int block, Object[] args, boolean training) {
        int batch = (Integer) args[0], hidden = (Integer) args[1], hPrevLd = (Integer) args[4], hLd = (Integer) args[11];
        long gates = (long) batch * 4 * hidden, state = (long) batch * hidden;
        View xp = arg(args, 2, gates);
        View hPrev = arg(args, 3, (long) (batch - 1) * hPrevLd + hidden);
        View w = arg(args, 5, 4L * hidden * hidden);
        View bih = arg(args, 6, 4L * hidden), bhh = arg(args, 7, 4L * hidden);
        View cPrev = arg(args, 8, state), cOut = arg(args, 9, state);
        View hOut = arg(args, 10, (long) (batch - 1) * hLd + hidden);
        View gatesOut = training ? arg(args, 12, gates) : null;
        int warpsPerBlock = block / WARP;
        float[][] lanes = new float[4][WARP];
        for (int bx = 0; bx < gridX; bx++) {
            for (int by = 0; by < gridY; by++) {
                for (int warp = 0; warp < warpsPerBlock; warp++) {
                    int j = bx * warpsPerBlock + warp;
                    if (j >= hidden) {
                        continue;
                    }
                    for (int b = by; b < batch; b += gridY) {
                        for (int lane = 0; lane < WARP; lane++) {
                            float si = 0, sf = 0, sg = 0, so = 0;
                            for (int k = lane; k < hidden; k += WARP) {
                                float hk = hPrev.get((long) b * hPrevLd + k);
                                si += hk * w.get((long) j * hidden + k);
                                sf += hk * w.get((long) (hidden + j) * hidden + k);
                                sg += hk * w.get((long) (2 * hidden + j) * hidden + k);
                                so += hk * w.get((long) (3 * hidden + j) * hidden + k);
                            }
                            lanes[0][lane] = si;
                            lanes[1][lane] = sf;
                            lanes[2][lane] = sg;
                            lanes[3][lane] = so;
                        }
                        for (int offset = WARP / 2; offset > 0; offset /= 2) { // __shfl_xor_sync, all lanes at once
                            for (float[] sums : lanes) {
                                float[] before = sums.clone();
                                for (int lane = 0; lane < WARP; lane++) {
                                    sums[lane] = before[lane] + before[lane ^ offset];
                                }
                            }
                        }
                        long row = (long) b * 4 * hidden;
                        long gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
                        float pi = xp.get(gi) + lanes[0][0], pf = xp.get(gf) + lanes[1][0];
                        float pg = xp.get(gg) + lanes[2][0], po = xp.get(go) + lanes[3][0];
                        if (bih != null) {
                            pi += bih.get(j) + bhh.get(j);
                            pf += bih.get(hidden + j) + bhh.get(hidden + j);
                            pg += bih.get(2 * hidden + j) + bhh.get(2 * hidden + j);
                            po += bih.get(3 * hidden + j) + bhh.get(3 * hidden + j);
                        }
                        float i = sigmoid(pi), f = sigmoid(pf), g = tanh(pg), o = sigmoid(po);
                        long at = (long) b * hidden + j;
                        float c = f * cPrev.get(at) + i * g;
                        cOut.set(at, c);
                        hOut.set((long) b * hLd + j, o * tanh(c));
                        if (training) {
                            gatesOut.set(gi, i);
                            gatesOut.set(gf, f);
                            gatesOut.set(gg, g);
                            gatesOut.set(go, o);
                        }
                    }
                }
            }
        }
    }

    /** lstm_backward_pointwise.cu */
    private void backwardPointwise(int grid, int block, Object[] args) {
        int batch = (Integer) args[0], hidden = (Integer) args[1], dyLd = (Integer) args[6];
        long gatesSize = (long) batch * 4 * hidden, state = (long) batch * hidden;
        View gates = arg(args, 2, gatesSize), c = arg(args, 3, state), cPrev = arg(args, 4, state);
        View dy = arg(args, 5, (long) (batch - 1) * dyLd + hidden);
        View dhNext = arg(args, 7, state), dc = arg(args, 8, state), dG = arg(args, 9, gatesSize);
        for (int bx = 0; bx < grid; bx++) {
            for (int tx = 0; tx < block; tx++) {
                int element = bx * block + tx;
                if (element >= batch * hidden) {
                    continue;
                }
                int b = element / hidden, j = element % hidden;
                int row = b * 4 * hidden;
                int gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
                float i = gates.get(gi), f = gates.get(gf), g = gates.get(gg), o = gates.get(go);
                float dh = dy.get((long) b * dyLd + j) + dhNext.get(element);
                float tc = tanh(c.get(element));
                float dcv = dc.get(element) + dh * o * (1f - tc * tc);
                dG.set(gi, dcv * g * i * (1f - i));
                dG.set(gf, dcv * cPrev.get(element) * f * (1f - f));
                dG.set(gg, dcv * i * (1f - g * g));
                dG.set(go, dh * tc * o * (1f - o));
                dc.set(element, dcv * f);
            }
        }
    }

    /** lstm_bias_grad.cu: block (32, 8), fixed-order sums. */
    private void biasGrad(int grid, int blockX, int blockY, Object[] args) {
        int rows = (Integer) args[0], cols = (Integer) args[1];
        View dG = arg(args, 2, (long) rows * cols), dbIh = arg(args, 3, cols), dbHh = arg(args, 4, cols);
        for (int bx = 0; bx < grid; bx++) {
            float[][] partial = new float[blockY][blockX];
            for (int ty = 0; ty < blockY; ty++) {
                for (int tx = 0; tx < blockX; tx++) {
                    int column = bx * blockX + tx;
                    float sum = 0;
                    if (column < cols) {
                        for (int r = ty; r < rows; r += blockY) {
                            sum += dG.get((long) r * cols + column);
                        }
                    }
                    partial[ty][tx] = sum;
                }
            }
            for (int tx = 0; tx < blockX; tx++) {
                int column = bx * blockX + tx;
                if (column < cols) {
                    float total = 0;
                    for (int lane = 0; lane < blockY; lane++) {
                        total += partial[lane][tx];
                    }
                    dbIh.set(column, total);
                    dbHh.set(column, total);
                }
            }
        }
    }
}
