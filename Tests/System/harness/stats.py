"""Small statistics shared by the benchmarks: medians and ranges over samples that may be missing."""

from __future__ import annotations

import statistics
from typing import Iterable


def present(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def median(values: Iterable[float | None]) -> float | None:
    found = present(values)
    return statistics.median(found) if found else None


def span(values: Iterable[float | None]) -> tuple[float, float] | None:
    """(min, max) of the present values, None when there are none."""
    found = present(values)
    return (min(found), max(found)) if found else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def fmt_ratio(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "n/a"
