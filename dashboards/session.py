"""Sessions both ways: a set-up put into Explore's controls from outside the view.

Two ways in: a scenario file loaded on the page (one from ``scenarios/``, or the TOML the page itself
exports under Downloads), and a run stored in a results file ("Open this run in Explore"). Either becomes a
:class:`dashboards.choices.Draft` that checks back to exactly the scenario it came from (every parameter,
those without a slider too), so the run on screen is the one ``coprod run FILE`` (or ``coprod rerun``)
computes. A file that cannot be loaded is refused in one line, in the schema's own words (file, key, value,
what is allowed), and changes nothing.

Explore's set-up lives in :class:`Setup`, made once per browser session by the page (``app.Page``) and
handed to the view, so that the stored-results view can put a set-up there and switch tabs.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipyvuetify as v
import solara
import traitlets
from coprod.dashboards.choices import Draft, beyond_page
from coprod.dashboards.results import StoredRun
from coprod.dashboards.widgets import InfoTip
from coprod.model import TEXT_LIMITS, Problem, Scenario, ScenarioError, load_scenario

# The largest file the page reads: the limit every input file has (``model.files.MAX_INPUT_BYTES``);
# ``load_scenario`` checks it again on what arrives.
MOST_BYTES = 1_000_000
LOAD_TIP = (
    "A scenario file from scenarios/, or one this page exported (Downloads, Scenario): every control is set "
    "from it, so the run here is the one `coprod run FILE` gives. A file can be dropped on the button too."
)
SHOWN_PROBLEMS = 3  # a file with more problems names the first few and says how many more
NAME_CHARACTERS = 80  # a file's name as the page shows it, at most


@dataclass(frozen=True)
class Loaded:
    """What a load gave: the draft and where it came from, or one line saying why nothing changed."""

    draft: Draft | None
    source: str
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.draft is not None


def shown_name(name: Any) -> str:
    """A file's name as the browser gave it, for messages: its last part, printable, not too long."""
    text = str(name).replace("\\", "/").rsplit("/", 1)[-1].strip() if isinstance(name, str) else ""
    text = "".join(c if c.isprintable() else "?" for c in text) or "the file"
    return text if len(text) <= NAME_CHARACTERS else text[: NAME_CHARACTERS - 3] + "..."


def refusal(source: str, problems: list[Problem]) -> str:
    """One line: what stops ``source`` loading, each problem as the schema renders it."""
    lines = [p.render(source) for p in problems[:SHOWN_PROBLEMS]]
    more = len(problems) - SHOWN_PROBLEMS
    tail = f"; and {more} more problem{'s' if more > 1 else ''}" if more > 0 else ""
    return f"Not loaded, nothing changed: {'; '.join(lines)}{tail}."


def accept(scenario: Scenario, source: str) -> Loaded:
    """A valid scenario as a draft, unless the page cannot run it (see :func:`choices.beyond_page`)."""
    too_big = beyond_page(scenario)
    if too_big:
        return Loaded(None, source, refusal(source, too_big))
    return Loaded(Draft.from_scenario(scenario), source)


def load_bytes(name: str, data: bytes) -> Loaded:
    """A scenario file's bytes, read as ``coprod run`` reads a file (``model.load_scenario``: the same
    checks, the same messages), with ``name`` as the file's name in them."""
    source = shown_name(name)
    with tempfile.TemporaryDirectory(prefix="coprod-load-") as folder:
        path = Path(folder) / "scenario.toml"
        path.write_bytes(data)
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            return Loaded(None, source, refusal(source, err.problems))
    return accept(scenario, source)


def load_path(path: str | Path) -> Loaded:
    """A scenario file on this machine, as the page loads it (for tests and scripts)."""
    path = Path(path)
    try:
        scenario = load_scenario(path)
    except ScenarioError as err:
        return Loaded(None, path.name, refusal(path.name, err.problems))
    return accept(scenario, path.name)


def from_upload(message: Any) -> Loaded:
    """What the file picker sent (``{"name", "size", "data"}``, ``data`` base64), never trusted: any
    shape it should not have is one line too."""
    if not isinstance(message, dict):
        return Loaded(None, "the file", "Not loaded, nothing changed: the browser sent no file.")
    source = shown_name(message.get("name"))
    size, data = message.get("size"), message.get("data")
    if isinstance(size, int) and size > MOST_BYTES:
        problem = Problem("file", f"is {size:_} bytes; an input file may have at most {MOST_BYTES:_}")
        return Loaded(None, source, refusal(source, [problem]))
    if not isinstance(data, str) or len(data) > 2 * MOST_BYTES:
        return Loaded(
            None, source, f"Not loaded, nothing changed: {source}: the browser did not send it whole."
        )
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return Loaded(
            None, source, f"Not loaded, nothing changed: {source}: the browser did not send it whole."
        )
    return load_bytes(source, raw)


def from_stored(run: StoredRun, params: Mapping[str, Any], source: str) -> Loaded:
    """A stored run's settings as a draft: the scenario ``coprod rerun`` rebuilds from them, with the seed
    the run was computed with (the ``seed`` column). ``source`` names the run, for the page."""
    from coprod.experiments.worker import scenario_from_params

    settings = {**params, "run.seed": run.seed}
    # the base scenario's name, where it is a name a file can hold (stored text may be anything)
    name = run.scenario if isinstance(run.scenario, str) else ""
    name = name if name.isprintable() and 0 < len(name) <= TEXT_LIMITS["name"] else "stored_run"
    try:
        scenario = scenario_from_params(name, settings)
    except ScenarioError as err:
        lines = [p.render("its stored settings") for p in err.problems[:SHOWN_PROBLEMS]]
        return Loaded(None, source, f"This run cannot be opened in Explore: {'; '.join(lines)}.")
    too_big = beyond_page(scenario)
    if too_big:
        lines = [p.render("its stored settings") for p in too_big]
        return Loaded(None, source, f"This run cannot be opened in Explore: {'; '.join(lines)}.")
    return Loaded(Draft.from_scenario(scenario), source)


# ------------------------------------------------------------------------------------- Explore's set-up


@dataclass(frozen=True)
class Origin:
    """Where the last whole set-up came from: ``count`` numbers them, so the set-up panel starts afresh
    (its city picker, its typed boxes) with each one; ``draft`` is the draft as it arrived."""

    source: str
    draft: Draft
    count: int


@dataclass(frozen=True)
class Setup:
    """Explore's draft for one browser session, and where its last whole set-up came from."""

    draft: solara.Reactive[Draft]
    origin: solara.Reactive[Origin | None]

    def put(self, draft: Draft, source: str) -> None:
        """Put a whole set-up in (the controls follow; a new run starts with it)."""
        count = self.origin.value.count + 1 if self.origin.value else 1
        self.draft.set(draft)  # first: the panel that starts afresh below reads this draft
        self.origin.set(Origin(source, draft, count))

    def note(self) -> str:
        origin = self.origin.value
        if origin is None:
            return ""
        if origin.draft == self.draft.value:
            return f"Set up from {origin.source}."
        return f"Set up from {origin.source}, changed since."


def use_setup() -> Setup:
    return Setup(solara.use_reactive(Draft()), solara.use_reactive(None))


# ----------------------------------------------------------------------------------------- the picker

PICKER = """
<template>
  <div class="scenario-load" @dragover.prevent @drop.prevent="dropped" title="Or drop a file here">
    <input ref="chooser" type="file" accept=".toml,text/plain,application/toml" class="scenario-file"
           style="display: none" @change="picked">
    <v-btn small outlined color="primary" class="scenario-load-button" @click="$refs.chooser.click()">
      <v-icon left small>mdi-file-upload-outline</v-icon>{{ label }}
    </v-btn>
  </div>
</template>
<script>
module.exports = {
  methods: {
    picked(event) {
      const file = event.target.files[0];
      event.target.value = "";  // the same file picked again loads again
      if (file) this.readFile(file);
    },
    dropped(event) {
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (file) this.readFile(file);
    },
    readFile(file) {
      if (file.size > this.most) {  // refused on the server, in the schema's words, without sending it
        this.scenario_file({name: file.name, size: file.size});
        return;
      }
      const reader = new FileReader();
      reader.onload = () => {
        const bytes = new Uint8Array(reader.result);
        let text = "";
        for (let i = 0; i < bytes.length; i += 8192) {
          text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
        }
        this.scenario_file({name: file.name, size: file.size, data: btoa(text)});
      };
      reader.readAsArrayBuffer(file);
    },
  },
};
</script>
"""


class FilePickerWidget(v.VuetifyTemplate):
    """A button that opens the browser's file chooser (a file can be dropped on it too) and sends the
    chosen file's bytes, base64, to :attr:`receive`."""

    template = traitlets.Unicode(PICKER).tag(sync=True)
    label = traitlets.Unicode("Load a scenario file").tag(sync=True)
    most = traitlets.Int(MOST_BYTES).tag(sync=True)
    receive = traitlets.Any(None, allow_none=True)  # Python only: called with what the browser sent

    def vue_scenario_file(self, message: Any) -> None:
        if self.receive is not None:
            self.receive(message)


@solara.component
def ScenarioLoader(on_draft: Callable[[Draft, str], None]):
    """Load a scenario file into the controls; a file that cannot be loaded is one line under the button."""
    problem = solara.use_reactive("")

    def receive(message: Any) -> None:
        loaded = from_upload(message)
        problem.set(loaded.problem)
        if loaded.ok:
            on_draft(loaded.draft, loaded.source)

    with solara.Column(gap="0px", classes=["scenario-loader"]):  # one root: the picker is never rebuilt
        with solara.Row(gap="4px", style={"align-items": "center"}):
            FilePickerWidget.element(label="Load a scenario file (.toml)", receive=receive)
            InfoTip(LOAD_TIP)
        if problem.value:
            solara.Text(problem.value, classes=["field-problem", "load-problem"])
