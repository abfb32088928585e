"""Enumerations of the analytics: shock direction, impact model kind and validation objective."""

from __future__ import annotations

from enum import StrEnum

from liqmap.errors import LiqmapError


class Direction(StrEnum):
    """Direction of a shock."""

    UP = "up"
    DOWN = "down"


class ImpactKind(StrEnum):
    """Market-impact model of a cascade (:mod:`liqmap.analytics.impact`)."""

    SQRT = "sqrt"  # square-root law calibrated on bars
    BOOK = "book"  # walk of an order-book snapshot


class Objective(StrEnum):
    """What the leverage-mix calibration maximises on the training span."""

    CAPTURE = "capture"  # top-decile capture
    LOG_SCORE = "log-score"  # mean log-likelihood gain over a flat density (a proper scoring rule)

    @classmethod
    def parse(cls, value: Objective | str) -> Objective:
        """Parse ``"capture"``/``"log-score"`` with a message listing both."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise LiqmapError(f"unknown objective {value!r}; use capture or log-score") from None
