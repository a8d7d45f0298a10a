/**
 * jlstm: LSTM layers (forward and backward through time) for the JVM.
 *
 * <h2>Glossary (shared by the Java and the CUDA code)</h2>
 * <pre>
 * T = sequence length   B = batch   I = input size   H = hidden size
 * L = layers            D = directions (1, or 2 when bidirectional)
 * P = projection size (proj_size; 0 for none)   R = size of h: P with a projection, else H
 * I_k = input size of layer k: I for k = 0, else D·R
 * </pre>
 * Arrays are row-major, rightmost index fastest. Gate order is <b>i, f, g, o</b> (PyTorch and
 * cuDNN order): a gate block of width 4H holds [input | forget | cell candidate | output].
 *
 * <h2>Entry points</h2>
 * <ul>
 *   <li>{@link jlstm.LstmConfig}: the shape of a model (sizes, layers, direction, bias, batch-first);</li>
 *   <li>{@link jlstm.LstmParameters}: weights with PyTorch {@code nn.LSTM} names and shapes,
 *       initialised like PyTorch or loaded from safetensors;</li>
 *   <li>{@link jlstm.LstmLayer}: whole sequences, stacked and bidirectional, forward and backward;</li>
 *   <li>{@link jlstm.LstmCell}: one time step of one cell, and its training step and backward;</li>
 *   <li>{@link jlstm.Device} and {@link jlstm.LstmBackend}: which engine runs the work;</li>
 *   <li>{@link jlstm.Tensor}: a float32 array with a shape, or a view over an array slice or a
 *       {@link java.nio.FloatBuffer}.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * An {@link jlstm.LstmLayer}'s inference may be called from many threads at once, each call
 * getting exactly its single-threaded result (each borrows an engine of its own from the layer's
 * small pool); training passes ({@code forwardTraining} then {@code backward}) stay on one thread,
 * parameters change only while no call runs, and misuse fails at once with an
 * {@link java.lang.IllegalStateException}. {@link jlstm.LstmCell} keeps no state between calls and
 * may be shared freely. Details in {@link jlstm.LstmLayer}.
 *
 * <h2>Memory</h2>
 * Before a call allocates its workspace and outputs, the heap it needs is estimated and checked
 * against what the JVM can still give; a call that cannot fit fails at once with an
 * {@link jlstm.InsufficientMemoryException} that says how much it needs and suggests an
 * {@code -Xmx}. Inference allocates nothing that only the backward pass needs.
 *
 * <h2>Nullness</h2>
 * The package is {@link org.jspecify.annotations.NullMarked @NullMarked} (JSpecify): a parameter,
 * return value or field is never null unless its type is annotated
 * {@link org.jspecify.annotations.Nullable @Nullable} (optional initial states, lengths, gradients
 * of the final state …). A null passed where none is allowed fails at once with a
 * {@link java.lang.NullPointerException} that names the parameter.
 */
@NullMarked
package jlstm;

import org.jspecify.annotations.NullMarked;
