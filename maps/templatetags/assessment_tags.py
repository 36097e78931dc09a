"""Template filters of the assessment page."""

from django import template

register = template.Library()


@register.filter
def pct(value) -> str:
    """A share 0–1 as a percentage with one decimal; "—" when there was nothing to measure."""
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def signed(value) -> str:
    """A change with its sign (+3.5, −2.0); "—" when there is no earlier month."""
    if value is None:
        return "—"
    return f"+{value:g}" if value > 0 else f"−{abs(value):g}" if value < 0 else "0"
