"""The project installs under one namespace, ``coprod``, so a user's own files cannot shadow it.

Before, the folders installed as the top-level packages ``model``, ``experiments`` and ``dashboards``:
a ``model.py`` in the folder a user worked in came first on ``sys.path`` and ``from model import
GovernanceModel`` failed inside the project's own modules (issue 14, "Clean hand-offs").
"""

from __future__ import annotations

import os
import subprocess
import sys

# a user's own modules with the names the folders have in the repository; importing any of them fails loudly
USERS_OWN = ("model", "experiments", "dashboards")

USE_THE_PROJECT = """
from coprod import evaluate
from coprod.cli import main
from coprod.dashboards import words
from coprod.experiments import sweep
from coprod.model import GovernanceModel, load_scenario
outputs = evaluate({"population.residents": 60}, steps=2, seed=1)
print("ran", len(outputs), "outputs")
"""


def test_a_users_model_py_in_the_working_folder_does_not_break_the_project(tmp_path):
    for name in USERS_OWN:
        own = f"raise RuntimeError('the user\\'s own {name}.py was imported')\n"
        (tmp_path / f"{name}.py").write_text(own)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", USE_THE_PROJECT], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("ran ")
    # and the user's own module is the one that `import model` finds there: the folders are not top-level
    theirs = subprocess.run(
        [sys.executable, "-c", "import model"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert "the user's own model.py was imported" in theirs.stderr
