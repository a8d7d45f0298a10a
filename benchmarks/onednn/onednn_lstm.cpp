// The oneDNN peer: Intel oneDNN's LSTM primitive (fp32, CPU) timed on the benchmark shapes, with
// the same JSON keys as `jlstm bench --json`, so benchmarks/ratio_table.py compares the two (the
// median of the repetitions, and their spread: forward_ms_min/max, train_ms_min/max, reps).
//
// Glossary: T steps, B batch, I input size, H hidden size, L layers (one direction here).
// Gate order i, f, g, o in both PyTorch and oneDNN; oneDNN's weights are W_ihᵀ laid out
// [L, D, I, 4, H] ("ldigo"), its single bias is b_ih + b_hh ([L, D, 4, H]).
//
//   forward = forward_inference of every layer
//   train   = forward_training of every layer + backward of every layer (diff weights zeroed first)
// Weights are reordered once into the layout each primitive asks for (format_tag::any), outside
// the timed loop. Stacked layers run as one primitive when every layer has the same input size
// (I == H); otherwise one primitive per layer (oneDNN needs one input size per primitive).
//
// Build (Debian 12: apt-get install libdnnl-dev):  see benchmarks/onednn/build.sh
// Usage:
//   onednn_lstm [--threads N] [--reps N] [--warmup N] [--shape T,B,I,H,L ...] [--json FILE] [--cpu-time]
//     (--cpu-time, with --threads 1: times by the thread's CPU time, for a machine shared with other work)
//   onednn_lstm --check IN.bin OUT.bin     (the cross-check against PyTorch: onednn_check.py)
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_map>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <time.h>
#include <vector>

using namespace dnnl;
#include "onednn_stack.h"
using namespace onednn_peer;

namespace {

struct Shape {
    int T, B, I, H, L;
};

double forward_flops(const Shape &s) {
    double total = 0;
    for (int k = 0; k < s.L; k++) total += 2.0 * s.T * s.B * 4 * s.H * ((k == 0 ? s.I : s.H) + s.H);
    return total;
}


// A model as oneDNN runs it: one stack for all layers when every layer reads H inputs (I == H),
// else one stack per layer. Layer k's output is layer k+1's input (copied: separate primitives).
struct Model {
    std::vector<Stack> stacks;
    std::vector<int> first_layer;  // the model layer each stack starts at

    Model(engine &eng, stream &strm, const Shape &s) {
        if (s.I == s.H || s.L == 1) {
            stacks.emplace_back(eng, strm, s.T, s.B, s.I, s.H, s.L);
            first_layer.push_back(0);
        } else {
            for (int k = 0; k < s.L; k++) {
                stacks.emplace_back(eng, strm, s.T, s.B, k == 0 ? s.I : s.H, s.H, 1);
                first_layer.push_back(k);
            }
        }
    }

    void forward(bool training) {
        for (size_t i = 0; i < stacks.size(); i++) {
            if (i > 0) copy(stacks[i - 1].dst, stacks[i].src);
            stacks[i].forward(training);
        }
    }

    void backward() {
        for (size_t i = stacks.size(); i-- > 0;) {
            if (i + 1 < stacks.size()) copy(stacks[i + 1].diff_src, stacks[i].diff_dst);
            stacks[i].backward();
        }
    }

    static void copy(const memory &from, memory &to) {
        std::memcpy(to.get_data_handle(), from.get_data_handle(), to.get_desc().get_size());
    }
};

bool cpu_time = false;  // --cpu-time: the calling thread's CPU time (1 thread only), else the wall clock

double now_ms() {
    timespec ts;
    clock_gettime(cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

// The median of the timed repetitions (reported), with the fastest and slowest (their spread).
struct Timing {
    double median, min, max;
};

Timing time_ms(const std::function<void()> &fn, int reps) {
    std::vector<double> ms;
    for (int r = 0; r < reps; r++) {
        double start = now_ms();
        fn();
        ms.push_back(now_ms() - start);
    }
    std::sort(ms.begin(), ms.end());
    return {reps % 2 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2, ms.front(), ms.back()};
}


std::string isa_name() {
    switch (get_effective_cpu_isa()) {
        case cpu_isa::avx512_core_amx: return "avx512_core_amx";
        case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case cpu_isa::avx512_core: return "avx512_core";
        case cpu_isa::avx2_vnni: return "avx2_vnni";
        case cpu_isa::avx2: return "avx2";
        case cpu_isa::avx: return "avx";
        case cpu_isa::sse41: return "sse41";
        default: return "other";
    }
}

int bench(const std::vector<Shape> &shapes, int threads, int reps, int warmup, const char *json) {
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const dnnl_version_t *v = dnnl_version();
    std::string config = std::string(cpu_time ? "CPU time, " : "") + "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                         std::to_string(v->patch) + ", " + std::to_string(threads) + " OpenMP threads, ISA " +
                         isa_name();
    std::fprintf(stderr, "%s\n", config.c_str());
    std::string out = "[\n";
    for (size_t n = 0; n < shapes.size(); n++) {
        const Shape &s = shapes[n];
        Model model(eng, strm, s);
        std::mt19937 rng(42);
        float scale = 1.0f / std::sqrt(float(s.H));
        for (auto &st : model.stacks) {
            fill(st.w_layer_user, rng, scale);
            fill(st.w_iter_user, rng, scale);
            fill(st.bias, rng, scale);
            st.prepare_weights();
        }
        fill(model.stacks.front().src, rng, 1.0f);
        fill(model.stacks.back().diff_dst, rng, 1.0f);
        auto fwd = [&] { model.forward(false); };
        auto train = [&] {
            model.forward(true);
            model.backward();
        };
        // Warm both up for --warmup rounds and at least a second (as jlstm bench does).
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        for (int i = 0; i < warmup || std::chrono::steady_clock::now() < until; i++) {
            fwd();
            train();
        }
        Timing fwd_t = time_ms(fwd, reps), train_t = time_ms(train, reps);
        double fwd_ms = fwd_t.median, train_ms = train_t.median;
        double flops = forward_flops(s);
        char line[1024];
        std::snprintf(line, sizeof line,
                      "  {\"device\": \"onednn-cpu\", \"config\": \"%s; %s\", \"T\": %d, \"B\": %d, \"I\": %d, "
                      "\"H\": %d, \"L\": %d, \"forward_ms\": %.4f, \"train_ms\": %.4f, \"forward_gflops\": %.3f, "
                      "\"train_gflops\": %.3f, \"forward_ms_min\": %.4f, \"forward_ms_max\": %.4f, "
                      "\"train_ms_min\": %.4f, \"train_ms_max\": %.4f, \"reps\": %d}%s\n",
                      config.c_str(), model.stacks.front().impl.c_str(), s.T, s.B, s.I, s.H, s.L, fwd_ms, train_ms,
                      flops / (fwd_ms * 1e6), 3 * flops / (train_ms * 1e6), fwd_t.min, fwd_t.max, train_t.min,
                      train_t.max, reps, n + 1 < shapes.size() ? "," : "");
        out += line;
        std::fprintf(stderr,
                     "onednn-cpu  T=%-4d B=%-3d I=%-4d H=%-4d L=%d  forward %9.2f ms (%.2f-%.2f) %7.2f GFLOP/s   "
                     "train %9.2f ms (%.2f-%.2f) %7.2f GFLOP/s   [%s]\n",
                     s.T, s.B, s.I, s.H, s.L, fwd_ms, fwd_t.min, fwd_t.max, flops / (fwd_ms * 1e6), train_ms,
                     train_t.min, train_t.max, 3 * flops / (train_ms * 1e6), model.stacks.front().impl.c_str());
    }
    out += "]\n";
    if (json) {
        FILE *f = std::fopen(json, "w");
        if (!f) throw std::runtime_error(std::string("cannot write ") + json);
        std::fputs(out.c_str(), f);
        std::fclose(f);
    } else {
        std::fputs(out.c_str(), stdout);
    }
    return 0;
}

// --check: reads IN.bin (int32 T, B, I, H, L, then float32 x [T,B,I], dy [T,B,H], and per layer
// PyTorch's weight_ih [4H,I_k], weight_hh [4H,H], bias_ih [4H], bias_hh [4H]) and writes OUT.bin:
// y [T,B,H], hn [L,B,H], cn [L,B,H], dx [T,B,I], then per layer dW_ih, dW_hh [PyTorch layouts],
// db [4H] (the gradient of either bias).
int check(const char *in_path, const char *out_path) {
    FILE *in = std::fopen(in_path, "rb");
    if (!in) throw std::runtime_error(std::string("cannot read ") + in_path);
    int hdr[5];
    if (std::fread(hdr, sizeof(int), 5, in) != 5) throw std::runtime_error("short header");
    Shape s{hdr[0], hdr[1], hdr[2], hdr[3], hdr[4]};
    auto read = [&](size_t n) {
        std::vector<float> v(n);
        if (std::fread(v.data(), sizeof(float), n, in) != n) throw std::runtime_error("short input file");
        return v;
    };
    std::vector<float> x = read(size_t(s.T) * s.B * s.I), dy = read(size_t(s.T) * s.B * s.H);
    std::vector<std::vector<float>> wih(s.L), whh(s.L), bih(s.L), bhh(s.L);
    for (int k = 0; k < s.L; k++) {
        int ik = k == 0 ? s.I : s.H;
        wih[k] = read(size_t(4) * s.H * ik);
        whh[k] = read(size_t(4) * s.H * s.H);
        bih[k] = read(4 * s.H);
        bhh[k] = read(4 * s.H);
    }
    std::fclose(in);

    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    Model model(eng, strm, s);
    int H = s.H;
    for (size_t i = 0; i < model.stacks.size(); i++) {
        Stack &st = model.stacks[i];
        for (int l = 0; l < st.layers; l++) {
            int k = model.first_layer[i] + l;
            // PyTorch W[g·H + j][c] → oneDNN ldigo [l][0][c][g][j]; bias ldgo = b_ih + b_hh.
            for (int g = 0; g < 4; g++)
                for (int j = 0; j < H; j++) {
                    for (int c = 0; c < st.in; c++)
                        data(st.w_layer_user)[((size_t(l) * st.in + c) * 4 + g) * H + j] = wih[k][(g * H + j) * st.in + c];
                    for (int c = 0; c < H; c++)
                        data(st.w_iter_user)[((size_t(l) * H + c) * 4 + g) * H + j] = whh[k][(g * H + j) * H + c];
                    data(st.bias)[(size_t(l) * 4 + g) * H + j] = bih[k][g * H + j] + bhh[k][g * H + j];
                }
        }
        st.prepare_weights();
    }
    std::memcpy(data(model.stacks.front().src), x.data(), x.size() * sizeof(float));
    std::memcpy(data(model.stacks.back().diff_dst), dy.data(), dy.size() * sizeof(float));
    model.forward(true);
    model.backward();

    FILE *out = std::fopen(out_path, "wb");
    if (!out) throw std::runtime_error(std::string("cannot write ") + out_path);
    auto write = [&](const float *p, size_t n) { std::fwrite(p, sizeof(float), n, out); };
    write(data(model.stacks.back().dst), size_t(s.T) * s.B * H);
    for (int which = 0; which < 2; which++) {  // hn, then cn: [L, B, H]
        for (size_t i = 0; i < model.stacks.size(); i++) {
            Stack &st = model.stacks[i];
            write(data(which == 0 ? st.dst_iter : st.dst_iter_c), size_t(st.layers) * s.B * H);
        }
    }
    write(data(model.stacks.front().diff_src), size_t(s.T) * s.B * s.I);
    for (size_t i = 0; i < model.stacks.size(); i++) {
        Stack &st = model.stacks[i];
        for (int l = 0; l < st.layers; l++) {
            std::vector<float> dwih(size_t(4) * H * st.in), dwhh(size_t(4) * H * H), db(4 * H);
            for (int g = 0; g < 4; g++)
                for (int j = 0; j < H; j++) {
                    for (int c = 0; c < st.in; c++)
                        dwih[(g * H + j) * st.in + c] = data(st.diff_w_layer)[((size_t(l) * st.in + c) * 4 + g) * H + j];
                    for (int c = 0; c < H; c++)
                        dwhh[(g * H + j) * H + c] = data(st.diff_w_iter)[((size_t(l) * H + c) * 4 + g) * H + j];
                    db[g * H + j] = data(st.diff_bias)[(size_t(l) * 4 + g) * H + j];
                }
            write(dwih.data(), dwih.size());
            write(dwhh.data(), dwhh.size());
            write(db.data(), db.size());
        }
    }
    std::fclose(out);
    std::fprintf(stderr, "oneDNN %s: wrote %s\n", model.stacks.front().impl.c_str(), out_path);
    return 0;
}

Shape parse_shape(const char *text) {
    Shape s{};
    if (std::sscanf(text, "%d,%d,%d,%d,%d", &s.T, &s.B, &s.I, &s.H, &s.L) != 5 || s.T < 1 || s.B < 1 || s.I < 1 ||
        s.H < 1 || s.L < 1)
        throw std::runtime_error(std::string("shape must be T,B,I,H,L (positive integers), got ") + text);
    return s;
}

}  // namespace

int main(int argc, char **argv) {
    try {
        int threads = omp_get_max_threads(), reps = 7, warmup = 5;
        const char *json = nullptr;
        std::vector<Shape> shapes;
        for (int a = 1; a < argc; a++) {
            std::string arg = argv[a];
            auto value = [&]() -> const char * {
                if (a + 1 >= argc) throw std::runtime_error(arg + " needs a value");
                return argv[++a];
            };
            if (arg == "--check") {
                const char *in = value();
                return check(in, value());
            } else if (arg == "--threads") {
                threads = std::atoi(value());
            } else if (arg == "--reps") {
                reps = std::atoi(value());
            } else if (arg == "--warmup") {
                warmup = std::atoi(value());
            } else if (arg == "--cpu-time") {
                cpu_time = true;
            } else if (arg == "--json") {
                json = value();
            } else if (arg == "--shape") {
                shapes.push_back(parse_shape(value()));
            } else {
                throw std::runtime_error("unknown argument " + arg);
            }
        }
        if (threads < 1 || reps < 1 || warmup < 0) throw std::runtime_error("--threads, --reps must be >= 1");
        if (cpu_time && threads != 1) throw std::runtime_error("--cpu-time needs --threads 1");
        omp_set_num_threads(threads);
        if (shapes.empty()) shapes = {{100, 1, 256, 256, 1}, {100, 32, 256, 256, 1}, {100, 64, 512, 512, 1}, {50, 16, 128, 128, 2}};
        return bench(shapes, threads, reps, warmup, json);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "onednn_lstm: %s\n", e.what());
        return 1;
    }
}
