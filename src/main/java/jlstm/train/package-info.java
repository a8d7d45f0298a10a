/**
 * Training on top of {@link jlstm.LstmLayer}: a linear head, losses, optimizers with PyTorch's
 * update rules, gradient clipping, seeded mini-batches, {@link jlstm.train.SequenceModel#fit} with
 * validation, learning-rate schedules, early stopping and callbacks, and checkpoints: what the
 * embedded tasks of the {@code train} command (in {@code jlstm.examples}) train with.
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
 */
package jlstm.train;
