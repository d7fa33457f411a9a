"""coproduction-abm: an agent-based model of just coproduction in urban governance."""

from model.scenario import (
    PARAMETERS,
    ParamSpec,
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    parameters,
    parse_assignment,
)

__all__ = [
    "PARAMETERS",
    "ParamSpec",
    "Problem",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parameters",
    "parse_assignment",
]
