"""Issue 11: the package's shape. Each task type is one module the registry finds, agreeing
with the contract's schemas; the catalog is the one source of model knowledge; the wheel's
package list covers every folder."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path

from runware_mock.contract import model_catalog, schemas
from runware_mock.tasks import task_types

ROOT = Path(__file__).resolve().parent.parent


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
        assert model.price.usd > 0, air
        assert model_catalog.PRICE_RULES[model.price.rule](defaultdict(lambda: 10.0)) > 0, air


def test_the_wheel_lists_every_package_folder() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    folders = {".".join(init.parent.relative_to(ROOT).parts)
               for init in (ROOT / "runware_mock").rglob("__init__.py")}
    assert folders | {"runware_mock.fixtures"} == listed
