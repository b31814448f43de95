"""A one-line progress bar on stderr for epochs of a training run."""

from __future__ import annotations

import sys


class EpochBar:
    def __init__(self, total: int, width: int = 30) -> None:
        self.total, self.width = total, width

    def update(self, record) -> None:
        done = int(self.width * record.epoch / self.total)
        bar = "=" * done + "." * (self.width - done)
        value = "n/a" if record.value is None else f"{record.value:.4f}"
        energy = sum(record.energy_per_layer)
        sys.stderr.write(
            f"\repoch {record.epoch:>3}/{self.total} [{bar}] test {value}  "
            f"energy {energy:.3g}  {record.seconds:.2f}s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
