// One layer's buffers and the timed passes, compiled once per kernel variant: kernel_ab.cpp
// includes this inside the namespace that holds that variant's kernels.inc (gemm, forward_layer,
// backward_layer, ...). Weights and activations are filler values: timing only, nothing checked.
// One worker (workers = 1, every sequence and unit on it), every length T.
struct Layer {
    int T, B, I, H, Hp, Rp;
    long N, G4;
    float *x, *wih, *whh, *bias, *G, *C, *hout, *h0, *c0;
    float *dy, *dG, *dhc, *dcc, *dx, *dwih, *dwhh, *db, *wih_b, *whh_b;
    std::vector<int32_t> schedule, rows, prev;
    void *barrier;
    int64_t fa[A_COUNT];
    int64_t ba[B_COUNT];

    static float *filled(long n) {
        float *p = static_cast<float *>(std::aligned_alloc(64, (n * 4 + 63) / 64 * 64));
        for (long i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) * 1e-4f - 0.05f;
        return p;
    }

    Layer(int t, int b, int in, int h) : T(t), B(b), I(in), H(h) {
        const int vw = NR / 4;  // the kernels' vector width (NR: one unit block's four gates)
        Hp = (H + vw - 1) / vw * vw;
        Rp = Hp;
        N = (long)T * B;
        G4 = 4L * Hp;
        long nr = NR;
        x = filled(N * I); wih = filled(G4 * I); whh = filled(G4 * Rp); bias = filled(G4);
        G = filled(N * G4); C = filled(N * Hp); hout = filled(N * Rp); h0 = filled((long)B * Rp); c0 = filled((long)B * Hp);
        dy = filled(N * Rp); dG = filled(N * G4); dhc = filled((long)B * Rp); dcc = filled((long)B * Hp);
        dx = filled(N * I); dwih = filled(G4 * I); dwhh = filled(G4 * Rp); db = filled(G4);
        wih_b = filled((I + nr - 1) / nr * nr * G4); whh_b = filled((Rp + nr - 1) / nr * nr * G4);
        schedule.resize(2 * T + 1);
        for (int s = 0; s <= T; s++) schedule[s] = s * B;
        for (int s = 0; s < T; s++) schedule[T + 1 + s] = B;
        rows = {0, B};
        prev.resize(N);
        for (long r = 0; r < N; r++) prev[r] = r < B ? -1 - (int)r : (int)(r - B);
        barrier = std::aligned_alloc(64, 256);
        std::memset(barrier, 0, 256);
        std::memset(fa, 0, sizeof fa);
        std::memset(ba, 0, sizeof ba);
        fa[A_X] = (int64_t)x; fa[A_LDX] = I; fa[A_K] = I; fa[A_WIH] = (int64_t)wih; fa[A_WHH] = (int64_t)whh;
        fa[A_BIAS] = (int64_t)bias; fa[A_G] = (int64_t)G; fa[A_C] = (int64_t)C; fa[A_HOUT] = (int64_t)hout;
        fa[A_LDH] = Rp; fa[A_H0] = (int64_t)h0; fa[A_C0] = (int64_t)c0; fa[A_SCHEDULE] = (int64_t)schedule.data();
        fa[A_T] = T; fa[A_B] = B; fa[A_H] = H; fa[A_HP] = Hp; fa[A_P] = 0; fa[A_RP] = Rp;
        fa[A_BARRIER] = (int64_t)barrier; fa[A_ROWS] = (int64_t)rows.data();
        ba[B_X] = (int64_t)x; ba[B_LDX] = I; ba[B_K] = I; ba[B_WIH] = (int64_t)wih_b; ba[B_WHH] = (int64_t)whh_b;
        ba[B_G] = (int64_t)G; ba[B_C] = (int64_t)C; ba[B_HOUT] = (int64_t)hout; ba[B_LDH] = Rp;
        ba[B_H0] = (int64_t)h0; ba[B_C0] = (int64_t)c0; ba[B_DY] = (int64_t)dy; ba[B_LDY] = Rp;
        ba[B_DG] = (int64_t)dG; ba[B_DHC] = (int64_t)dhc; ba[B_DCC] = (int64_t)dcc; ba[B_DX] = (int64_t)dx;
        ba[B_DWIH] = (int64_t)dwih; ba[B_DWHH] = (int64_t)dwhh; ba[B_DB] = (int64_t)db;
        ba[B_SCHEDULE] = (int64_t)schedule.data(); ba[B_PREV] = (int64_t)prev.data();
        ba[B_T] = T; ba[B_B] = B; ba[B_H] = H; ba[B_HP] = Hp; ba[B_P] = 0; ba[B_RP] = Rp;
        ba[B_BARRIER] = (int64_t)barrier; ba[B_ROWS] = (int64_t)rows.data();
    }

    void backward() {
        std::memset(dhc, 0, sizeof(float) * B * Rp);
        std::memset(dcc, 0, sizeof(float) * B * Hp);
        backward_layer(ba, 0, 1);
    }

    // The passes (names as kernel_ab.cpp prints them).
    void run(int pass) {
        switch (pass) {
            case 0: gemm<false>((int)N, (int)G4, I, x, I, wih, nullptr, G, G4, BIAS, bias, N == 1); break;  // inproj
            case 1: fa[A_TRAINING] = 0; forward_layer(fa, 0, 1); break;                                   // fwd
            case 2: fa[A_TRAINING] = 1; forward_layer(fa, 0, 1); backward(); break;                       // train
            case 3: backward(); break;                                                                    // bwd
            case 4: {                                                                                     // dWih
                RowSource xs{x, I, nullptr, nullptr, 0};
                gemm<true>((int)G4, I, (int)N, dG, G4, nullptr, &xs, dwih, I, ZERO, nullptr);
                break;
            }
            default: gemm<false>((int)N, I, (int)G4, dG, G4, wih_b, nullptr, dx, I, ZERO, nullptr, N == 1); break;  // dX
        }
    }
};
