// kernel_harness.cpp — every kernel of cuda/*.cu, launched through the stand-in's driver API
// (no JVM) at edge shapes, against a double-precision reference computed here. Built with
// AddressSanitizer + UndefinedBehaviorSanitizer by run.sh (or ThreadSanitizer with --tsan), so an
// out-of-bounds index, a missing barrier that lets a thread read unwritten shared memory (NaN
// bytes), or a shuffle after some lanes returned fails here with the kernel's file:line.
//
// Edge shapes: B = 1, H = 1, odd H, H not a multiple of 32, T = 1 (a single step), grid y smaller
// than B (the fused kernel strides batch rows), leading dimensions wider than the rows. Device
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

void fused_step(int batch, int hidden, int grid_y, bool training, bool bias) {
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
    std::vector<void*> args = {&batch, &hidden, &d_xp.p, &d_hp.p, &h_prev_ld, &d_w.p, &bias_ih, &bias_hh,
                               &d_c.p, &d_c.p, &d_h.p, &ld};
    if (training) {
        args.push_back(&d_xp.p);
    }
    constexpr int warps_per_block = 4;   // kWarpsPerBlock in lstm_fused_step.cu
    launch(training ? "lstm_fused_step_training" : "lstm_fused_step_inference", (hidden + warps_per_block - 1) /
           warps_per_block, grid_y, 32 * warps_per_block, 1, args);

    std::vector<double> want_c((std::size_t) batch * hidden), want_h((std::size_t) batch * ld, 0),
        want_gates((std::size_t) batch * g4);
    std::vector<bool> h_mask((std::size_t) batch * ld, false);
    for (int b = 0; b < batch; b++) {
        for (int j = 0; j < hidden; j++) {
            double pre[4];
            for (int q = 0; q < 4; q++) {
                double sum = xp[(std::size_t) b * g4 + q * hidden + j];
                for (int k = 0; k < hidden; k++) {
                    sum += (double) h_prev[(std::size_t) b * h_prev_ld + k] * w[((std::size_t) q * hidden + j) * hidden + k];
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
                             (" grid.y=" + std::to_string(grid_y)).c_str());
    expect(what + " c", d_c.download(), want_c);
    auto h = d_h.download();
    expect(what + " h", h, want_h, &h_mask);
    expect_untouched(what + " h", h, batch, ld, hidden, sentinel);
    if (training) {
        expect(what + " gates", d_xp.download(), want_gates);
    }
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
            double tc = std::tanh((double) c[s]);
            double dcell = dc[s] + dh * o * (1 - tc * tc);
            want_dg[row + j] = dcell * g * i * (1 - i);
            want_dg[row + hidden + j] = dcell * c_prev[s] * f * (1 - f);
            want_dg[row + 2 * hidden + j] = dcell * i * (1 - g * g);
            want_dg[row + 3 * hidden + j] = dh * tc * o * (1 - o);
            want_dc[s] = dcell * f;
        }
    }
    std::string what = shape("backward_pointwise", batch, hidden);
    expect(what + " dG", d_dg.download(), want_dg);
    expect(what + " dc", d_dc.download(), want_dc);
}

// ---------------------------------------------------------------- bias gradient

void bias_grad(int rows, int hidden) {
    int cols = 4 * hidden;
    auto dg = random_values((std::size_t) rows * cols);
    Device d_dg(dg), d_bih(cols), d_bhh(cols);
    std::vector<void*> args = {&rows, &cols, &d_dg.p, &d_bih.p, &d_bhh.p};
    constexpr int columns_per_block = 32, row_lanes = 8;   // kColumnsPerBlock, kRowLanes in lstm_bias_grad.cu
    launch("lstm_bias_grad", (cols + columns_per_block - 1) / columns_per_block, 1, columns_per_block, row_lanes,
           args);
    std::vector<double> want(cols, 0);
    for (int r = 0; r < rows; r++) {
        for (int q = 0; q < cols; q++) {
            want[q] += dg[(std::size_t) r * cols + q];
        }
    }
    std::string what = "bias_grad rows=" + std::to_string(rows) + " cols=" + std::to_string(cols);
    expect(what + " db_ih", d_bih.download(), want);
    expect(what + " db_hh", d_bhh.download(), want);
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
    const int shapes[][2] = {{1, 5}, {3, 33}, {2, 3}, {1, 1}, {2, 64}, {5, 31}, {70, 7}};
    int shape_count = subset ? 3 : (int) (sizeof shapes / sizeof shapes[0]);
    for (int n = 0; n < shape_count; n++) {
        int b = shapes[n][0], h = shapes[n][1];
        for (bool training : {false, true}) {
            if (!subset) {   // no cross-thread traffic: nothing for ThreadSanitizer to see
                forward_pointwise(b, h, training, true, false);
                forward_pointwise(b, h, training, false, !training);
            }
            // grid.y = B (one row per block), 1 and 2 (< B: each block strides over several rows)
            for (int grid_y : {b, 1, 2}) {
                if (grid_y <= b || grid_y == 2) {
                    fused_step(b, h, std::min(grid_y, std::max(1, b)), training, grid_y != 1);
                }
            }
        }
        if (!subset) {
            backward_pointwise(b, h);
        }
    }
    for (int rows : {1, 7, 100}) {
        for (int h : {1, 5, 33}) {
            if (!subset || (rows == 7 && h == 5) || (rows == 100 && h == 1)) {
                bias_grad(rows, h);
            }
        }
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
