"""The contract suite:
``pytest --pyargs runware_mock.contract.suite [--runware-url URL --runware-api-key K]``.

It sends valid and invalid traffic to a Runware endpoint and checks every reply against the
response schemas and the error catalog. Without ``--runware-url`` it starts an emulator and
must pass; against the real service a failure is drift between it and the emulator. Against a
real URL only tasks that cost nothing run, unless ``--runware-allow-spend`` is given.
"""
