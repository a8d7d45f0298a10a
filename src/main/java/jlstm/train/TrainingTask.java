package jlstm.train;

import java.util.Map;

/** A learning problem with its data, loss, head and held-out evaluation. */
public interface TrainingTask {

    /** {@code adding} or {@code airline}. */
    String name();

    /** The training sequences. */
    SequenceDataset trainingSet();

    /** The training loss. */
    Loss loss();

    /** Which LSTM steps the head reads. */
    LinearHead.Mode headMode();

    /** Scores a model on the held-out data, beside the task's simple baseline. */
    Evaluation evaluate(SequenceModel model);

    /** What identifies the data (sequence length, seeds, scaling) for the checkpoint's metadata. */
    Map<String, String> metadata();
}
