"""The workshop's web pages (Solara), served by one process for the whole room (:mod:`coprod.workshop.serve`).

Routes (:mod:`.app`): ``/`` join, ``/play?token=...`` a participant's page, ``/facilitator?token=...`` the
facilitator's, ``/projector`` the room's screen. Every page reads and changes the one live workshop held in
:mod:`.live` and refreshes itself when the workshop's ``version`` moves.
"""
