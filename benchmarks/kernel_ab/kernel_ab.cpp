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

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "args.h"
#include "tool_common.h"

namespace base {
#include BASE_INC
#include "kernel_ab_body.h"
}  // namespace base
namespace cand {
#include CAND_INC
#include "kernel_ab_body.h"
}  // namespace cand

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: kernel_ab ROUNDS [PASSES] [T,B,I,H ...]\n");
        return 2;
    }
    int rounds = std::atoi(argv[1]);
    const char *passes = argc > 2 ? argv[2] : "012";
    std::vector<Shape> shapes = parse_shapes(argc, argv, 3);
    const char *names[] = {"inproj", "fwd", "train", "bwd", "dWih", "dX"};
    std::printf("ms by CPU time, best of %d interleaved rounds: base -> candidate (candidate / base)\n", rounds);
    for (auto &s : shapes) {
        base::Layer b(s.T, s.B, s.I, s.H);
        cand::Layer c(s.T, s.B, s.I, s.H);
        std::printf("T=%d B=%d I=%d H=%d:", s.T, s.B, s.I, s.H);
        for (const char *p = passes; *p; p++) {
            int pass = *p - '0';
            if (pass < 0 || pass > 5) continue;
            b.run(pass);  // warm-up: scratch buffers, caches
            c.run(pass);
            double tb = 1e30, tc = 1e30;
            for (int r = 0; r < rounds; r++) {
                double xb, xc;
                time_two([&] { b.run(pass); }, [&] { c.run(pass); }, xb, xc);
                tb = std::min(tb, xb);
                tc = std::min(tc, xc);
            }
            std::printf("  %s %.2f -> %.2f (%.3f)", names[pass], tb * 1e3, tc * 1e3, tc / tb);
            std::fflush(stdout);
        }
        std::printf("\n");
    }
    return 0;
}
