/**
 * The example tasks of the {@code train} command, written on the public API only: the adding
 * problem ({@link jlstm.examples.AddingProblem}), airline passengers
 * ({@link jlstm.examples.AirlinePassengers}), EU stock markets ({@link jlstm.examples.StockForecast})
 * as {@link jlstm.examples.TrainingTask}s trained by a {@link jlstm.train.SequenceModel}, and
 * handwritten digits ({@link jlstm.examples.DigitsExample}), an {@link jlstm.LstmCell} stepped by
 * hand. {@link jlstm.examples.Tasks} is the registry the command line iterates. The data sets are
 * bundled as resources under {@code /jlstm/data}, with their sources and licences in each class.
 * docs/EXAMPLES.md shows this code; a test keeps the page and the code equal.
 *
 * <p>{@link org.jspecify.annotations.NullMarked @NullMarked}: nothing is null unless annotated
 * {@link org.jspecify.annotations.Nullable @Nullable}.
 */
@NullMarked
package jlstm.examples;

import org.jspecify.annotations.NullMarked;
