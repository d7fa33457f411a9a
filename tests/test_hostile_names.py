"""A name typed into "Stored results" that the operating system refuses is one plain message, not a
traceback (issue 13, finding 2)."""

from __future__ import annotations

import pytest
from coprod.dashboards.results import ResultsError, resolve


@pytest.mark.parametrize("name", ["a" * 300 + ".db", ("d" * 200 + "/") * 30 + "x.db", "a" * 5000])
def test_a_name_the_system_refuses_is_a_results_error(tmp_path, name):
    with pytest.raises(ResultsError) as caught:
        resolve(name, tmp_path)
    message = str(caught.value)
    assert "cannot be a file name here" in message or "ends in" in message
    assert len(message) < 300  # the name is shortened, never echoed whole
