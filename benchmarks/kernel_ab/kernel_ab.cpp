// Two versions of the CPU kernels (src/main/native/kernels.inc) timed against each other in one
// process, pass by pass, interleaved (base, candidate, base, candidate, ...), each by the thread's
// CPU time, best of the rounds: a shared machine's load moves both alike, so their ratio holds
// where two separate runs' wall clocks would not. One worker, one layer (L = 1; a stacked shape is
// timed as its first layer). Built and run by run.sh.
//
// usage: kernel_ab ROUNDS [PASSES] [T,B,I,H ...]
//   PASSES: digits of 0 inproj (X·W_ihᵀ + b over all T), 1 fwd (inference), 2 train (training
//   forward + backward), 3 bwd, 4 dWih (dGᵀ·X), 5 dX (dG·W_ih); default 012.
//   Shapes default to the benchmark shapes.
#include <immintrin.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "args.h"

namespace base {
#include BASE_INC
#include "kernel_ab_body.h"
}  // namespace base
namespace cand {
#include CAND_INC
#include "kernel_ab_body.h"
}  // namespace cand

static double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: kernel_ab ROUNDS [PASSES] [T,B,I,H ...]\n");
        return 2;
    }
    int rounds = std::atoi(argv[1]);
    const char *passes = argc > 2 ? argv[2] : "012";
    std::vector<std::vector<int>> shapes;
    for (int a = 3; a < argc; a++) {
        int t, b, i, h;
        if (std::sscanf(argv[a], "%d,%d,%d,%d", &t, &b, &i, &h) != 4) {
            std::fprintf(stderr, "shape must be T,B,I,H: %s\n", argv[a]);
            return 2;
        }
        shapes.push_back({t, b, i, h});
    }
    if (shapes.empty()) shapes = {{100, 1, 256, 256}, {100, 32, 256, 256}, {100, 64, 512, 512}, {50, 16, 128, 128}};
    const char *names[] = {"inproj", "fwd", "train", "bwd", "dWih", "dX"};
    std::printf("ms by CPU time, best of %d interleaved rounds: base -> candidate (candidate / base)\n", rounds);
    for (auto &s : shapes) {
        base::Layer b(s[0], s[1], s[2], s[3]);
        cand::Layer c(s[0], s[1], s[2], s[3]);
        std::printf("T=%d B=%d I=%d H=%d:", s[0], s[1], s[2], s[3]);
        for (const char *p = passes; *p; p++) {
            int pass = *p - '0';
            if (pass < 0 || pass > 5) continue;
            b.run(pass);  // warm-up: scratch buffers, caches
            c.run(pass);
            double tb = 1e30, tc = 1e30;
            for (int r = 0; r < rounds; r++) {
                double t0 = cpu_seconds();
                b.run(pass);
                double t1 = cpu_seconds();
                c.run(pass);
                double t2 = cpu_seconds();
                tb = std::min(tb, t1 - t0);
                tc = std::min(tc, t2 - t1);
            }
            std::printf("  %s %.2f -> %.2f (%.3f)", names[pass], tb * 1e3, tc * 1e3, tc / tb);
            std::fflush(stdout);
        }
        std::printf("\n");
    }
    return 0;
}
