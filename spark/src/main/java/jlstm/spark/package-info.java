/**
 * jlstm on Apache Spark: batch scoring ({@link jlstm.spark.LstmScorer},
 * {@link jlstm.spark.LstmTransformer}) and synchronous data-parallel training
 * ({@link jlstm.spark.DataParallelTrainer}); see docs/SPARK.md.
 *
 * <p>Glossary as in the core: T steps, B rows (sequences) of a batch, I input features, H hidden
 * units, R = H or the projection size, L layers, D directions, O head outputs; N replicas (barrier
 * tasks, ranks 0…N−1), P parameters (floats) of the model. A row's sequence has its own length
 * T_b; a Dataset row holds one sequence.
 */
package jlstm.spark;
