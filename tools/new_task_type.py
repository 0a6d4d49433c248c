"""``python3 dev.py new-task-type NAME``: the files of a new task type, which pass CI as made.

Writes, from the templates in ``task_type_templates/``:

- ``runware_mock/tasks/<name>.py``: the handler (model checked against the catalog), its
  ``Work`` and ``TASK_TYPE``; the result is a real placeholder of the declared output kind (an
  image file, or text) made from the input image, the model and the emulator's ``--seed``;
- ``runware_mock/contract/schemas/request.<NAME>.json`` and ``response.<NAME>.json`` (one per
  name the task type is sent under);
- ``runware_mock/contract/models/<name>.toml``: its family and first model in the catalog;
- ``tests/test_<name>.py``: a real-server test of every way the task is sent and answered,
  and ``tests/oracle.d/<name>.toml``: its rows of the oracle table (bounds and price);
- ``docs/task-types/<name>.md`` and its entry in mkdocs.yml's nav;

then regenerates the typed requests (``request_types.py``) and the generated docs tables. See
docs/adding-a-task-type.md.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "task_type_templates"
OUTPUTS = ("image", "text")
# A task type's name is a taskType string: a lower camelCase word, as the API's are.
NAME = re.compile(r"^[a-z][a-zA-Z0-9]{1,40}$")
AIR = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class TaskTypeSpec:
    name: str
    aliases: tuple[str, ...]
    output: str
    model: str
    summary: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def snake(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()

    @property
    def camel(self) -> str:
        return self.name[0].upper() + self.name[1:]

    @property
    def kebab(self) -> str:
        return self.snake.replace("_", "-")


def files(spec: TaskTypeSpec) -> dict[Path, str]:
    """Every file the scaffold writes, by path, rendered."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True,
                              lstrip_blocks=True)
    environment.filters["json"] = json.dumps

    def render(template: str, **extra: object) -> str:
        return environment.get_template(template).render(spec=spec, **extra)

    made = {
        Path("runware_mock/tasks", f"{spec.snake}.py"): render("task.py.j2"),
        Path("runware_mock/contract/schemas", f"request.{spec.name}.json"):
            render("request.json.j2"),
        Path("runware_mock/contract/models", f"{spec.snake}.toml"): render("catalog.toml.j2"),
        Path("tests", f"test_{spec.snake}.py"): render("test.py.j2"),
        Path("tests/oracle.d", f"{spec.snake}.toml"): render("oracle.toml.j2"),
        Path("docs/task-types", f"{spec.kebab}.md"): render("docs.md.j2"),
    }
    for name in spec.names:
        made[Path("runware_mock/contract/schemas", f"response.{name}.json")] = render(
            "response.json.j2", answered_as=name)
    return made


def nav_entry(spec: TaskTypeSpec) -> str:
    return f"      - {spec.name}: task-types/{spec.kebab}.md\n"


def with_nav_entry(mkdocs: str, spec: TaskTypeSpec) -> str:
    """mkdocs.yml with the page in the nav's "Task types" section (made when missing)."""
    section = "  - Task types:\n"
    if section not in mkdocs:
        errors = mkdocs.index("  - Error catalog:")
        mkdocs = mkdocs[:errors] + section + mkdocs[errors:]
    start = mkdocs.index(section) + len(section)
    end = start
    while mkdocs.startswith("      - ", end):
        end = mkdocs.index("\n", end) + 1
    entries = sorted({*mkdocs[start:end].splitlines(keepends=True), nav_entry(spec)})
    return mkdocs[:start] + "".join(entries) + mkdocs[end:]


def existing(spec: TaskTypeSpec) -> list[str]:
    """Why the task type cannot be made here: its files or names already taken."""
    taken = [str(path) for path in files(spec) if (ROOT / path).exists()]
    sys.path.insert(0, str(ROOT))
    from runware_mock.tasks import task_types

    taken += [f"taskType {name}" for name in spec.names if name in task_types()]
    return taken


def write(spec: TaskTypeSpec) -> None:
    for path, text in files(spec).items():
        (ROOT / path).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / path).write_text(text, "utf-8")
        print(f"wrote {path}")
    mkdocs = ROOT / "mkdocs.yml"
    mkdocs.write_text(with_nav_entry(mkdocs.read_text("utf-8"), spec), "utf-8")
    print("added the page to mkdocs.yml's nav")
    for module in ("runware_mock.contract.request_typing", "runware_mock.docs"):
        action = "write()" if module.endswith("typing") else "main(['--write'])"
        subprocess.run([sys.executable, "-c", f"import {module} as m; m.{action}"],
                       cwd=ROOT, check=True)
    print("regenerated contract/request_types.py and the generated docs")


def parse(argv: list[str]) -> TaskTypeSpec:
    parser = argparse.ArgumentParser(prog="python3 dev.py new-task-type",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("name", help="the taskType, e.g. caption")
    parser.add_argument("--alias", action="append", default=[],
                        help="another taskType the SDKs send for it (repeatable)")
    parser.add_argument("--output", choices=OUTPUTS, default="image",
                        help="what its result carries (default: image)")
    parser.add_argument("--model", required=True, help="its first model's AIR")
    parser.add_argument("--summary", default="", help="one line: what the task does")
    args = parser.parse_args(argv)
    for name in (args.name, *args.alias):
        if not NAME.match(name):
            parser.error(f"{name!r} is not a taskType name (lower camelCase, letters and digits)")
    if not AIR.match(args.model):
        parser.error(f"{args.model!r} is not an AIR (source:id@version)")
    summary = args.summary or f"a {args.output} made from an input image"
    return TaskTypeSpec(args.name, tuple(args.alias), args.output, args.model, summary)


def main(argv: list[str]) -> int:
    spec = parse(argv)
    taken = existing(spec)
    if taken:
        print(f"not written: already there: {', '.join(taken)}", file=sys.stderr)
        return 1
    write(spec)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
