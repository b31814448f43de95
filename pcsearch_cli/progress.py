"""A one-line progress bar on stderr for epochs of a training run."""

from __future__ import annotations

import sys


class EpochBar:
    def __init__(self, total: int, bar_width: int = 30) -> None:
        self.total, self.bar_width = total, bar_width
        self.width = 0
        """Longest line so far: shorter ones are padded to wipe its tail."""

    def update(self, record) -> None:
        done = int(self.bar_width * record.epoch / self.total)
        bar = "=" * done + "." * (self.bar_width - done)
        value = "n/a" if record.value is None else f"{record.value:.4f}"
        energy = sum(record.energy_per_layer)
        line = (
            f"epoch {record.epoch:>3}/{self.total} [{bar}] test {value}  "
            f"energy {energy:.3g}  {record.seconds:.2f}s"
        )
        sys.stderr.write("\r" + line.ljust(self.width))
        self.width = max(self.width, len(line))
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
