package jlstm;

/**
 * What a forward pass returns.
 *
 * @param y  outputs of the top layer: [T, B, D·H] ([B, T, D·H] when batch-first); for each step,
 *           the forward direction's h in the first H features, the reverse one's in the next H
 * @param hn final hidden state of every layer and direction: [L·D, B, H], index k·D + d
 * @param cn final cell state, same layout as {@code hn}
 */
public record LstmOutput(Tensor y, Tensor hn, Tensor cn) {
}
