package jlstm.spark;

import java.io.IOException;
import java.util.List;
import java.util.UUID;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import jlstm.Device;

/**
 * {@link LstmScorer} as a Spark ML {@link Transformer}: drops into a {@code Pipeline}, and saves
 * and loads with it ({@code write().save(path)}, {@code LstmTransformer.load(path)}). Params:
 * {@code inputCol}, {@code outputCol}, {@code hiddenCol}, {@code predictionCol} (empty: not
 * produced), {@code batchSize}, {@code device}.
 *
 * <p>Saved as Spark ML's layout: {@code path/metadata} (one JSON line: class, uid, params, as
 * Spark's own stages write it, so a saved {@code PipelineModel} finds this class again) and
 * {@code path/model} (one row: the safetensors bytes).
 */
public final class LstmTransformer extends Transformer implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private ModelPayload model;

    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> hiddenCol;
    private final Param<String> predictionCol;
    private final IntParam batchSize;
    private final Param<String> device;

    /** A transformer scoring with {@code model}; params at their defaults. */
    public LstmTransformer(ModelPayload model) {
        this("jlstm_" + UUID.randomUUID().toString().substring(0, 12));
        this.model = model;
    }

    /** Spark ML's copy and load path: params only, the model set after. */
    public LstmTransformer(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "the sequence column: array<array<float>> [T][I] or array<float> T·I");
        outputCol = new Param<>(this, "outputCol", "y of every step, array<array<float>> [T][D·R]; empty: none");
        hiddenCol = new Param<>(this, "hiddenCol", "the last hidden state h_n, array<array<float>> [L·D][R]; empty: none");
        predictionCol = new Param<>(this, "predictionCol", "the head's output; empty: none");
        batchSize = new IntParam(this, "batchSize", "rows per forward call", ParamValidators.gtEq(1));
        device = new Param<>(this, "device", "auto (the task's GPU, else CPU), cpu or cuda");
        setDefault(inputCol, "sequence");
        setDefault(outputCol, "");
        setDefault(hiddenCol, "");
        setDefault(predictionCol, "prediction");
        setDefault(batchSize, 256);
        setDefault(device, "auto");
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> hiddenCol() {
        return hiddenCol;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> device() {
        return device;
    }

    public LstmTransformer setInputCol(String value) {
        set(inputCol, value);
        return this;
    }

    public LstmTransformer setOutputCol(String value) {
        set(outputCol, value);
        return this;
    }

    public LstmTransformer setHiddenCol(String value) {
        set(hiddenCol, value);
        return this;
    }

    public LstmTransformer setPredictionCol(String value) {
        set(predictionCol, value);
        return this;
    }

    public LstmTransformer setBatchSize(int value) {
        set(batchSize, value);
        return this;
    }

    public LstmTransformer setDevice(String value) {
        Device.parse(value);
        set(device, value);
        return this;
    }

    /** The model this transformer scores with. */
    public ModelPayload model() {
        return model;
    }

    /** The scoring options the params describe. */
    public ScoringOptions options() {
        return new ScoringOptions($(inputCol), $(outputCol), $(hiddenCol), $(predictionCol),
                (Integer) $(batchSize), Device.parse($(device)));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        @SuppressWarnings("unchecked")
        Dataset<Row> rows = (Dataset<Row>) dataset.toDF();
        return LstmScorer.score(rows, requireModel(), options());
    }

    @Override
    public StructType transformSchema(StructType schema) {
        ModelPayload.Decoded decoded = requireModel().decode();
        return LstmScorer.outputSchema(schema, decoded.lstm().config(), decoded.head(), options());
    }

    @Override
    public LstmTransformer copy(ParamMap extra) {
        LstmTransformer copy = new LstmTransformer(uid);
        copy.model = model;
        return copyValues(copy, extra);
    }

    private ModelPayload requireModel() {
        if (model == null) {
            throw new IllegalStateException("LstmTransformer " + uid + " has no model");
        }
        return model;
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    @Override
    public void save(String path) throws IOException {
        write().save(path);
    }

    /** Spark ML's entry point for loading (found by reflection when a Pipeline loads). */
    public static MLReader<LstmTransformer> read() {
        return new Reader();
    }

    public static LstmTransformer load(String path) {
        return read().load(path);
    }

    /** Writes path/metadata and path/model. */
    private static final class Writer extends MLWriter {
        private final LstmTransformer stage;

        Writer(LstmTransformer stage) {
            this.stage = stage;
        }

        @Override
        public void saveImpl(String path) {
            SparkSession spark = sparkSession();
            String metadata = "{\"class\":\"" + LstmTransformer.class.getName() + "\",\"timestamp\":"
                    + System.currentTimeMillis() + ",\"sparkVersion\":\"" + spark.version() + "\",\"uid\":\""
                    + stage.uid() + "\",\"paramMap\":" + stage.paramsJson() + ",\"defaultParamMap\":{}}";
            spark.createDataFrame(List.of(RowFactory.create(metadata)),
                            new StructType().add("value", DataTypes.StringType))
                    .coalesce(1).write().text(path + "/metadata");
            spark.createDataFrame(List.of(RowFactory.create(stage.requireModel().bytes())),
                            new StructType().add("safetensors", DataTypes.BinaryType))
                    .coalesce(1).write().parquet(path + "/model");
        }
    }

    /** Every param's value (set or default) as a JSON object. */
    private String paramsJson() {
        StringBuilder json = new StringBuilder("{");
        for (Param<?> p : List.of(inputCol, outputCol, hiddenCol, predictionCol, device)) {
            json.append(json.length() > 1 ? "," : "").append('"').append(p.name()).append("\":")
                    .append(com.google.gson.JsonParser.parseString(new com.google.gson.Gson().toJson($(p))));
        }
        json.append(",\"").append(batchSize.name()).append("\":").append((int) (Integer) $(batchSize));
        return json.append('}').toString();
    }

    /** Reads what {@link Writer} wrote. */
    private static final class Reader extends MLReader<LstmTransformer> {
        @Override
        public LstmTransformer load(String path) {
            SparkSession spark = sparkSession();
            String metadata = spark.read().text(path + "/metadata").first().getString(0);
            com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(metadata).getAsJsonObject();
            String className = json.get("class").getAsString();
            if (!className.equals(LstmTransformer.class.getName())) {
                throw new IllegalArgumentException(path + " holds a " + className + ", not an LstmTransformer");
            }
            LstmTransformer stage = new LstmTransformer(json.get("uid").getAsString());
            com.google.gson.JsonObject params = json.getAsJsonObject("paramMap");
            stage.setInputCol(params.get("inputCol").getAsString())
                    .setOutputCol(params.get("outputCol").getAsString())
                    .setHiddenCol(params.get("hiddenCol").getAsString())
                    .setPredictionCol(params.get("predictionCol").getAsString())
                    .setBatchSize(params.get("batchSize").getAsInt())
                    .setDevice(params.get("device").getAsString());
            byte[] bytes = (byte[]) spark.read().parquet(path + "/model").first().get(0);
            stage.model = ModelPayload.fromBytes(bytes);
            return stage;
        }
    }
}
