package jlstm.cli;

/** A benchmark shape: T steps, B sequences, I inputs, H hidden units, L layers (one direction). */
record BenchShape(int steps, int batch, int inputSize, int hiddenSize, int layers) {

    /** Parses "T,B,I,H,L" (five positive integers), with a message that says what is wrong. */
    static BenchShape parse(String text) {
        String[] parts = text.split(",", -1);
        if (parts.length != 5) {
            throw new IllegalArgumentException("--shape must be T,B,I,H,L (five positive integers), got '" + text + "'");
        }
        int[] values = new int[5];
        String[] names = {"T", "B", "I", "H", "L"};
        for (int i = 0; i < 5; i++) {
            try {
                values[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--shape " + text + ": " + names[i] + " is not a whole number: '"
                        + parts[i].trim() + "'");
            }
            if (values[i] < 1) {
                throw new IllegalArgumentException("--shape " + text + ": " + names[i] + " must be at least 1");
            }
        }
        return new BenchShape(values[0], values[1], values[2], values[3], values[4]);
    }

    /** "T=100 B=32 I=256 H=256 L=1". */
    @Override
    public String toString() {
        return "T=" + steps + " B=" + batch + " I=" + inputSize + " H=" + hiddenSize + " L=" + layers;
    }

    /** "100,32,256,256,1": the chart's category label. */
    String label() {
        return steps + "," + batch + "," + inputSize + "," + hiddenSize + "," + layers;
    }
}
