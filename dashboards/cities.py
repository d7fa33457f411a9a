"""The city picker: set the city-context controls from a city file of the Urban SDG pilot's five cities.

Plain functions first (which cities, what a pick does to a :class:`dashboards.choices.Draft`), then the
component. Picking a city puts its values into the draft as if the sliders had been moved (scenario
defaults < city < what is moved afterwards); picking another city or "none" first takes the previous
city's values back out. Each value is shown with its source, year and scope, as the city file states them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache
from html import escape
from types import MappingProxyType

import solara
from coprod.dashboards.choices import Draft, label_of
from coprod.dashboards.widgets import Prose
from coprod.model import City, load_cities
from solara.alias import rv

NONE = "none"
NO_CITY_LABEL = "None (the design's own city settings)"


@cache
def cities() -> dict[str, City]:
    """The shipped cities, by file stem (read and validated once per process)."""
    return {city.stem: city for city in load_cities()}


def city_names() -> dict[str, str]:
    """Picker entry -> label: "none" first, then each city as "Name, Country"."""
    return {NONE: NO_CITY_LABEL, **{stem: f"{c.name}, {c.country}" for stem, c in cities().items()}}


def with_city(draft: Draft, old: str | None, new: str | None) -> Draft:
    """``draft`` with the city ``old`` taken out (its values, where still as the city set them) and the city
    ``new`` put in; ``None`` or "none" is no city."""
    values = dict(draft.values)
    if old and old != NONE and old in cities():
        for key, value in cities()[old].overrides().items():
            if values.get(key) == value:
                del values[key]
    if new and new != NONE:
        values.update(cities()[new].overrides())
    return replace(draft, values=MappingProxyType(values))


def sources(stem: str) -> list[str]:
    """One plain line per value the city sets, and per parameter it leaves at the default."""
    city = cities()[stem]
    lines = []
    for f in city.figures:
        where = "; a national figure stands in for the city" if f.stands_in else ""
        lines.append(
            f"{label_of(f.key)}: {f.value:g} (from {f.indicator}, {f.raw:g}, {f.year}; {f.source}{where})"
        )
    for key, note in city.defaults.items():
        lines.append(f"{label_of(key)}: left as it is ({note})")
    return lines


@solara.component
def CityPicker(city: str | None, on_city: Callable[[str], None]):
    """A choice of "none" or one of the five cities; the city's values and their sources under it."""
    names = city_names()
    stems = {label: stem for stem, label in names.items()}
    current = city if city in names else NONE
    rv.Autocomplete(
        label="City context (Urban SDG pilot, Simon et al. 2016)",
        items=list(names.values()),
        v_model=names[current],
        on_v_model=lambda label: label in stems and on_city(stems[label]),
        dense=True,
        class_="city-picker",
    )
    if current == NONE:
        solara.Text(
            "No city: the sliders start from the design's own settings.",
            style={"font-size": "0.85rem", "color": "#444"},
        )
        return
    chosen = cities()[current]
    solara.Text(
        f"{chosen.name}: {len(chosen.figures)} settings from published figures; moving a slider afterwards "
        "overrides the city's value.",
        classes=["city-summary"],
        style={"font-size": "0.85rem", "color": "#444"},
    )
    with solara.Details("Where these numbers come from"):
        Prose([escape(line) for line in sources(current)], bullets=True)
