// How the CPU kernels share one layer between two workers, measured by each thread's CPU time
// (what a loaded machine distorts least): per phase (kernels.inc's JLSTM_PHASE hook) and per
// barrier interval. "idle" is what a quiet machine would wait: over every stretch between two
// barriers (or a barrier and the end of the task), the slower worker's work minus the faster's,
// summed. Two std::threads run forward_layer / backward_layer with workers = 2, the time loop
// split by units (rows table null) or by sequences (--rows), as NativeLstm's CpuTuning picks.
// Built and run by split_profile.sh; nothing is checked (the golden tests keep correctness).
//
// usage: split_profile ROUNDS T,B,I,H ...   (modes one worker, units split, rows split, interleaved)
#include <immintrin.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
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
constexpr int PHASES = 7;
constexpr int WAIT = 2;
struct alignas(64) Worker {
    double acc[PHASES] = {};
    double since = 0;   // work since the last barrier
    double t0 = 0;
    int cur = WAIT;
    std::vector<double> intervals;
};
Worker w[2];
inline void mark(int worker, int phase) {
    Worker &s = w[worker];
    double now = thread_cpu_seconds(), d = now - s.t0;
    s.acc[s.cur] += d;
    if (s.cur != WAIT) s.since += d;
    if (phase == WAIT && s.cur != WAIT) {
        s.intervals.push_back(s.since);
        s.since = 0;
    }
    s.cur = phase;
    s.t0 = now;
}
}  // namespace prof

#define JLSTM_PHASE(worker, phase) prof::mark(worker, phase)
namespace cand {
#define VW 16
#include "kernels.inc"
#undef VW
#include "kernel_ab_body.h"
}  // namespace cand

static const char *phase_names[] = {"inproj", "loop", "wait", "bwd-pw", "bwd-dh", "dW", "dX"};

struct Mode {
    const char *name;
    int workers;
    bool rows;
};

// One run of a pass (0 forward, inference; 1 backward after a training forward) in a mode, its
// per-worker phase times left in prof::w.
static void run_once(cand::Layer &L, const Mode &m, int pass, std::vector<int32_t> &split) {
    int workers = m.workers;
    prepare_pass(L, m.rows, pass, split, workers, cand::forward_layer);
    std::atomic<int> go{0};
    auto body = [&](int wk) {
        go.fetch_add(1);
        while (go.load() < workers) _mm_pause();
        prof::w[wk] = prof::Worker();
        prof::w[wk].t0 = thread_cpu_seconds();
        if (pass == 0) cand::forward_layer(L.fa, wk, workers); else cand::backward_layer(L.ba, wk, workers);
        prof::mark(wk, prof::WAIT);
    };
    prof::w[1] = prof::Worker();
    if (workers == 2) {
        std::thread t1(body, 1);
        body(0);
        t1.join();
    } else {
        body(0);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: split_profile ROUNDS T,B,I,H ...\n");
        return 2;
    }
    int rounds = std::atoi(argv[1]);
    std::vector<Shape> shapes = parse_shapes(argc, argv, 2);
    const Mode modes[] = {{"one", 1, false}, {"units", 2, false}, {"rows", 2, true}};
    for (const Shape &shape : shapes) {
        int T = shape.T, B = shape.B, I = shape.I, H = shape.H;
        cand::Layer L(T, B, I, H);
        std::vector<int32_t> split = {0, B / 2, B};
        for (int pass = 0; pass < 2; pass++) {
            double best[3];
            prof::Worker keep[3][2];
            for (int m = 0; m < 3; m++) best[m] = 1e30;
            for (int r = 0; r < rounds + 1; r++) {  // round 0 warms up; the modes interleaved
                for (int m = 0; m < 3; m++) {
                    if (modes[m].rows && B < 2) continue;
                    run_once(L, modes[m], pass, split);
                    double work = 0;
                    for (auto &s : prof::w)
                        for (int p = 0; p < prof::PHASES; p++)
                            if (p != prof::WAIT) work += s.acc[p];
                    if (r > 0 && work < best[m]) {
                        best[m] = work;
                        keep[m][0] = prof::w[0];
                        keep[m][1] = prof::w[1];
                    }
                }
            }
            for (int m = 0; m < 3; m++) {
                if (best[m] >= 1e30) continue;
                prof::Worker *k = keep[m];
                double idle = 0, w0 = 0, w1 = 0;
                size_t n = std::min(k[0].intervals.size(), k[1].intervals.size());
                for (size_t i = 0; i < n; i++) {
                    idle += std::fabs(k[0].intervals[i] - k[1].intervals[i]);
                    w0 += k[0].intervals[i];
                    w1 += k[1].intervals[i];
                }
                std::printf("%d,%d,%d,%d %s %-5s work %.3f ms (w0 %.3f w1 %.3f), barriers %zu, idle %.3f ms;", T, B, I, H,
                            pass ? "bwd" : "fwd", modes[m].name, best[m] * 1e3, w0 * 1e3, w1 * 1e3, n, idle * 1e3);
                for (int p = 0; p < prof::PHASES; p++) {
                    if (p == prof::WAIT || k[0].acc[p] + k[1].acc[p] == 0) continue;
                    std::printf(" %s %.3f", phase_names[p], (k[0].acc[p] + k[1].acc[p]) * 1e3);
                }
                std::printf("\n");
            }
            std::fflush(stdout);
        }
    }
    return 0;
}
