"""Binary FBX (7.4) of a relief mesh, the format Tripo's and ComfyUI's 3D outputs offer beside
GLB.

An FBX file is a tree of named node records, each with typed properties (numbers, strings,
arrays) and child records; this writes the few a mesh needs: the header extension, global
settings (Y up, one unit a centimetre as FBX counts), the geometry (vertices, polygons, UVs)
and its model, connected to the scene root. Layout as in the format's 7.4 binary encoding: a
27-byte header, records whose first field is the absolute offset of their end, a 13-byte null
record closing each list of children, and the fixed footer.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

_HEADER = b"Kaydara FBX Binary  \x00\x1a\x00" + struct.pack("<I", 7400)
_NULL_RECORD = b"\0" * 13
# The footer's fixed bytes, as the FBX SDK writes them.
_FOOTER_ID = bytes.fromhex("fa bc ab 09 d0 c8 d4 66 b1 76 fb 83 1c f7 26 7e")
_FOOTER_MAGIC = bytes.fromhex("f8 5a 8c 6a de f5 d9 7e ec e9 0c e3 75 8f 29 0b")


class Long(int):
    """An int written as FBX's 64-bit ``L`` (object ids must be), not as ``I``."""


_GEOMETRY_ID, _MODEL_ID, _ROOT = Long(1000001), Long(1000002), Long(0)

Property = int | float | str | bytes | tuple[str, Sequence[float] | Sequence[int]]


@dataclass
class Node:
    name: str
    properties: list[Property] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)


def _property(value: Property) -> bytes:
    if isinstance(value, tuple):  # an array: ("d", doubles) or ("i", ints)
        kind, items = value
        data = struct.pack(f"<{len(items)}{kind}", *items)
        return kind.encode() + struct.pack("<III", len(items), 0, len(data)) + data
    if isinstance(value, bool):
        return b"C" + struct.pack("<?", value)
    if isinstance(value, Long):
        return b"L" + struct.pack("<q", value)
    if isinstance(value, int):
        return b"I" + struct.pack("<i", value)
    if isinstance(value, float):
        return b"D" + struct.pack("<d", value)
    raw = value.encode() if isinstance(value, str) else value
    return b"S" + struct.pack("<I", len(raw)) + raw


def _record(node: Node, offset: int) -> bytes:
    """The record of ``node`` when it starts at ``offset`` in the file."""
    properties = b"".join(_property(value) for value in node.properties)
    name = node.name.encode()
    head_length = 13 + len(name) + len(properties)
    children, position = [], offset + head_length
    for child in node.children:
        children.append(_record(child, position))
        position += len(children[-1])
    if node.children or not node.properties:
        children.append(_NULL_RECORD)
        position += len(_NULL_RECORD)
    head = struct.pack("<IIIB", position, len(node.properties), len(properties), len(name))
    return head + name + properties + b"".join(children)


def _properties70(*entries: tuple[Property, ...]) -> Node:
    return Node("Properties70", children=[Node("P", list(entry)) for entry in entries])


def fbx(positions: Sequence[tuple[float, float, float]],
        texcoords: Sequence[tuple[float, float]],
        triangles: Sequence[tuple[int, int, int]]) -> bytes:
    """The FBX file of a triangle mesh (texture v runs upwards in FBX, as in OBJ)."""
    # A polygon's last corner is stored as -(index + 1): that is how FBX ends a polygon.
    corners = [index for a, b, c in triangles for index in (a, b, -c - 1)]
    uv_indices = [index for triangle in triangles for index in triangle]
    geometry = Node("Geometry", [_GEOMETRY_ID, b"Relief\x00\x01Geometry", "Mesh"], [
        Node("GeometryVersion", [124]),
        Node("Vertices", [("d", [c * 100 for position in positions for c in position])]),
        Node("PolygonVertexIndex", [("i", corners)]),
        Node("LayerElementUV", [0], [
            Node("Version", [101]), Node("Name", ["UVMap"]),
            Node("MappingInformationType", ["ByPolygonVertex"]),
            Node("ReferenceInformationType", ["IndexToDirect"]),
            Node("UV", [("d", [c for u, v in texcoords for c in (u, 1 - v)])]),
            Node("UVIndex", [("i", uv_indices)]),
        ]),
        Node("Layer", [0], [
            Node("Version", [100]),
            Node("LayerElement", [], [Node("Type", ["LayerElementUV"]),
                                      Node("TypedIndex", [0])]),
        ]),
    ])
    model = Node("Model", [_MODEL_ID, b"Relief\x00\x01Model", "Mesh"], [
        Node("Version", [232]), _properties70(), Node("Shading", [True]),
        Node("Culling", ["CullingOff"]),
    ])
    tree = [
        Node("FBXHeaderExtension", [], [
            Node("FBXHeaderVersion", [1003]), Node("FBXVersion", [7400]),
            Node("Creator", ["runware-mock"]),
        ]),
        Node("GlobalSettings", [], [
            Node("Version", [1000]),
            _properties70(("UpAxis", "int", "Integer", "", 1),
                          ("UpAxisSign", "int", "Integer", "", 1),
                          ("FrontAxis", "int", "Integer", "", 2),
                          ("FrontAxisSign", "int", "Integer", "", 1),
                          ("CoordAxis", "int", "Integer", "", 0),
                          ("CoordAxisSign", "int", "Integer", "", 1),
                          ("UnitScaleFactor", "double", "Number", "", 1.0)),
        ]),
        Node("Documents", [], [Node("Count", [1])]),
        Node("Definitions", [], [
            Node("Version", [100]), Node("Count", [2]),
            Node("ObjectType", ["Model"], [Node("Count", [1])]),
            Node("ObjectType", ["Geometry"], [Node("Count", [1])]),
        ]),
        Node("Objects", [], [geometry, model]),
        Node("Connections", [], [
            Node("C", ["OO", _GEOMETRY_ID, _MODEL_ID]), Node("C", ["OO", _MODEL_ID, _ROOT]),
        ]),
    ]
    body, offset = [], len(_HEADER)
    for node in tree:
        body.append(_record(node, offset))
        offset += len(body[-1])
    data = _HEADER + b"".join(body) + _NULL_RECORD + _FOOTER_ID
    padding = b"\0" * (-len(data) % 16 or 16)
    return data + padding + struct.pack("<I", 0) + struct.pack("<I", 7400) + b"\0" * 120 + \
        _FOOTER_MAGIC
