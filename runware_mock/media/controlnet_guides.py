"""ControlNet preprocess guides (``imageControlNetPreProcess`` / ``controlNetPreprocess``): one
guide image per documented ``preProcessorType``, computed from the input picture.

Each guide is worked out on a copy of at most ``_WORKING_SIDE`` pixels along the long side
(less for the blurry ones, ``_SIDES``) and scaled to the output size (nearest neighbour for
line drawings, so lines stay crisp). What each is made from:

- ``canny``: white edges on black. The gradient is Sobel's (L1 magnitude, as OpenCV measures
  it), thinned to its local maxima, kept from ``highThresholdCanny`` up and, by hysteresis,
  from ``lowThresholdCanny`` up where it touches a strong edge (defaults 100 and 200);
- ``depth``: a grey depth map, nearer is brighter: the foreground matte (``media.matte``),
  a floor that comes nearer towards the bottom, and the picture's brightness, smoothed;
- ``normalbae``: the normal map of that depth (x in red, y in green, facing the viewer blue);
- ``lineart``: thin grey lines of the smoothed picture's contours on black; ``lineart_anime``:
  the same lines, hard and thicker;
- ``softedge``: soft, wide edges of a more strongly smoothed picture (as HED draws them);
- ``scribble``: thick binary strokes along the strongest edges;
- ``mlsd``: straight line segments: the horizontal and vertical runs of the edge map;
- ``openpose``: a body skeleton (OpenPose's 18 keypoints and limb colours) standing in the
  foreground's bounding box, on black; ``includeHandsAndFaceOpenPose`` adds both hands
  (21 keypoints each) and the face's 68 landmarks;
- ``seg``: the picture's colour regions (quantised, cleaned by a mode filter) painted in the
  ADE20K palette's colours;
- ``tile``: the picture blurred by an eighth-size round trip;
- ``shuffle``: the picture cut into an 8x8 grid whose cells are moved by a fixed permutation,
  then smoothed.

Output size (``width``, ``height``): the input's, resized only when the input is larger; with one
side given the other keeps the aspect ratio. Synchronous and CPU-bound: callers run it in a
worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from runware_mock.media import matte
from runware_mock.media.fast_png import png
from runware_mock.media.placeholder import encode

PREPROCESSORS = ("canny", "depth", "mlsd", "normalbae", "openpose", "tile", "seg", "lineart",
                 "lineart_anime", "shuffle", "scribble", "softedge")
_WORKING_SIDE = 512
# The blurry guides (depth, normal map, soft edges, tile, shuffle) lose nothing on a copy half
# as large, the segmentation's broad regions on one a quarter as large. The skeleton needs only
# the foreground's box: the matte's own working size (on the larger copy the matte took four
# times as long, half of the guide's time).
_SMOOTH_SIDE = 256
_SIDES = {"depth": _SMOOTH_SIDE, "normalbae": _SMOOTH_SIDE, "softedge": _SMOOTH_SIDE,
          "tile": _SMOOTH_SIDE, "shuffle": _SMOOTH_SIDE, "seg": 128,
          "openpose": matte.WORKING_SIDE}
_SOBEL_X = ImageFilter.Kernel((3, 3), [-1, 0, 1, -2, 0, 2, -1, 0, 1], scale=8, offset=128)
_SOBEL_Y = ImageFilter.Kernel((3, 3), [-1, -2, -1, 0, 0, 0, 1, 2, 1], scale=8, offset=128)
# _gradient's value times this is the L1 Sobel magnitude OpenCV's Canny compares thresholds to.
_GRADIENT_UNIT = 8


@dataclass(frozen=True)
class Guide:
    """The documented settings, with the documented defaults."""

    preprocessor: str
    width: int | None = None
    height: int | None = None
    low_threshold: int = 100
    high_threshold: int = 200
    hands_and_face: bool = False
    output_format: str = "JPG"
    quality: int = 95


def canonical_preprocessor(name: str) -> str | None:
    """The documented name for ``name`` as any client spells it (``Canny``, ``LineArtAnime``,
    ``lineart-anime``), or None for an unknown one."""
    wanted = _squashed(name)
    return next((known for known in PREPROCESSORS if _squashed(known) == wanted), None)


def _squashed(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def output_size(size: tuple[int, int], width: int | None, height: int | None) -> tuple[int, int]:
    """The guide's size: the input's, shrunk only where it is larger than the asked size."""
    in_width, in_height = size
    if width and height:
        return (width, height) if in_width > width or in_height > height else size
    if width and in_width > width:
        return width, max(1, round(in_height * width / in_width))
    if height and in_height > height:
        return max(1, round(in_width * height / in_height)), height
    return size


def guide(data: bytes, settings: Guide) -> bytes:
    """The guide image of the picture in ``data``."""
    side = _SIDES.get(settings.preprocessor, _WORKING_SIDE)
    # Only a small copy is worked on: a JPEG is decoded at that scale directly.
    reduced, full = matte.decode_reduced(data, side)
    size = output_size(full, settings.width, settings.height)
    small = matte.working_copy(reduced, min(side, max(size)))
    drawn, smooth = _MAKERS[settings.preprocessor](small, settings, size)
    resample = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    if drawn.size != size:
        drawn = drawn.resize(size, resample)
    drawn = drawn.convert("RGB")
    if settings.output_format == "PNG":
        return png(drawn)  # Up-filtered, zlib level 1: half Pillow's time (media.fast_png)
    return encode(drawn, settings.output_format, settings.quality)


def _slope(grey: Image.Image, kernel: ImageFilter.Kernel) -> Image.Image:
    """``grey`` through a 3x3 kernel whose offset is 128 (no slope)."""
    # Pillow's kernels leave the outermost pixels as they were: they are given no slope.
    inner = grey.filter(kernel).crop((1, 1, grey.width - 1, grey.height - 1))
    return ImageOps.expand(inner, 1, 128)


def _gradient(grey: Image.Image) -> Image.Image:
    """The L1 Sobel magnitude divided by ``_GRADIENT_UNIT`` (mode L)."""
    middle = Image.new("L", grey.size, 128)
    across = ImageChops.difference(_slope(grey, _SOBEL_X), middle)
    return ImageChops.add(across, ImageChops.difference(_slope(grey, _SOBEL_Y), middle))


def _ridges(magnitude: Image.Image) -> Image.Image:
    """255 where ``magnitude`` is the largest of its 3x3 neighbourhood (and not zero)."""
    peaks = ImageChops.subtract(matte.local_maximum(magnitude), magnitude)
    flat = peaks.point([255 if value == 0 else 0 for value in range(256)])
    return ImageChops.multiply(flat, matte.threshold(magnitude, 1))


def _level(threshold: int) -> int:
    return max(1, min(255, -(-threshold // _GRADIENT_UNIT)))


def _canny(small: Image.Image, settings: Guide, _: tuple[int, int]) -> tuple[Image.Image, bool]:
    grey = small.convert("L").filter(ImageFilter.GaussianBlur(1))
    magnitude = _gradient(grey)
    ridges = _ridges(magnitude)
    high = matte.threshold(magnitude, _level(settings.high_threshold))
    strong = ImageChops.multiply(ridges, high)
    weak = ImageChops.multiply(ridges, matte.threshold(magnitude, _level(settings.low_threshold)))
    for _ in range(3):  # hysteresis: weak edges join when they touch a kept one
        strong = ImageChops.lighter(
            strong, ImageChops.multiply(weak, matte.dilate(strong, 1)))
    return strong, False


def _depth_map(small: Image.Image) -> Image.Image:
    width, height = small.size
    floor = Image.linear_gradient("L").resize((width, height), Image.Resampling.BILINEAR)
    near = Image.blend(floor, matte.matte(matte.working_copy(small)).resize(small.size), 0.55)
    lit = small.convert("L")
    return Image.blend(near, lit, 0.2).filter(ImageFilter.GaussianBlur(max(2, width // 64)))


def _depth(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    return _depth_map(small), True


def _normalbae(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    depth = _depth_map(small)
    slope = ImageFilter.Kernel((3, 3), [-1, 0, 1, -2, 0, 2, -1, 0, 1], scale=1, offset=128)
    rise = ImageFilter.Kernel((3, 3), [-1, -2, -1, 0, 0, 0, 1, 2, 1], scale=1, offset=128)
    red = _slope(depth, slope).point(lambda value: 255 - value)
    green = _slope(depth, rise)
    tilt = ImageChops.add(ImageChops.difference(red, Image.new("L", depth.size, 127)),
                          ImageChops.difference(green, Image.new("L", depth.size, 128)))
    blue = tilt.point(lambda value: 255 - value // 2)
    return Image.merge("RGB", (red, green, blue)), True


def _lines(small: Image.Image, blur: float) -> Image.Image:
    magnitude = _gradient(small.convert("L").filter(ImageFilter.GaussianBlur(blur)))
    return ImageChops.multiply(magnitude.point(lambda value: min(255, value * 6)),
                               _ridges(magnitude))


def _lineart(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    return _lines(small, 1.5), False


def _lineart_anime(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    return matte.dilate(matte.threshold(_lines(small, 1.0), 48), 1), False


def _softedge(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    magnitude = _gradient(small.convert("L").filter(ImageFilter.GaussianBlur(1.5)))
    soft = magnitude.point(lambda value: min(255, value * 10))
    return soft.filter(ImageFilter.GaussianBlur(1)), True


def _scribble(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    magnitude = _gradient(small.convert("L").filter(ImageFilter.GaussianBlur(3)))
    strokes = ImageChops.multiply(matte.threshold(magnitude, 6), _ridges(magnitude))
    return matte.dilate(strokes, 2), False


# mlsd: the edge map's side on which runs are looked for, and a segment's shortest run.
_MLSD_GRID, _MLSD_RUN = 96, 6


def _mlsd(small: Image.Image, settings: Guide, size: tuple[int, int]) -> tuple[Image.Image, bool]:
    edges, _ = _canny(matte.working_copy(small, _MLSD_GRID), settings, size)
    edges = matte.dilate(edges, 1)
    columns, rows = edges.size
    pixels = edges.tobytes()
    canvas = Image.new("L", size, 0)
    pen = ImageDraw.Draw(canvas)
    across, down = size[0] / columns, size[1] / rows
    thickness = max(1, round(min(size) / 256))
    for y in range(rows):
        for start, end in _runs(pixels[y * columns:(y + 1) * columns]):
            pen.line([(start * across, (y + 0.5) * down), (end * across, (y + 0.5) * down)],
                     fill=255, width=thickness)
    for x in range(columns):
        for start, end in _runs(pixels[x::columns]):
            pen.line([((x + 0.5) * across, start * down), ((x + 0.5) * across, end * down)],
                     fill=255, width=thickness)
    return canvas, False


def _runs(line: bytes) -> list[tuple[int, int]]:
    """(start, end) of each run of set pixels at least ``_MLSD_RUN`` long."""
    found, start = [], None
    for index, value in enumerate([*line, 0]):
        if value and start is None:
            start = index
        elif not value and start is not None:
            if index - start >= _MLSD_RUN:
                found.append((start, index))
            start = None
    return found


# ADE20K's palette (its first classes: wall, building, sky, floor, tree, ceiling, road, bed).
_ADE20K = [(120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3),
           (120, 120, 80), (140, 140, 140), (204, 5, 255)]


def _seg(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    coarse = small.filter(ImageFilter.GaussianBlur(2))
    # Octree quantisation: a tenth of median cut's time, and regions are all a guide needs.
    regions = coarse.quantize(len(_ADE20K), method=Image.Quantize.FASTOCTREE)
    regions = regions.filter(ImageFilter.ModeFilter(5))
    regions.putpalette([channel for colour in _ADE20K for channel in colour])
    return regions.convert("RGB"), False


def _tile(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    width, height = small.size
    tiny = small.resize((max(1, width // 8), max(1, height // 8)), Image.Resampling.BOX)
    return tiny.resize(small.size, Image.Resampling.BICUBIC), True


_CELLS = 8


def _shuffle(small: Image.Image, _: Guide, __: tuple[int, int]) -> tuple[Image.Image, bool]:
    width, height = small.size
    cell_width, cell_height = max(1, width // _CELLS), max(1, height // _CELLS)
    shuffled = small.copy()
    for index in range(_CELLS * _CELLS):
        moved = (index * 5 + 3) % (_CELLS * _CELLS)  # 5 is prime to 64: a permutation
        source = (index % _CELLS * cell_width, index // _CELLS * cell_height)
        target = (moved % _CELLS * cell_width, moved // _CELLS * cell_height)
        shuffled.paste(small.crop((*source, source[0] + cell_width, source[1] + cell_height)),
                       target)
    return shuffled.filter(ImageFilter.GaussianBlur(max(2, width // 40))), True


# OpenPose's 18 body keypoints (nose, neck, right shoulder, elbow, wrist, left shoulder, elbow,
# wrist, right hip, knee, ankle, left hip, knee, ankle, right eye, left eye, right ear, left
# ear) for a figure standing in a unit box, its limbs and their colours.
_BODY = [(0.5, 0.08), (0.5, 0.2), (0.36, 0.2), (0.3, 0.36), (0.27, 0.5), (0.64, 0.2),
         (0.7, 0.36), (0.73, 0.5), (0.42, 0.52), (0.41, 0.74), (0.4, 0.96), (0.58, 0.52),
         (0.59, 0.74), (0.6, 0.96), (0.47, 0.06), (0.53, 0.06), (0.44, 0.07), (0.56, 0.07)]
_LIMBS = [(1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
          (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17)]
_COLOURS = [(255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
            (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
            (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170),
            (255, 0, 85)]


def _openpose(small: Image.Image, settings: Guide,
              size: tuple[int, int]) -> tuple[Image.Image, bool]:
    box = _figure_box(small, size)
    place = _placer(box)
    points = [place(x, y) for x, y in _BODY]
    canvas = Image.new("RGB", size, "black")
    pen = ImageDraw.Draw(canvas)
    thickness = max(2, round((box[3] - box[1]) / 60))
    for (start, end), colour in zip(_LIMBS, _COLOURS, strict=False):
        pen.line([points[start], points[end]], fill=tuple(c * 6 // 10 for c in colour),
                 width=thickness)
    for (x, y), colour in zip(points, _COLOURS, strict=True):
        pen.ellipse((x - thickness, y - thickness, x + thickness, y + thickness), fill=colour)
    if settings.hands_and_face:
        for wrist, side in ((4, -1), (7, 1)):
            _hand(pen, points[wrist], side, (box[3] - box[1]) / 12)
        _face(pen, points[0], (box[3] - box[1]) / 14)
    return canvas, False


def _figure_box(small: Image.Image, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Where the figure stands, in output pixels: the foreground's box, or the middle."""
    found = matte.threshold(matte.matte(small)).getbbox()
    left, top, right, bottom = found or (small.width * 0.2, small.height * 0.1,
                                         small.width * 0.8, small.height * 0.9)
    across, down = size[0] / small.width, size[1] / small.height
    return left * across, top * down, right * across, bottom * down


def _placer(box: tuple[float, float, float, float]) -> Callable[[float, float],
                                                                  tuple[float, float]]:
    """Unit-box coordinates to output pixels, the figure as tall as the box, centred in it."""
    left, top, right, bottom = box
    tall = bottom - top
    wide = min(right - left, tall * 0.6)
    middle = (left + right) / 2

    def place(x: float, y: float) -> tuple[float, float]:
        return middle + (x - 0.5) * wide / 0.5 * 0.5, top + y * tall

    return place


def _hand(pen: ImageDraw.ImageDraw, wrist: tuple[float, float], side: int, span: float) -> None:
    """OpenPose's 21 hand keypoints: the wrist and four joints on each of five fingers."""
    x, y = wrist
    for finger in range(5):
        spread = (finger - 2) * 0.22
        joints = [(x + side * spread * span * step / 4, y + span * step / 4)
                  for step in range(1, 5)]
        colour = _COLOURS[finger * 3]
        pen.line([wrist, *joints], fill=colour, width=max(1, round(span / 12)))
        for joint in joints:
            pen.ellipse((joint[0] - 1.5, joint[1] - 1.5, joint[0] + 1.5, joint[1] + 1.5),
                        fill=(0, 0, 255))


def _face(pen: ImageDraw.ImageDraw, nose: tuple[float, float], span: float) -> None:
    """68 white landmarks: jaw, brows, nose, eyes and mouth around the nose keypoint."""
    x, y = nose
    landmarks = [(x + span * (i - 8) / 8, y + span * (0.9 - abs(i - 8) ** 2 / 80)) for i in
                 range(17)]
    landmarks += [(x + span * (i - 4.5) / 5, y - span * 0.7) for i in range(10)]
    landmarks += [(x, y - span * (0.5 - i * 0.12)) for i in range(4)]
    landmarks += [(x + span * (i - 2) / 6, y + span * 0.1) for i in range(5)]
    landmarks += [(x + span * (side * 0.35 + (i % 3 - 1) / 10), y - span * (0.3 + (i // 3) / 12))
                  for side in (-1, 1) for i in range(6)]
    landmarks += [(x + span * (i - 10) / 25, y + span * (0.45 + (i % 2) / 15)) for i in range(20)]
    for px, py in landmarks:
        pen.ellipse((px - 1.5, py - 1.5, px + 1.5, py + 1.5), fill=(255, 255, 255))


_MAKERS: dict[str, Callable[[Image.Image, Guide, tuple[int, int]], tuple[Image.Image, bool]]] = {
    "canny": _canny, "depth": _depth, "mlsd": _mlsd, "normalbae": _normalbae,
    "openpose": _openpose, "tile": _tile, "seg": _seg, "lineart": _lineart,
    "lineart_anime": _lineart_anime, "shuffle": _shuffle, "scribble": _scribble,
    "softedge": _softedge,
}
