"""Hypothesis strategies read from a request schema: values within every bound, and
``Violation``s that break exactly one bound together with the error the emulator must answer.

Only the keywords the request schemas use are understood (type, const, enum, minimum, maximum,
multipleOf, minLength, maxLength, pattern, required, properties, additionalProperties:false,
anyOf, items, minItems, maxItems, uniqueItems); a schema with any other validation keyword
raises ``NotImplementedError`` when the strategy is built, so a new bound cannot be silently
left untested.

Hand-written, and passed in by the caller (``strategies``): the values of a field whose schema
names its format in ``x-expected`` (UUIDs, URLs, media inputs: generating them from the regex
is sound but unreadable, and media must decode), and the violations of the fields whose errors
follow other rules than the schema's (taskType and model choose the schema).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from runware_mock.contract.enum_case import spellings, squashed

Path = tuple[str, ...]
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()

# Error codes spell acronyms in capitals, as Runware does (invalidTTL, invalidTaskUUID).
_ACRONYMS = {"ttl": "TTL"}
_KNOWN = {"type", "const", "enum", "minimum", "maximum", "multipleOf", "minLength", "maxLength",
          "pattern", "required", "properties", "additionalProperties", "default", "format",
          "anyOf", "items", "minItems", "maxItems", "uniqueItems"}
# Fields Kling's other video models take and this one does not: the realistic mistakes.
FOREIGN_FIELDS = ("width", "height", "duration", "fps", "seed", "CFGScale", "negativePrompt")


@dataclass(frozen=True)
class Violation:
    """Break one field: set ``path`` to ``value`` (``MISSING``: remove it)."""

    path: Path
    value: Any
    code: str
    allowed_values: list[Any] | None = None
    # The parameter the error names when it is not the path (an array's item: tags.0).
    reported: str | None = None

    @property
    def parameter(self) -> str:
        return self.reported or ".".join(self.path)

    def apply(self, task: dict[str, Any]) -> dict[str, Any]:
        broken = copy.deepcopy(task)
        parent = broken
        for name in self.path[:-1]:
            if not isinstance(parent.get(name), dict):
                parent[name] = {}
            parent = parent[name]
        if self.value is MISSING:
            parent.pop(self.path[-1], None)
        else:
            parent[self.path[-1]] = self.value
        return broken


def code_for(path: Path, prefix: str) -> str:
    """``invalid<Param>`` / ``unsupported<Param>``, the catalog's rule for a field's code."""
    name = path[-1]
    return prefix + _ACRONYMS.get(name, name[:1].upper() + name[1:])


def _checked(schema: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    unknown = {key for key in schema if not key.startswith(("x-", "$", "title"))} - _KNOWN
    if unknown:
        raise NotImplementedError(f"{'.'.join(path) or 'schema'}: no strategy for {unknown}")
    if "additionalProperties" in schema and schema["additionalProperties"] is not False:
        raise NotImplementedError(f"{'.'.join(path)}: additionalProperties must be false")
    return schema


# --- valid values ---------------------------------------------------------------------------

Overrides = Mapping[Path, st.SearchStrategy[Any]]
# Hand-written values by a schema's ``x-expected`` text ("a UUID v4", "an http(s) URI...").
Formats = Mapping[str, Callable[[], st.SearchStrategy[Any]]]


def valid_values(schema: Mapping[str, Any], path: Path = (), overrides: Overrides | None = None,
                 formats: Formats | None = None) -> st.SearchStrategy[Any]:
    """Any value the schema accepts, with the edges of every bound drawn often."""
    overrides, formats = overrides or {}, formats or {}
    if path in overrides:
        return overrides[path]
    schema = _checked(schema, path)
    if schema.get("x-expected") in formats and "anyOf" not in schema:
        return formats[schema["x-expected"]]()
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(_any_case(schema))
    if "anyOf" in schema:
        return st.one_of(*(valid_values(branch, path, overrides, formats)
                           for branch in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return _integers_within(schema.get("minimum"), schema.get("maximum"),
                                schema.get("multipleOf", 1))
    if kind == "number":
        return _numbers_within(schema.get("minimum"), schema.get("maximum"))
    if kind == "string" and "pattern" not in schema:
        return strings_within(schema.get("minLength", 0), schema.get("maxLength"))
    if kind == "array":
        return _arrays(schema, path, overrides, formats)
    if kind == "object":
        return _objects(schema, path, overrides, formats)
    raise NotImplementedError(f"{'.'.join(path)}: give a hand-written strategy for {schema}")


def _any_case(schema: Mapping[str, Any]) -> list[Any]:
    """An enum's values; a case-insensitive one's also in lower and upper case and its other
    spellings (``enum_case``): each is accepted as the value it spells."""
    values = list(schema["enum"])
    spelled = spellings(schema)
    if spelled is None:
        return values
    variants = [spelling for value in values for spelling in (value.lower(), value.upper())]
    return list(dict.fromkeys([*values, *variants, *schema.get("x-aliases", {})]))


def _integers_within(low: int | None, high: int | None, step: int = 1) -> st.SearchStrategy[int]:
    # The real service is unlikely to take integers beyond 32 bits where none is documented.
    low = -(2**31) if low is None else low
    high = 2**31 - 1 if high is None else high
    first, last = -(-low // step), high // step
    return st.one_of(st.sampled_from(sorted({first, last})),
                     st.integers(first, last)).map(lambda multiple: multiple * step)


def _numbers_within(low: float | None, high: float | None) -> st.SearchStrategy[float]:
    low = -1e6 if low is None else low
    high = 1e6 if high is None else high
    return st.one_of(st.sampled_from(sorted({low, high})), st.integers(math.ceil(low),
                                                                        math.floor(high)),
                     st.floats(low, high, allow_nan=False, allow_infinity=False))


def _arrays(schema: Mapping[str, Any], path: Path, overrides: Overrides,
            formats: Formats) -> st.SearchStrategy[list[Any]]:
    # Arrays are drawn short: a list of 100 messages tests no more than one of 3.
    low = schema.get("minItems", 0)
    high = min(schema.get("maxItems", low + 3), low + 3)
    items = valid_values(schema["items"], path, overrides, formats)
    return st.lists(items, min_size=low, max_size=high, unique=schema.get("uniqueItems", False))


def strings_within(low: int, high: int | None) -> st.SearchStrategy[str]:
    """Texts of any allowed length, the shortest and longest drawn often.

    Long texts repeat a short random unit: Hypothesis would spend its whole buffer on 2,500
    independent characters, and a repeated unit shrinks to something readable.
    """
    high = high if high is not None else max(low, 64)
    lengths = st.one_of(st.sampled_from(sorted({low, high})), st.integers(low, high))
    return lengths.flatmap(text_of_length)


def text_of_length(length: int) -> st.SearchStrategy[str]:
    if length <= 0:
        return st.just("")
    if length <= 20:
        return st.text(min_size=length, max_size=length)
    return st.text(min_size=1, max_size=8).map(lambda unit: (unit * length)[:length])


def _objects(schema: Mapping[str, Any], path: Path, overrides: Overrides,
             formats: Formats) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fields = {name: valid_values(prop, (*path, name), overrides, formats)
              for name, prop in properties.items()}
    return st.fixed_dictionaries(
        {name: value for name, value in fields.items() if name in required},
        optional={name: value for name, value in fields.items() if name not in required})


# --- violations -----------------------------------------------------------------------------

_JSON_KINDS: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(-1000, 10_000),
    "number": st.floats(-1000, 1000, allow_nan=False).filter(lambda f: not f.is_integer()),
    "string": st.text(max_size=12),
    "array": st.lists(st.integers(0, 9), max_size=2),
    "object": st.dictionaries(st.sampled_from("ab"), st.integers(0, 9), max_size=2),
}


# Values of an enum's type that may be off it.
_ENUM_MISSES: dict[str, st.SearchStrategy[Any]] = {"string": st.text(max_size=12),
                                                   "integer": st.integers(0, 100_000)}


def wrong_types(expected: str) -> st.SearchStrategy[Any]:
    """JSON values of every other type (an integral float would count as an integer)."""
    accepted = {expected, "integer"} if expected == "number" else {expected}
    return st.one_of(*(values for kind, values in _JSON_KINDS.items() if kind not in accepted))


Misses = Mapping[str, Callable[[], st.SearchStrategy[Any]]]


def violations(schema: Mapping[str, Any], path: Path = (), pattern_misses: Misses | None = None,
               special: Mapping[Path, list[st.SearchStrategy[Violation]]] | None = None,
               typed: bool = True) -> list[st.SearchStrategy[Violation]]:
    """One strategy per way to break the schema at ``path`` or below it.

    ``pattern_misses`` maps a pattern's ``x-expected`` text to strings that miss it;
    ``special`` replaces the violations of a field whose errors follow other rules;
    ``typed=False`` leaves out values of the wrong type (a branch of an ``anyOf``).
    """
    pattern_misses, special = pattern_misses or {}, special or {}
    if path in special:
        return special[path]
    schema = _checked(schema, path)
    if "anyOf" in schema:
        return _any_of_violations(schema, path, pattern_misses, special)
    found: list[st.SearchStrategy[Violation]] = []
    kind = schema.get("type")
    if path and kind is not None and typed:
        found.append(_broken(path, wrong_types(kind), code_for(path, "invalid")))
    if "enum" in schema and kind in _ENUM_MISSES:
        spelled = spellings(schema) or {}
        misses = _ENUM_MISSES[kind].filter(lambda value: value not in schema["enum"]
                                           and squashed(str(value)) not in spelled)
        found.append(_broken(path, misses, code_for(path, "unsupported"), list(schema["enum"])))
    found += _range_violations(schema, path)
    if "pattern" in schema:
        found.append(_broken(path, _pattern_misses(schema, pattern_misses),
                             code_for(path, "invalid")))
    if kind == "array":
        found += _array_violations(schema, path, pattern_misses)
    if kind == "object":
        found += _object_violations(schema, path, pattern_misses, special)
    return found


def _broken(path: Path, values: st.SearchStrategy[Any], code: str,
            allowed: list[Any] | None = None) -> st.SearchStrategy[Violation]:
    return values.map(lambda value: Violation(path, value, code, allowed))


def _any_of_violations(schema: Mapping[str, Any], path: Path, pattern_misses: Misses,
                       special: Mapping[Path, list[st.SearchStrategy[Violation]]],
                       ) -> list[st.SearchStrategy[Violation]]:
    """A value of no branch's type (named after the field), or one that breaks the branch of
    its type, as that branch says."""
    found = [_of_no_branch_type(schema, path)]
    for branch in schema["anyOf"]:
        found += violations(branch, path, pattern_misses, special, typed=False)
    return found


def _of_no_branch_type(schema: Mapping[str, Any], path: Path) -> st.SearchStrategy[Violation]:
    kinds = [branch.get("type") for branch in schema["anyOf"]]
    if None in kinds or len(set(kinds)) != len(kinds):
        raise NotImplementedError(f"{'.'.join(path)}: anyOf branches must differ by type")
    others = [values for kind, values in _JSON_KINDS.items()
              if kind not in kinds and not (kind == "integer" and "number" in kinds)]
    return _broken(path, st.one_of(*others), code_for(path, "invalid"))


def _range_violations(schema: Mapping[str, Any], path: Path) -> list[st.SearchStrategy[Violation]]:
    found = []
    invalid = code_for(path, "invalid") if path else ""
    low, high = schema.get("minimum"), schema.get("maximum")
    if schema.get("type") == "number":
        if low is not None:
            found.append(_broken(path, st.floats(low - 1e6, low, exclude_max=True), invalid))
        if high is not None:
            found.append(_broken(path, st.floats(high, high + 1e6, exclude_min=True), invalid))
    else:
        if low is not None:
            found.append(_broken(path, st.integers(max_value=low - 1), invalid))
        if high is not None:
            found.append(_broken(path, st.integers(min_value=high + 1), invalid))
    step = schema.get("multipleOf")
    if step is not None and low is not None and high is not None:
        found.append(_broken(path, st.integers(low, high).filter(lambda value: value % step),
                             invalid))
    length_code = schema.get("x-length-code", invalid)
    if schema.get("minLength", 0) > 0:
        found.append(_broken(path, st.text(max_size=schema["minLength"] - 1), length_code))
    if "maxLength" in schema:
        longest = schema["maxLength"]
        found.append(_broken(path, strings_within(longest + 1, longest + 1), length_code))
    return found


def _array_violations(schema: Mapping[str, Any], path: Path,
                      pattern_misses: Misses) -> list[st.SearchStrategy[Violation]]:
    """Too few or too many items, a repeated one where they must differ, or one broken item
    (reported at its index, with the code of the array)."""
    invalid = code_for(path, "invalid")
    items = valid_values(schema["items"], path)
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    found = []
    if low > 0:
        found.append(_broken(path, st.lists(items, max_size=low - 1), invalid))
    if high is not None:
        found.append(_broken(path, st.lists(items, min_size=high + 1, max_size=high + 2),
                             invalid))
    if schema.get("uniqueItems") and (high is None or high >= 2):
        found.append(_broken(path, items.map(lambda item: [item, item]), invalid))
    if low <= 1:
        found += [broken.map(lambda v: Violation(path, [v.value], v.code, v.allowed_values,
                                                 f"{'.'.join(path)}.0"))
                  for broken in _item_violations(schema["items"], path, pattern_misses)]
    return found


def _item_violations(schema: Mapping[str, Any], path: Path,
                     pattern_misses: Misses) -> list[st.SearchStrategy[Violation]]:
    """An item's errors are named after its array; an object item is broken whole (its fields'
    own rules are the object's: a list of them is left to the hand-written strategies), and so
    is the object kind of an item of several (speech.voices: a name or {speaker, voice})."""
    if schema.get("type") == "object":
        return [_broken(path, wrong_types("object"), code_for(path, "invalid"))]
    if "anyOf" in schema:
        return [_of_no_branch_type(schema, path), *(
            found for branch in schema["anyOf"] if branch.get("type") != "object"
            for found in violations(branch, path, pattern_misses, typed=False))]
    return violations(schema, path, pattern_misses)


def _pattern_misses(schema: Mapping[str, Any], known: Misses) -> st.SearchStrategy[str]:
    pattern = re.compile(schema["pattern"])
    generic = st.text(max_size=40).filter(lambda text: not pattern.search(text))
    named = known.get(schema.get("x-expected", ""))
    return st.one_of(named(), generic) if named else generic


def _object_violations(schema: Mapping[str, Any], path: Path, pattern_misses: Misses,
                       special: Mapping[Path, list[st.SearchStrategy[Violation]]],
                       ) -> list[st.SearchStrategy[Violation]]:
    properties = schema.get("properties", {})
    found = [st.just(Violation((*path, name), MISSING, "missingParameter"))
             for name in schema.get("required", ()) if (*path, name) not in special]
    strangers = st.one_of(st.sampled_from(FOREIGN_FIELDS),
                          st.from_regex(r"[a-z][A-Za-z0-9]{0,11}", fullmatch=True))
    named = schema.get("x-unknown-codes", {})
    strangers = strangers.filter(lambda name: name not in properties and name not in named)
    unknown_code = schema.get("x-unknown-code", "unsupportedParameter")
    found.append(st.tuples(strangers, st.integers(0, 9)).map(
        lambda pair: Violation((*path, pair[0]), pair[1], unknown_code)))
    found += [st.just(Violation((*path, name), {}, code)) for name, code in named.items()]
    for name, prop in properties.items():
        found += violations(prop, (*path, name), pattern_misses, special)
    if path and schema.get("required"):
        return _inside_valid_object(schema, path, found)
    return found


def _inside_valid_object(schema: Mapping[str, Any], path: Path,
                         found: list[st.SearchStrategy[Violation]],
                         ) -> list[st.SearchStrategy[Violation]]:
    """A nested object with required members (refiner.model) is broken one member at a time
    inside an object that has the others: alone, the broken member would bring its missing
    siblings' errors along."""
    required = st.fixed_dictionaries({name: valid_values(schema["properties"][name],
                                                         (*path, name))
                                      for name in schema["required"]})

    def placed(pair: tuple[dict[str, Any], Violation]) -> Violation:
        others, broken = pair
        inner = Violation(broken.path[len(path):], broken.value, broken.code)
        return Violation(path, inner.apply(others), broken.code, broken.allowed_values,
                         broken.parameter)

    return [st.tuples(required, broken).map(placed) for broken in found]
