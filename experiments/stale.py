"""Set aside a results database that holds an experiment from other model code or another definition.

A sweep refuses to add to such a database (:func:`experiments.sweep.check_compatible`: results never mix).
With ``coprod sweep --set-aside-stale`` it is renamed ``NAME.<its code version>.db`` instead (kept, never
deleted) and the sweep starts a new one, which is what ``make run`` does after the model changed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from coprod.experiments.sweep import check_compatible
from coprod.model import code_version


def set_aside_if_stale(db: Path, experiment) -> None:
    """Rename ``db`` to ``NAME.<code version>.db`` if it holds ``experiment`` from other code or setup."""
    from coprod.experiments.store import Store, StoreError

    if not db.is_file():
        return
    with Store.existing(db) as store:
        try:
            check_compatible(store, experiment.name, experiment.definition(), code_version())
            return
        except StoreError:
            versions = sorted({r["code_version"] for r in store.runs_of(experiment.name, "done")})
    tag = (versions[-1] if len(versions) == 1 else time.strftime("%Y%m%dT%H%M%S")).replace("+", "-")
    target = db.with_name(f"{db.stem}.{tag}{db.suffix}")
    n = 1
    while target.exists():
        n += 1
        target = db.with_name(f"{db.stem}.{tag}-{n}{db.suffix}")
    for suffix in ("-wal", "-shm", ""):  # a write-ahead log left by another connection goes with it
        extra = db.with_name(db.name + suffix)
        if extra.exists():
            extra.rename(target.with_name(target.name + suffix))
    print(
        f"{db}: held {experiment.name!r} from other model code or another definition; "
        f"kept as {target}, starting a new database",
        file=sys.stderr,
    )


__all__ = ["set_aside_if_stale"]
