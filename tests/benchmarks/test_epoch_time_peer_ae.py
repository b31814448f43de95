"""Setting (e) of ``epoch_time.py`` has a pcx peer: the deconv autoencoder's PC decoder.

The peer (``benchmarks/pcx_peer.py`` with ``pcx_peer_models.py``) runs under pcx's own
interpreter, which CI does not have; here its pure-Python layout is checked against
pcsearch's decoder. (With pcsearch's very weights, one peer step gave pcsearch's energy and
test error to float32 precision: checked by hand when the peer was written.)
"""

from __future__ import annotations

from pathlib import Path

import jax
import pytest

from benchmarks import pcx_peer_models
from benchmarks.epoch_time_peer import peer_args
from benchmarks.epoch_time_settings import make_settings
from pcsearch.models import deconv
from pcsearch.params import resolve

REPO = Path(__file__).resolve().parents[2]


def _setting_e():
    return make_settings(2, 2, 2, 4, 2)["e"]


def test_setting_e_runs_the_peer_on_pcsearchs_decoder() -> None:
    setting = _setting_e()
    assert (setting.task, setting.model) == ("ae-cifar10", "ae-deconv")
    assert setting.peer == "", "setting (e) must be run by the pcx peer too"
    params = resolve(setting.task, setting.pc_algorithm, setting.overrides(setting.pc_algorithm))
    args = peer_args(setting, params, ["--npz", "e.npz"])
    flag = lambda name: args[args.index(name) + 1]
    assert args[:2] == ["--npz", "e.npz"]
    assert flag("--model") == "ae-deconv" and flag("--energy") == "se"
    assert flag("--kernel-size") == str(params["kernel_size"]) == "4"
    assert flag("--init") == params["init"] == "zeros"
    h, w, c = deconv.LATENT_SHAPE  # pcsearch: channels-last; the peer: channels-first
    assert flag("--latent-shape") == f"{c},{h},{w}"
    assert flag("--decoder-channels") == ",".join(map(str, deconv.DECODER_CHANNELS))
    assert flag("--weight-schedule") == params["weight_schedule"] == "constant"
    assert flag("--T") == str(params["T"]) == "20"
    assert flag("--activation") == params["activation"]
    assert "--augment" not in args and "--crop" not in args


@pytest.mark.parametrize("kernel", [2, 3, 4, 5, 6])
def test_peer_decoder_layout_is_pcsearchs(kernel: int) -> None:
    """Channels, stride, padding and output padding of every transposed conv."""
    ours = deconv.deconv_decoder((3, 32, 32), kernel, jax.nn.hard_tanh, key=jax.random.PRNGKey(0))
    expected = [
        (
            layer.in_channels,
            layer.out_channels,
            layer.stride[0],
            layer.padding[0][0],
            layer.output_padding[0],
        )
        for layer in ours.layers
    ]
    assert pcx_peer_models.decoder_layout((3, 32, 32), kernel) == expected
    h, w, c = deconv.LATENT_SHAPE
    assert (c, h, w) == pcx_peer_models.LATENT_SHAPE
    assert pcx_peer_models.DECODER_CHANNELS == deconv.DECODER_CHANNELS


def test_peer_transpose_padding_is_pcsearchs() -> None:
    for size in (1, 2, 4, 7):
        for stride in (1, 2, 3):
            for kernel in range(1, 8):
                try:
                    want = deconv.transpose_padding(size, size * stride, stride, kernel)
                except ValueError:
                    with pytest.raises(ValueError):
                        pcx_peer_models.transpose_padding(size, size * stride, stride, kernel)
                    continue
                got = pcx_peer_models.transpose_padding(size, size * stride, stride, kernel)
                assert got == want
