"""``runware-mock proxy``: the real service behind the emulator's endpoints, every exchange
passed through unchanged and checked against what the emulator would have answered.

``relay_rest`` and ``relay_websocket`` pass the traffic through; ``observer`` takes each
finished exchange off the client's path: ``parsed_answer`` reads it, ``conversation`` asks
the in-process emulator of ``shadow`` the same and ``drift`` compares the two, ``report``
keeps the drift report and ``recorder`` the cassette. ``assembly`` makes the app of them,
``command`` serves it.
"""
