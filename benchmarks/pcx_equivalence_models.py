"""The pcx side, part one: each family's network built in pcx as the paper's code builds it.

``build`` returns the family's ``pxc.EnergyModule`` (classifier, decoder or MCPC generator,
structured as the code's classes are) and ``set_weights`` loads the drawn arrays into its
layers (``layer_objects``, in the documented order). Runs under pcx's environment only;
pcx and JAX are imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.pcx_equivalence_families import Family, GeneratorFamily, Layer


def activation(name: str) -> Callable:
    import jax

    return {
        "gelu": jax.nn.gelu,
        "leaky_relu": jax.nn.leaky_relu,
        "tanh": jax.nn.tanh,
        "hard_tanh": jax.nn.hard_tanh,
        "relu": jax.nn.relu,
    }[name]


def pcx_layers(family: Family) -> list:
    """The pcx layers, bottom to top (the documented order)."""
    import equinox as eqx
    import pcx.nn as pxnn

    class ConvTranspose(pxnn.Layer):
        """A transposed conv as the deconv script's own wrapper (conv_transpose_layer.py)
        makes it: eqx.nn.ConvTranspose with its parameters as pcx LayerParams."""

        def __init__(self, layer: Layer, key) -> None:
            super().__init__(
                eqx.nn.ConvTranspose,
                num_spatial_dims=2,
                in_channels=layer.shape_in,
                out_channels=layer.shape_out,
                kernel_size=layer.kernel,
                stride=layer.stride,
                padding=layer.padding,
                output_padding=layer.output_padding,
                key=key,
            )

    import pcx

    out = []
    for layer in family.layers:
        if layer.kind == "linear":
            out.append(pxnn.Linear(layer.shape_in, layer.shape_out))
        elif layer.kind == "conv":
            out.append(
                pxnn.Conv2d(
                    layer.shape_in,
                    layer.shape_out,
                    kernel_size=(3, 3),
                    stride=(1, 1),
                    padding=(layer.padding, layer.padding),
                )
            )
        else:
            out.append(ConvTranspose(layer, pcx.RKG()))
    return out


def build(family: Family):
    """The family's network as a pcx EnergyModule, structured as the code's classes are."""
    import jax.numpy as jnp
    import pcx
    import pcx.nn as pxnn
    import pcx.predictive_coding as pxc

    act = activation(family.activation)
    output_energy = pxc.ce_energy if family.energy == "ce" else pxc.se_energy

    class Classifier(pxc.EnergyModule):
        """The code's ConvNet / LinearModel / VGGNet_skip: a vode after every conv block
        (conv -> act -> pool) and every hidden linear layer, a linear output vode clamped to
        the label (nudged towards it: u - beta (u - y)); VGG-19's skip adds a linear map of
        a conv block's state to the output."""

        def __init__(self) -> None:
            super().__init__()
            self.act = pcx.static(act)
            layers = pcx_layers(family)
            self.body = layers[:-1] if family.skip else layers
            self.long_skip = layers[-1] if family.skip else None
            self.pool = pxnn.MaxPool2d(kernel_size=2, stride=2)
            self.vodes = [pxc.Vode() for _ in self.body[:-1]]
            self.vodes.append(pxc.Vode(energy_fn=output_energy))
            self.vodes[-1].h.frozen = True

        def __call__(self, x, y):
            skip = None
            last = len(self.body) - 1
            for index, (spec, layer, vode) in enumerate(
                zip(family.layers, self.body, self.vodes, strict=False)
            ):
                if spec.kind == "linear":
                    x = layer(x.reshape(-1))
                    if index == last:
                        if skip is not None:
                            x = x + skip
                    else:
                        x = self.act(x)
                else:
                    x = self.act(layer(x))
                    if spec.pool:
                        x = self.pool(x)
                x = vode(x)
                if family.skip is not None and index == family.skip[0]:
                    skip = self.long_skip(x.reshape(-1))
            if y is not None:
                u = self.vodes[-1].get("u")
                self.vodes[-1].set("h", y if family.beta == 1.0 else u - family.beta * (u - y))
            return self.vodes[-1].get("u")

    def to_zero(node, key, value, rkg):
        return jnp.zeros_like(value)

    class Decoder(pxc.EnergyModule):
        """The code's PCDecoder / PCDeconvDecoder / associative-memory Decoder: a free latent
        vode with zero energy, then one vode per layer (act on all but the linear output),
        every vode's h and u set to zero at initialisation, the data clamped at the top."""

        def __init__(self) -> None:
            super().__init__()
            self.act = pcx.static(act)
            self.layers = pcx_layers(family)
            zero = {pxc.STATUS.INIT: ("h, u <- u:to_zero",)}
            self.vodes = [pxc.Vode(energy_fn=pxc.zero_energy)]
            self.vodes += [
                pxc.Vode(ruleset=zero, tforms={"to_zero": to_zero}) for _ in self.layers[:-1]
            ]
            # The data vode: its h is overwritten by the data right after initialisation, so
            # its initial rule does not matter (the autoencoders zero it, the memory does not).
            self.vodes.append(pxc.Vode())
            self.vodes[-1].h.frozen = True

        def __call__(self, x, y):
            # pcx 0.6.3's Vode takes no shape, so the latent is set from a zero input here,
            # where v0.6.1's code set it by a "to_zero" rule on a shaped vode: both start it
            # at zero, and its zero energy makes its u irrelevant.
            h = self.vodes[0](jnp.zeros(family.latent_shape))
            last = len(self.layers) - 1
            for index, (layer, vode) in enumerate(zip(self.layers, self.vodes[1:], strict=True)):
                h = layer(h)
                h = vode(h if index == last else self.act(h))
            if y is not None:
                self.vodes[-1].set("h", y.reshape(self.vodes[-1].get("u").shape))
            return self.vodes[-1].get("u")

    class Generator(pxc.EnergyModule):
        """The code's MCPC ``Model`` (mcpc_mnist.py): one vode per layer on
        ``layer(act(x))`` from a constant zero input, the data vode on tanh of the last
        layer with the squared error divided by ``input_var``; every vode's h and u set to
        zero at initialisation, the data clamped at the top."""

        def __init__(self) -> None:
            super().__init__()
            assert isinstance(family, GeneratorFamily)
            input_var = family.input_var

            def se_energy_input(vode, rkg=pcx.RKG):
                e = vode.get("h") - vode.get("u")
                return 0.5 * (e * e) / input_var

            self.act = pcx.static(act)
            self.layers = pcx_layers(family)
            zero = {pxc.STATUS.INIT: ("h, u <- u:to_zero",)}
            self.vodes = [
                pxc.Vode(ruleset=zero, tforms={"to_zero": to_zero}) for _ in self.layers[:-1]
            ]
            self.vodes.append(
                pxc.Vode(energy_fn=se_energy_input, ruleset=zero, tforms={"to_zero": to_zero})
            )
            self.vodes[-1].h.frozen = True

        def __call__(self, x, y):
            for vode, layer in zip(self.vodes[:-1], self.layers[:-1], strict=True):
                x = vode(layer(self.act(x)))
            self.vodes[-1](jnp.tanh(self.layers[-1](self.act(x))))
            if y is not None:
                self.vodes[-1].set("h", y)
            return self.vodes[-1].get("u")

    kinds = {"classifier": Classifier, "decoder": Decoder, "generator": Generator}
    return kinds[family.kind]()


def set_weights(layers: list, weights: list[np.ndarray]) -> None:
    """Load the drawn arrays into the pcx layers (weight, bias per layer), checking shapes."""
    import jax.numpy as jnp

    arrays = iter(weights)
    for layer in layers:
        for name in ("weight", "bias"):
            param = getattr(layer.nn, name)
            value = next(arrays)
            if tuple(param.get().shape) != value.shape:
                raise SystemExit(
                    f"{name} of {layer}: pcx {param.get().shape} vs drawn {value.shape}"
                )
            param.set(jnp.asarray(value))


def layer_objects(model, family: Family) -> list:
    """The model's weight layers in the documented order."""
    if family.kind != "classifier":
        return list(model.layers)
    return [*model.body, *([model.long_skip] if family.skip else [])]
