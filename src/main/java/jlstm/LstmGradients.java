package jlstm;

import java.util.Map;

/**
 * What a backward pass returns.
 *
 * @param dx         gradient of the loss with respect to the input: the shape of x
 * @param dh0        gradient with respect to h0: [L·D, B, R] (also when h0 was zeros by default)
 * @param dc0        gradient with respect to c0: [L·D, B, H]
 * @param parameters gradient of every parameter, by PyTorch name and with the parameter's shape
 */
public record LstmGradients(Tensor dx, Tensor dh0, Tensor dc0, Map<String, Tensor> parameters) {

    /**
     * The gradient of one parameter.
     *
     * @param name a PyTorch name, e.g. {@code weight_ih_l0}
     * @return the gradient, the parameter's shape
     * @throws IllegalArgumentException if there is no parameter of that name
     */
    public Tensor parameter(String name) {
        Tensor t = parameters.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no gradient for '" + name + "'");
        }
        return t;
    }
}
