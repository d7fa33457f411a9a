"""Every output the model stores has a readable name, a direction and the reason for it, in one place."""

from __future__ import annotations

from coprod.experiments.report_labels import FAMILIES, KEY_OUTPUTS, REASONS, direction, label, ranked
from coprod.model import CONSENSUS, MARKERS, OUTPUTS, QUALITIES, RISKS, SIGNATURES


def test_every_output_has_a_readable_name_a_direction_and_a_reason():
    for name in OUTPUTS:
        assert label(name) != name and "_" not in label(name), name
        assert direction(name) in ("higher is better", "lower is better", "neither better nor worse"), name
        assert len(REASONS.get(name, "")) > 20, name
    assert set(REASONS) == set(OUTPUTS)
    assert [o for family in FAMILIES for o in family[1]] == list(OUTPUTS)


def test_the_canonical_outputs_are_ranked_and_the_theories_signatures_are_not():
    assert [o for o in OUTPUTS if ranked(o)] == [*MARKERS, *CONSENSUS, *QUALITIES, *RISKS]
    assert not any(ranked(o) for o in SIGNATURES)
    assert direction("consensus_bias") == "lower is better"
    assert direction("marginalised_influence") == "higher is better"  # its shortfall is the bias
    assert all(direction(o) == "lower is better" for o in RISKS)
    assert set(KEY_OUTPUTS) <= {o for o in OUTPUTS if ranked(o)}
