"""Image masking (``imageMasking``): a mask image and the detections it was drawn from.

What a detection model finds is, in a mock, worked out from the picture's foreground
(``media.matte``): the foreground's columns are split where no foreground stands, and each run
of columns is a person, boxed by the foreground inside it, with a confidence that grows with how
much of its box the foreground fills. The asked target is placed in each person as a body plan
would put it: the face at the top, the hands beside the middle, the eyes, nose and lips inside
the face. Detections below ``confidence`` are dropped, the most confident ``maxDetections``
are kept.

The mask is the input's size, black with each detection painted white (an ellipse for faces and
their features, a box for hands, the foreground itself for persons), grown by ``maskPadding``
pixels (shrunk when negative) and blurred by ``maskBlur`` (0 leaves it strictly black and
white). Synchronous and CPU-bound: callers run it in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageStat

from runware_mock.media import matte
from runware_mock.media.placeholder import encode

# What each documented target is made of (the masking models' ``runware:35@n`` by their names).
TARGETS = {
    "face": ("face",), "hand": ("hand",), "person": ("person",), "eyes": ("eyes",),
    "lips": ("lips",), "nose": ("nose",), "eyes_lips": ("eyes", "lips"),
    "nose_eyes": ("nose", "eyes"), "nose_lips": ("nose", "lips"),
}
# A column holds foreground when at least this share (of 255) of it is foreground.
_COLUMN_SHARE = 4
# Where a face's features lie in its box: (centre x, centre y, width, height), all in shares.
_FEATURES = {"eyes": ((0.3, 0.4, 0.24, 0.12), (0.7, 0.4, 0.24, 0.12)),
             "nose": ((0.5, 0.56, 0.2, 0.22),), "lips": ((0.5, 0.76, 0.4, 0.12),)}

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Masking:
    """The documented settings, with the documented defaults."""

    target: str
    confidence: float = 0.25
    max_detections: int = 6
    padding: int = 4
    blur: int = 4
    output_format: str = "JPG"
    quality: int = 95


@dataclass(frozen=True)
class Detection:
    x_min: int
    y_min: int
    x_max: int
    y_max: int
    confidence: float
    # The shapes painted into the mask, in input pixels ("person" paints the foreground).
    shapes: tuple[Box, ...] = ()


@dataclass(frozen=True)
class Mask:
    image: bytes
    detections: tuple[Detection, ...]


def mask(data: bytes, masking: Masking) -> Mask:
    """The mask image and the detections of ``masking.target`` in the picture in ``data``."""
    small, size = matte.decode_reduced(data, matte.WORKING_SIDE)
    foreground = matte.threshold(matte.matte(small))
    scale = (size[0] / small.width, size[1] / small.height)
    found = [detection for person in _persons(foreground)
             for detection in _detect(person, masking.target, scale)]
    kept = sorted((detection for detection in found if detection.confidence >= masking.confidence),
                  key=lambda detection: -detection.confidence)[:masking.max_detections]
    drawn = _draw(kept, foreground, size, masking)
    return Mask(encode(drawn.convert("RGB"), masking.output_format, masking.quality),
                tuple(kept))


def _persons(foreground: Image.Image) -> list[tuple[Box, float]]:
    """Each run of foreground columns: its box (working pixels) and its fill (0-1)."""
    columns = foreground.resize((foreground.width, 1), Image.Resampling.BOX).tobytes()
    found, start = [], None
    for x, share in enumerate([*columns, 0]):
        if share >= _COLUMN_SHARE and start is None:
            start = x
        elif share < _COLUMN_SHARE and start is not None:
            strip = foreground.crop((start, 0, x, foreground.height))
            bounds = strip.getbbox()
            if bounds is not None:
                box = (start, bounds[1], x, bounds[3])
                fill = ImageStat.Stat(foreground.crop(box)).mean[0] / 255
                found.append((box, fill))
            start = None
    return found


def _detect(person: tuple[Box, float], target: str,
            scale: tuple[float, float]) -> list[Detection]:
    """The detections of ``target`` in one person (its box in working pixels, its fill)."""
    (left, top, right, bottom), fill = person
    confidence = round(min(0.99, 0.3 + 0.7 * fill), 2)
    left, right = left * scale[0], right * scale[0]
    top, bottom = top * scale[1], bottom * scale[1]
    tall = bottom - top
    if target == "person":
        return [_detection((left, top, right, bottom), confidence, ())]
    if target == "hand":
        side = tall * 0.14
        return [_detection(hand, round(confidence * 0.9, 2), (hand,)) for hand in
                ((left, top + tall * 0.45, left + side, top + tall * 0.45 + side),
                 (right - side, top + tall * 0.45, right, top + tall * 0.45 + side))]
    face_width = min(right - left, tall * 0.22)
    middle = (left + right) / 2
    face = (middle - face_width / 2, top + tall * 0.02,
            middle + face_width / 2, top + tall * 0.02 + face_width * 1.25)
    if target == "face":
        return [_detection(face, round(confidence * 0.95, 2), (face,))]
    shapes = tuple(_within(face, share) for part in TARGETS[target] for share in _FEATURES[part])
    bounds = (min(s[0] for s in shapes), min(s[1] for s in shapes),
              max(s[2] for s in shapes), max(s[3] for s in shapes))
    return [_detection(bounds, round(confidence * 0.9, 2), shapes)]


def _within(face: Box, share: tuple[float, float, float, float]) -> Box:
    left, top, right, bottom = face
    x, y, wide, tall = share
    width, height = right - left, bottom - top
    return (left + (x - wide / 2) * width, top + (y - tall / 2) * height,
            left + (x + wide / 2) * width, top + (y + tall / 2) * height)


def _detection(box: Box, confidence: float, shapes: tuple[Box, ...]) -> Detection:
    x_min, y_min, x_max, y_max = (round(value) for value in box)
    return Detection(x_min, y_min, x_max, y_max, confidence, shapes)


def _draw(kept: list[Detection], foreground: Image.Image, size: tuple[int, int],
          masking: Masking) -> Image.Image:
    canvas = Image.new("L", size, 0)
    pen = ImageDraw.Draw(canvas)
    pad = masking.padding
    person = masking.target == "person"
    whole = foreground.resize(size, Image.Resampling.NEAREST) if person else None
    for detection in kept:
        if whole is not None:  # a person: the foreground inside its box
            box = (detection.x_min, detection.y_min, detection.x_max, detection.y_max)
            canvas.paste(255, box, mask=whole.crop(box))
            continue
        for left, top, right, bottom in detection.shapes:
            grown = (left - pad, top - pad, right + pad, bottom + pad)
            if grown[2] <= grown[0] or grown[3] <= grown[1]:
                continue  # shrunk away by a negative padding
            if masking.target == "hand":
                pen.rectangle(grown, fill=255)
            else:
                pen.ellipse(grown, fill=255)
    if whole is not None:
        canvas = matte.dilate(canvas, pad) if pad > 0 else matte.erode(canvas, -pad)
    if masking.blur > 0:
        canvas = canvas.filter(ImageFilter.GaussianBlur(masking.blur))
    return canvas
