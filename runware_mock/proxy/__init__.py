"""``runware-mock proxy``: the real service behind the emulator's endpoints, every exchange
passed through unchanged and checked against what the emulator would have answered.

``relay_rest`` and ``relay_websocket`` pass the traffic through; ``observer`` takes each
finished exchange off the client's path and hands it to ``drift`` (the comparison, against
the in-process emulator of ``shadow``) and ``recorder`` (the cassette); ``report`` keeps the
drift report. ``app`` assembles them.
"""
