// lstm_training.cu — the rest of a training step on the device, so that per step only the loss
// crosses to the host: the linear head, the losses, the gradient norm and clipping, and the Adam
// and SGD updates. Each mirrors its jlstm.train class element by element (LinearHead,
// MeanSquaredError, SoftmaxCrossEntropy, GradientClipping, Adam, Sgd); launched by
// jlstm.internal.cuda.CudaTrainingStep. The head's products with the LSTM output go through cuBLAS.
//
// Glossary: T = steps, B = batch, F = features the head reads (D·H), O = head outputs,
// R = rows the head reads (B for a last-step head, T·B for an every-step head); row-major.
//
// Kernels (names in jlstm.internal.cuda.Kernel):
//   lstm_head_bias            out[r, o] += b[o]                        1-D, one thread per element, block 256
//   lstm_mse                  grad = 2(p − t)/n, terms = (p − t)²       1-D, one thread per element, block 256
//   lstm_softmax_ce           per row: grad = (softmax − onehot)/R,    1-D, one thread per row, block 256
//                             terms = logsumexp − z[label]
//   lstm_sum_squares          partial[blk] = Σ data² over the block's   grid ≤ kPartials blocks × 256 threads
//                             contiguous chunk (double)
//   lstm_reduce               out[0] = Σ values (double), fixed order   one block of 256 threads
//   lstm_clip_scale           norm = √(Σ partial sums), scale          one thread
//   lstm_adam_update          p, m, v ← Adam(g · scale)                 1-D, one thread per element, block 256
//   lstm_sgd_update           p, buf ← SGD with momentum (g · scale)    1-D, one thread per element, block 256
// Reductions add in a fixed order (per thread strided, then a fixed tree), so two steps give the
// same bits. Hyper-parameters arrive as doubles and updates compute in double before rounding to
// float, as the Java rules do.
#include "lstm_cell_math.cuh"

static constexpr int kReduceThreads = 256;

extern "C" __global__ void lstm_head_bias(int rows, int outputs,
                                          float* __restrict__ out,          // [R, O] in/out
                                          const float* __restrict__ bias) { // [O]
    int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n < rows * outputs) {
        out[n] += bias[n % outputs];
    }
}

extern "C" __global__ void lstm_mse(int n,
                                    const float* __restrict__ prediction,  // [n]
                                    const float* __restrict__ target,      // [n]
                                    float* __restrict__ grad,              // [n] out: 2(p − t)/n
                                    double* __restrict__ terms) {          // [n] out: (p − t)²
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        double diff = (double) prediction[i] - target[i];
        terms[i] = diff * diff;
        grad[i] = (float) (2.0 * diff / n);
    }
}

extern "C" __global__ void lstm_softmax_ce(int rows, int classes,
                                           const float* __restrict__ logits,  // [R, C]
                                           const float* __restrict__ labels,  // [R] class indices as floats
                                           float* __restrict__ grad,          // [R, C] out
                                           double* __restrict__ terms) {      // [R] out: per-row loss
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) {
        return;
    }
    const float* z = logits + (size_t) r * classes;
    int label = (int) labels[r];   // checked on the host: a whole number in [0, C)
    double max = -INFINITY;
    for (int c = 0; c < classes; c++) {
        max = fmax(max, (double) z[c]);
    }
    double sum_exp = 0;
    for (int c = 0; c < classes; c++) {
        sum_exp += exp(z[c] - max);   // subtracting the maximum keeps exp() finite
    }
    double log_sum_exp = max + log(sum_exp);
    terms[r] = log_sum_exp - z[label];
    for (int c = 0; c < classes; c++) {
        double softmax = exp(z[c] - log_sum_exp);
        grad[(size_t) r * classes + c] = (float) ((softmax - (c == label ? 1.0 : 0.0)) / rows);
    }
}

// Sums within one block: each thread its strided share in order, then a fixed tree. Every thread
// of the block must call it; the result is valid in thread 0.
__device__ double block_sum(double value, double* scratch) {
    scratch[threadIdx.x] = value;
    __syncthreads();  // every thread's value is in scratch
    for (int width = kReduceThreads / 2; width > 0; width /= 2) {
        if ((int) threadIdx.x < width) {
            scratch[threadIdx.x] += scratch[threadIdx.x + width];
        }
        __syncthreads();  // this level is complete before the next reads it
    }
    return scratch[0];
}

extern "C" __global__ void lstm_sum_squares(long long n, long long chunk,
                                            const float* __restrict__ data,     // [n]
                                            double* __restrict__ partials) {    // [gridDim.x] out
    __shared__ double scratch[kReduceThreads];
    long long begin = (long long) blockIdx.x * chunk;
    long long end = begin + chunk < n ? begin + chunk : n;
    double sum = 0;
    for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) {
        double v = data[i];
        sum += v * v;
    }
    double total = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = total;
    }
}

extern "C" __global__ void lstm_reduce(int count,
                                       const double* __restrict__ values,  // [count]
                                       double* __restrict__ out) {         // [1] out: Σ values
    __shared__ double scratch[kReduceThreads];
    double sum = 0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
        sum += values[i];
    }
    double total = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        out[0] = total;
    }
}

// As jlstm.train.GradientClipping: scale = max_norm / (norm + 1e-6) when that is below 1, else 1.
// max_norm is read from device memory, so a captured training step replays with any threshold.
extern "C" __global__ void lstm_clip_scale(int count,
                                           const double* __restrict__ sums,      // [count] sums of squares
                                           const double* __restrict__ max_norm,  // [1]
                                           double* __restrict__ norm,            // [1] out
                                           float* __restrict__ scale) {          // [1] out: the gradient factor
    if (threadIdx.x != 0 || blockIdx.x != 0) {
        return;
    }
    double total = 0;
    for (int i = 0; i < count; i++) {
        total += sums[i];
    }
    double n = sqrt(total);
    double s = max_norm[0] / (n + 1e-6);
    norm[0] = n;
    scale[0] = s < 1 ? (float) s : 1.0f;
}

// The step-dependent values (step size lr / (1 − β1^t), √(1 − β2^t)) are read from device memory,
// so a captured training step replays unchanged at every step number and learning rate.
extern "C" __global__ void lstm_adam_update(long long n,
                                            float* __restrict__ p,           // [n] in/out
                                            const float* __restrict__ g,     // [n]
                                            float* __restrict__ m,           // [n] in/out: first moment
                                            float* __restrict__ v,           // [n] in/out: second moment
                                            const float* __restrict__ scale, // [1] clipping factor
                                            const double* __restrict__ step, // [2]: step size, √(1 − β2^t)
                                            double beta1, double beta2, double eps, double weight_decay) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    double step_size = step[0];
    double bias_correction2_sqrt = step[1];
    float gi = g[i];
    if (scale[0] < 1.0f) {
        gi *= scale[0];
    }
    float grad = weight_decay == 0 ? gi : (float) (gi + weight_decay * p[i]);
    m[i] = (float) (beta1 * m[i] + (1 - beta1) * grad);
    v[i] = (float) (beta2 * v[i] + (1 - beta2) * grad * grad);
    double denom = sqrt((double) v[i]) / bias_correction2_sqrt + eps;
    p[i] = (float) (p[i] - step_size * m[i] / denom);
}

// The learning rate and the first-step flag are read from device memory (a captured step replays).
extern "C" __global__ void lstm_sgd_update(long long n,
                                           float* __restrict__ p,           // [n] in/out
                                           const float* __restrict__ g,     // [n]
                                           float* __restrict__ buffer,      // [n] in/out, or null (no momentum)
                                           const float* __restrict__ scale, // [1] clipping factor
                                           const double* __restrict__ step, // [2]: learning rate, first step
                                                                            //   (1: buf = g, as PyTorch's first)
                                           double momentum, double weight_decay) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    double learning_rate = step[0];
    bool first_step = step[1] != 0;
    float gi = g[i];
    if (scale[0] < 1.0f) {
        gi *= scale[0];
    }
    float d = weight_decay == 0 ? gi : (float) (gi + weight_decay * p[i]);
    if (buffer != nullptr) {
        buffer[i] = first_step ? d : (float) (momentum * buffer[i] + d);
        d = buffer[i];
    }
    p[i] = (float) (p[i] - learning_rate * d);
}
