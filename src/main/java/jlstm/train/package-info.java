/**
 * Training on top of {@link jlstm.LstmLayer}: a linear head, losses, optimizers with PyTorch's
 * update rules, gradient clipping, seeded mini-batches, checkpoints, and two embedded tasks
 * (the adding problem and the airline-passengers forecast) used by the {@code train} command.
 *
 * <p>Glossary as in {@code jlstm}: T steps, B batch, I input features, H hidden, L layers,
 * D directions, F = D·H features of each LSTM output step, O outputs of the head, N samples.
 * Arrays are row-major float32.
 *
 * <p>Everything here works on host {@link jlstm.Tensor}s and goes through {@link jlstm.LstmLayer}
 * ({@code forwardTraining}, {@code backward}, {@code parametersUpdated}), so it runs on any
 * backend. On the CUDA backend this means a training step copies activations, gradients and
 * parameters through the host; the optimizers' per-element rules ({@link jlstm.train.Adam#update},
 * {@link jlstm.train.Sgd#update}) are written as flat-array functions so that a device version
 * can mirror them one kernel per rule.
 */
package jlstm.train;
