"""Issue 11: the package's shape. Each task type is one module the registry finds, agreeing
with the contract's schemas; the catalog is the one source of model knowledge; the wheel's
package list covers every folder; no test module imports another."""

from __future__ import annotations

import ast
import tomllib
from collections import defaultdict
from pathlib import Path

from runware_mock.contract import model_catalog, schemas
from runware_mock.tasks import task_types

ROOT = Path(__file__).resolve().parents[2]


def test_every_task_type_the_contract_names_has_one_module_and_no_more() -> None:
    assert sorted(task_types()) == sorted(schemas.TASK_TYPES)


def test_each_task_type_names_the_schema_the_contract_validates_it_with() -> None:
    for name, task_type in task_types().items():
        # None: the model's family chooses the schema, from the catalog.
        assert task_type.schema == schemas.TASK_SCHEMAS.get(name), name
        if task_type.schema is None:
            assert model_catalog.airs(name), f"{name} takes a model but the catalog has none"


def test_every_catalog_model_has_a_schema_and_a_price() -> None:
    for air, model in model_catalog.models().items():
        assert model.family.schema in schemas.names(), air
        # Zero where the documentation shows a free task (caption); the oracle table checks
        # every rate against its source (tests/test_oracle.py).
        assert model.price.usd >= 0, air
        assert model_catalog.PRICE_RULES[model.price.rule](defaultdict(lambda: 10.0)) > 0, air


def test_the_wheel_lists_every_package_folder() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    folders = {".".join(init.parent.relative_to(ROOT).parts)
               for init in (ROOT / "runware_mock").rglob("__init__.py")}
    assert folders | {"runware_mock.fixtures"} == listed


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_test_module_imports_another() -> None:
    """What tests share lives in conftest.py and helper modules, so a test module can move or
    go without breaking another."""
    tests = ROOT / "tests"
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path)
            if name.rpartition(".")[2].startswith("test_"))
        for path in tests.rglob("*.py") if "sdk_scripts" not in path.parts}
    assert {path: names for path, names in offenders.items() if names} == {}


SERVER_FIXTURES = {"server", "server_factory", "client", "file_server", "emulator", "rest"}
SERVER_MODULES = ("runware_mock.runner", "runware_mock.contract.harness", "tests.server_process",
                  "tests.supervised", "subprocess")


def test_the_unit_tests_start_no_server() -> None:
    """tests/unit/ runs in process, in under a minute (README): a test that needs a server,
    its command or a subprocess lives beside them in tests/ (the store's own writer process is
    the store's business)."""
    found: dict[str, list[str]] = {}
    for path in (ROOT / "tests" / "unit").rglob("test_*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        fixtures = {arg.arg for node in ast.walk(tree)
                    if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
                    for arg in node.args.args} & SERVER_FIXTURES
        modules = {name for name in imported_modules(path) if name.startswith(SERVER_MODULES)}
        if fixtures or modules:
            found[path.name] = sorted(fixtures | modules)
    assert found == {}


def test_a_schema_that_lists_models_lists_every_model_of_its_families() -> None:
    """The catalog and the schemas name the same models (an open source's AIRs, such as any
    civitai model, are judged as a listed one: contract/validation.py)."""
    for air, model in model_catalog.models().items():
        listed = schemas.load(model.family.schema)["properties"]["model"].get("enum")
        assert listed is None or air in listed, (air, model.family.schema)


def test_the_import_contracts_list_every_contract_and_proxy_module() -> None:
    """Two contracts name their source modules one by one (the harness and the proxy's
    assembly have contracts of their own): a new module must not escape them."""
    contracts = {contract["name"]: set(contract.get("source_modules", ())) for contract in
                 tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
                 ["contracts"]}
    for package, own_contracts in (("contract", {"harness", "plugin"}),
                                   ("proxy", {"assembly"})):
        modules = {f"runware_mock.{package}.{path.stem}"
                   for path in (ROOT / "runware_mock" / package).glob("*.py")
                   if path.stem != "__init__" and path.stem not in own_contracts}
        listed = set().union(*(names for names in contracts.values()
                               if any(name.startswith(f"runware_mock.{package}.")
                                      for name in names)))
        assert modules <= listed, sorted(modules - listed)
