"""3D inference (``3dInference``) outputs: a mesh made from the input picture.

The mesh is a relief of the picture: a grid of at most ``GRID`` cells along the picture's long
side (its aspect ratio, one unit tall, facing +z), each vertex raised by the smoothed brightness
under it (up to ``_RELIEF`` units), two triangles per cell. Formats, as the reference lists them
for 3D output:

- ``GLB``: binary glTF 2.0 (header ``glTF``, version 2, a JSON chunk and a BIN chunk, both
  4-byte aligned) with positions, texture coordinates, indices and the picture itself (JPEG, at
  most ``_TEXTURE_SIDE`` pixels) as the base-colour texture of an unlit-looking material;
- ``OBJ``: Wavefront text: ``v``, ``vt`` and ``f v/vt`` lines;
- ``PLY``: binary little-endian, each vertex with the picture's colour under it;
- ``STL``: binary, an 80-byte header, the triangle count and each triangle's normal and corners;
- ``3MF``: the 3D Manufacturing Format's ZIP package (content types, relationships and the
  ``3D/3dmodel.model`` XML of vertices and triangles);
- ``USDZ``: an uncompressed ZIP whose first file is a USDA layer of the mesh (points, faces,
  texture coordinates and the picture's colours as ``displayColor``), each file's data 64-byte
  aligned as the USDZ specification asks;
- ``FBX``: binary FBX 7.4 with the mesh and its UVs (``media.fbx``).

ZIP entries carry a fixed date, so the same picture gives the same bytes.

Synchronous and CPU-bound: callers run it in a worker thread.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
from array import array
from dataclasses import dataclass

from PIL import Image, ImageFilter

from runware_mock.media import matte
from runware_mock.media.fbx import fbx

GRID = 32
FORMATS = ("GLB", "OBJ", "PLY", "STL", "3MF", "USDZ", "FBX")
_RELIEF = 0.12
_TEXTURE_SIDE = 512
_TEXTURE_QUALITY = 85
# glTF's numbers: component types, buffer-view targets, chunk types.
_FLOAT, _UNSIGNED_SHORT = 5126, 5123
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_JSON_CHUNK, _BIN_CHUNK = 0x4E4F534A, 0x004E4942


@dataclass(frozen=True)
class Relief:
    """The grid: vertex positions (x, y, z), texture coordinates (u, v), colours, triangles."""

    positions: list[tuple[float, float, float]]
    texcoords: list[tuple[float, float]]
    colours: list[tuple[int, int, int]]
    triangles: list[tuple[int, int, int]]


def model(data: bytes, output_format: str = "GLB") -> bytes:
    """The 3D file, in ``output_format`` (one of ``FORMATS``), of the picture in ``data``."""
    picture, size = matte.decode_reduced(data, _TEXTURE_SIDE)
    relief = _relief(picture, size[0] / size[1])
    if output_format == "GLB":
        return _glb(relief, _texture(picture))
    makers = {"OBJ": _obj, "PLY": _ply, "STL": _stl, "3MF": _three_mf, "USDZ": _usdz,
              "FBX": _fbx}
    return makers[output_format](relief)


def _relief(picture: Image.Image, aspect: float) -> Relief:
    grid = matte.working_copy(picture, GRID + 1)
    if min(grid.size) < 2:  # a sliver of a picture still makes a surface
        grid = grid.resize((max(2, grid.width), max(2, grid.height)))
    columns, rows = grid.size
    heights = grid.convert("L").filter(ImageFilter.GaussianBlur(1)).tobytes()
    colours = list(zip(*(iter(grid.tobytes()),) * 3, strict=True))
    positions, texcoords = [], []
    for j in range(rows):
        for i in range(columns):
            u, v = i / (columns - 1 or 1), j / (rows - 1 or 1)
            positions.append(((u - 0.5) * aspect, 0.5 - v,
                              round(heights[j * columns + i] / 255 * _RELIEF, 5)))
            texcoords.append((u, v))
    triangles = []
    for j in range(rows - 1):
        for i in range(columns - 1):
            corner = j * columns + i
            below, right = corner + columns, corner + 1
            triangles += [(corner, below, right), (right, below, below + 1)]
    return Relief(positions, texcoords, colours, triangles)


def _texture(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=_TEXTURE_QUALITY)
    return buffer.getvalue()


def _little_endian(values: array) -> bytes:
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def _padded(data: bytes, filler: bytes = b"\0") -> bytes:
    return data + filler * (-len(data) % 4)


def _glb(relief: Relief, texture: bytes) -> bytes:
    blocks = [
        _little_endian(array("f", [c for position in relief.positions for c in position])),
        _little_endian(array("f", [c for uv in relief.texcoords for c in uv])),
        _little_endian(array("H", [index for triangle in relief.triangles for index in triangle])),
        texture,
    ]
    views, offset = [], 0
    for block, target in zip(blocks, (_ARRAY_BUFFER, _ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER, None),
                             strict=True):
        view = {"buffer": 0, "byteOffset": offset, "byteLength": len(block)}
        if target is not None:
            view["target"] = target
        views.append(view)
        offset += len(_padded(block))
    binary = b"".join(_padded(block) for block in blocks)
    xs, ys, zs = zip(*relief.positions, strict=True)
    document = {
        "asset": {"version": "2.0", "generator": "runware-mock"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": "relief"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1},
                                    "indices": 2, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0},
                                                "metallicFactor": 0, "roughnessFactor": 1},
                       "doubleSided": True}],
        "textures": [{"source": 0, "sampler": 0}],
        "samplers": [{"magFilter": 9729, "minFilter": 9729}],
        "images": [{"bufferView": 3, "mimeType": "image/jpeg"}],
        "accessors": [
            {"bufferView": 0, "componentType": _FLOAT, "count": len(relief.positions),
             "type": "VEC3", "min": [min(xs), min(ys), min(zs)],
             "max": [max(xs), max(ys), max(zs)]},
            {"bufferView": 1, "componentType": _FLOAT, "count": len(relief.texcoords),
             "type": "VEC2"},
            {"bufferView": 2, "componentType": _UNSIGNED_SHORT,
             "count": 3 * len(relief.triangles), "type": "SCALAR"},
        ],
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary)}],
    }
    text = _padded(json.dumps(document, separators=(",", ":")).encode(), b" ")
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join([struct.pack("<4sII", b"glTF", 2, total),
                     struct.pack("<II", len(text), _JSON_CHUNK), text,
                     struct.pack("<II", len(binary), _BIN_CHUNK), binary])


def _obj(relief: Relief) -> bytes:
    lines = ["# runware-mock relief"]
    lines += [f"v {x:.5f} {y:.5f} {z:.5f}" for x, y, z in relief.positions]
    # OBJ's texture v runs upwards, the picture's rows downwards.
    lines += [f"vt {u:.5f} {1 - v:.5f}" for u, v in relief.texcoords]
    lines += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in relief.triangles]
    return ("\n".join(lines) + "\n").encode()


def _ply(relief: Relief) -> bytes:
    header = "\n".join([
        "ply", "format binary_little_endian 1.0", "comment runware-mock relief",
        f"element vertex {len(relief.positions)}",
        "property float x", "property float y", "property float z",
        "property uchar red", "property uchar green", "property uchar blue",
        f"element face {len(relief.triangles)}", "property list uchar int vertex_indices",
        "end_header", ""]).encode()
    vertex = struct.Struct("<fffBBB")
    face = struct.Struct("<Biii")
    body = b"".join(vertex.pack(*position, *colour)
                    for position, colour in zip(relief.positions, relief.colours, strict=True))
    body += b"".join(face.pack(3, *triangle) for triangle in relief.triangles)
    return header + body


def _stl(relief: Relief) -> bytes:
    facet = struct.Struct("<12fH")
    parts = [b"runware-mock relief".ljust(80, b" "), struct.pack("<I", len(relief.triangles))]
    for a, b, c in relief.triangles:
        corners = relief.positions[a], relief.positions[b], relief.positions[c]
        parts.append(facet.pack(*_normal(*corners), *corners[0], *corners[1], *corners[2], 0))
    return b"".join(parts)


def _fbx(relief: Relief) -> bytes:
    return fbx(relief.positions, relief.texcoords, relief.triangles)


def _normal(a: tuple[float, float, float], b: tuple[float, float, float],
            c: tuple[float, float, float]) -> tuple[float, float, float]:
    ux, uy, uz = (b[k] - a[k] for k in range(3))
    vx, vy, vz = (c[k] - a[k] for k in range(3))
    nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
    length = (nx * nx + ny * ny + nz * nz) ** 0.5 or 1.0
    return nx / length, ny / length, nz / length


# ZIP entries' date: fixed, so equal pictures give equal packages.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
_3MF_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>
</Types>"""
_3MF_RELATIONSHIPS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Target="/3D/3dmodel.model" Id="rel0"
 Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>
</Relationships>"""


def _three_mf(relief: Relief) -> bytes:
    vertices = "".join(f'<vertex x="{x * 100:.3f}" y="{y * 100:.3f}" z="{z * 100:.3f}"/>'
                       for x, y, z in relief.positions)
    triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in relief.triangles)
    document = ('<?xml version="1.0" encoding="UTF-8"?>\n<model unit="millimeter" '
                'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
                f'<resources><object id="1" type="model"><mesh><vertices>{vertices}</vertices>'
                f'<triangles>{triangles}</triangles></mesh></object></resources>'
                '<build><item objectid="1"/></build></model>')
    return _zip([("[Content_Types].xml", _3MF_TYPES.encode()),
                 ("_rels/.rels", _3MF_RELATIONSHIPS.encode()),
                 ("3D/3dmodel.model", document.encode())], zipfile.ZIP_DEFLATED)


def _usdz(relief: Relief) -> bytes:
    def listed(items: list[str]) -> str:
        return "[" + ", ".join(items) + "]"

    points = listed([f"({x:.5f}, {y:.5f}, {z:.5f})" for x, y, z in relief.positions])
    uvs = listed([f"({u:.5f}, {1 - v:.5f})" for u, v in relief.texcoords])
    colours = listed([f"({r / 255:.3f}, {g / 255:.3f}, {b / 255:.3f})"
                      for r, g, b in relief.colours])
    layer = f"""#usda 1.0
(
    defaultPrim = "Relief"
    metersPerUnit = 1
    upAxis = "Y"
)

def Xform "Relief"
{{
    def Mesh "Mesh"
    {{
        int[] faceVertexCounts = {listed(["3"] * len(relief.triangles))}
        int[] faceVertexIndices = {listed([str(i) for t in relief.triangles for i in t])}
        point3f[] points = {points}
        texCoord2f[] primvars:st = {uvs} (
            interpolation = "vertex"
        )
        color3f[] primvars:displayColor = {colours} (
            interpolation = "vertex"
        )
        uniform token subdivisionScheme = "none"
    }}
}}
"""
    return _zip([("relief.usda", layer.encode())], zipfile.ZIP_STORED, align=64)


def _zip(entries: list[tuple[str, bytes]], compression: int, align: int = 1) -> bytes:
    """A ZIP of ``entries``; with ``align``, each entry's data starts at a multiple of it (the
    local header's extra field is padded, as USDZ asks)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as package:
        for name, data in entries:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            entry.compress_type = compression
            if align > 1:
                # Data begins after the 30-byte local header, the name and the extra field.
                start = buffer.tell() + 30 + len(name.encode())
                padding = -(start + 4) % align
                entry.extra = struct.pack("<HH", 0x1986, padding) + b"\0" * padding
            package.writestr(entry, data)
    return buffer.getvalue()
