// What the kernel_ab tools (kernel_ab, peer_ab, split_ab, split_profile, split_wall) share: the
// clocks they time with, their T,B,I,H shape arguments, and the two-worker tools' setup of a pass.
// Each tool keeps its own profiler (prof::mark, behind kernels.inc's JLSTM_PHASE hook); only the
// clocks under it are here.
#pragma once
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "args.h"

// The calling thread's CPU time, in seconds.
inline double thread_cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// The monotonic wall clock, in seconds.
inline double mono_seconds() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Runs first() and then second(), back to back; their CPU times, in seconds, into t_first, t_second.
template <class F, class G>
inline void time_two(F &&first, G &&second, double &t_first, double &t_second) {
    double t0 = thread_cpu_seconds();
    first();
    double t1 = thread_cpu_seconds();
    second();
    double t2 = thread_cpu_seconds();
    t_first = t1 - t0, t_second = t2 - t1;
}

// One layer's shape: sequence length, batch, input size, hidden size.
struct Shape {
    int T, B, I, H;
};

// The shapes given as T,B,I,H in argv[first], ..., argv[argc - 1]; none given: the four benchmark
// shapes (the two-layer one as one layer). A malformed one ends the program (status 2) with
// "shape must be T,B,I,H: ..." on stderr, before anything is timed.
inline std::vector<Shape> parse_shapes(int argc, char **argv, int first) {
    std::vector<Shape> shapes;
    for (int a = first; a < argc; a++) {
        Shape s;
        if (std::sscanf(argv[a], "%d,%d,%d,%d", &s.T, &s.B, &s.I, &s.H) != 4) {
            std::fprintf(stderr, "shape must be T,B,I,H: %s\n", argv[a]);
            std::exit(2);
        }
        shapes.push_back(s);
    }
    if (shapes.empty()) shapes = {{100, 1, 256, 256}, {100, 32, 256, 256}, {100, 64, 512, 512}, {50, 16, 128, 128}};
    return shapes;
}

// The two-worker tools (split_ab, split_profile, split_wall), before a timed pass on `workers`
// workers (1 or 2) of `layer` (a kernel_ab_body.h Layer): the time loop split by sequences at
// `split` (rows) or by units (rows table null); for pass 1, the backward, the training forward it
// needs, on the same workers by `forward` (that kernels' forward_layer) and not timed, and the
// carries dh, dc zeroed.
template <class Layer, class Forward>
void prepare_pass(Layer &layer, bool rows, int pass, std::vector<int32_t> &split, int workers, Forward forward) {
    layer.fa[A_ROWS] = rows ? (int64_t)split.data() : 0;
    layer.ba[B_ROWS] = rows ? (int64_t)split.data() : 0;
    layer.fa[A_TRAINING] = pass;
    if (pass == 1) {
        std::thread t1([&] { if (workers == 2) forward(layer.fa, 1, 2); });
        forward(layer.fa, 0, workers);
        t1.join();
        std::memset(layer.dhc, 0, sizeof(float) * layer.B * layer.Rp);
        std::memset(layer.dcc, 0, sizeof(float) * layer.B * layer.Hp);
    }
}
