"""Agent-based perpetual-futures market with known ground truth, and the engine's fidelity score.

>>> from liqmap.sim import SimConfig, simulate
>>> res = simulate(SimConfig(seed=7, days=0.5, n_traders=300, regime="crash"))
>>> len(res.bars), bool((res.ledger["long_qty"] - res.ledger["short_qty"]).abs().max() < 1e-9)
(720, True)

The names below load on first use (:mod:`liqmap._lazy`): ``liqmap.sim.enums`` alone imports no numba.
"""

from typing import TYPE_CHECKING

from liqmap._lazy import attach

if TYPE_CHECKING:
    from liqmap.sim.enums import Regime, TraderKind
    from liqmap.sim.market import REGIMES, RegimeParams, SimConfig, SimResult, simulate

__all__ = ["REGIMES", "Regime", "RegimeParams", "SimConfig", "SimResult", "TraderKind", "simulate"]

__getattr__, __dir__ = attach(
    __name__,
    {
        "Regime": "liqmap.sim.enums",
        "TraderKind": "liqmap.sim.enums",
        **dict.fromkeys(("REGIMES", "RegimeParams", "SimConfig", "SimResult", "simulate"), "liqmap.sim.market"),
    },
)
