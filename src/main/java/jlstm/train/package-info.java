/**
 * Training on top of {@link jlstm.LstmLayer}: a linear head, losses, optimizers with PyTorch's
 * update rules, gradient clipping, seeded mini-batches, {@link jlstm.train.SequenceModel#fit} with
 * validation, learning-rate schedules, early stopping and callbacks, and checkpoints. The example
 * tasks of the {@code train} command are in {@code jlstm.examples}.
 *
 * <p>Glossary as in {@code jlstm}: T steps, B batch, I input features, H hidden, L layers,
 * D directions, F = D·H features of each LSTM output step, O outputs of the head, N samples.
 * Arrays are row-major float32.
 *
 * <p>Everything here works on host {@link jlstm.Tensor}s and goes through {@link jlstm.LstmLayer}
 * ({@code forwardTraining}, {@code backward}, {@code parametersUpdated}), so it runs on any
 * backend. On CUDA a {@link jlstm.train.SequenceModel} trains with its whole step on the device
 * when the loss and optimizer allow it (head, loss, clipping and optimizer as kernels; see
 * {@code DeviceTraining}); otherwise those run on the host.
 *
 * <p>{@link org.jspecify.annotations.NullMarked @NullMarked}: nothing is null unless annotated
 * {@link org.jspecify.annotations.Nullable @Nullable}.
 */
@NullMarked
package jlstm.train;

import org.jspecify.annotations.NullMarked;
