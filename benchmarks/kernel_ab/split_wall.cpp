// What two workers wait for each other by the wall clock (issue 15 item 3): each worker's busy
// time (CLOCK_MONOTONIC between kernels.inc's JLSTM_PHASE marks, the waits at barriers and at the
// task's end left out) against the run's span, with the busy time's CPU time beside it (busy wall
// > busy CPU: the worker was descheduled). The two workers run the same work, so the ratio of
// their busy CPU times is the ratio of their cores' speeds over the run. Built and run by
// split_wall.sh; nothing is checked.
//
// (Its A/B of fixed and moving shares, A_BALANCE, is in commit c77f2c5 with the kernels it timed;
// benchmarks/kernel_ab/README.md.)
//
// usage: split_wall ROUNDS units|rows T,B,I,H ...   [env PIN=1: worker w pinned to CPU w; PIN=2: to CPU 1 - w]
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cmath>
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
    double busy = 0, busy_cpu = 0, wait = 0, t0 = 0, c0 = 0, end = 0;
    int cur = WAIT;
};
Worker w[2];
inline void mark(int worker, int phase) {
    Worker &s = w[worker];
    if ((phase == WAIT) == (s.cur == WAIT)) { s.cur = phase; return; }
    double now = mono_seconds(), c = thread_cpu_seconds();
    if (s.cur == WAIT) {
        s.wait += now - s.t0;
    } else {
        s.busy += now - s.t0;
        s.busy_cpu += c - s.c0;
    }
    s.cur = phase;
    s.t0 = now;
    s.c0 = c;
}
}  // namespace prof

#define JLSTM_PHASE(worker, phase) prof::mark(worker, phase)
namespace cand {
#define VW 16
#include "kernels.inc"
#undef VW
#include "kernel_ab_body.h"
}  // namespace cand

struct Sample { double span, busy[2], cpu[2], wait[2]; };

static Sample run_once(cand::Layer &L, bool rows, int pass, std::vector<int32_t> &split, int pin) {
    prepare_pass(L, rows, pass, split, 2, cand::forward_layer);
    std::atomic<int> go{0};
    double start = 0;
    auto body = [&](int wk) {
        if (pin) {
            cpu_set_t s;
            CPU_ZERO(&s);
            CPU_SET(pin == 2 ? 1 - wk : wk, &s);
            pthread_setaffinity_np(pthread_self(), sizeof s, &s);
        }
        go.fetch_add(1);
        while (go.load() < 2) _mm_pause();
        prof::w[wk] = prof::Worker();
        prof::w[wk].t0 = mono_seconds();
        prof::w[wk].c0 = thread_cpu_seconds();
        if (wk == 0) start = prof::w[wk].t0;
        prof::w[wk].cur = 0;
        if (pass == 0) cand::forward_layer(L.fa, wk, 2); else cand::backward_layer(L.ba, wk, 2);
        prof::mark(wk, prof::WAIT);
        prof::w[wk].end = mono_seconds();
    };
    std::thread t1(body, 1);
    body(0);
    t1.join();
    Sample s;
    double end = std::max(prof::w[0].end, prof::w[1].end);
    s.span = end - start;
    for (int k = 0; k < 2; k++) {
        s.busy[k] = prof::w[k].busy;
        s.cpu[k] = prof::w[k].busy_cpu;
        s.wait[k] = prof::w[k].wait + (end - prof::w[k].end);  // waiting at barriers and for the other to finish
    }
    return s;
}

static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}
static double quant(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[(size_t)(q * (v.size() - 1) + 0.5)];
}

int main(int argc, char **argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: split_wall ROUNDS units|rows T,B,I,H ...\n");
        return 2;
    }
    int rounds = std::atoi(argv[1]);
    bool rows = std::strcmp(argv[2], "rows") == 0;
    int pin = std::getenv("PIN") ? std::atoi(std::getenv("PIN")) : 0;
    std::vector<Shape> shapes = parse_shapes(argc, argv, 3);
    for (const Shape &shape : shapes) {
        int T = shape.T, B = shape.B, I = shape.I, H = shape.H;
        cand::Layer L(T, B, I, H);
        std::vector<int32_t> split = {0, B / 2, B};
        for (int pass = 0; pass < 2; pass++) {
            // all rounds, then only the undisturbed ones (each worker's busy wall time within 2 % of its
            // CPU time: not descheduled), where what is left is the cores' speeds and the split itself
            // all rounds, then only the undisturbed ones (each worker's busy wall time within 2 % of its
            // CPU time: not descheduled), where what is left is the cores' speeds and the split itself
            std::vector<Sample> all;
            run_once(L, rows, pass, split, pin);
            for (int r = 0; r < rounds; r++) all.push_back(run_once(L, rows, pass, split, pin));
            for (int quiet = 0; quiet < 2; quiet++) {
                std::vector<double> span, waitf, speed, desched, busyr;
                for (const Sample &s : all) {
                    double d0 = (s.busy[0] - s.cpu[0]) / s.busy[0], d1 = (s.busy[1] - s.cpu[1]) / s.busy[1];
                    if (quiet && (d0 > 0.02 || d1 > 0.02)) continue;
                    span.push_back(s.span * 1e3);
                    // the share of the two workers' time spent waiting for each other
                    waitf.push_back((s.wait[0] + s.wait[1]) / (2 * s.span) * 100);
                    speed.push_back(s.cpu[0] / s.cpu[1]);     // CPU time for the same work: w0 / w1
                    busyr.push_back(s.busy[0] / s.busy[1]);   // wall busy time: w0 / w1
                    desched.push_back(((s.busy[0] - s.cpu[0]) + (s.busy[1] - s.cpu[1])) / (s.busy[0] + s.busy[1]) * 100);
                }
                std::printf("%d,%d,%d,%d %s %s%s %s (%zu): span ms %.3f [p10 %.3f p90 %.3f]; waiting %% %.1f "
                            "[%.1f %.1f]; busy wall w0/w1 %.3f [%.3f %.3f]; busy cpu w0/w1 %.3f "
                            "[%.3f %.3f]; descheduled %% %.1f\n",
                            T, B, I, H, rows ? "rows" : "units", pass ? "bwd" : "fwd", pin == 1 ? " pinned w->cpu w" : pin == 2 ? " pinned w->cpu 1-w" : "",
                            quiet ? "undisturbed" : "all", span.size(), median(span), quant(span, .1), quant(span, .9),
                            median(waitf), quant(waitf, .1), quant(waitf, .9), median(busyr), quant(busyr, .1),
                            quant(busyr, .9), median(speed), quant(speed, .1), quant(speed, .9), median(desched));
            }
            std::fflush(stdout);
        }
    }
    return 0;
}
