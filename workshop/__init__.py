"""Workshop mode (``coprod workshop``): a room of participants plays one live simulated city; a facilitator
steps, rewinds and branches it. The engine is :mod:`coprod.workshop.engine`, its record
:mod:`coprod.workshop.record` and the replay of a branch :mod:`coprod.workshop.replay`; the web pages live in
``workshop/pages`` and ``workshop/serve.py``."""
