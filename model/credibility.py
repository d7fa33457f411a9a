"""Credibility: how far marginalised speakers are believed (testimonial injustice, Fricker 2007).

One function, read by voice weights (:mod:`model.convening`), by whether what is said is believed
(:mod:`model.knowledge`) and by the emotional labour of taking part (:mod:`model.learning`).
"""

from __future__ import annotations


def credibility(settings) -> float:
    """Credibility of a marginalised speaker relative to others (1): ``(1 - deficit x inequality) **
    (1 - facilitation)``; facilitation shrinks the deficit towards none."""
    deficit = settings.deliberation.credibility_deficit * settings.context.inequality
    return (1.0 - deficit) ** (1.0 - settings.design.facilitation)
