"""Cassettes: the exchanges ``runware-mock proxy --record`` keeps (``cassette``), and
``serve --replay`` answering the requests they hold with the recorded answers (``layer``)."""
