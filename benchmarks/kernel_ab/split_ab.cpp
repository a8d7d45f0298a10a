// Two versions of the CPU kernels (as kernel_ab.cpp) timed against each other with two workers
// (two std::threads, workers = 2), as the engine runs a layer: the time loop split by units
// (rows table null) or by sequences (--rows). Each run is timed by the CPU time of both threads'
// work, the barrier waits left out (kernels.inc's JLSTM_PHASE hook), so that a core lost to other
// work costs neither version; base and candidate alternate, and the ratio candidate / base is
// reported as the median over the rounds (each round's two runs are moments apart, so the host's
// load moves both alike) beside each one's best. Built and run by split_ab.sh; nothing is checked.
//
// usage: split_ab ROUNDS PASSES MODE T,B,I,H ...   PASSES: digits of 0 fwd (inference), 1 bwd
//        (after a training forward, not timed); MODE: units or rows
#include <immintrin.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "args.h"
#include "tool_common.h"

namespace prof {
constexpr int WAIT = 2;
struct alignas(64) Worker {
    double work = 0, t0 = 0;
    int cur = WAIT;
};
Worker w[2];
inline void mark(int worker, int phase) {
    Worker &s = w[worker];
    double now = thread_cpu_seconds();
    if (s.cur != WAIT) s.work += now - s.t0;
    s.cur = phase;
    s.t0 = now;
}
}  // namespace prof

#define JLSTM_PHASE(worker, phase) prof::mark(worker, phase)
namespace base {
#include BASE_INC
#include "kernel_ab_body.h"
}  // namespace base
namespace cand {
#include CAND_INC
#include "kernel_ab_body.h"
}  // namespace cand

// One run of a pass on two workers; returns the two workers' work, in seconds of CPU time.
template <class L, class F, class Bk>
static double run_once(L &layer, bool rows, int pass, std::vector<int32_t> &split, F forward, Bk backward) {
    prepare_pass(layer, rows, pass, split, 2, forward);
    std::atomic<int> go{0};
    auto body = [&](int wk) {
        go.fetch_add(1);
        while (go.load() < 2) _mm_pause();
        prof::w[wk] = prof::Worker();
        prof::w[wk].t0 = thread_cpu_seconds();
        if (pass == 0) forward(layer.fa, wk, 2); else backward(layer.ba, wk, 2);
        prof::mark(wk, prof::WAIT);
    };
    std::thread t1(body, 1);
    body(0);
    t1.join();
    return prof::w[0].work + prof::w[1].work;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: split_ab ROUNDS PASSES units|rows T,B,I,H ...\n");
        return 2;
    }
    int rounds = std::atoi(argv[1]);
    const char *passes = argv[2];
    bool rows = std::strcmp(argv[3], "rows") == 0;
    std::vector<Shape> shapes = parse_shapes(argc, argv, 4);
    std::printf("ms of CPU time, two workers (%s split), barrier waits left out; best of %d rounds each, "
                "and the median of the rounds' ratios candidate / base\n", rows ? "rows" : "units", rounds);
    for (const Shape &shape : shapes) {
        int T = shape.T, B = shape.B, I = shape.I, H = shape.H;
        base::Layer lb(T, B, I, H);
        cand::Layer lc(T, B, I, H);
        std::vector<int32_t> split = {0, B / 2, B};
        std::printf("T=%d B=%d I=%d H=%d:", T, B, I, H);
        for (const char *p = passes; *p; p++) {
            int pass = *p - '0';
            if (pass < 0 || pass > 1) continue;
            auto fb = [](const int64_t *x, int w, int n) { base::forward_layer(x, w, n); };
            auto bb = [](const int64_t *x, int w, int n) { base::backward_layer(x, w, n); };
            auto fc = [](const int64_t *x, int w, int n) { cand::forward_layer(x, w, n); };
            auto bc = [](const int64_t *x, int w, int n) { cand::backward_layer(x, w, n); };
            run_once(lb, rows, pass, split, fb, bb);  // warm-up
            run_once(lc, rows, pass, split, fc, bc);
            double tb = 1e30, tc = 1e30;
            std::vector<double> ratios;
            for (int r = 0; r < rounds; r++) {
                double xb, xc;
                if (r & 1) {  // alternate which goes first
                    xc = run_once(lc, rows, pass, split, fc, bc);
                    xb = run_once(lb, rows, pass, split, fb, bb);
                } else {
                    xb = run_once(lb, rows, pass, split, fb, bb);
                    xc = run_once(lc, rows, pass, split, fc, bc);
                }
                tb = std::min(tb, xb);
                tc = std::min(tc, xc);
                ratios.push_back(xc / xb);
            }
            std::sort(ratios.begin(), ratios.end());
            std::printf("  %s %.2f -> %.2f (best %.3f, median %.3f)", pass ? "bwd" : "fwd", tb * 1e3, tc * 1e3, tc / tb,
                        ratios[ratios.size() / 2]);
            std::fflush(stdout);
        }
        std::printf("\n");
    }
    return 0;
}
