// kernel_harness.cpp — every kernel of cuda/*.cu, launched through the stand-in's driver API
// (no JVM) at edge shapes, against a double-precision reference computed here. Built with
// AddressSanitizer + UndefinedBehaviorSanitizer by run.sh (or ThreadSanitizer with --tsan), so an
// out-of-bounds index, a missing barrier that lets a thread read unwritten shared memory (NaN
// bytes), or a shuffle after some lanes returned fails here with the kernel's file:line.
//
// Edge shapes: B = 1, H = 1, odd H, H not a multiple of 32, T = 1 (a single step), batch rows not a
// multiple of the kernels' row groups, the fused kernel's k range split over 1, 2 and 4 warps,
// cooperative launches of the persistent kernels in both directions (the tiled forward and backward
// kernels in every precision mode, their wmma tiles as the stand-in emulates them), leading dimensions wider
// than the rows. Device
// buffers are allocated at their exact sizes (so the sanitizer's redzones sit right after them),
// start as NaN bytes, and the columns a kernel must not touch hold a sentinel that is checked.
//
// usage: kernel_harness FATBIN [--subset]     (exit 0: every case passed)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "driver_api.h"
#include "lstm_cell_math.cuh"   // lstm_round_tf32 / lstm_round_bf16: the operands of the precision modes

namespace {

int failures = 0;
int cases = 0;
CUmodule module_handle;
std::mt19937 rng(12345);

void check(CUresult r, const char* what) {
    if (r != CUDA_SUCCESS) {
        const char* name = nullptr;
        cuGetErrorName(r, &name);
        std::fprintf(stderr, "FAIL %s: %s\n", what, name != nullptr ? name : "?");
        std::exit(2);
    }
}

CUfunction kernel(const char* name) {
    CUfunction f;
    check(cuModuleGetFunction(&f, module_handle, name), name);
    return f;
}

std::vector<float> random_values(std::size_t n, float bound = 1.f) {
    std::uniform_real_distribution<float> d(-bound, bound);
    std::vector<float> v(n);
    for (float& x : v) {
        x = d(rng);
    }
    return v;
}

/** A device buffer of exactly n floats, optionally initialised from the host. */
struct Device {
    CUdeviceptr p = 0;
    std::size_t n = 0;
    explicit Device(std::size_t count) : n(count) { check(cuMemAlloc_v2(&p, n * sizeof(float)), "cuMemAlloc"); }
    Device(const std::vector<float>& host) : Device(host.size()) { upload(host); }
    ~Device() { cuMemFree_v2(p); }
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;
    void upload(const std::vector<float>& host) {
        check(cuMemcpyHtoD_v2(p, host.data(), host.size() * sizeof(float)), "upload");
    }
    std::vector<float> download() const {
        std::vector<float> host(n);
        check(cuMemcpyDtoH_v2(host.data(), p, n * sizeof(float)), "download");
        return host;
    }
};

void launch(const char* name, unsigned gx, unsigned gy, unsigned bx, unsigned by, std::vector<void*> args) {
    check(cuLaunchKernel(kernel(name), gx, gy, 1, bx, by, 1, 0, nullptr, args.data(), nullptr), name);
}

/** Compares got with want (double reference): |got - want| ≤ 1e-5 · max(1, |want|), NaN fails. */
void expect(const std::string& what, const std::vector<float>& got, const std::vector<double>& want,
            const std::vector<bool>* mask = nullptr) {
    int bad = 0;
    for (std::size_t i = 0; i < want.size(); i++) {
        if (mask != nullptr && !(*mask)[i]) {
            continue;
        }
        double diff = std::fabs((double) got[i] - want[i]);
        if (!(diff <= 1e-5 * std::max(1.0, std::fabs(want[i])))) {
            if (bad++ < 3) {
                std::fprintf(stderr, "FAIL %s: [%zu] got %.9g, want %.9g\n", what.c_str(), i, got[i], want[i]);
            }
        }
    }
    cases++;
    if (bad > 0) {
        failures++;
        std::fprintf(stderr, "FAIL %s: %d of %zu values wrong\n", what.c_str(), bad, want.size());
    }
}

/** Values a kernel must not have written (outside its rows' width): still the sentinel. */
void expect_untouched(const std::string& what, const std::vector<float>& got, int rows, int ld, int width,
                      float sentinel) {
    for (int r = 0; r < rows; r++) {
        for (int c = width; c < ld; c++) {
            if (got[(std::size_t) r * ld + c] != sentinel) {
                failures++;
                std::fprintf(stderr, "FAIL %s: wrote [%d, %d] outside the %d-wide rows\n", what.c_str(), r, c, width);
                return;
            }
        }
    }
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

struct Gates {
    double i, f, g, o;
};

Gates activate(double pi, double pf, double pg, double po) {
    return {sigmoid(pi), sigmoid(pf), std::tanh(pg), sigmoid(po)};
}

std::string shape(const char* kernel, int b, int h, const char* extra = "") {
    return std::string(kernel) + " B=" + std::to_string(b) + " H=" + std::to_string(h) + extra;
}

// ---------------------------------------------------------------- forward pointwise

void forward_pointwise(int batch, int hidden, bool training, bool bias, bool in_place) {
    int g4 = 4 * hidden, ld = hidden + 3;   // h rows wider than H: the kernel must skip the gap
    auto xp = random_values((std::size_t) batch * g4), rec = random_values((std::size_t) batch * g4);
    auto bih = random_values(g4), bhh = random_values(g4), c_prev = random_values((std::size_t) batch * hidden);
    const float sentinel = 12345.f;
    std::vector<float> h_init((std::size_t) batch * ld, sentinel);
    Device d_xp(xp), d_rec(rec), d_bih(bih), d_bhh(bhh), d_c(c_prev), d_h(h_init);
    Device d_c_out((std::size_t) batch * hidden);
    CUdeviceptr null_ptr = 0;
    CUdeviceptr c_out = in_place ? d_c.p : d_c_out.p;
    CUdeviceptr bias_ih = bias ? d_bih.p : null_ptr, bias_hh = bias ? d_bhh.p : null_ptr;
    std::vector<void*> args = {&batch, &hidden, &d_xp.p, &d_rec.p, &bias_ih, &bias_hh, &d_c.p, &c_out, &d_h.p, &ld};
    if (training) {
        args.push_back(&d_xp.p);   // gates written over Xp_t, as the engine does
    }
    int grid = (batch * hidden + 255) / 256;
    launch(training ? "lstm_forward_pointwise_training" : "lstm_forward_pointwise_inference", grid, 1, 256, 1, args);

    std::vector<double> want_c((std::size_t) batch * hidden), want_h((std::size_t) batch * ld, 0),
        want_gates((std::size_t) batch * g4);
    std::vector<bool> h_mask((std::size_t) batch * ld, false);
    for (int b = 0; b < batch; b++) {
        for (int j = 0; j < hidden; j++) {
            double pre[4];
            for (int q = 0; q < 4; q++) {
                std::size_t at = (std::size_t) b * g4 + q * hidden + j;
                pre[q] = (double) xp[at] + rec[at] + (bias ? (double) bih[q * hidden + j] + bhh[q * hidden + j] : 0);
            }
            Gates a = activate(pre[0], pre[1], pre[2], pre[3]);
            double c = a.f * c_prev[(std::size_t) b * hidden + j] + a.i * a.g;
            want_c[(std::size_t) b * hidden + j] = c;
            want_h[(std::size_t) b * ld + j] = a.o * std::tanh(c);
            h_mask[(std::size_t) b * ld + j] = true;
            double gates[4] = {a.i, a.f, a.g, a.o};
            for (int q = 0; q < 4; q++) {
                want_gates[(std::size_t) b * g4 + q * hidden + j] = gates[q];
            }
        }
    }
    std::string what = shape(training ? "forward_pointwise_training" : "forward_pointwise_inference", batch, hidden,
                             in_place ? " in place" : "");
    expect(what + " c", in_place ? d_c.download() : d_c_out.download(), want_c);
    auto h = d_h.download();
    expect(what + " h", h, want_h, &h_mask);
    expect_untouched(what + " h", h, batch, ld, hidden, sentinel);
    if (training) {
        expect(what + " gates", d_xp.download(), want_gates);
    }
}

// ---------------------------------------------------------------- fused step

/** A product operand as precision mode `precision` (an LstmPrecision) takes it, widened to double. */
double operand(float x, int precision) {
    return precision == kPrecisionTf32 ? lstm_round_tf32(x) : precision == kPrecisionBf16 ? lstm_round_bf16(x) : x;
}

/**
 * One unit's backward pointwise step in double: dG = (di, df, dg, do) into `dg` from the activated
 * gates i, f, g, o, the cell c_t, the previous cell c_{t-1}, dh_t and the dc carried in; returns the
 * dc carried on to the step before (dcell · f).
 */
double pointwise_dg(double i, double f, double g, double o, double c, double cp, double dht, double dc, double dg[4]) {
    double tc = std::tanh(c);
    double dcell = dc + dht * o * (1 - tc * tc);
    dg[0] = dcell * g * i * (1 - i);
    dg[1] = dcell * cp * f * (1 - f);
    dg[2] = dcell * i * (1 - g * g);
    dg[3] = dht * tc * o * (1 - o);
    return dcell * f;
}

/**
 * The reference backward through a persistent layer's steps (direction 0 from the last step back,
 * 1 from the first on), from saved gates [T][B][4H], cells [T][B][H], c0 [B][H] and dy [T][B][out_ld]
 * (this direction's columns from `column`): each step's dG in double, and the dh carried into the
 * step before as dG_t · W_hh (W_hh [4H][H]). `kernel_dg` null: that product reads the reference's own
 * dG; else the kernel's dG, each operand rounded as `precision` says (no operand can round the other
 * way). dh and dc [B][H] enter as the carry into the first step processed and leave as dh0 and dc0.
 * Returns dG [T][B][4H].
 */
std::vector<double> reference_backward(int steps, int batch, int hidden, int direction, int column, int out_ld,
                                       const std::vector<float>& gates, const std::vector<float>& cells,
                                       const std::vector<float>& c0, const std::vector<float>& dy,
                                       const std::vector<float>& w, const std::vector<float>* kernel_dg,
                                       int precision, std::vector<double>& dh, std::vector<double>& dc) {
    int g4 = 4 * hidden;
    std::vector<double> want_dg((std::size_t) steps * batch * g4);
    for (int s = 0; s < steps; s++) {
        int t = direction == 0 ? steps - 1 - s : s;
        int prev = direction == 0 ? t - 1 : t + 1;
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < hidden; j++) {
                std::size_t st = (std::size_t) b * hidden + j, row = ((std::size_t) t * batch + b) * g4;
                double cp = s == steps - 1 ? c0[st] : cells[((std::size_t) prev * batch + b) * hidden + j];
                double dht = dy[((std::size_t) t * batch + b) * out_ld + column + j] + dh[st];
                double dg[4];
                dc[st] = pointwise_dg(gates[row + j], gates[row + hidden + j], gates[row + 2 * hidden + j],
                                      gates[row + 3 * hidden + j], cells[((std::size_t) t * batch + b) * hidden + j],
                                      cp, dht, dc[st], dg);
                for (int q = 0; q < 4; q++) {
                    want_dg[row + q * hidden + j] = dg[q];
                }
            }
        }
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < hidden; j++) {
                double sum = 0;
                for (int r = 0; r < g4; r++) {
                    std::size_t k = ((std::size_t) t * batch + b) * g4 + r;
                    double dg = kernel_dg ? operand((*kernel_dg)[k], precision) : want_dg[k];
                    sum += dg * operand(w[(std::size_t) r * hidden + j], precision);
                }
                dh[(std::size_t) b * hidden + j] = sum;
            }
        }
    }
    return want_dg;
}

void fused_step(int batch, int hidden, int split, bool training, bool bias, int precision = kPrecisionFp32) {
    int g4 = 4 * hidden, h_prev_ld = hidden + 2, ld = hidden + 1;
    auto xp = random_values((std::size_t) batch * g4), w = random_values((std::size_t) g4 * hidden, 0.5f);
    auto h_prev = random_values((std::size_t) batch * h_prev_ld), c_prev = random_values((std::size_t) batch * hidden);
    auto bih = random_values(g4), bhh = random_values(g4);
    const float sentinel = -777.f;
    std::vector<float> h_init((std::size_t) batch * ld, sentinel);
    Device d_xp(xp), d_w(w), d_hp(h_prev), d_c(c_prev), d_bih(bih), d_bhh(bhh), d_h(h_init);
    CUdeviceptr null_ptr = 0;
    CUdeviceptr bias_ih = bias ? d_bih.p : null_ptr, bias_hh = bias ? d_bhh.p : null_ptr;
    // c in place (the engine's inference schedule) and gates over Xp_t (its training schedule).
    std::vector<void*> args = {&batch, &hidden, &split, &precision, &d_xp.p, &d_hp.p, &h_prev_ld, &d_w.p, &bias_ih, &bias_hh,
                               &d_c.p, &d_c.p, &d_h.p, &ld};
    if (training) {
        args.push_back(&d_xp.p);
    }
    constexpr int warps_per_block = 4;   // kWarpsPerBlock in lstm_fused_step.cu
    int units_per_block = warps_per_block / split;
    launch(training ? "lstm_fused_step_training" : "lstm_fused_step_inference",
           (hidden + units_per_block - 1) / units_per_block, 1, 32 * warps_per_block, 1, args);

    std::vector<double> want_c((std::size_t) batch * hidden), want_h((std::size_t) batch * ld, 0),
        want_gates((std::size_t) batch * g4);
    std::vector<bool> h_mask((std::size_t) batch * ld, false);
    for (int b = 0; b < batch; b++) {
        for (int j = 0; j < hidden; j++) {
            double pre[4];
            for (int q = 0; q < 4; q++) {
                double sum = xp[(std::size_t) b * g4 + q * hidden + j];
                for (int k = 0; k < hidden; k++) {
                    // the reference rounds each operand as the mode says, then multiplies and sums in double
                    sum += operand(h_prev[(std::size_t) b * h_prev_ld + k], precision) *
                           operand(w[((std::size_t) q * hidden + j) * hidden + k], precision);
                }
                pre[q] = sum + (bias ? (double) bih[q * hidden + j] + bhh[q * hidden + j] : 0);
            }
            Gates a = activate(pre[0], pre[1], pre[2], pre[3]);
            double c = a.f * c_prev[(std::size_t) b * hidden + j] + a.i * a.g;
            want_c[(std::size_t) b * hidden + j] = c;
            want_h[(std::size_t) b * ld + j] = a.o * std::tanh(c);
            h_mask[(std::size_t) b * ld + j] = true;
            double gates[4] = {a.i, a.f, a.g, a.o};
            for (int q = 0; q < 4; q++) {
                want_gates[(std::size_t) b * g4 + q * hidden + j] = gates[q];
            }
        }
    }
    std::string what = shape(training ? "fused_step_training" : "fused_step_inference", batch, hidden,
                             (" split=" + std::to_string(split) + " precision=" + std::to_string(precision)).c_str());
    expect(what + " c", d_c.download(), want_c);
    auto h = d_h.download();
    expect(what + " h", h, want_h, &h_mask);
    expect_untouched(what + " h", h, batch, ld, hidden, sentinel);
    if (training) {
        expect(what + " gates", d_xp.download(), want_gates);
    }
}

// ---------------------------------------------------------------- persistent kernels

/** Double-precision forward of one layer and direction: h [T][B][H], c [T][B][H], gates [T][B][4H]. */
struct ForwardReference {
    std::vector<double> h, c, gates;
};

ForwardReference forward_reference(int steps, int batch, int hidden, int direction, const std::vector<float>& xp,
                                   const std::vector<float>& w, const std::vector<float>& bih,
                                   const std::vector<float>& bhh, const std::vector<float>& h0,
                                   const std::vector<float>& c0) {
    int g4 = 4 * hidden;
    ForwardReference r;
    r.h.assign((std::size_t) steps * batch * hidden, 0);
    r.c.assign((std::size_t) steps * batch * hidden, 0);
    r.gates.assign((std::size_t) steps * batch * g4, 0);
    std::vector<double> h_prev(h0.begin(), h0.end()), c_prev(c0.begin(), c0.end());
    for (int s = 0; s < steps; s++) {
        int t = direction == 0 ? s : steps - 1 - s;
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < hidden; j++) {
                double pre[4];
                for (int q = 0; q < 4; q++) {
                    double sum = xp[((std::size_t) t * batch + b) * g4 + q * hidden + j] + (double) bih[q * hidden + j] +
                                 bhh[q * hidden + j];
                    for (int k = 0; k < hidden; k++) {
                        sum += h_prev[(std::size_t) b * hidden + k] * w[((std::size_t) q * hidden + j) * hidden + k];
                    }
                    pre[q] = sum;
                }
                Gates a = activate(pre[0], pre[1], pre[2], pre[3]);
                std::size_t at = ((std::size_t) t * batch + b) * hidden + j;
                r.c[at] = a.f * c_prev[(std::size_t) b * hidden + j] + a.i * a.g;
                r.h[at] = a.o * std::tanh(r.c[at]);
                double gates[4] = {a.i, a.f, a.g, a.o};
                for (int q = 0; q < 4; q++) {
                    r.gates[((std::size_t) t * batch + b) * g4 + q * hidden + j] = gates[q];
                }
            }
        }
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < hidden; j++) {
                std::size_t at = ((std::size_t) t * batch + b) * hidden + j;
                h_prev[(std::size_t) b * hidden + j] = r.h[at];
                c_prev[(std::size_t) b * hidden + j] = r.c[at];
            }
        }
    }
    return r;
}

void cooperative(const char* name, int blocks, int threads, std::size_t shared, std::vector<void*> args) {
    CUfunction f = kernel(name);
    // as CudaDevice does: the opt-in limit less the kernel's static shared memory (a launch needs
    // static + dynamic within it; the attribute set to `shared` alone fails past 48 KiB)
    int opt_in = 0, static_bytes = 0;
    check(cuDeviceGetAttribute(&opt_in, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, 0), name);
    check(cuFuncGetAttribute(&static_bytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f), name);
    check(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, opt_in - static_bytes), name);
    check(cuLaunchCooperativeKernel(f, blocks, 1, 1, threads, 1, 1, (unsigned) shared, nullptr, args.data()), name);
}

void persistent(int steps, int batch, int hidden, int units, int direction) {
    int g4 = 4 * hidden, out_ld = 2 * hidden;   // the layer output of a bidirectional layer: [T, B, 2H]
    int column = direction * hidden;             // this direction's half of each output row
    auto xp = random_values((std::size_t) steps * batch * g4), w = random_values((std::size_t) g4 * hidden, 0.5f);
    auto bih = random_values(g4), bhh = random_values(g4);
    auto h0 = random_values((std::size_t) batch * hidden), c0 = random_values((std::size_t) batch * hidden);
    const float sentinel = 4242.f;
    std::vector<float> out_init((std::size_t) steps * batch * out_ld, sentinel);
    int blocks = (hidden + units - 1) / units, threads = 32 * units;
    std::string what = "persistent T=" + std::to_string(steps) + " B=" + std::to_string(batch) + " H=" +
                       std::to_string(hidden) + " U=" + std::to_string(units) + " dir=" + std::to_string(direction);
    ForwardReference ref = forward_reference(steps, batch, hidden, direction, xp, w, bih, bhh, h0, c0);
    auto out_of = [&](const std::vector<double>& h) {
        std::vector<double> want((std::size_t) steps * batch * out_ld, sentinel);
        for (std::size_t row = 0; row < (std::size_t) steps * batch; row++) {
            for (int j = 0; j < hidden; j++) {
                want[row * out_ld + column + j] = h[row * hidden + j];
            }
        }
        return want;
    };
    int last = direction == 0 ? steps - 1 : 0;
    std::vector<double> want_c_last(ref.c.begin() + (std::ptrdiff_t) last * batch * hidden,
                                    ref.c.begin() + (std::ptrdiff_t) (last + 1) * batch * hidden);
    for (bool training : {false, true}) {
        Device d_xp(xp), d_w(w), d_bih(bih), d_bhh(bhh), d_h0(h0), d_c0(c0), d_out(out_init);
        Device d_cells((std::size_t) steps * batch * hidden), d_c_last((std::size_t) batch * hidden);
        CUdeviceptr out = d_out.p + (CUdeviceptr) column * sizeof(float);
        std::size_t shared = ((std::size_t) 4 * units * hidden + (std::size_t) units * batch) * sizeof(float);
        int precision = 0;   // fp32 (kPrecisionFp32)
        std::vector<void*> args = {&steps, &batch, &hidden, &direction, &precision, &d_xp.p, &d_w.p, &d_bih.p,
                                   &d_bhh.p, &d_h0.p, &d_c0.p, &out, &out_ld};
        if (training) {
            args.push_back(&d_cells.p);
        }
        args.push_back(&d_c_last.p);
        cooperative(training ? "lstm_persistent_forward_training" : "lstm_persistent_forward_inference", blocks,
                    threads, shared, args);
        std::string mode = training ? " training" : " inference";
        expect(what + mode + " out", d_out.download(), out_of(ref.h));
        expect(what + mode + " c_last", d_c_last.download(), want_c_last);
        if (training) {
            expect(what + mode + " cells", d_cells.download(), ref.c);
            expect(what + mode + " gates", d_xp.download(), ref.gates);
        }
    }

    // Backward through the same steps, from the reference's gates and cells.
    std::vector<float> gates(ref.gates.begin(), ref.gates.end()), cells(ref.c.begin(), ref.c.end());
    auto dy = random_values((std::size_t) steps * batch * out_ld);
    auto dhn = random_values((std::size_t) batch * hidden), dcn = random_values((std::size_t) batch * hidden);
    std::vector<double> dh(dhn.begin(), dhn.end()), dc(dcn.begin(), dcn.end());
    std::vector<double> want_dg = reference_backward(steps, batch, hidden, direction, column, out_ld, gates, cells, c0,
                                                     dy, w, nullptr, kPrecisionFp32, dh, dc);
    Device d_gates(gates), d_cells(cells), d_c0(c0), d_dy(dy), d_w(w), d_dhn(dhn), d_dcn(dcn);
    Device d_dg((std::size_t) steps * batch * g4), d_dh0((std::size_t) batch * hidden), d_dc0((std::size_t) batch * hidden);
    CUdeviceptr dy_at = d_dy.p + (CUdeviceptr) column * sizeof(float);
    std::size_t shared = ((std::size_t) units * g4 + 2 * (std::size_t) units * batch) * sizeof(float);
    int precision = 0;   // fp32 (kPrecisionFp32)
    std::vector<void*> args = {&steps, &batch, &hidden, &direction, &precision, &d_gates.p, &d_cells.p, &d_c0.p,
                               &dy_at, &out_ld, &d_w.p, &d_dhn.p, &d_dcn.p, &d_dg.p, &d_dh0.p, &d_dc0.p};
    cooperative("lstm_persistent_backward", blocks, threads, shared, args);
    expect(what + " backward dG", d_dg.download(), want_dg);
    expect(what + " backward dh0", d_dh0.download(), dh);
    expect(what + " backward dc0", d_dc0.download(), dc);
}

// ---------------------------------------------------------------- tiled persistent forward

/** Dynamic shared memory of lstm_persistent_tiled.cu's forward kernels (its tiled_shared_layout). */
std::size_t tiled_shared(int units, int batch, int hidden, int chunk, int precision) {
    auto up = [](std::size_t n, std::size_t m) { return (n + m - 1) / m * m; };
    std::size_t e = precision == kPrecisionBf16 ? 2 : 4, pad = 16 / e;
    std::size_t hp = up(hidden, 16), bp = up(batch, 16);
    std::size_t tiles = (std::size_t) units / 4 * (bp / 16), splits = tiles >= 8 ? 1 : 8 / tiles;
    return 32 + up(4 * units * (hp + pad) * e, 32) + up(bp * (chunk + pad) * e, 32) +
           up(splits * 4 * units * (bp + 4) * sizeof(float), 32) + (std::size_t) units * batch * sizeof(float);
}

/**
 * The tiled forward kernels (8 warps per block, U units per block, h staged `chunk` columns at a
 * time) in one precision mode. The reference takes each step's h_{t-1} from the kernel's own output
 * of the step before (h0 at the first), rounds the operands as the mode says and sums in double: an
 * operand that rounds the other way because an earlier step differed in its last bit cannot occur,
 * so every mode is held to the fp32 bound.
 */
void persistent_tiled(int steps, int batch, int hidden, int units, int chunk, int direction, int precision) {
    int g4 = 4 * hidden, out_ld = 2 * hidden;
    int column = direction * hidden;
    auto xp = random_values((std::size_t) steps * batch * g4), w = random_values((std::size_t) g4 * hidden, 0.5f);
    auto bih = random_values(g4), bhh = random_values(g4);
    auto h0 = random_values((std::size_t) batch * hidden), c0 = random_values((std::size_t) batch * hidden);
    const float sentinel = 4242.f;
    std::vector<float> out_init((std::size_t) steps * batch * out_ld, sentinel);
    int blocks = (hidden + units - 1) / units, threads = 256;
    std::size_t shared = tiled_shared(units, batch, hidden, chunk, precision);
    std::string what = "persistent_tiled T=" + std::to_string(steps) + " B=" + std::to_string(batch) + " H=" +
                       std::to_string(hidden) + " U=" + std::to_string(units) + " chunk=" + std::to_string(chunk) +
                       " dir=" + std::to_string(direction) + " precision=" + std::to_string(precision);
    for (bool training : {false, true}) {
        Device d_xp(xp), d_w(w), d_bih(bih), d_bhh(bhh), d_h0(h0), d_c0(c0), d_out(out_init);
        Device d_cells((std::size_t) steps * batch * hidden), d_c_last((std::size_t) batch * hidden);
        CUdeviceptr out = d_out.p + (CUdeviceptr) column * sizeof(float);
        std::vector<void*> args = {&steps, &batch, &hidden, &direction, &precision, &units, &chunk, &d_xp.p, &d_w.p,
                                   &d_bih.p, &d_bhh.p, &d_h0.p, &d_c0.p, &out, &out_ld};
        if (training) {
            args.push_back(&d_cells.p);
        }
        args.push_back(&d_c_last.p);
        cooperative(training ? "lstm_persistent_tiled_forward_training" : "lstm_persistent_tiled_forward_inference",
                    blocks, threads, shared, args);
        std::vector<float> got = d_out.download();
        std::vector<double> want_out((std::size_t) steps * batch * out_ld, sentinel);
        std::vector<double> want_c((std::size_t) steps * batch * hidden), want_gates((std::size_t) steps * batch * g4);
        std::vector<double> c_prev(c0.begin(), c0.end());
        for (int s = 0; s < steps; s++) {
            int t = direction == 0 ? s : steps - 1 - s;
            int prev = direction == 0 ? t - 1 : t + 1;
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < hidden; j++) {
                    double pre[4];
                    for (int q = 0; q < 4; q++) {
                        double sum = xp[((std::size_t) t * batch + b) * g4 + q * hidden + j] +
                                     (double) bih[q * hidden + j] + bhh[q * hidden + j];
                        for (int k = 0; k < hidden; k++) {
                            float h = s == 0 ? h0[(std::size_t) b * hidden + k]
                                             : got[((std::size_t) prev * batch + b) * out_ld + column + k];
                            sum += operand(h, precision) * operand(w[((std::size_t) q * hidden + j) * hidden + k], precision);
                        }
                        pre[q] = sum;
                    }
                    Gates a = activate(pre[0], pre[1], pre[2], pre[3]);
                    std::size_t at = ((std::size_t) t * batch + b) * hidden + j;
                    want_c[at] = a.f * c_prev[(std::size_t) b * hidden + j] + a.i * a.g;
                    want_out[((std::size_t) t * batch + b) * out_ld + column + j] = a.o * std::tanh(want_c[at]);
                    double gates[4] = {a.i, a.f, a.g, a.o};
                    for (int q = 0; q < 4; q++) {
                        want_gates[((std::size_t) t * batch + b) * g4 + q * hidden + j] = gates[q];
                    }
                }
            }
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < hidden; j++) {
                    c_prev[(std::size_t) b * hidden + j] = want_c[((std::size_t) t * batch + b) * hidden + j];
                }
            }
        }
        std::string mode = training ? " training" : " inference";
        expect(what + mode + " out", got, want_out);   // the other direction's half keeps the sentinel
        expect(what + mode + " c_last", d_c_last.download(), c_prev);
        if (training) {
            expect(what + mode + " cells", d_cells.download(), want_c);
            expect(what + mode + " gates", d_xp.download(), want_gates);
        }
    }
}

// ---------------------------------------------------------------- tiled persistent backward

/** Dynamic shared memory of lstm_persistent_tiled.cu's backward kernel (M = U, K = 4H, state dh and dc). */
std::size_t tiled_backward_shared(int units, int batch, int hidden, int chunk, int precision) {
    auto up = [](std::size_t n, std::size_t m) { return (n + m - 1) / m * m; };
    std::size_t e = precision == kPrecisionBf16 ? 2 : 4, pad = 16 / e;
    std::size_t kp = up(4 * (std::size_t) hidden, 16), bp = up(batch, 16);
    std::size_t tiles = (std::size_t) units / 16 * (bp / 16), splits = tiles >= 8 ? 1 : 8 / tiles;
    return 32 + up(units * (kp + pad) * e, 32) + up(bp * (chunk + pad) * e, 32) +
           up(splits * units * (bp + 4) * sizeof(float), 32) + 2 * (std::size_t) units * batch * sizeof(float);
}

/**
 * The tiled backward kernel (8 warps per block, U units per block, a multiple of 16, dG_t staged
 * `chunk` columns of 4H at a time) in one precision mode, from random saved gates and cells. The
 * reference computes each step's dG in double, and the dh carried into the step before from the
 * kernel's own dG_t (rounded as the mode says, summed in double): as in persistent_tiled, no
 * operand can round the other way, so every mode is held to the fp32 bound.
 */
void persistent_tiled_backward(int steps, int batch, int hidden, int units, int chunk, int direction, int precision) {
    int g4 = 4 * hidden, out_ld = 2 * hidden;
    int column = direction * hidden;
    std::uniform_real_distribution<float> unit(0.05f, 0.95f), sym(-0.95f, 0.95f);
    std::vector<float> gates((std::size_t) steps * batch * g4);
    for (std::size_t row = 0; row < (std::size_t) steps * batch; row++) {
        for (int q = 0; q < 4; q++) {
            for (int j = 0; j < hidden; j++) {
                gates[row * g4 + q * hidden + j] = q == 2 ? sym(rng) : unit(rng);   // g is a tanh
            }
        }
    }
    auto cells = random_values((std::size_t) steps * batch * hidden), c0 = random_values((std::size_t) batch * hidden);
    auto w = random_values((std::size_t) g4 * hidden, 0.5f);
    auto dy = random_values((std::size_t) steps * batch * out_ld);
    auto dhn = random_values((std::size_t) batch * hidden), dcn = random_values((std::size_t) batch * hidden);
    int blocks = (hidden + units - 1) / units, threads = 256;
    std::size_t shared = tiled_backward_shared(units, batch, hidden, chunk, precision);
    std::string what = "persistent_tiled_backward T=" + std::to_string(steps) + " B=" + std::to_string(batch) +
                       " H=" + std::to_string(hidden) + " U=" + std::to_string(units) + " chunk=" +
                       std::to_string(chunk) + " dir=" + std::to_string(direction) + " precision=" +
                       std::to_string(precision);
    Device d_gates(gates), d_cells(cells), d_c0(c0), d_dy(dy), d_w(w), d_dhn(dhn), d_dcn(dcn);
    Device d_dg((std::size_t) steps * batch * g4), d_dh0((std::size_t) batch * hidden),
            d_dc0((std::size_t) batch * hidden);
    CUdeviceptr dy_at = d_dy.p + (CUdeviceptr) column * sizeof(float);
    std::vector<void*> args = {&steps, &batch, &hidden, &direction, &precision, &units, &chunk, &d_gates.p,
                               &d_cells.p, &d_c0.p, &dy_at, &out_ld, &d_w.p, &d_dhn.p, &d_dcn.p, &d_dg.p,
                               &d_dh0.p, &d_dc0.p};
    cooperative("lstm_persistent_tiled_backward", blocks, threads, shared, args);
    std::vector<float> got_dg = d_dg.download();

    std::vector<double> dh(dhn.begin(), dhn.end()), dc(dcn.begin(), dcn.end());
    std::vector<double> want_dg = reference_backward(steps, batch, hidden, direction, column, out_ld, gates, cells, c0,
                                                     dy, w, &got_dg, precision, dh, dc);
    expect(what + " dG", got_dg, want_dg);
    expect(what + " dh0", d_dh0.download(), dh);
    expect(what + " dc0", d_dc0.download(), dc);
}

// ---------------------------------------------------------------- backward pointwise

void backward_pointwise(int batch, int hidden) {
    int g4 = 4 * hidden, dy_ld = 2 * hidden + 1;
    std::vector<float> gates((std::size_t) batch * g4);
    std::uniform_real_distribution<float> unit(0.05f, 0.95f), sym(-0.95f, 0.95f);
    for (int b = 0; b < batch; b++) {
        for (int q = 0; q < 4; q++) {
            for (int j = 0; j < hidden; j++) {
                gates[(std::size_t) b * g4 + q * hidden + j] = q == 2 ? sym(rng) : unit(rng);  // g is a tanh
            }
        }
    }
    auto c = random_values((std::size_t) batch * hidden), c_prev = random_values((std::size_t) batch * hidden);
    auto dy = random_values((std::size_t) batch * dy_ld), dh_next = random_values((std::size_t) batch * hidden);
    auto dc = random_values((std::size_t) batch * hidden);
    Device d_gates(gates), d_c(c), d_cp(c_prev), d_dy(dy), d_dh(dh_next), d_dc(dc), d_dg((std::size_t) batch * g4);
    std::vector<void*> args = {&batch, &hidden, &d_gates.p, &d_c.p, &d_cp.p, &d_dy.p, &dy_ld, &d_dh.p, &d_dc.p,
                               &d_dg.p};
    launch("lstm_backward_pointwise", (batch * hidden + 255) / 256, 1, 256, 1, args);

    std::vector<double> want_dg((std::size_t) batch * g4), want_dc((std::size_t) batch * hidden);
    for (int b = 0; b < batch; b++) {
        for (int j = 0; j < hidden; j++) {
            std::size_t s = (std::size_t) b * hidden + j, row = (std::size_t) b * g4;
            double i = gates[row + j], f = gates[row + hidden + j], g = gates[row + 2 * hidden + j],
                   o = gates[row + 3 * hidden + j];
            double dh = (double) dy[(std::size_t) b * dy_ld + j] + dh_next[s];
            double dg[4];
            want_dc[s] = pointwise_dg(i, f, g, o, c[s], c_prev[s], dh, dc[s], dg);
            for (int q = 0; q < 4; q++) {
                want_dg[row + q * hidden + j] = dg[q];
            }
        }
    }
    std::string what = shape("backward_pointwise", batch, hidden);
    expect(what + " dG", d_dg.download(), want_dg);
    expect(what + " dc", d_dc.download(), want_dc);
}

// ---------------------------------------------------------------- training kernels

/** A device buffer of n doubles. */
struct DeviceDoubles {
    CUdeviceptr p = 0;
    std::size_t n;
    explicit DeviceDoubles(std::size_t count) : n(count) { check(cuMemAlloc_v2(&p, n * sizeof(double)), "cuMemAlloc"); }
    ~DeviceDoubles() { cuMemFree_v2(p); }
    void upload(const std::vector<double>& host) {
        check(cuMemcpyHtoD_v2(p, host.data(), host.size() * sizeof(double)), "upload");
    }
    std::vector<double> download() const {
        std::vector<double> host(n);
        check(cuMemcpyDtoH_v2(host.data(), p, n * sizeof(double)), "download");
        return host;
    }
};

void expect_doubles(const std::string& what, const std::vector<double>& got, const std::vector<double>& want,
                    double tolerance) {
    cases++;
    for (std::size_t i = 0; i < want.size(); i++) {
        if (!(std::fabs(got[i] - want[i]) <= tolerance * std::max(1.0, std::fabs(want[i])))) {
            failures++;
            std::fprintf(stderr, "FAIL %s: [%zu] got %.17g, want %.17g\n", what.c_str(), i, got[i], want[i]);
            return;
        }
    }
}

void training_kernels(int rows, int outputs) {
    std::string shape_text = " R=" + std::to_string(rows) + " O=" + std::to_string(outputs);
    int n = rows * outputs;
    auto pred = random_values(n, 2.f), target = random_values(n, 2.f), bias = random_values(outputs);
    // head bias
    {
        Device d_out(pred), d_bias(bias);
        std::vector<void*> args = {&rows, &outputs, &d_out.p, &d_bias.p};
        launch("lstm_head_bias", (n + 255) / 256, 1, 256, 1, args);
        std::vector<double> want(n);
        for (int i = 0; i < n; i++) {
            want[i] = (double) pred[i] + bias[i % outputs];
        }
        expect("head_bias" + shape_text, d_out.download(), want);
    }
    // mean squared error: gradient and terms, then the one-block sum of the terms
    {
        Device d_p(pred), d_t(target), d_g(n);
        DeviceDoubles d_terms(n), d_sum(1);
        std::vector<void*> args = {&n, &d_p.p, &d_t.p, &d_g.p, &d_terms.p};
        launch("lstm_mse", (n + 255) / 256, 1, 256, 1, args);
        std::vector<void*> reduce = {&n, &d_terms.p, &d_sum.p};
        launch("lstm_reduce", 1, 1, 256, 1, reduce);
        std::vector<double> want_g(n), want_sum(1, 0);
        for (int i = 0; i < n; i++) {
            double diff = (double) pred[i] - target[i];
            want_g[i] = 2 * diff / n;
            want_sum[0] += diff * diff;
        }
        expect("mse grad" + shape_text, d_g.download(), want_g);
        expect_doubles("mse sum" + shape_text, d_sum.download(), want_sum, 1e-12);
    }
    // softmax cross-entropy
    {
        std::vector<float> labels(rows);
        for (int r = 0; r < rows; r++) {
            labels[r] = (float) (r * 7 % outputs);
        }
        Device d_z(pred), d_l(labels), d_g(n);
        DeviceDoubles d_terms(rows);
        std::vector<void*> args = {&rows, &outputs, &d_z.p, &d_l.p, &d_g.p, &d_terms.p};
        launch("lstm_softmax_ce", (rows + 255) / 256, 1, 256, 1, args);
        std::vector<double> want_g(n), want_terms(rows);
        for (int r = 0; r < rows; r++) {
            double max = -INFINITY, sum = 0;
            for (int c = 0; c < outputs; c++) {
                max = std::max(max, (double) pred[r * outputs + c]);
            }
            for (int c = 0; c < outputs; c++) {
                sum += std::exp(pred[r * outputs + c] - max);
            }
            double lse = max + std::log(sum);
            int label = (int) labels[r];
            want_terms[r] = lse - pred[r * outputs + label];
            for (int c = 0; c < outputs; c++) {
                want_g[r * outputs + c] = (std::exp(pred[r * outputs + c] - lse) - (c == label ? 1 : 0)) / rows;
            }
        }
        expect("softmax_ce grad" + shape_text, d_g.download(), want_g);
        expect_doubles("softmax_ce terms" + shape_text, d_terms.download(), want_terms, 1e-12);
    }
    // sum of squares in blocks, then the clip factor; a max norm below and above the norm
    for (double max_norm : {0.5, 1e9}) {
        long long count = n, blocks = std::min<long long>(5, (count + 255) / 256 + 1);
        long long chunk = (count + blocks - 1) / blocks;
        Device d_x(pred), d_scale(1);
        DeviceDoubles d_partials((std::size_t) blocks), d_norm(1);
        std::vector<void*> sum_args = {&count, &chunk, &d_x.p, &d_partials.p};
        launch("lstm_sum_squares", (unsigned) blocks, 1, 256, 1, sum_args);
        int partials = (int) blocks;
        DeviceDoubles d_max_norm(1);
        d_max_norm.upload({max_norm});
        std::vector<void*> clip_args = {&partials, &d_partials.p, &d_max_norm.p, &d_norm.p, &d_scale.p};
        launch("lstm_clip_scale", 1, 1, 1, 1, clip_args);
        double squares = 0;
        for (float v : pred) {
            squares += (double) v * v;
        }
        double norm = std::sqrt(squares), scale = max_norm / (norm + 1e-6);
        expect_doubles("clip norm" + shape_text, d_norm.download(), {norm}, 1e-12);
        expect("clip scale" + shape_text, d_scale.download(), {scale < 1 ? (double) (float) scale : 1.0});
    }
    // Adam and SGD updates (with a clip factor below 1, weight decay, SGD's first and later steps)
    {
        auto p = random_values(n), g = random_values(n), m = random_values(n, 0.1f), v = random_values(n, 0.1f);
        for (float& x : v) {
            x = std::fabs(x);
        }
        std::vector<float> scale_host = {0.75f};
        Device d_p(p), d_g(g), d_m(m), d_v(v), d_scale(scale_host);
        long long count = n;
        double beta1 = 0.9, beta2 = 0.99, step_size = 0.01 / (1 - 0.9 * 0.9), bc2 = std::sqrt(1 - 0.99 * 0.99),
               eps = 1e-8, wd = 0.01;
        DeviceDoubles d_step(2);
        d_step.upload({step_size, bc2});
        std::vector<void*> args = {&count, &d_p.p, &d_g.p, &d_m.p, &d_v.p, &d_scale.p, &d_step.p, &beta1, &beta2,
                                   &eps, &wd};
        launch("lstm_adam_update", (n + 255) / 256, 1, 256, 1, args);
        std::vector<double> want_p(n), want_m(n), want_v(n);
        for (int i = 0; i < n; i++) {
            float gi = g[i] * 0.75f;
            float grad = (float) (gi + wd * p[i]);
            float mi = (float) (beta1 * m[i] + (1 - beta1) * grad);
            float vi = (float) (beta2 * v[i] + (1 - beta2) * grad * grad);
            want_m[i] = mi;
            want_v[i] = vi;
            want_p[i] = (float) (p[i] - step_size * mi / (std::sqrt((double) vi) / bc2 + eps));
        }
        expect("adam p" + shape_text, d_p.download(), want_p);
        expect("adam m" + shape_text, d_m.download(), want_m);
        expect("adam v" + shape_text, d_v.download(), want_v);
    }
    for (int first : {1, 0}) {
        auto p = random_values(n), g = random_values(n), buf = random_values(n);
        std::vector<float> scale_host = {1.0f};
        Device d_p(p), d_g(g), d_buf(buf), d_scale(scale_host);
        long long count = n;
        double lr = 0.1, momentum = 0.9, wd = 0.001;
        DeviceDoubles d_step(2);
        d_step.upload({lr, (double) first});
        std::vector<void*> args = {&count, &d_p.p, &d_g.p, &d_buf.p, &d_scale.p, &d_step.p, &momentum, &wd};
        launch("lstm_sgd_update", (n + 255) / 256, 1, 256, 1, args);
        std::vector<double> want_p(n), want_buf(n);
        for (int i = 0; i < n; i++) {
            float d = (float) (g[i] + wd * p[i]);
            float b = first ? d : (float) (momentum * buf[i] + d);
            want_buf[i] = b;
            want_p[i] = (float) (p[i] - lr * b);
        }
        expect("sgd p first=" + std::to_string(first) + shape_text, d_p.download(), want_p);
        expect("sgd buffer first=" + std::to_string(first) + shape_text, d_buf.download(), want_buf);
    }
}

// ---------------------------------------------------------------- row moves of the packed schedule

void row_kernels(int rows, int width) {
    std::string shape_text = " rows=" + std::to_string(rows) + " width=" + std::to_string(width);
    int src_rows = rows + 3, src_ld = width + 2, dst_ld = width + 1;
    auto src = random_values((std::size_t) src_rows * src_ld);
    std::vector<int> index(rows);
    for (int r = 0; r < rows; r++) {
        index[r] = r % 4 == 3 ? -1 : (r * 7 + 2) % src_rows;   // some rows zero-filled, the rest shuffled
    }
    CUdeviceptr d_index;
    check(cuMemAlloc_v2(&d_index, index.size() * sizeof(int)), "cuMemAlloc");
    check(cuMemcpyHtoD_v2(d_index, index.data(), index.size() * sizeof(int)), "upload index");
    const float sentinel = 99.f;
    std::vector<float> dst_init((std::size_t) rows * dst_ld, sentinel);
    Device d_src(src), d_dst(dst_init);
    std::vector<void*> args = {&rows, &width, &d_src.p, &src_ld, &d_index, &d_dst.p, &dst_ld};
    launch("lstm_gather_rows", (rows * width + 255) / 256, 1, 256, 1, args);
    std::vector<double> want((std::size_t) rows * dst_ld, sentinel);
    std::vector<bool> mask((std::size_t) rows * dst_ld, false);
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < width; c++) {
            want[(std::size_t) r * dst_ld + c] = index[r] < 0 ? 0.0 : src[(std::size_t) index[r] * src_ld + c];
            mask[(std::size_t) r * dst_ld + c] = true;
        }
    }
    auto got = d_dst.download();
    expect("gather_rows" + shape_text, got, want, &mask);
    expect_untouched("gather_rows" + shape_text, got, rows, dst_ld, width, sentinel);
    cuMemFree_v2(d_index);

    long long n = (long long) rows * width;
    auto a = random_values((std::size_t) n), b = random_values((std::size_t) n);
    for (const char* name : {"lstm_multiply", "lstm_add"}) {
        Device d_a(a), d_b(b);
        std::vector<void*> elementwise = {&n, &d_a.p, &d_b.p, &d_a.p};   // out aliases a, as the engine uses it
        launch(name, (unsigned) ((n + 255) / 256), 1, 256, 1, elementwise);
        std::vector<double> expected((std::size_t) n);
        for (long long i = 0; i < n; i++) {
            expected[(std::size_t) i] = std::string(name) == "lstm_add" ? (double) a[i] + b[i] : (double) a[i] * b[i];
        }
        expect(std::string(name) + shape_text, d_a.download(), expected);
    }
}

void probe_fill(int count) {
    Device out(count);
    float scale = 0.5f, offset = 1.f;
    std::vector<void*> args = {&count, &scale, &offset, &out.p};
    launch("lstm_probe_fill", (count + 127) / 128, 1, 128, 1, args);
    std::vector<double> want(count);
    for (int n = 0; n < count; n++) {
        want[n] = 0.5 * n + 1;
    }
    expect("probe_fill count=" + std::to_string(count), out.download(), want);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: kernel_harness FATBIN [--subset]\n");
        return 2;
    }
    bool subset = argc > 2 && std::string(argv[2]) == "--subset";
    std::ifstream file(argv[1], std::ios::binary);
    std::vector<char> fatbin((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (fatbin.empty()) {
        std::fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    CUdevice device;
    CUcontext context;
    check(cuInit(0), "cuInit");
    check(cuDeviceGet(&device, 0), "cuDeviceGet");
    check(cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
    check(cuCtxPushCurrent_v2(context), "cuCtxPushCurrent");
    check(cuModuleLoadData(&module_handle, fatbin.data()), "cuModuleLoadData");

    // (B, H): one row and one unit; odd H; H past one warp and not a multiple of 32; many rows.
    // --subset (ThreadSanitizer, whose fibers are slow to create): the kernels whose threads talk
    // (barriers, shuffles) at the first three shapes.
    const int shapes[][2] = {{1, 5}, {3, 33}, {5, 31}, {2, 3}, {1, 1}, {2, 64}, {70, 7}};
    int shape_count = subset ? 3 : (int) (sizeof shapes / sizeof shapes[0]);
    for (int n = 0; n < shape_count; n++) {
        int b = shapes[n][0], h = shapes[n][1];
        for (bool training : {false, true}) {
            if (!subset) {   // no cross-thread traffic: nothing for ThreadSanitizer to see
                forward_pointwise(b, h, training, true, false);
                forward_pointwise(b, h, training, false, !training);
            }
            for (int split : {1, 2, 4}) {   // one warp per unit, or the k range split over 2 or 4 warps
                fused_step(b, h, split, training, split != 2);
            }
            if (!subset) {   // the tf32 and bf16 instances: operands rounded, same threads and barriers
                fused_step(b, h, 4, training, true, kPrecisionTf32);
                fused_step(b, h, 1, training, true, kPrecisionBf16);
            }
        }
        if (!subset) {
            backward_pointwise(b, h);
        }
    }
    // Persistent kernels: T = 1 and several steps, both directions, 1 to 4 units per block.
    const int persistent_shapes[][4] = {{1, 1, 1, 1}, {4, 3, 5, 2}, {3, 6, 33, 4}, {2, 5, 7, 1}, {5, 2, 40, 3}};
    int persistent_count = subset ? 2 : (int) (sizeof persistent_shapes / sizeof persistent_shapes[0]);
    for (int n = 0; n < persistent_count; n++) {
        const int* p = persistent_shapes[n];
        for (int direction : {0, 1}) {
            persistent(p[0], p[1], p[2], p[3], direction);
        }
    }
    // The tiled forward kernels: one unit (H = 1), odd H, B past one and two 16-column tiles,
    // h in several chunks with a short last one (H = 37, chunk 32), more tiles than warps (U = 16,
    // B = 40: 12 tiles, 8 warps), blocks with units past H; every mode (wmma in tf32 and bf16).
    const int tiled_shapes[][5] = {{3, 17, 33, 8, 16}, {2, 40, 37, 16, 32}, {1, 1, 1, 4, 16}, {4, 3, 5, 4, 16},
                                   {2, 33, 21, 4, 32}};
    int tiled_count = subset ? 2 : (int) (sizeof tiled_shapes / sizeof tiled_shapes[0]);
    for (int n = 0; n < tiled_count; n++) {
        const int* p = tiled_shapes[n];
        for (int direction : {0, 1}) {
            for (int precision : {kPrecisionFp32, kPrecisionTf32, kPrecisionBf16}) {
                if (!subset || direction == 0) {
                    persistent_tiled(p[0], p[1], p[2], p[3], p[4], direction, precision);
                }
            }
        }
    }
    // The tiled backward kernel: one unit (H = 1), odd H with a partial last block (H = 33, U = 16),
    // B past one and two 16-column tiles, dG_t in several chunks with a short last one (4H = 148,
    // chunk 64), the whole 4H in one chunk (H = 21), a block of 8 splits of k (B = 3: one tile),
    // more tiles than warps (U = 48, B = 40: 9 tiles, 8 warps); every mode (wmma in tf32 and bf16).
    const int tiled_backward_shapes[][5] = {{3, 17, 33, 16, 16}, {2, 40, 37, 32, 64}, {1, 1, 1, 16, 16},
                                            {4, 3, 5, 16, 32},   {2, 33, 21, 16, 96}, {2, 40, 50, 48, 208}};
    int tiled_backward_count = subset ? 2 : (int) (sizeof tiled_backward_shapes / sizeof tiled_backward_shapes[0]);
    for (int n = 0; n < tiled_backward_count; n++) {
        const int* p = tiled_backward_shapes[n];
        for (int direction : {0, 1}) {
            for (int precision : {kPrecisionFp32, kPrecisionTf32, kPrecisionBf16}) {
                if (!subset || direction == 0) {
                    persistent_tiled_backward(p[0], p[1], p[2], p[3], p[4], direction, precision);
                }
            }
        }
    }
    if (!subset) {
        row_kernels(1, 1);
        row_kernels(37, 9);
        row_kernels(300, 3);
    }
    // One row, a row count not a multiple of a block, more rows than one block (the reductions
    // synchronise, so ThreadSanitizer's subset keeps one shape).
    training_kernels(7, 3);
    if (!subset) {
        training_kernels(1, 1);
        training_kernels(300, 10);
    }
    probe_fill(subset ? 5 : 1);
    if (!subset) {
        probe_fill(300);
    }

    check(cuModuleUnload(module_handle), "cuModuleUnload");
    check(cuCtxPopCurrent_v2(nullptr), "cuCtxPopCurrent");
    check(cuDevicePrimaryCtxRelease_v2(device), "cuDevicePrimaryCtxRelease");
    if (failures > 0) {
        std::fprintf(stderr, "kernel harness: %d of %d checks FAILED\n", failures, cases);
        return 1;
    }
    std::printf("kernel harness: %d checks passed\n", cases);
    return 0;
}
