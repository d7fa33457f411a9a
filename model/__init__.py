"""coproduction-abm: an agent-based model of just coproduction in urban governance.

The public API; ``experiments/`` and ``dashboards/`` use only what is exported here.
"""

from coprod.model.agents import Academic, CivilSocietyGroup, Official, Resident
from coprod.model.cities import MAPPINGS, City, Figure, city_path, load_cities, load_city, shipped
from coprod.model.governance import GovernanceModel
from coprod.model.institutions import DESIGN_PRESETS
from coprod.model.metrics import CONSENSUS, DESCRIPTIONS, MARKERS, OUTPUTS, QUALITIES, RISKS, SIGNATURES
from coprod.model.scenario import (
    PARAMETERS,
    TEXT_LIMITS,
    ParamSpec,
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    parameters,
    parse_assignment,
    read_toml,
    text_problems,
)
from coprod.model.simulate import code_version, simulate
from coprod.model.theories import THEORY_PRESETS

__all__ = [
    "CONSENSUS",
    "DESCRIPTIONS",
    "DESIGN_PRESETS",
    "MAPPINGS",
    "MARKERS",
    "OUTPUTS",
    "PARAMETERS",
    "QUALITIES",
    "RISKS",
    "SIGNATURES",
    "TEXT_LIMITS",
    "THEORY_PRESETS",
    "Academic",
    "City",
    "CivilSocietyGroup",
    "Figure",
    "GovernanceModel",
    "Official",
    "ParamSpec",
    "Problem",
    "Resident",
    "Scenario",
    "ScenarioError",
    "city_path",
    "code_version",
    "load_cities",
    "load_city",
    "load_scenario",
    "parameters",
    "parse_assignment",
    "read_toml",
    "shipped",
    "simulate",
    "text_problems",
]
