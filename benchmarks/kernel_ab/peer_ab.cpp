// jlstm's CPU kernels against oneDNN's LSTM on one core, in one process, interleaved (jlstm,
// oneDNN, oneDNN, jlstm, ...), each timed by the thread's CPU time: per-core speed against the
// peer where two separate runs (compare.sh's one-thread rows) move by 20-40 % on a shared host.
// One layer, one worker / one OpenMP thread, fp32, zero initial states. Built and run by peer_ab.sh.
//
// Passes compared, each as "ours vs the peer's":
//   inproj  X·W_ihᵀ + b over all T (kernel_ab's pass 0)   vs  a oneDNN matmul of the same M, N, K + bias
//   fwd     the inference forward (pass 1)                 vs  lstm_forward, forward_inference
//   loop    fwd − inproj (the time loop: W_hh products and the cell update), for both
//   train   training forward + backward (pass 2)           vs  forward_training + lstm_backward
// For each: the best of the rounds for both and the median of the rounds' ratios (ours / peer).
//
// usage: peer_ab ROUNDS [PASSES] [T,B,I,H ...]     PASSES: letters of f (inproj, fwd, loop) and t
//   (train); default "f". Shapes default to the benchmark shapes (the two-layer one as one layer).
#include <dnnl.hpp>
#include <immintrin.h>
#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "onednn_stack.h"
#include "tool_common.h"

namespace ours {
#include CAND_INC
#include "kernel_ab_body.h"
}  // namespace ours

// Each pass's timings over the rounds: ours and the peer's, in the order run.
struct Series {
    std::vector<double> ours, peer;
    void add(double o, double p) { ours.push_back(o); peer.push_back(p); }
};

static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

static void report(const char *name, const std::vector<double> &ours, const std::vector<double> &peer) {
    std::vector<double> ratios;
    for (size_t r = 0; r < ours.size(); r++) ratios.push_back(ours[r] / peer[r]);
    double bo = *std::min_element(ours.begin(), ours.end()), bp = *std::min_element(peer.begin(), peer.end());
    std::printf("  %-7s jlstm %9.2f ms  oneDNN %9.2f ms   best/best %.3f   median of ratios %.3f\n", name, bo * 1e3,
                bp * 1e3, bo / bp, median(ratios));
}

// Runs ours and the peer's alternately for `rounds` rounds (which goes first alternates too).
static Series alternate(int rounds, const std::function<void()> &ours_fn, const std::function<void()> &peer_fn) {
    ours_fn();  // warm-up: scratch buffers, caches, oneDNN's kernels
    peer_fn();
    Series s;
    for (int r = 0; r < rounds; r++) {
        double o, p;
        if (r % 2 == 0)
            time_two(ours_fn, peer_fn, o, p);
        else
            time_two(peer_fn, ours_fn, p, o);
        s.add(o, p);
    }
    return s;
}

int main(int argc, char **argv) {
    using namespace onednn_peer;
    if (argc < 2) {
        std::fprintf(stderr, "usage: peer_ab ROUNDS [PASSES] [T,B,I,H ...]\n");
        return 2;
    }
    int rounds = std::atoi(argv[1]);
    std::string passes = argc > 2 ? argv[2] : "f";
    std::vector<Shape> shapes = parse_shapes(argc, argv, 3);
    omp_set_num_threads(1);
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    std::printf("ms by CPU time, one core, %d interleaved rounds\n", rounds);
    for (auto &s : shapes) {
        int T = s.T, B = s.B, I = s.I, H = s.H;
        ours::Layer layer(T, B, I, H);
        Stack peer(eng, strm, T, B, I, H, 1);
        std::mt19937 rng(42);
        float scale = 1.0f / std::sqrt(float(H));
        fill(peer.w_layer_user, rng, scale);
        fill(peer.w_iter_user, rng, scale);
        fill(peer.bias, rng, scale);
        fill(peer.src, rng, 1.0f);
        fill(peer.diff_dst, rng, 1.0f);
        peer.prepare_weights();
        std::printf("T=%d B=%d I=%d H=%d (oneDNN %s)\n", T, B, I, H, peer.impl.c_str());
        if (passes.find('f') != std::string::npos) {
            // The peer's input projection: the same product as one oneDNN matmul, B reordered once.
            memory::dim M = (memory::dim)T * B, N = 4 * H;
            memory::desc a_md({M, I}, dt::f32, tag::ab), c_md({M, N}, dt::f32, tag::ab), bias_md({1, N}, dt::f32, tag::ab);
            auto mm_pd = matmul::primitive_desc(
                    matmul::desc(a_md, memory::desc({I, N}, dt::f32, tag::any), bias_md, c_md), eng);
            memory a(a_md, eng), w_user({{I, N}, dt::f32, tag::ab}, eng), c(c_md, eng), mm_bias(bias_md, eng);
            fill(a, rng, 1.0f);
            fill(w_user, rng, scale);
            fill(mm_bias, rng, scale);
            memory w = Stack::reorder_to(w_user, mm_pd.weights_desc(), eng, strm);
            matmul mm(mm_pd);
            std::unordered_map<int, memory> mm_args = {
                    {DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, mm_bias}, {DNNL_ARG_DST, c}};
            // inproj and fwd in the same round, so that loop = fwd − inproj pairs up.
            Series inproj, fwd;
            layer.run(0), layer.run(1), peer.forward(false);
            mm.execute(strm, mm_args), strm.wait();
            for (int r = 0; r < rounds; r++) {
                Series one = alternate(1, [&] { layer.run(0); }, [&] { mm.execute(strm, mm_args), strm.wait(); });
                inproj.add(one.ours[0], one.peer[0]);
                one = alternate(1, [&] { layer.run(1); }, [&] { peer.forward(false); });
                fwd.add(one.ours[0], one.peer[0]);
            }
            std::vector<double> loop_ours, loop_peer;
            for (int r = 0; r < rounds; r++) {
                loop_ours.push_back(fwd.ours[r] - inproj.ours[r]);
                loop_peer.push_back(fwd.peer[r] - inproj.peer[r]);
            }
            report("inproj", inproj.ours, inproj.peer);
            report("fwd", fwd.ours, fwd.peer);
            report("loop", loop_ours, loop_peer);
        }
        if (passes.find('t') != std::string::npos) {
            Series train = alternate(rounds, [&] { layer.run(2); }, [&] { peer.forward(true), peer.backward(); });
            report("train", train.ours, train.peer);
        }
        std::fflush(stdout);
    }
    return 0;
}
