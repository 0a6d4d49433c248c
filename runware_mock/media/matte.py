"""A foreground matte of a picture: how far each pixel is from the colours of its border.

What a background-removal, masking or pose model finds is, in a mock, what stands out from the
backdrop. The backdrop is known three ways: the border's dominant colour; per row, the colour at
whichever end of the row is nearer that dominant colour (so a sky or a studio wall that darkens
upwards stays backdrop, and a subject cut by one side does not become backdrop); per column,
likewise from its top or bottom end. Each pixel's alpha grows with its smallest distance
(largest channel difference) from these, ramped between two distances and smoothed.

Everything is computed on a small working copy (at most ``WORKING_SIDE`` pixels along the long
side) with Pillow's C operations, so a 1024x1024 picture costs a few milliseconds; callers
scale the matte back to the picture's size.
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops, ImageFilter, ImageOps

# The working copy's long side: enough for a mask's outline, cheap for every filter.
WORKING_SIDE = 256
# Channel differences from the border colour below LOW are background, above HIGH foreground;
# a straight ramp between them keeps the edges soft.
_LOW, _HIGH = 24, 72
# Colours the border is reduced to before the most common one is picked.
_BORDER_COLOURS = 8


def decode(data: bytes) -> Image.Image:
    """The picture in ``data`` as RGB (a transparent input lies on white, as a viewer shows it)."""
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return _rgb(picture)


def _rgb(picture: Image.Image) -> Image.Image:
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return picture if picture.mode == "RGB" else picture.convert("RGB")


def decode_reduced(data: bytes, side: int) -> tuple[Image.Image, tuple[int, int]]:
    """The picture in ``data`` with its long side at most ``side`` (a JPEG is decoded at that
    scale directly, several times faster), and the picture's full size."""
    picture = Image.open(io.BytesIO(data))
    size = picture.size
    if picture.format == "JPEG":
        picture.draft("RGB", (side, side))
    picture.load()
    return working_copy(_rgb(picture), side), size


def working_copy(picture: Image.Image, side: int = WORKING_SIDE) -> Image.Image:
    """``picture`` shrunk (box filter) so its long side is at most ``side``."""
    scale = side / max(picture.size)
    if scale >= 1:
        return picture.copy()
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    factor = max(picture.size) // side
    if (picture.width, picture.height) == (size[0] * factor, size[1] * factor):
        # A whole factor (1024 -> 256): the same box mean, in a third of resize's time.
        return picture.reduce(factor)
    return picture.resize(size, Image.Resampling.BOX, reducing_gap=2.0)


def border_colour(picture: Image.Image) -> tuple[int, int, int]:
    """The most common colour (of a few) along the picture's four edges."""
    width, height = picture.size
    edges = [picture.crop(box) for box in ((0, 0, width, 1), (0, height - 1, width, height),
                                           (0, 0, 1, height), (width - 1, 0, width, height))]
    strip = Image.new("RGB", (2 * width + 2 * height, 1))
    offset = 0
    for edge in edges:
        line = edge if edge.height == 1 else edge.transpose(Image.Transpose.ROTATE_90)
        strip.paste(line, (offset, 0))
        offset += line.width
    quantised = strip.quantize(_BORDER_COLOURS, method=Image.Quantize.MEDIANCUT)
    counts = quantised.getcolors() or [(1, 0)]
    _, index = max(counts)
    palette = quantised.getpalette() or [0, 0, 0]
    red, green, blue = palette[3 * index:3 * index + 3]
    return red, green, blue


def distance(picture: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """Per pixel, the largest channel difference from ``colour`` (mode L)."""
    return _largest_difference(picture, Image.new("RGB", picture.size, colour))


def _largest_difference(first: Image.Image, second: Image.Image) -> Image.Image:
    red, green, blue = ImageChops.difference(first, second).split()
    return ImageChops.lighter(red, ImageChops.lighter(green, blue))


def _nearer_end(first: Image.Image, second: Image.Image,
                colour: tuple[int, int, int]) -> Image.Image:
    """Pixel by pixel, whichever of two border lines is nearer ``colour``."""
    further = ImageChops.subtract(distance(first, colour), distance(second, colour))
    return Image.composite(first, second, further.point([255] + [0] * 255))


def _ramp(value: int) -> int:
    return min(255, max(0, (value - _LOW) * 255 // (_HIGH - _LOW)))


_RAMP = [_ramp(value) for value in range(256)]


def matte(small: Image.Image) -> Image.Image:
    """The soft foreground matte (mode L, 255 = foreground) of a working copy."""
    colour = border_colour(small)
    width, height = small.size
    rows = _nearer_end(small.crop((0, 0, 1, height)), small.crop((width - 1, 0, width, height)),
                       colour)
    columns = _nearer_end(small.crop((0, 0, width, 1)), small.crop((0, height - 1, width, height)),
                          colour)
    nearest = ImageChops.darker(
        distance(small, colour),
        ImageChops.darker(_largest_difference(small, rows.resize(small.size)),
                          _largest_difference(small, columns.resize(small.size))))
    return nearest.point(_RAMP).filter(ImageFilter.GaussianBlur(1))


def threshold(mask: Image.Image, level: int = 128) -> Image.Image:
    """``mask`` made binary: 255 from ``level`` up, else 0."""
    return mask.point([255 if value >= level else 0 for value in range(256)])


def dilate(mask: Image.Image, radius: int) -> Image.Image:
    """A binary ``mask`` grown by ``radius`` pixels (a box mean above 0; Pillow's rank
    filters sort every window, hundreds of times slower). By one pixel, the 3x3 maximum: the
    same pixels in under half the box's time (a Canny guide grows its edges three times)."""
    if radius < 1:
        return mask
    if radius == 1:
        return threshold(local_maximum(mask), 1)
    return threshold(mask.filter(ImageFilter.BoxBlur(radius)), 1)


def erode(mask: Image.Image, radius: int) -> Image.Image:
    """A binary ``mask`` shrunk by ``radius`` pixels (a box mean of fully set only)."""
    if radius < 1:
        return mask
    return threshold(mask.filter(ImageFilter.BoxBlur(radius)), 255)


def local_maximum(grey: Image.Image) -> Image.Image:
    """Each pixel's largest 3x3 neighbour (mode L; outside the picture counts as 0), from
    shifted copies of the picture framed in black, so no shift wraps a side onto the other."""
    width, height = grey.size
    framed = ImageOps.expand(grey, 1, 0)
    rows = ImageChops.lighter(framed, ImageChops.lighter(ImageChops.offset(framed, 1, 0),
                                                         ImageChops.offset(framed, -1, 0)))
    largest = ImageChops.lighter(rows, ImageChops.lighter(ImageChops.offset(rows, 0, 1),
                                                          ImageChops.offset(rows, 0, -1)))
    return largest.crop((1, 1, width + 1, height + 1))
