package jlstm;

/**
 * What a forward pass returns.
 *
 * @param y  outputs of the top layer: [T, B, D·R] ([B, T, D·R] when batch-first); for each step,
 *           the forward direction's h in the first R features, the reverse one's in the next R
 *           (R = H, or P with a projection); zero past a sequence's length
 * @param hn final hidden state of every layer and direction: [L·D, B, R], index k·D + d (with
 *           lengths: at each sequence's last valid step)
 * @param cn final cell state: [L·D, B, H], same layout as {@code hn}
 */
public record LstmOutput(Tensor y, Tensor hn, Tensor cn) {
}
