package jlstm.examples;

// [example api-layer-cell]
import jlstm.*;

// [end]

/**
 * The blocks of docs/API.md (layer and cell), docs/OPTIONS.md and docs/GPU.md that no program of
 * their own shows, each a region here (ExamplesDocTest checks the page against it), so the build
 * compiles what the pages show; ExamplesDocTest runs the CPU ones, the GPU one is only compiled (it
 * asks for GPUs 0 and 3).
 */
final class DocSnippets {
    private DocSnippets() {
    }

    /** What the layer-and-cell block's cell part computed, for the test to check. */
    record CellStep(LstmCell.State s, LstmCell.StepGradients back, LstmCell.Gradients grads) {
    }

    /** docs/API.md, "The LSTM layer and cell" (its import line is this file's). */
    static CellStep layerAndCell() {
        // [example api-layer-cell]
        LstmConfig config = LstmConfig.of(8, 16).withLayers(2).withBidirectional(true);  // I=8, H=16, L=2, D=2
        LstmParameters params = LstmParameters.initialize(config, 42);   // PyTorch's U(-1/√H, 1/√H), seeded
        // or: LstmParameters.load(Path.of("model.safetensors"))         // a PyTorch nn.LSTM state_dict

        try (LstmLayer lstm = LstmLayer.create(params, Device.AUTO)) {   // CUDA when usable, else the CPU
            Tensor x = Tensor.zeros(20, 4, 8);                            // [T, B, I]
            LstmOutput out = lstm.forward(x);                             // y [T, B, D·H], hn, cn [L·D, B, H]

            LstmOutput train = lstm.forwardTraining(x, null, null);       // h0, c0: null means zeros
            Tensor dy = Tensor.zeros(20, 4, 32);                          // dLoss/dy, the shape of y
            LstmGradients g = lstm.backward(dy, null, null);              // dhn, dcn optional
            Tensor dW = g.parameter("weight_hh_l1_reverse");              // [4H, H]; also g.dx(), g.dh0(), g.dc0()

            int[] lengths = {20, 13, 7, 1};                               // per sequence, as pack_padded_sequence
            lstm.forwardTraining(x, null, null, lengths);                 // y zero past each length, hn at its last step
        }

        LstmCell cell = LstmCell.of(params, 0, 0);                        // one step of layer 0, forward direction
        LstmCell.State s = cell.step(Tensor.zeros(4, 8), null, null);     // x_t [B, I] → h, c [B, H]
        LstmCell.Step step = cell.stepTraining(Tensor.zeros(4, 8), null, null);         // keeps what backward needs
        LstmCell.Gradients grads = cell.newGradients();                                  // accumulators, PyTorch names
        LstmCell.StepGradients back = cell.backward(step, Tensor.zeros(4, 16), null, grads); // dh, dc → dx, dh_prev, dc_prev
        // [end]
        return new CellStep(s, back, grads);
    }

    /** docs/OPTIONS.md's block; {@code params} and {@code x} as in the layer-and-cell block. */
    static void engineOptions(LstmParameters params, Tensor x) {
        // [example options-create]
        EngineOptions options = EngineOptions.fromSystemProperties()     // the -Djlstm.* below, else the defaults
                .withCpuThreads(4)
                .withMaxEngines(2);
        try (LstmLayer lstm = LstmLayer.create(params, Device.AUTO, options)) {
            LstmOutput out = lstm.forward(x);
        }
        // [end]
    }

    /** docs/GPU.md, "Using it": compiled, never run (it needs GPUs 0 and 3). */
    static void gpuLayers(LstmParameters params) {
        // [example gpu-create]
        LstmLayer layer = LstmLayer.create(params, Device.AUTO);   // CUDA when the probe passes, else CPU
        LstmLayer gpu   = LstmLayer.create(params, Device.CUDA);   // GPU 0; fails with the probe's reason
        LstmLayer gpu3  = LstmLayer.create(params, Device.cuda(3)); // GPU 3 (the driver's order: CUDA_VISIBLE_DEVICES)
        // [end]
        layer.close();
        gpu.close();
        gpu3.close();
    }

}
