"""Turn a task object into either the task with defaults applied, or Runware-shaped errors.

The rules of the error catalog: a required field that is absent is ``missingParameter``, a field
the schema does not list is ``unsupportedParameter``, a value outside an enum is
``unsupported<Param>`` with ``allowedValues``, anything else (type, range, length, format) is
``invalid<Param>``. Each violated field yields exactly one error, with what the schema documents
of the field: a number's ``min`` and ``max``, its ``default`` (its reference page's link is the
error's own: contract/errors.py). A ``model`` that is not an AIR, or names no model of the
taskType (``model_catalog.model_for``), is ``invalidModel``.
"""

from __future__ import annotations

import dataclasses
import reprlib
from dataclasses import dataclass, field
from typing import Any

from jsonschema import ValidationError

from runware_mock.contract import absent_nulls, enum_case, image_sizes, model_catalog, schemas
from runware_mock.contract.errors import ApiError, error

# Error codes spell acronyms in capitals, as Runware does (invalidTaskUUID, invalidWebhookURL).
_ACRONYMS = {"ttl": "TTL"}
# The errors one task yields when nothing else says: the reply caps them again.
MOST_ERRORS = 50
# A client's value quoted in a message, or echoed as taskType/taskUUID, is kept this short.
_ECHOED = 100
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 4
_SHORT.maxlevel = 2


@dataclass
class Checked:
    task: dict[str, Any]
    errors: list[ApiError] = field(default_factory=list)
    # Errors found beyond the ones listed (at most ``most_errors`` are).
    omitted: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def check_task(task: Any, index: int = 0, most_errors: int = MOST_ERRORS,
               owner: str | None = None) -> Checked:
    """Validate one element of a request array against the schema of its taskType (and model:
    ``model_catalog.model_for``, which finds the models of the API key ``owner`` too).

    At most ``most_errors`` errors are listed (``omitted`` counts the others), and the work
    stays proportional to the fields the schema knows: a task with a million unknown fields,
    or a megabyte where a UUID goes, costs no more than its size to read."""
    if not isinstance(task, dict):
        return Checked({}, [error("invalidTask", f"Task {index} must be a JSON object, "
                                  f"got {_json_type(task)}.", parameter=f"[{index}]")])
    scope = {"task_type": _echoed(task.get("taskType")),
             "task_uuid": _echoed(task.get("taskUUID"))}
    schema_name, problem = _schema_for(task, scope, owner)
    if problem is not None:
        return Checked(task, [problem])
    # null means absent, and a case-insensitive enum is judged (and answered) as spelled by
    # its schema.
    task = enum_case.canonical(schema_name, absent_nulls.without_nulls(schema_name, task))
    schema = schemas.inlined(schema_name)
    # A model with published sizes has its width and height judged by them, not the schema.
    judged = _with_listed_model(image_sizes.schema_stand_in(task), schema)
    if len(task) > len(schema.get("properties", {})) or not schemas.is_valid(schema_name, judged):
        checked = _errors_against(schema_name, judged, scope, most_errors)
        if checked.errors:
            return dataclasses.replace(checked, task=task)
    unmade = image_sizes.refusal(task, scope)
    if unmade is not None:
        return Checked(task, [unmade])
    return Checked(_safety_mode_default(apply_defaults(schema, task), task))


def _with_listed_model(task: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The task as its schema judges it. A schema lists its family's catalog models; a model of
    an open source (any civitai AIR) or of the API key has been found by ``_schema_for`` already,
    so the schema judges the rest of the task as for the first model it lists."""
    listed = schema.get("properties", {}).get("model", {}).get("enum")
    if not listed or task.get("model") in listed:
        return task
    return {**task, "model": listed[0]}


def _schema_for(task: dict[str, Any], scope: dict[str, Any],
                owner: str | None = None) -> tuple[str, ApiError | None]:
    task_type = task.get("taskType")
    if task_type is None:
        return "", error("missingParameter", "Missing required parameter: taskType.",
                         parameter="taskType", type="string", **scope)
    # A list or object is unhashable: test the type before looking it up.
    if isinstance(task_type, str) and task_type in schemas.TASK_SCHEMAS:
        return schemas.TASK_SCHEMAS[task_type], None
    if task_type not in schemas.MODEL_TASK_TYPES:
        return "", error(
            "unsupportedTaskType",
            f"Unsupported taskType {_SHORT.repr(task_type)}. "
            f"Supported: {', '.join(schemas.TASK_TYPES)}.",
            parameter="taskType", type="string", allowed_values=list(schemas.TASK_TYPES), **scope)
    model = task.get("model")
    if model is None:
        return "", error("missingParameter", "Missing required parameter: model.",
                         parameter="model", type="string", **scope)
    served = model_catalog.airs(task_type)
    if model_catalog.parse_air(model) is None:
        return "", error(
            "invalidModel",
            f"Invalid model {_SHORT.repr(model)}: not an AIR. A model is named "
            "source:id@version (e.g. runware:100@1, civitai:133005@782002).",
            parameter="model", type="string", allowed_values=list(served), **scope)
    found = model_catalog.model_for(model, owner)
    if found is None or found.task_type != task_type:
        return "", error(
            "invalidModel",
            f"Invalid model {_SHORT.repr(model)}: this emulator serves {', '.join(served)} "
            f"for {task_type}.",
            parameter="model", type="string", allowed_values=list(served), **scope)
    return found.family.schema, None


def _errors_against(schema_name: str, task: dict[str, Any], scope: dict[str, Any],
                    most: int) -> Checked:
    """The errors, missing fields first, then unknown ones, then bad values (the order the
    reference validator finds them in). The reference validator sees a stand-in of the task
    (see ``_stand_in``): it quotes every value it rejects, whatever its size."""
    unknown: list[tuple[str, str]] = []
    stand_in, extra = _stand_in(task, schemas.inlined(schema_name), "", unknown, most)
    missing: dict[str, ApiError] = {}
    found: dict[str, ApiError] = {}
    for problem in schemas.validator(schema_name).iter_errors(stand_in):
        for api_error in _translate(problem, task, scope):
            table = missing if api_error.code == "missingParameter" else found
            table.setdefault(str(api_error.parameter), api_error)
        if len(missing) + len(found) >= most:
            break
    unsupported = [_unsupported(name, code, scope) for name, code in unknown]
    errors = [*missing.values(), *unsupported, *found.values()]
    return Checked(task, errors[:most], omitted=max(0, len(errors) - most) + extra)


def _stand_in(value: Any, schema: dict[str, Any], path: str, unknown: list[tuple[str, str]],
              most: int) -> tuple[Any, int]:
    """``value`` as the reference validator needs to see it to reach the same verdict, cheaply:
    without the fields the schema does not take (listed in ``unknown``, up to ``most``; the
    count of the others is returned), with an empty array or object where a scalar is due, and
    a string that is too long anyway cut to just too long."""
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        known = schema.get("properties", {})
        closed = schema.get("additionalProperties") is False
        reduced: dict[str, Any] = {}
        extra = 0
        for name, item in value.items():
            if name in known:
                reduced[name], more = _stand_in(item, known[name], _join(path, name), unknown,
                                                most)
                extra += more
            elif not closed:
                reduced[name] = item
            elif len(unknown) < most:
                unknown.append((_join(path, _SHORT.repr(name)[1:-1] if len(name) > _ECHOED
                                      else name), _unknown_code(schema, name)))
            else:
                extra += 1
        return reduced, extra
    if kind in ("string", "integer", "number", "boolean") and isinstance(value, dict | list):
        return type(value)(), 0
    if kind == "string" and isinstance(value, str):
        allowed = [*schema.get("enum", ()), *([schema["const"]] if "const" in schema else ())]
        bound = max([schema.get("maxLength", -1), *(len(str(item)) for item in allowed)])
        if 0 <= bound < len(value) - 1:
            return value[:bound + 1], 0
    return value, 0


def _unsupported(parameter: str, code: str, scope: dict[str, Any]) -> ApiError:
    return error(code, f"Unsupported parameter: {parameter}. This model does not take it.",
                 parameter=parameter, **scope)


def _unknown_code(schema: dict[str, Any], name: str) -> str:
    """The code of a member an object does not take: ``unsupportedParameter``, unless the
    schema names another (providerSettings: another provider's key is
    ``mismatchProviderSettingsProvider``, a key of no provider ``unknownProviderSettingsProvider``,
    as runware-sdk 1.8's error codes have it)."""
    return schema.get("x-unknown-codes", {}).get(
        name, schema.get("x-unknown-code", "unsupportedParameter"))


def _translate(problem: ValidationError, task: dict[str, Any],
               scope: dict[str, Any]) -> list[ApiError]:
    path = ".".join(str(part) for part in problem.absolute_path)
    keyword = problem.validator
    if keyword == "required":
        return [_missing(path, name, problem.schema, scope)
                for name in problem.schema["required"] if name not in problem.instance]
    if keyword == "anyOf":
        # A value of the type of one branch is judged by that branch (an outputType string
        # outside its enum is unsupportedOutputType, with allowedValues).
        context = problem.context or []
        other_type = {found.relative_schema_path[0] for found in context
                      if found.validator == "type" and len(found.relative_schema_path) == 2}
        same_type = [found for found in context if found.relative_schema_path[0] not in other_type]
        if same_type and len({found.relative_schema_path[0] for found in same_type}) == 1:
            return _translate(same_type[0], task, scope)
    if keyword == "additionalProperties":
        # A member an object of an anyOf branch does not take (the stand-in keeps them there).
        known = problem.schema.get("properties", {})
        return [_unsupported(_join(path, name), _unknown_code(problem.schema, name), scope)
                for name in problem.instance if name not in known]
    schema = schemas.resolve(problem.schema)
    return [_bound_error(path, keyword, _at(task, problem.absolute_path), schema, scope)]


def _at(task: Any, path: Any) -> Any:
    """The client's own value at ``path`` (not its stand-in), to describe it."""
    for part in path:
        task = task[part]
    return task


def _missing(path: str, name: str, schema: dict[str, Any], scope: dict[str, Any]) -> ApiError:
    prop = schemas.resolve(schema.get("properties", {}).get(name, {}))
    return error("missingParameter", f"Missing required parameter: {_join(path, name)}.",
                 parameter=_join(path, name), type=prop.get("type"), **scope)


def _bound_error(path: str, keyword: str, value: Any, schema: dict[str, Any],
                 scope: dict[str, Any]) -> ApiError:
    # An array item's error is named after its array (inputs.referenceImages.0).
    param = next((part for part in reversed(path.split(".")) if not part.isdigit()), path)
    expected_type = schema.get("type")
    documented = _documented(schema)
    if keyword in ("enum", "const"):
        allowed = schema.get("enum", [schema.get("const")])
        return error(f"unsupported{_camel(param)}",
                     f"Unsupported value {_describe(value)} for {path}. Allowed values: "
                     f"{', '.join(map(str, allowed))}.",
                     parameter=path, type=expected_type, allowed_values=allowed, **documented,
                     **scope)
    code = f"invalid{_camel(param)}"
    if keyword in ("minLength", "maxLength") and "x-length-code" in schema:
        code = schema["x-length-code"]
    return error(code, f"Invalid value for {path}: {_describe(value)}. "
                 f"{_requirement(path, schema)}.", parameter=path, type=expected_type,
                 **documented, **scope)


def _documented(schema: dict[str, Any]) -> dict[str, Any]:
    """What an error tells of the parameter's documentation: a number's bounds (``min``,
    ``max``) and the default."""
    told: dict[str, Any] = {}
    if schema.get("type") in ("integer", "number"):
        told.update({name: schema[key] for name, key in (("min", "minimum"), ("max", "maximum"))
                     if key in schema})
    if "default" in schema:
        told["default"] = schema["default"]
    return told


def _requirement(path: str, schema: dict[str, Any]) -> str:
    """State the bound in words, e.g. 'outputQuality must be an integer from 20 to 99'."""
    kind = schema.get("type", "value")
    article = "an" if kind[0] in "aeiou" else "a"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        step = f", a multiple of {schema['multipleOf']}" if "multipleOf" in schema else ""
        return f"{path} must be {article} {kind} from {low} to {high}{step}"
    if low is not None:
        return f"{path} must be {article} {kind} of at least {low}"
    short, long = schema.get("minLength"), schema.get("maxLength")
    if short is not None and long is not None:
        return f"{path} must be a string of {short} to {long} characters"
    if "x-expected" in schema:
        return f"{path} must be {schema['x-expected']}"
    return f"{path} must be {article} {kind}"


def apply_defaults(schema: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """Fill in every documented default, recursing into nested objects that are present.

    ``schema`` has its references inlined; defaults are JSON scalars, so no deep copy is needed.
    """
    filled = dict(task)
    for name, prop in schema.get("properties", {}).items():
        if name not in filled:
            if "default" in prop:
                filled[name] = prop["default"]
        elif isinstance(filled[name], dict) and "properties" in prop:
            filled[name] = apply_defaults(prop, filled[name])
    return filled


def _safety_mode_default(filled: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """The seed: 'When [checkContent is] enabled, defaults to fast mode' (else mode is none)."""
    safety = original.get("safety")
    if isinstance(safety, dict) and safety.get("checkContent") is True and "mode" not in safety:
        filled["safety"]["mode"] = "fast"
    return filled


def _camel(param: str) -> str:
    return _ACRONYMS.get(param, param[:1].upper() + param[1:])


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _describe(value: Any) -> str:
    """The value, quoted short: a client's value may be megabytes, or nested deep."""
    text = _SHORT.repr(value) if not isinstance(value, str) else repr(value[:60])
    if isinstance(value, str) and len(value) > 60:
        text += f"... ({len(value)} characters)"
    elif isinstance(value, bool | dict | list) or value is None:
        text = f"{text} ({_json_type(value)})"
    return text


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
             dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _echoed(value: Any) -> str | None:
    """A taskType or taskUUID to echo in errors: a string, and short (a UUID is 36)."""
    return value if isinstance(value, str) and len(value) <= _ECHOED else None
