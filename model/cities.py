"""City contexts from cited data: the five cities of the seed's Urban SDG pilot, and any city file like them.

The seed's programme compared cities (Simon et al. 2016, Environment and Urbanization 28(1): the Urban SDG
pilot in Bangalore, Cape Town, Gothenburg, Greater Manchester and Kisumu). A *city file*
(``scenarios/cities/<name>.toml``) sets the city-context parameters of a scenario from published figures,
each number with its source beside it::

    name = "Cape Town"                       # display name
    country = "South Africa"
    description = "What the preset is for, in a sentence or two"

    [context.inequality]                     # a parameter of the schema, by section and name
    value = 0.58                             # the model value applied to the scenario
    raw = 0.58                               # the published figure, in the indicator's own units
    mapping = "identity"                     # how raw becomes value: one of MAPPINGS (declared below)
    indicator = "Gini coefficient of income"
    source = "Western Cape Government, Provincial Treasury: 2017 Socio-economic Profile, City of Cape Town"
    url = "https://..."                      # optional
    year = 2016                              # the year the figure describes
    scope = "city"                           # city | metro | county | national | national-urban
    note = "..."                             # optional; say here what a non-city scope stands in for

    [context.baseline_trust]                 # a parameter that could not be grounded
    value = "default"                        # keeps the schema's default
    note = "default: no city figure found (what was looked for)"

The loader checks that every key is a parameter of the schema, every value within its bounds, every
figure names a source and a year, and that ``value`` follows from ``raw`` by the named mapping (so a typo
in either is caught). Bad input raises :class:`model.ScenarioError`, one line per fault,
``FILE: key: what is wrong (got X, allowed Y)``, as scenario files do.

Layering, wherever a city is used: scenario file < city < explicit overrides (``--set``, an experiment's
``[set]`` and factors). :meth:`City.overrides` is what a city applies.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coprod.model.scenario import (
    PARAMETERS,
    SECTIONS,
    TEXT_LIMITS,
    Problem,
    Scenario,
    ScenarioError,
    read_toml,
    text_problems,
)

CITIES_DIR = Path(__file__).resolve().parent.parent / "scenarios" / "cities"
DEFAULT = "default"
TOP_LEVEL = ("name", "country", "description")
FIELDS = ("value", "raw", "mapping", "indicator", "source", "url", "year", "scope", "note")
REQUIRED = ("value", "raw", "mapping", "indicator", "source", "year", "scope")
SCOPES = ("city", "metro", "county", "national", "national-urban")
# Years a published figure may describe (assumption): an earlier one is too old to describe a city now, a
# later one is a typo.
YEARS = (1950, 2100)
# How far a stated value may differ from mapping(raw): the files round to three decimals (assumption).
TOLERANCE = 0.0005
# The longest text field, in characters (a citation with its title, or a note): a scenario's description.
TEXT_LIMIT = TEXT_LIMITS["description"]


@dataclass(frozen=True)
class Mapping:
    """A declared rule turning a published figure into a model value (source: assumption)."""

    name: str
    rule: str
    convert: Callable[[float], float]
    raw_range: tuple[float, float]


# The anchors of the declared mappings: the WGI estimate's nominal range (the World Bank gives the
# estimates in units of a standard normal, from approximately -2.5, weak, to 2.5, strong), and a per cent.
WGI_RANGE = (-2.5, 2.5)
PER_CENT = 100


def _wgi(x: float) -> float:
    low, high = WGI_RANGE
    return min(max((x - low) / (high - low), 0.0), 1.0)


# Every mapping from an indicator to a model scale, declared once. Each is an assumption of the modellers:
# the indicator is taken to measure the parameter's concept, linearly, between the anchors named.
MAPPINGS: dict[str, Mapping] = {
    m.name: m
    for m in (
        Mapping(
            "identity", "value = raw (a 0-1 figure used as it is, e.g. a Gini coefficient)", float, (0, 1)
        ),
        Mapping(
            "percent",
            "value = raw / 100 (a percentage used as a share)",
            lambda x: x / PER_CENT,
            (0, PER_CENT),
        ),
        Mapping(
            "wgi_linear",
            "value = (raw + 2.5) / 5: the WGI estimate's nominal -2.5 (weak) .. +2.5 (strong) onto 0..1",
            _wgi,
            WGI_RANGE,
        ),
    )
}


@dataclass(frozen=True)
class Figure:
    """One parameter a city file sets from a published figure."""

    key: str
    value: Any
    raw: float
    mapping: str
    indicator: str
    source: str
    year: int
    scope: str
    url: str = ""
    note: str = ""

    @property
    def stands_in(self) -> bool:
        """True where a figure for a wider area (the country, its urban population) stands in for the city."""
        return self.scope in ("national", "national-urban")


@dataclass(frozen=True)
class City:
    """A validated city file. Build it with :func:`load_city`."""

    stem: str
    name: str
    country: str
    description: str
    path: str
    figures: tuple[Figure, ...]
    defaults: dict[str, str] = field(default_factory=dict)

    def overrides(self) -> dict[str, Any]:
        """The dotted-key settings this city applies (parameters left at the default are not listed)."""
        return {f.key: f.value for f in self.figures}

    def apply(self, scenario: Scenario) -> Scenario:
        """``scenario`` with this city's context on top (its explicit settings below the city's)."""
        return scenario.with_overrides(self.overrides(), source=self.path)

    def to_json(self) -> dict:
        """What a results database records of the city: its name, file and the values it applied."""
        return {"name": self.stem, "title": self.name, "file": self.path, "values": self.overrides()}


# ---------------------------------------------------------------------------------------------- finding


def shipped() -> dict[str, Path]:
    """The shipped cities: file stem -> path, in name order."""
    if not CITIES_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(CITIES_DIR.glob("*.toml"))}


def city_path(name: str) -> Path:
    """The file of ``name``: a shipped city's stem (``cape_town``; ``Cape Town`` too), or a path to a file.

    An unknown name raises :class:`ScenarioError` with one line, suggesting the closest shipped city.
    """
    cities = shipped()
    stem = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    if stem in cities:
        return cities[stem]
    given = Path(name)
    if given.suffix == ".toml" or given.exists() or "/" in str(name):
        return given
    guess = difflib.get_close_matches(stem, list(cities), n=1)
    hint = f"; did you mean {guess[0]}?" if guess else ""
    allowed = ", ".join(cities) + ", or a path to a city file" if cities else "a path to a city file"
    raise ScenarioError([Problem("--city", f"unknown city{hint}", str(name), allowed)], "command line")


def load_city(name_or_path: str | Path) -> City:
    """Read and validate a city file (a shipped city's name, or a path); raise :class:`ScenarioError`."""
    path = city_path(str(name_or_path))
    source = str(path)
    data = read_toml(path)
    problems: list[Problem] = []
    for key, value in data.items():
        if key in TOP_LEVEL:
            if key == "description":
                problems.extend(text_problems(key, value))
            elif not isinstance(value, str) or not value.strip():
                problems.append(Problem(key, "must be non-empty text", value, "a string"))
            elif len(value) > TEXT_LIMITS["name"]:
                limit = TEXT_LIMITS["name"]
                problems.append(Problem(key, f"is {len(value)} characters long", value, f"at most {limit}"))
        elif key in SECTIONS:
            if not isinstance(value, dict):
                problems.append(Problem(key, "must be a table of parameters", value, f"[{key}.<parameter>]"))
        else:
            problems.append(_unknown(key, (*TOP_LEVEL, *SECTIONS), "key"))
    for key in ("name", "country"):
        if key not in data:
            problems.append(Problem(key, "missing", None, "the city's (country's) name"))

    figures: list[Figure] = []
    defaults: dict[str, str] = {}
    for section, table in data.items():
        if section not in SECTIONS or not isinstance(table, dict):
            continue
        for name, entry in table.items():
            key = f"{section}.{name}"
            if key not in PARAMETERS:
                problems.append(_unknown(key, PARAMETERS, "parameter"))
                continue
            if not isinstance(entry, dict):
                problems.append(
                    Problem(key, "must be a table with value, raw, mapping, indicator, source, year, scope")
                )
                continue
            figure = _figure(key, entry, problems)
            if figure is None:
                continue
            if isinstance(figure, str):
                defaults[key] = figure
            else:
                figures.append(figure)
    if problems:
        raise ScenarioError(problems, source)
    city = City(
        stem=path.stem,
        name=data["name"],
        country=data["country"],
        description=data.get("description", ""),
        path=source,
        figures=tuple(figures),
        defaults=defaults,
    )
    try:  # the values together must make a valid scenario (types the bounds check does not see)
        Scenario.build({}).with_overrides(city.overrides(), source=source)
    except ScenarioError as err:
        raise ScenarioError(err.problems, source) from None
    return city


def load_cities() -> list[City]:
    """Every shipped city, validated."""
    return [load_city(path) for path in shipped().values()]


# ---------------------------------------------------------------------------------------------- internals


def _figure(key: str, entry: dict, problems: list[Problem]) -> Figure | str | None:
    """A grounded figure, the note of a parameter left at its default, or None (problems recorded)."""
    before = len(problems)
    for name in entry:
        if name not in FIELDS:
            problems.append(_unknown(f"{key}.{name}", [f"{key}.{f}" for f in FIELDS], "field"))
    if entry.get("value") == DEFAULT:
        note = entry.get("note")
        if not isinstance(note, str) or not note.strip():
            problems.append(
                Problem(
                    f"{key}.note", "missing: say why the default stays", None, "'default: no city figure ...'"
                )
            )
        extra = [n for n in entry if n not in ("value", "note")]
        if extra:
            problems.append(
                Problem(f"{key}.{extra[0]}", "a parameter left at its default has only value and note")
            )
        return None if len(problems) > before else str(note)

    for name in REQUIRED:
        if name not in entry:
            problems.append(Problem(f"{key}.{name}", "missing", None, _allowed(name)))
    for name in ("indicator", "source", "url", "note"):
        if name in entry and (
            not isinstance(entry[name], str) or (name != "note" and not entry[name].strip())
        ):
            problems.append(Problem(f"{key}.{name}", "must be non-empty text", entry[name], _allowed(name)))
        elif name in entry and len(entry[name]) > TEXT_LIMIT:
            problems.append(
                Problem(
                    f"{key}.{name}", f"is {len(entry[name])} characters long", None, f"at most {TEXT_LIMIT}"
                )
            )
    year = entry.get("year")
    if "year" in entry and not (
        isinstance(year, int) and not isinstance(year, bool) and YEARS[0] <= year <= YEARS[1]
    ):
        problems.append(Problem(f"{key}.year", "must be a year", year, _allowed("year")))
    scope = entry.get("scope")
    if "scope" in entry and scope not in SCOPES:
        problems.append(Problem(f"{key}.scope", "unknown scope", scope, _allowed("scope")))

    spec = PARAMETERS[key]
    value = entry.get("value")
    if "value" in entry:
        if not spec.numeric:
            problems.append(Problem(f"{key}.value", "a city sets only numeric parameters", value))
        elif not _number(value):
            problems.append(Problem(f"{key}.value", "must be a number or 'default'", value, spec.allowed()))
        elif spec.type == "int" and not isinstance(value, int):
            problems.append(Problem(f"{key}.value", "must be a whole number", value, spec.allowed()))
        elif not spec.low <= value <= spec.high:
            problems.append(Problem(f"{key}.value", "out of bounds", value, spec.allowed()))
    mapping = MAPPINGS.get(entry.get("mapping"))
    if "mapping" in entry and mapping is None:
        problems.append(Problem(f"{key}.mapping", "unknown mapping", entry["mapping"], _allowed("mapping")))
    raw = entry.get("raw")
    if "raw" in entry and not _number(raw):
        problems.append(Problem(f"{key}.raw", "must be a number", raw, "the published figure"))
    elif mapping is not None and "raw" in entry and not mapping.raw_range[0] <= raw <= mapping.raw_range[1]:
        low, high = mapping.raw_range
        problems.append(
            Problem(
                f"{key}.raw", f"outside the {mapping.name} mapping's range", raw, f"from {low:g} to {high:g}"
            )
        )
    if len(problems) > before:
        return None
    expected = mapping.convert(raw)
    if abs(value - expected) > TOLERANCE:
        problems.append(
            Problem(
                f"{key}.value",
                f"does not follow from raw by the {mapping.name} mapping",
                value,
                f"{expected:.3f} ({mapping.rule})",
            )
        )
        return None
    return Figure(
        key=key,
        value=value if spec.type == "int" else float(value),
        raw=raw,
        mapping=mapping.name,
        indicator=entry["indicator"],
        source=entry["source"],
        year=year,
        scope=scope,
        url=entry.get("url", ""),
        note=entry.get("note", ""),
    )


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x and abs(x) != float("inf")


def _allowed(name: str) -> str:
    return {
        "value": "the model value (a number within the parameter's bounds) or 'default'",
        "raw": "the published figure, in the indicator's own units",
        "mapping": "one of " + ", ".join(MAPPINGS),
        "indicator": "what the figure measures",
        "source": "a citation: title, publisher or authors",
        "url": "where the figure was found",
        "year": f"an integer from {YEARS[0]} to {YEARS[1]}: the year the figure describes",
        "scope": "one of " + ", ".join(SCOPES),
        "note": "text",
    }[name]


def _unknown(key: str, candidates, what: str) -> Problem:
    tail = key.rsplit(".", 1)[-1]
    guess = [c for c in candidates if c.endswith("." + tail) and c != key][:1] if "." in key else []
    guess = guess or difflib.get_close_matches(key, list(candidates), n=1)
    hint = f"; did you mean {guess[0]}?" if guess else ""
    return Problem(key, f"unknown {what}{hint}")


__all__ = [
    "CITIES_DIR",
    "MAPPINGS",
    "SCOPES",
    "City",
    "Figure",
    "Mapping",
    "city_path",
    "load_cities",
    "load_city",
    "shipped",
]
