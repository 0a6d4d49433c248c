"""Vectorize (``vectorize``): an SVG tracing the input picture.

The picture is shrunk to a grid of at most ``GRID`` cells along its long side (the input's
aspect ratio), its colours reduced to ``_COLOURS`` (median cut) or, when the request gives
``providerSettings.recraft.colors``, to that palette, and cleaned by a mode filter. Each colour
becomes one ``<path>`` made of the horizontal runs of its cells; the most common colour (or the
given ``backgroundColor``) fills a background ``<rect>`` under them. The SVG is ``width`` x
``height`` (the input's size unless asked) with a ``viewBox`` on the grid, so it is at most a
few hundred kilobytes whatever the input. Synchronous and CPU-bound: callers run it in a worker
thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from PIL import Image, ImageFilter

from runware_mock.media import matte

GRID = 96
_COLOURS = 8

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Tracing:
    """The documented settings: the SVG's size and Recraft's palette and background colour."""

    width: int | None = None
    height: int | None = None
    colours: Sequence[Colour] = ()
    background: Colour | None = None


def vectorize(data: bytes, tracing: Tracing) -> bytes:
    """The SVG document (UTF-8) tracing the picture in ``data``."""
    grid, (picture_width, picture_height) = matte.decode_reduced(data, GRID)
    cells = _quantised(grid, tracing.colours).filter(ImageFilter.ModeFilter(3))
    palette = cells.getpalette() or []
    counts = sorted(cells.getcolors() or [], reverse=True)
    width = tracing.width or picture_width
    height = tracing.height or picture_height
    columns, rows = cells.size
    backdrop = tracing.background or tuple(palette[3 * counts[0][1]:3 * counts[0][1] + 3])
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {columns} {rows}" preserveAspectRatio="none" '
        'shape-rendering="crispEdges">',
        f'<rect width="{columns}" height="{rows}" fill={quoteattr(_hex(backdrop))}/>',
    ]
    indices = cells.tobytes()
    for _, index in counts:
        if tracing.background is None and index == counts[0][1]:
            continue  # the backdrop already paints it
        path = "".join(_row_runs(indices, index, columns, rows))
        colour = _hex(tuple(palette[3 * index:3 * index + 3]))
        parts.append(f'<path fill={quoteattr(colour)} d="{path}"/>')
    parts.append("</svg>")
    return "\n".join(parts).encode()


def _quantised(grid: Image.Image, colours: Sequence[Colour]) -> Image.Image:
    if not colours:
        return grid.quantize(_COLOURS, method=Image.Quantize.MEDIANCUT)
    chosen = Image.new("P", (1, 1))
    flat = [channel for colour in colours for channel in colour]
    chosen.putpalette(flat + flat[:3] * (256 - len(colours)))
    return grid.quantize(palette=chosen, dither=Image.Dither.NONE)


def _row_runs(indices: bytes, index: int, columns: int, rows: int) -> list[str]:
    """Path commands drawing, row by row, each run of cells of colour ``index``."""
    commands = []
    for y in range(rows):
        row = indices[y * columns:(y + 1) * columns]
        start = row.find(index)
        while start != -1:
            end = start
            while end < columns and row[end] == index:
                end += 1
            commands.append(f"M{start} {y}h{end - start}v1h-{end - start}z")
            start = row.find(index, end)
    return commands


def _hex(colour: Sequence[int]) -> str:
    red, green, blue = colour
    return f"#{red:02x}{green:02x}{blue:02x}"
