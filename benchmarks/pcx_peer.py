"""The peer in ``epoch_time.py``: the same PC network trained the idiomatic pcx 0.6.3 way.

Runs under the peer's own interpreter (a virtualenv with pcx 0.6.3), so it imports only
pcx, JAX, Equinox, Optax and NumPy, never pcsearch. pcx's idiom is one jitted call per
batch from a Python loop, with the T inference steps unrolled inside that call; that is
what is timed here, against pcsearch's one compiled program per epoch.

The networks match pcsearch's exactly (the paper's convention; ``pcx_peer_models.py`` builds
them): hidden vodes hold post-activations act(W h_{l-1} + b), the output vode is linear and
clamped to the one-hot label (the autoencoder's: to the image), squared-error energies,
pcsearch's state initialisation, per-example state gradients (energy summed over the batch),
weight gradients averaged over the batch, SGD with momentum on the states, AdamW on the
weights with the paper's warmup-cosine schedule (or ``--weight-schedule constant``).

``--model vgg5`` and ``--model vgg7`` build the code's VGG-5 and Table 5's VGG-7 from pcx's
own layers; ``--model ae-deconv`` pcsearch's PC decoder of the deconv autoencoder (Table 8:
``--latent-shape`` C,H,W, ``--decoder-channels``, ``--kernel-size``, states started as
``--init`` says), whose T inference steps move every free vode, the latent too, and whose
test metric is the reconstruction MSE (latent inferred with the test image clamped, then the
forward pass from it), reported under ``accuracy`` as pcsearch reports it. ``--energy ce``
makes the output energy cross-entropy (PC-CE). ``--augment`` applies the paper's CIFAR
augmentation (zero-pad 4, random 32x32 crop, flip with probability 1/2) and ``--crop 56``
Tiny ImageNet's (random 56x56 window, flip) to each batch on the device, in its own jitted
call, as pcsearch does (pcx's examples use torch loader workers, which this peer has not
got). Images come as ``--npz`` arrays of shape [N, C, H, W].

Prints one line ``RESULT {json}`` with per-epoch seconds, test accuracy (the autoencoder: test
reconstruction MSE) and peak RSS.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:  # imported from the repository (the tests)
    from benchmarks import pcx_peer_models as models
except ImportError:  # run as a script: its own folder is on sys.path
    import pcx_peer_models as models  # type: ignore[no-redef]

VGG_BLOCKS, activation, vgg_feature_size = (
    models.VGG_BLOCKS,
    models.activation,
    models.vgg_feature_size,
)

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx_gz(path: Path) -> np.ndarray:
    """Parse one gzip IDX file (kept here so the peer needs nothing from pcsearch)."""
    raw = gzip.decompress(path.read_bytes())
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    dtype, ndim = IDX_DTYPES[raw[2]], raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST normalised as in the paper: (x/255 - 0.5)/0.5, flattened to [N, 784]."""
    folder = data_dir / "mnist"

    def split(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        images = read_idx_gz(folder / f"{prefix}-images-idx3-ubyte.gz")
        labels = read_idx_gz(folder / f"{prefix}-labels-idx1-ubyte.gz")
        x = (images.reshape(len(images), -1).astype(np.float32) / 255.0 - 0.5) / 0.5
        return x.astype(np.float32), labels.astype(np.int32)

    x_train, y_train = split("train")
    x_test, y_test = split("t10k")
    return x_train, y_train, x_test, y_test


def load_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A split written by the main script, so both sides train on the very same examples."""
    with np.load(path) as d:
        return (
            d["x_train"].astype(np.float32),
            d["y_train"].astype(np.int32),
            d["x_test"].astype(np.float32),
            d["y_test"].astype(np.int32),
        )


def load_digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits split as pcsearch splits it: half held out, stratified, seed 0.

    Pixels 0..16 go to [-1, 1] like MNIST. Needs scikit-learn in the peer's environment;
    the main script passes ``--npz`` instead when it is missing.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.data / 16.0 - 0.5) / 0.5
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, bunch.target, test_size=0.5, random_state=0, stratify=bunch.target
    )
    as_x = lambda a: np.asarray(a, np.float32)
    as_y = lambda a: np.asarray(a, np.int32)
    return as_x(x_tr), as_y(y_tr), as_x(x_te), as_y(y_te)


def make_augment(padding: int = 4, crop: int | None = None) -> Callable:
    """A jitted batch augmentation, then a random flip: CIFAR's zero-pad and random crop back
    to size, or (``crop``) Tiny ImageNet's random ``crop``-sized window without padding."""
    import jax
    import jax.numpy as jnp

    @jax.jit
    def augment(key, images):
        b, c, h, w = images.shape
        crop_key, flip_key = jax.random.split(key)
        if crop is None:
            pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
            source, out_h, out_w = jnp.pad(images, pad), h, w
        else:
            source, out_h, out_w = images, crop, crop
        span = source.shape[2] - out_h + 1
        offsets = jax.random.randint(crop_key, (b, 2), 0, span)

        def cut(image, offset):
            return jax.lax.dynamic_slice(image, (0, offset[0], offset[1]), (c, out_h, out_w))

        cropped = jax.vmap(cut)(source, offsets)
        flip = jax.random.bernoulli(flip_key, 0.5, (b,))
        return jnp.where(flip[:, None, None, None], cropped[..., ::-1], cropped)

    return augment


def weight_schedule(lr: float, total_updates: int, kind: str = "warmup-cosine") -> Callable:
    """The paper's schedule: lr, peaking at 1.1 lr after 10% of the updates, ending at 0.1 lr;
    ``constant``: lr throughout (pcsearch's ``weight_schedule``)."""
    import optax

    if kind == "constant":
        return optax.constant_schedule(lr)
    warmup = max(1, int(0.1 * total_updates))
    return optax.warmup_cosine_decay_schedule(
        init_value=lr,
        peak_value=1.1 * lr,
        warmup_steps=warmup,
        decay_steps=max(warmup + 1, total_updates),
        end_value=0.1 * lr,
    )


def run(args: argparse.Namespace) -> dict:
    """Train and time every epoch; returns the record that is printed as JSON."""
    import jax
    import jax.numpy as jnp
    import optax
    import pcx
    import pcx.functional as pxf
    import pcx.nn as pxnn
    import pcx.predictive_coding as pxc
    import pcx.utils as pxu

    if args.npz:
        x_train, y_train, x_test, y_test = load_npz(Path(args.npz))
    elif args.dataset == "digits":
        x_train, y_train, x_test, y_test = load_digits_split()
    else:
        x_train, y_train, x_test, y_test = load_mnist(Path(args.data_dir))
    decoder = args.model in models.DECODERS
    classes = int(max(y_train.max(), y_test.max())) + 1
    # The autoencoder's target is the image itself; the labels go unused.
    y_train_1h = None if decoder else np.eye(classes, dtype=np.float32)[y_train]
    example_shape = tuple(x_train.shape[1:])
    if args.crop is not None:  # the network sees crops; the test set comes cropped already
        example_shape = (example_shape[0], args.crop, args.crop)
    if decoder and (len(example_shape) != 3 or args.augment or args.crop):
        raise SystemExit(f"{args.model} needs unaugmented [N, C, H, W] images, got {x_train.shape}")
    act = activation(args.activation)
    output_energy = pxc.ce_energy if args.energy == "ce" else pxc.se_energy
    pcx.RKG.seed(args.seed)

    per_example = pxu.M(pxc.VodeParam | pxc.VodeParam.Cache).to((None, 0))

    @pxf.vmap(per_example, in_axes=(0, 0), out_axes=0)
    def forward(x, y, *, model):
        return model(x, y)

    @pxf.vmap(per_example, in_axes=(0,), out_axes=(None, 0), axis_name="batch")
    def energy(x, *, model):
        prediction = model(x, None)
        return jax.lax.psum(model.energy(), "batch"), prediction

    def free_states() -> pxu.M:
        """A new mask each time: ``M.to`` changes the mask it is called on."""
        return pxu.M_hasnot(pxc.VodeParam, frozen=True)

    inference_grad = pxf.value_and_grad(free_states().to([False, True]), has_aux=True)(energy)
    learning_grad = pxf.value_and_grad(pxu.M(pxnn.LayerParam).to([False, True]), has_aux=True)(
        energy
    )

    def infer(T: int, x, y, model, optim_h) -> None:
        """Initialise the states with y clamped, then T steps on every free vode."""
        with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
            forward(x, y, model=model)
        optim_h.init(free_states()(model))
        for _ in range(T):
            with pxu.step(model, clear_params=pxc.VodeParam.Cache):
                _, grads = inference_grad(x, model=model)
            optim_h.step(model, grads["model"])
        optim_h.clear()

    @pxf.jit(static_argnums=0)
    def train_on_batch(T: int, x, y, *, model, optim_w, optim_h):
        model.train()
        infer(T, x, y, model, optim_h)
        with pxu.step(model, clear_params=pxc.VodeParam.Cache):
            (e, _), grads = learning_grad(x, model=model)
        optim_w.step(model, grads["model"], scale_by=1.0 / x.shape[0])
        return e

    @pxf.jit()
    def predict_batch(x, *, model):
        model.eval()
        with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
            return jnp.argmax(forward(x, None, model=model), axis=-1)

    @pxf.vmap(per_example, in_axes=(0,), out_axes=0)
    def decode(h0, *, model):
        return model.decode(h0)

    @pxf.jit(static_argnums=0)
    def reconstruction_errors(T: int, x, *, model, optim_h):
        """Each image's squared error after inferring its latent, as pcsearch evaluates."""
        model.eval()
        infer(T, x, x, model, optim_h)
        with pxu.step(model, clear_params=pxc.VodeParam.Cache):
            out = decode(model.vodes[0].h.get(), model=model)
        return jnp.sum((out - x) ** 2, axis=tuple(range(1, x.ndim)))

    if decoder:
        shapes = [tuple(map(int, a.split(","))) for a in (args.latent_shape, args.decoder_channels)]
        model = models.make_decoder(example_shape, args.kernel_size, act, args.init, *shapes)
    else:
        hidden = (args.hidden_width, args.hidden_layers)
        model = models.make_classifier(
            args.model, example_shape, classes, act, output_energy, *hidden
        )
    batch = args.batch_size
    # Give the vodes their batch shape before the optimisers see the model, as pcx expects.
    with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
        forward(jnp.zeros((batch, *example_shape)), None, model=model)
    batches = len(x_train) // batch
    total = args.epochs * batches
    optim_h = pxu.Optim(lambda: optax.sgd(args.state_lr, momentum=args.state_momentum))
    optim_w = pxu.Optim(
        lambda: optax.adamw(
            weight_schedule(args.weight_lr, total, args.weight_schedule),
            weight_decay=args.weight_decay,
        ),
        pxu.M(pxnn.LayerParam)(model),
    )

    def accuracy() -> float:
        """Test accuracy (the autoencoder: reconstruction MSE per pixel) in batches of the
        training shape, so nothing recompiles."""
        score = 0.0
        for start in range(0, len(x_test), batch):
            xb = x_test[start : start + batch]
            valid = len(xb)
            if valid < batch:
                pad = np.zeros((batch - valid, *xb.shape[1:]), np.float32)
                xb = np.concatenate([xb, pad])
            if decoder:
                errors = reconstruction_errors(args.T, xb, model=model, optim_h=optim_h)
                score += float(np.sum(np.asarray(errors)[:valid]))
            else:
                predicted = np.asarray(predict_batch(xb, model=model))[:valid]
                score += int(np.sum(predicted == y_test[start : start + valid]))
        return score / (x_test.size if decoder else len(x_test))

    rng = np.random.default_rng(args.seed)
    augment = make_augment(crop=args.crop) if args.augment or args.crop else None
    augment_key = jax.random.PRNGKey(args.seed)
    seconds: list[float] = []
    accuracies: list[float] = []
    energies: list[float] = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = rng.permutation(len(x_train))[: batches * batch].reshape(batches, batch)
        e = None
        for index in order:
            xb = x_train[index]
            if augment is not None:
                augment_key, key = jax.random.split(augment_key)
                xb = augment(key, xb)
            e = train_on_batch(
                args.T,
                xb,
                xb if y_train_1h is None else y_train_1h[index],
                model=model,
                optim_w=optim_w,
                optim_h=optim_h,
            )
        jax.block_until_ready((e, jax.tree.leaves(model)))
        seconds.append(time.perf_counter() - start)
        energies.append(float(e))
        accuracies.append(accuracy())
    device = jax.devices()[0]
    return {
        "runner": "pcx PC",
        "model": args.model,
        "energy": args.energy,
        "metric": "mse" if decoder else "accuracy",
        "batches_per_epoch": batches,
        "epoch_seconds": seconds,
        "accuracy": accuracies,
        "final_energy": energies,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "versions": {
            "pcx": _version("pcx"),
            "jax": jax.__version__,
            "equinox": _version("equinox"),
            "optax": optax.__version__,
        },
        "device": f"{device.platform}:{getattr(device, 'device_kind', 'unknown')}",
        "python": sys.version.split()[0],
    }


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="import pcx, print versions, exit")
    parser.add_argument("--dataset", choices=("mnist", "digits"), default="mnist")
    parser.add_argument("--data-dir", help="folder holding mnist/ (gzip IDX files)")
    parser.add_argument("--npz", help="x_train, y_train, x_test, y_test; overrides --dataset")
    parser.add_argument("--model", choices=("mlp", *VGG_BLOCKS, *models.DECODERS), default="mlp")
    parser.add_argument("--energy", choices=("se", "ce"), default="se", help="output energy")
    parser.add_argument("--augment", action="store_true", help="CIFAR crop+flip, on device")
    parser.add_argument(
        "--crop", type=int, help="random crops of this side and flips (Tiny ImageNet), on device"
    )
    join = lambda shape: ",".join(map(str, shape))
    parser.add_argument("--kernel-size", type=int, default=4, help="ae-deconv's kernel")
    parser.add_argument(
        "--latent-shape", default=join(models.LATENT_SHAPE), help="ae-deconv's latent, C,H,W"
    )
    parser.add_argument(
        "--decoder-channels", default=join(models.DECODER_CHANNELS), help="ae-deconv's hidden"
    )
    parser.add_argument("--init", choices=models.DECODER_INITS, default="zeros", help="ae-deconv")
    parser.add_argument("--hidden-width", type=int, default=128)
    parser.add_argument("--hidden-layers", type=int, default=3)
    parser.add_argument("--activation", default="gelu")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--T", type=int, default=8)
    parser.add_argument("--state-lr", type=float, default=0.0105)
    parser.add_argument("--state-momentum", type=float, default=0.65)
    parser.add_argument("--weight-lr", type=float, default=2.97e-4)
    parser.add_argument("--weight-decay", type=float, default=3.55e-4)
    parser.add_argument(
        "--weight-schedule", choices=("warmup-cosine", "constant"), default="warmup-cosine"
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.check:
        import jax
        import pcx  # noqa: F401

        try:
            import sklearn  # noqa: F401

            has_sklearn = True
        except ImportError:
            has_sklearn = False
        info = {"pcx": _version("pcx"), "jax": jax.__version__, "sklearn": has_sklearn}
        info["python"] = sys.version.split()[0]
        print("RESULT " + json.dumps(info))
        return 0
    if not args.npz and args.dataset == "mnist" and not args.data_dir:
        parser.error("MNIST needs --data-dir (the folder holding mnist/)")
    print("RESULT " + json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
