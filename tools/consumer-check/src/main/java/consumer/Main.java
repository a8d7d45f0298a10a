package consumer;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;

/** Uses the library as a dependent project would: a layer on the CPU, one forward pass. */
public final class Main {
    public static void main(String[] args) {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5).withLayers(2), 1);
        try (LstmLayer lstm = LstmLayer.create(params, Device.CPU)) {
            LstmOutput out = lstm.forward(Tensor.zeros(4, 2, 3));
            System.out.println("consumer ok: y " + out.y().shapeString() + " on " + lstm.deviceName());
        }
    }
}
