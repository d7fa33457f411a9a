"""The workshop dashboard: a Solara app (``app.py``) served by ``coprod dashboard`` (``serve.py``)."""
