"""Fault injection: the catalog of faults, the rules that choose them, and the injector."""

from runware_mock.faults.fault_kinds import (
    DELIVERY,
    TASK,
    TRANSPORT,
    FaultSpecError,
    Traffic,
)
from runware_mock.faults.injector import Fault, FaultInjector
from runware_mock.faults.rules import HEADER, Rule, header_rules, load_profile

__all__ = ["DELIVERY", "HEADER", "TASK", "TRANSPORT", "Fault", "FaultInjector",
           "FaultSpecError", "Rule", "Traffic", "header_rules", "load_profile"]
