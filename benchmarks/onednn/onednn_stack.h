// One oneDNN LSTM primitive (fp32, CPU, one direction) with its buffers and reordered weights:
// shared by the oneDNN peer (onednn_lstm.cpp) and the per-core comparison with jlstm's kernels
// (benchmarks/kernel_ab/peer_ab.cpp). Include after <dnnl.hpp>, <cstring>, <random>, <string>,
// <unordered_map> and <cmath>; everything is inline in namespace onednn_peer.
#pragma once
namespace onednn_peer {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

// One LSTM primitive over `layers` stacked layers of input size `in` (one direction), its user
// buffers (plain layouts) and its weights reordered for the forward and the backward primitives.
struct Stack {
    int T, B, in, H, layers;
    engine eng;
    stream strm;
    lstm_forward::primitive_desc infer_pd, train_pd;
    lstm_backward::primitive_desc back_pd;
    memory w_layer_user, w_iter_user, bias, src, src_iter, src_iter_c, dst, dst_iter, dst_iter_c;
    memory w_layer_infer, w_iter_infer, w_layer_train, w_iter_train, w_layer_back, w_iter_back;
    memory workspace, diff_src, diff_src_iter, diff_src_iter_c, diff_dst, diff_dst_iter, diff_dst_iter_c, diff_w_layer, diff_w_iter, diff_bias;
    std::string impl;

    Stack(engine &e, stream &s, int T_, int B_, int in_, int H_, int layers_)
        : T(T_), B(B_), in(in_), H(H_), layers(layers_), eng(e), strm(s) {
        memory::dims src_dims = {T, B, in}, dst_dims = {T, B, H};
        memory::dims wl_dims = {layers, 1, in, 4, H}, wi_dims = {layers, 1, H, 4, H};
        memory::dims bias_dims = {layers, 1, 4, H}, iter_dims = {layers, 1, B, H};
        auto src_md = memory::desc(src_dims, dt::f32, tag::tnc);
        auto dst_md = memory::desc(dst_dims, dt::f32, tag::tnc);
        auto iter_md = memory::desc(iter_dims, dt::f32, tag::ldnc);
        auto bias_md = memory::desc(bias_dims, dt::f32, tag::ldgo);
        auto wl_any = memory::desc(wl_dims, dt::f32, tag::any);
        auto wi_any = memory::desc(wi_dims, dt::f32, tag::any);
        auto none = memory::desc();
        auto dir = rnn_direction::unidirectional_left2right;

        infer_pd = lstm_forward::primitive_desc(
                lstm_forward::desc(prop_kind::forward_inference, dir, src_md, iter_md, iter_md, wl_any, wi_any,
                                   bias_md, dst_md, iter_md, iter_md),
                eng);
        train_pd = lstm_forward::primitive_desc(
                lstm_forward::desc(prop_kind::forward_training, dir, src_md, iter_md, iter_md, wl_any, wi_any,
                                   bias_md, dst_md, iter_md, iter_md),
                eng);
        // Diff weights in the plain layout, as a user (and PyTorch) gets them.
        auto dwl_md = memory::desc(wl_dims, dt::f32, tag::ldigo);
        auto dwi_md = memory::desc(wi_dims, dt::f32, tag::ldigo);
        back_pd = lstm_backward::primitive_desc(
                lstm_backward::desc(prop_kind::backward, dir, src_md, iter_md, iter_md, wl_any, wi_any, bias_md,
                                    dst_md, iter_md, iter_md, src_md, iter_md, iter_md, dwl_md, dwi_md, bias_md,
                                    dst_md, iter_md, iter_md),
                eng, train_pd);
        impl = std::string(infer_pd.impl_info_str()) + " / " + train_pd.impl_info_str() + " / " +
               back_pd.impl_info_str();

        w_layer_user = memory({wl_dims, dt::f32, tag::ldigo}, eng);
        w_iter_user = memory({wi_dims, dt::f32, tag::ldigo}, eng);
        bias = memory(bias_md, eng);
        src = memory(src_md, eng);
        // Zero initial states, given explicitly (as jlstm's and PyTorch's benchmarks start from zeros).
        src_iter = memory(iter_md, eng);
        src_iter_c = memory(iter_md, eng);
        std::memset(src_iter.get_data_handle(), 0, iter_md.get_size());
        std::memset(src_iter_c.get_data_handle(), 0, iter_md.get_size());
        diff_src_iter = memory(iter_md, eng);
        diff_src_iter_c = memory(iter_md, eng);
        dst = memory(dst_md, eng);
        dst_iter = memory(iter_md, eng);
        dst_iter_c = memory(iter_md, eng);
        workspace = memory(train_pd.workspace_desc(), eng);
        diff_src = memory(src_md, eng);
        diff_dst = memory(dst_md, eng);
        // No gradient arrives for hn, cn (as in the jlstm and PyTorch benchmarks): zeros.
        diff_dst_iter = memory(iter_md, eng);
        diff_dst_iter_c = memory(iter_md, eng);
        std::memset(diff_dst_iter.get_data_handle(), 0, iter_md.get_size());
        std::memset(diff_dst_iter_c.get_data_handle(), 0, iter_md.get_size());
        diff_w_layer = memory(dwl_md, eng);
        diff_w_iter = memory(dwi_md, eng);
        diff_bias = memory(bias_md, eng);
    }

    static memory reorder_to(const memory &user, const memory::desc &want, engine &eng, stream &strm) {
        if (user.get_desc() == want) return user;
        memory out(want, eng);
        reorder(user, out).execute(strm, const_cast<memory &>(user), out);
        strm.wait();
        return out;
    }

    // Call after filling w_layer_user / w_iter_user: the one-off reorders, outside any timing.
    void prepare_weights() {
        w_layer_infer = reorder_to(w_layer_user, infer_pd.weights_layer_desc(), eng, strm);
        w_iter_infer = reorder_to(w_iter_user, infer_pd.weights_iter_desc(), eng, strm);
        w_layer_train = reorder_to(w_layer_user, train_pd.weights_layer_desc(), eng, strm);
        w_iter_train = reorder_to(w_iter_user, train_pd.weights_iter_desc(), eng, strm);
        w_layer_back = reorder_to(w_layer_user, back_pd.weights_layer_desc(), eng, strm);
        w_iter_back = reorder_to(w_iter_user, back_pd.weights_iter_desc(), eng, strm);
    }

    void forward(bool training) {
        std::unordered_map<int, memory> args = {
                {DNNL_ARG_SRC_LAYER, src},
                {DNNL_ARG_SRC_ITER, src_iter},
                {DNNL_ARG_SRC_ITER_C, src_iter_c},
                {DNNL_ARG_WEIGHTS_LAYER, training ? w_layer_train : w_layer_infer},
                {DNNL_ARG_WEIGHTS_ITER, training ? w_iter_train : w_iter_infer},
                {DNNL_ARG_BIAS, bias},
                {DNNL_ARG_DST_LAYER, dst},
                {DNNL_ARG_DST_ITER, dst_iter},
                {DNNL_ARG_DST_ITER_C, dst_iter_c}};
        if (training) {
            args[DNNL_ARG_WORKSPACE] = workspace;
            lstm_forward(train_pd).execute(strm, args);
        } else {
            lstm_forward(infer_pd).execute(strm, args);
        }
        strm.wait();
    }

    void backward() {
        // oneDNN accumulates into the diff weights: start from zero, as a fresh gradient.
        std::memset(diff_w_layer.get_data_handle(), 0, diff_w_layer.get_desc().get_size());
        std::memset(diff_w_iter.get_data_handle(), 0, diff_w_iter.get_desc().get_size());
        std::memset(diff_bias.get_data_handle(), 0, diff_bias.get_desc().get_size());
        lstm_backward(back_pd).execute(strm, {{DNNL_ARG_SRC_LAYER, src},
                                              {DNNL_ARG_SRC_ITER, src_iter},
                                              {DNNL_ARG_SRC_ITER_C, src_iter_c},
                                              {DNNL_ARG_DIFF_SRC_ITER, diff_src_iter},
                                              {DNNL_ARG_DIFF_SRC_ITER_C, diff_src_iter_c},
                                              {DNNL_ARG_WEIGHTS_LAYER, w_layer_back},
                                              {DNNL_ARG_WEIGHTS_ITER, w_iter_back},
                                              {DNNL_ARG_BIAS, bias},
                                              {DNNL_ARG_DST_LAYER, dst},
                                              {DNNL_ARG_DST_ITER, dst_iter},
                                              {DNNL_ARG_DST_ITER_C, dst_iter_c},
                                              {DNNL_ARG_WORKSPACE, workspace},
                                              {DNNL_ARG_DIFF_SRC_LAYER, diff_src},
                                              {DNNL_ARG_DIFF_WEIGHTS_LAYER, diff_w_layer},
                                              {DNNL_ARG_DIFF_WEIGHTS_ITER, diff_w_iter},
                                              {DNNL_ARG_DIFF_BIAS, diff_bias},
                                              {DNNL_ARG_DIFF_DST_LAYER, diff_dst},
                                              {DNNL_ARG_DIFF_DST_ITER, diff_dst_iter},
                                              {DNNL_ARG_DIFF_DST_ITER_C, diff_dst_iter_c}});
        strm.wait();
    }
};

inline float *data(const memory &m) { return static_cast<float *>(m.get_data_handle()); }

// Fills m with values uniform in [-scale, scale].
inline void fill(memory &m, std::mt19937 &rng, float scale) {
    std::uniform_real_distribution<float> u(-scale, scale);
    float *p = data(m);
    size_t n = m.get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < n; i++) p[i] = u(rng);
}

}  // namespace onednn_peer
