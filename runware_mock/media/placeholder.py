"""Placeholder images: a real picture of exactly the asked size that shows what was asked for
(the prompt, the model, the seed), drawn with Pillow.

The picture is a function of its ``Picture`` alone: the same request and seed give the same
bytes, whichever task asks. A seed image (image-to-image) is blended under the colours; an
upscale is the input resized. Everything here is synchronous and CPU-bound: callers run it in
a worker thread (``ImageMaker``), never on the event loop.
"""

from __future__ import annotations

import hashlib
import io
import random
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

# outputFormat -> (Pillow format, file extension).
FORMATS = {"JPG": ("JPEG", "jpg"), "PNG": ("PNG", "png"), "WEBP": ("WEBP", "webp"),
           "TIFF": ("TIFF", "tiff")}
# Colours of the backdrop: a few random cells, smoothed across a grid of flat tiles.
_CELLS = 4
# Tiles of the backdrop along each side. Flat areas are what encoders handle fastest, and a
# grid of flat tiles is cheap to draw: at 1024x1024 the backdrop takes 0.5 ms instead of the
# smooth gradient's 4, its WEBP (quality 95) encodes in about 16.5 ms instead of 19, its JPG
# in half the time.
_TILES = 16
# Lines of the prompt drawn at most; a longer prompt ends with an ellipsis.
_PROMPT_LINES = 6
# A PNG is compressed fast: a placeholder is made for one test run, not archived.
_PNG_LEVEL = 1
# outputQuality above the knee is scaled into libwebp's qualities below 88.9 (webp_quality).
_WEBP_KNEE, _WEBP_TOP = 80, 88.8


@dataclass(frozen=True)
class Picture:
    """What a placeholder shows and how it is encoded."""

    width: int
    height: int
    output_format: str
    quality: int
    seed: int
    caption: tuple[str, ...]
    # Drawn under the caption: an image-to-image seed image (blended), or an upscale's input.
    source: Path | None = None
    # How much of the generated backdrop covers the source (0: the source as it is).
    strength: float = 0.0

    @property
    def extension(self) -> str:
        return FORMATS[self.output_format][1]

    def key(self, source_identity: str = "") -> str:
        """Names the picture's bytes: a cached file under this name is the same picture."""
        parts = (self.width, self.height, self.output_format, self.quality, self.seed,
                 self.caption, source_identity, self.strength)
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def draw(picture: Picture) -> bytes:
    """The encoded image."""
    canvas = _backdrop(picture.seed, picture.width, picture.height)
    if picture.source is not None:
        source = _fitted(picture.source, picture.width, picture.height)
        canvas = Image.blend(source, canvas, picture.strength)
    _caption(canvas, picture.caption)
    if picture.output_format == "PNG":
        # A placeholder's colours fit a palette, and a palette image deflates in an eighth of
        # the time of RGB: 1024x1024 costs about 9 ms (quantize and encode) instead of 21.
        canvas = canvas.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    return encode(canvas, picture.output_format, picture.quality)


def upscaled(source: Path, size: tuple[int, int], caption: tuple[str, ...], output_format: str,
             quality: int) -> bytes:
    """The source resized to ``size`` (its stored pixels, as a probe measures them), labelled."""
    with Image.open(source) as image:
        canvas = image.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    _caption(canvas, caption)
    return encode(canvas, output_format, quality)


def upscaled_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """Each side ``factor`` times longer, rounded to whole pixels."""
    return max(1, round(width * factor)), max(1, round(height * factor))


def encode(canvas: Image.Image, output_format: str, quality: int) -> bytes:
    pillow_format, _ = FORMATS[output_format]
    buffer = io.BytesIO()
    if pillow_format == "PNG":
        canvas.save(buffer, "PNG", compress_level=_PNG_LEVEL)
    elif pillow_format == "WEBP":
        # Method 0, libwebp's fastest.
        canvas.save(buffer, "WEBP", quality=webp_quality(quality), method=0)
    elif pillow_format == "TIFF":
        # Deflate (lossless): 1024x1024 in about 11 ms and 36 KB; uncompressed it is 3 MB.
        canvas.save(buffer, "TIFF", compression="tiff_adobe_deflate")
    else:
        canvas.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def webp_quality(quality: int) -> float:
    """libwebp's quality for ``outputQuality``: its own up to 80; 80 to 100 squeezed into 80 to
    88.8, still rising, so a lower ``outputQuality`` never gives a larger file. From 89 up,
    libwebp's fastest method codes every macroblock as intra 4x4, whatever the picture: a
    1024x1024 encode takes 15 ms instead of 10 (20 instead of 13 on a ControlNet line drawing),
    a third of a guide's whole time. What the finer quantizer buys is hard to see: 95, now
    86.6, decodes at 45 to 65 dB PSNR instead of 46 to 72 on the guides and placeholders
    measured, and the files are a fifth to three fifths smaller."""
    if quality <= _WEBP_KNEE:
        return float(quality)
    return _WEBP_KNEE + (quality - _WEBP_KNEE) * (_WEBP_TOP - _WEBP_KNEE) / (100 - _WEBP_KNEE)


def _backdrop(seed: int, width: int, height: int) -> Image.Image:
    """Colour fields from the seed: a few random cells, smoothed across flat tiles."""
    rng = random.Random(seed)
    cells = Image.new("RGB", (_CELLS, _CELLS))
    cells.putdata([(rng.randrange(40, 216), rng.randrange(40, 216), rng.randrange(40, 216))
                   for _ in range(_CELLS * _CELLS)])
    tiles = cells.resize((min(_TILES, width), min(_TILES, height)), Image.Resampling.BICUBIC)
    return tiles.resize((width, height), Image.Resampling.NEAREST)


def _fitted(path: Path, width: int, height: int) -> Image.Image:
    with Image.open(path) as image:
        image.draft("RGB", (width, height))  # JPEG: decode at a reduced scale when it can
        return ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"), (width, height),
                            Image.Resampling.BILINEAR)


def _caption(canvas: Image.Image, lines: tuple[str, ...]) -> None:
    """The caption on a dark band at the bottom: the prompt wrapped, then the details."""
    width, height = canvas.size
    size = max(8, min(width, height) // 32)
    font = _font(size)
    columns = max(8, int(width / (size * 0.55)))
    prompt, *details = lines
    wrapped = textwrap.wrap(prompt, columns) or [""]
    if len(wrapped) > _PROMPT_LINES:
        wrapped = [*wrapped[:_PROMPT_LINES - 1], wrapped[_PROMPT_LINES - 1][:columns - 1] + "…"]
    text = [*wrapped, *(textwrap.shorten(line, columns, placeholder="…") for line in details)]
    step = int(size * 1.3)
    band = min(height, step * len(text) + size)
    pen = ImageDraw.Draw(canvas)
    pen.rectangle((0, height - band, width, height), fill=(16, 16, 20))
    top = height - band + size // 2
    for index, line in enumerate(text):
        colour = (245, 245, 245) if index < len(wrapped) else (170, 200, 255)
        pen.text((size // 2, top + index * step), line, font=font, fill=colour)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)
