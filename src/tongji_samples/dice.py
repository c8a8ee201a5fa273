"""The one random stream of a sample city, with the few shapes of draw the city needs."""

from __future__ import annotations

import math

import numpy as np

from tongji_samples.names import GIVEN, SURNAMES


class Dice:
    """The one random stream, with the few shapes of draw the city needs."""

    def __init__(self, seed: int | list[int]) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._later: Dice | None = None

    @property
    def later(self) -> Dice:
        """A stream of its own for what the forms gained after the sample city was first drawn (the lines and
        cover items of domain v2): drawing those here leaves every earlier draw where it was, so the city keeps
        its units, its values, its seeded mistakes and the examples the guides quote."""
        if self._later is None:
            self._later = Dice([*(self.seed if isinstance(self.seed, list) else [self.seed]), 2])
        return self._later

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def between(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def int(self, lo: int, hi: int) -> int:
        """lo..hi inclusive."""
        return int(self.rng.integers(lo, hi + 1))

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def shuffled(self, items: list) -> list:
        return [items[i] for i in self.rng.permutation(len(items))]

    def cents(self, lo: float, hi: float) -> int:
        """An amount in 分 between lo and hi 元."""
        return round(self.between(lo, hi) * 100)

    def round_yuan(self, lo: float, hi: float, step: int) -> int:
        """A round amount in 分, a multiple of `step` 元: grants and gifts come in round numbers."""
        return max(1, round(self.between(lo, hi) / step)) * step * 100

    def lognormal(self, median: float, sigma: float) -> float:
        return float(self.rng.lognormal(math.log(median), sigma))

    def split(self, total: int, weights: list[float]) -> list[int]:
        """`total` in integer parts proportional to `weights`; the first part takes the rounding."""
        s = sum(weights) or 1.0
        parts = [math.floor(total * w / s) for w in weights]
        parts[0] += total - sum(parts)
        return parts

    def person(self) -> str:
        return self.pick(SURNAMES) + "".join(self.pick(GIVEN) for _ in range(self.int(1, 2)))

    def phone(self) -> str:
        if self.chance(0.5):
            return f"0571-8{self.int(0, 9_999_999):07d}"
        return f"1{self.pick('35789')}{self.int(0, 999_999_999):09d}"
