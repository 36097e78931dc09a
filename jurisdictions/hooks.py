"""Explicit extension points for apps to the right of jurisdictions (which it must not import).

complaints registers, in its AppConfig.ready, what to do when a ruling takes effect (re-dispatch the open
complaints at that place). Registration is explicit and listed here, not a signal hidden in save().
"""

from __future__ import annotations

from collections.abc import Callable

_ruling_confirmed: list[Callable] = []


def on_ruling_confirmed(callback: Callable) -> Callable:
    """Register `callback(ruling=..., by=...)`, called inside the ruling's transaction once it takes effect."""
    if callback not in _ruling_confirmed:
        _ruling_confirmed.append(callback)
    return callback


def ruling_confirmed(*, ruling, by) -> list:
    """Run every registered callback; returns their results (e.g. the complaints re-dispatched)."""
    return [callback(ruling=ruling, by=by) for callback in _ruling_confirmed]
