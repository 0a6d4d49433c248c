"""The media makers of issue 24's task types, in process: outputs decoded (Pillow, an XML parser,
a GLB reader, the bundled ffmpeg) and held to runware-surface.md §2 (sizes, formats, alpha,
settings) and to what each module's docstring says the output is made from."""

from __future__ import annotations

import asyncio
import io
import json
import re
import struct
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from runware_mock.media import controlnet_guides, glb, masking, svg_tracing
from runware_mock.media.background_removal import Removal, remove_background
from runware_mock.media.controlnet_guides import PREPROCESSORS, Guide, guide
from runware_mock.media.ffmpeg import FFmpegPool
from runware_mock.media.masking import Masking, mask
from runware_mock.media.video_background_removal import remove_video_background
from runware_mock.media.video_upscale import upscale_video
from tests.helpers import decode, ffmpeg

BACKDROP, SUBJECT = (40, 90, 200), (240, 200, 40)
SIZE = (256, 192)


def picture(size: tuple[int, int] = SIZE, boxes: tuple[tuple[float, ...], ...] = (
        (0.35, 0.2, 0.65, 0.95),), backdrop: tuple[int, int, int] = BACKDROP,
            subject: tuple[int, int, int] = SUBJECT, soft: bool = False, fmt: str = "PNG") -> bytes:
    """A flat backdrop with subjects (boxes in shares of the size), optionally soft-edged."""
    canvas = Image.new("RGB", size, backdrop)
    pen = ImageDraw.Draw(canvas)
    width, height = size
    for left, top, right, bottom in boxes:
        pen.ellipse((left * width, top * height, right * width, bottom * height), fill=subject)
    if soft:
        canvas = canvas.filter(ImageFilter.GaussianBlur(4))
    buffer = io.BytesIO()
    canvas.save(buffer, fmt)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def values(channel: Image.Image) -> set[int]:
    return {value for _, value in channel.getcolors(256) or []}


# Background removal (§2.2).

def test_background_removal_default_is_a_png_with_real_alpha_at_the_input_size():
    out = opened(remove_background(picture(), Removal()))
    assert (out.format, out.mode, out.size) == ("PNG", "RGBA", SIZE)
    alpha = out.getchannel("A")
    assert out.getpixel((2, 2)) == (0, 0, 0, 0)  # the backdrop is gone: the default rgba
    assert alpha.getpixel((128, 110)) == 255  # the subject stays, opaque, in its colour
    assert out.getpixel((128, 110))[:3] == SUBJECT


@pytest.mark.parametrize("across", [False, True])
def test_a_graded_backdrop_is_removed_and_a_subject_cut_by_the_frame_kept(across):
    """A backdrop dark on one side and light on the other (a sky, a studio wall), a subject
    running out of the frame; ``across``: graded left to right instead of top to bottom."""
    shade = Image.linear_gradient("L")  # dark at the top, light at the bottom
    shade = (shade.transpose(Image.Transpose.TRANSPOSE) if across else shade).resize(SIZE)
    canvas = Image.merge("RGB", (shade.point(lambda v: 30 + v * 2 // 3), shade.point(
        lambda v: 60 + v * 2 // 3), Image.new("L", SIZE, 200)))
    width, height = SIZE
    subject = (100, 80, width, 140) if across else (100, 80, 160, height)
    ImageDraw.Draw(canvas).rectangle(subject, fill=SUBJECT)
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    alpha = opened(remove_background(buffer.getvalue(), Removal())).getchannel("A")
    for backdrop in ((2, 2), (width - 3, 2), (2, height - 3), (width - 3, height - 3),
                     (40, height // 2), (width // 2, 30)):
        assert alpha.getpixel(backdrop) == 0, backdrop
    inside = ((110, 110), (width - 2, 110)) if across else ((130, 90), (130, height - 2))
    for point in inside:
        assert alpha.getpixel(point) == 255, point


def test_background_removal_webp_keeps_the_alpha_and_jpg_flattens_onto_rgba():
    webp = opened(remove_background(picture(), Removal(output_format="WEBP")))
    assert (webp.format, webp.mode) == ("WEBP", "RGBA")
    assert webp.getchannel("A").getpixel((2, 2)) == 0
    jpg = opened(remove_background(picture(), Removal(output_format="JPG",
                                                      rgba=(0, 255, 0, 1.0))))
    assert (jpg.format, jpg.mode, jpg.size) == ("JPEG", "RGB", SIZE)
    red, green, blue = jpg.getpixel((2, 2))
    assert green > 240 and red < 15 and blue < 15
    plain = opened(remove_background(picture(), Removal(output_format="JPG")))
    assert max(plain.getpixel((2, 2))) < 15  # flattened onto the default rgba's black


def test_background_removal_webp_is_lossless_the_png_cut_out_exactly():
    # docs/task-types/remove-background.md: "WEBP (lossless)": the same pixels and alpha as PNG.
    source = picture(soft=True)
    data = remove_background(source, Removal(output_format="WEBP"))
    assert data[12:16] == b"VP8L"  # the lossless bitstream's chunk, alpha inside it
    png = opened(remove_background(source, Removal()))
    assert opened(data).tobytes() == png.convert("RGBA").tobytes()


def test_background_removal_rgba_colours_the_removed_background_with_its_opacity():
    out = opened(remove_background(picture(), Removal(rgba=(255, 255, 0, 0.5))))
    assert out.getpixel((2, 2)) == (255, 255, 0, 128)
    assert out.getpixel((128, 110)) == (*SUBJECT, 255)


def test_background_removal_return_only_mask_is_the_mask_itself():
    out = opened(remove_background(picture(), Removal(return_only_mask=True)))
    assert out.size == SIZE and "A" not in out.mode
    grey = out.convert("L")
    assert grey.getpixel((2, 2)) == 0 and grey.getpixel((128, 110)) == 255


def test_post_process_mask_makes_the_soft_edge_hard():
    soft = picture((512, 384), soft=True)  # larger than the matte's working copy
    plain = opened(remove_background(soft, Removal())).getchannel("A")
    cleaned = opened(remove_background(soft, Removal(post_process_mask=True))).getchannel("A")
    assert len(values(plain)) > 2
    assert values(cleaned) == {0, 255}


def test_alpha_matting_thresholds_and_erode_size_change_the_edge():
    soft = picture(soft=True)
    plain = opened(remove_background(soft, Removal())).getchannel("A")
    narrow = opened(remove_background(soft, Removal(alpha_matting=True, erode_size=1)))
    wide = opened(remove_background(soft, Removal(alpha_matting=True, erode_size=40)))

    def between(alpha: Image.Image) -> int:
        return sum(count for count, value in alpha.getcolors(256) or [] if 0 < value < 255)

    assert ImageChops.difference(plain, narrow.getchannel("A")).getbbox() is not None
    assert between(wide.getchannel("A")) > between(narrow.getchannel("A"))


# ControlNet preprocess (§2.4).

def test_each_preprocessor_gives_its_own_guide_derived_from_the_input():
    one, other = picture(), picture(boxes=((0.05, 0.1, 0.3, 0.6), (0.6, 0.5, 0.95, 0.9)))
    guides = {}
    for name in PREPROCESSORS:
        made = opened(guide(one, Guide(name)))
        assert (made.format, made.size) == ("JPEG", SIZE), name  # JPG is the default format
        guides[name] = made.convert("RGB")
        moved = opened(guide(other, Guide(name))).convert("RGB")
        assert _differ(guides[name], moved), f"{name} ignores its input"
    for first in PREPROCESSORS:
        for second in PREPROCESSORS:
            if first < second:
                assert _differ(guides[first], guides[second]), (first, second)


def _differ(first: Image.Image, second: Image.Image) -> bool:
    """More than JPEG noise apart somewhere."""
    return ImageChops.difference(first, second).convert("L").getextrema()[1] > 40


def test_webp_guides_are_lossy_and_a_lower_output_quality_never_gives_a_larger_file():
    # runware-surface.md: outputQuality 20-99; a higher one keeps more and weighs more.
    source = picture((512, 384), soft=True)
    for name in ("tile", "lineart", "normalbae"):
        sizes = []
        for quality in (20, 60, 80, 85, 90, 95, 99):
            data = guide(source, Guide(name, output_format="WEBP", quality=quality))
            assert data[12:16] == b"VP8 ", (name, quality)  # lossy VP8, not VP8L
            assert opened(data).size == (512, 384)
            sizes.append(len(data))
        assert sizes == sorted(sizes), (name, sizes)
        assert sizes[0] < sizes[-1], (name, sizes)


def test_canny_draws_the_edges_and_its_thresholds_are_on_the_gradient():
    faint = picture(backdrop=(100, 100, 100), subject=(130, 130, 130), fmt="PNG")
    edges = opened(guide(picture(), Guide("canny", output_format="PNG"))).convert("L")
    assert edges.getpixel((128, 100)) == 0 and edges.getpixel((2, 2)) == 0
    assert edges.getbbox() is not None and values(edges) <= {0, 255}
    # A step of 30 grey levels gives a Sobel L1 magnitude about 120: under the default high
    # threshold (200), above a high threshold of 60.
    default = opened(guide(faint, Guide("canny", output_format="PNG"))).convert("L")
    lowered = opened(guide(faint, Guide("canny", low_threshold=30, high_threshold=60,
                                        output_format="PNG"))).convert("L")
    assert default.getbbox() is None
    assert lowered.getbbox() is not None


def test_openpose_adds_hands_and_face_when_asked():
    body = opened(guide(picture(), Guide("openpose", output_format="PNG"))).convert("L")
    full = opened(guide(picture(), Guide("openpose", hands_and_face=True,
                                         output_format="PNG"))).convert("L")
    lit = lambda image: sum(count for count, value in image.getcolors(256) if value)  # noqa: E731
    assert lit(full) > lit(body)


@pytest.mark.parametrize(("size", "width", "height", "expected"), [
    ((640, 480), None, None, (640, 480)),
    ((640, 480), 320, None, (320, 240)),
    ((640, 480), None, 240, (320, 240)),
    ((640, 480), 512, 256, (512, 256)),
    ((640, 480), 2048, 2048, (640, 480)),  # resized only when the input is larger
])
def test_guide_size_follows_the_documented_rule(size, width, height, expected):
    made = opened(guide(picture(size), Guide("depth", width=width, height=height)))
    assert made.size == expected


def test_preprocessor_names_match_as_the_clients_spell_them():
    spelled = {"Canny": "canny", "LineArtAnime": "lineart_anime", "lineart-anime": "lineart_anime",
               "NormalBAE": "normalbae", "SoftEdge": "softedge", "MLSD": "mlsd"}
    for sent, known in spelled.items():
        assert controlnet_guides.canonical_preprocessor(sent) == known
    assert controlnet_guides.canonical_preprocessor("sharpen") is None


# Vectorize (§2.3).

SVG = "{http://www.w3.org/2000/svg}"


def test_vectorize_gives_well_formed_svg_tracing_the_input():
    data = svg_tracing.vectorize(picture((300, 150)), svg_tracing.Tracing())
    root = ElementTree.fromstring(data)
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("300", "150")
    _, _, columns, rows = (float(part) for part in root.get("viewBox").split())
    assert abs(columns / rows - 2) < 0.05
    fills = {element.get("fill") for element in root.iter() if element.get("fill")}
    assert {hex_colour(BACKDROP), hex_colour(SUBJECT)} <= _near(fills)


def hex_colour(colour: tuple[int, ...]) -> str:
    return "#" + "".join(f"{channel:02x}" for channel in colour)


def _near(fills: set[str]) -> set[str]:
    """The fills rounded to the test's colours (median cut may move a channel by a few)."""
    known = {BACKDROP, SUBJECT, (0, 0, 0), (255, 255, 0)}
    found = set()
    for fill in fills:
        rgb = tuple(int(fill[i:i + 2], 16) for i in (1, 3, 5))
        closest = min(known, key=lambda colour: sum(abs(a - b) for a, b in zip(colour, rgb,
                                                                             strict=True)))
        found.add(hex_colour(closest))
    return found


def test_vectorize_uses_the_given_palette_and_background_and_stays_bounded():
    noisy = Image.effect_noise((1024, 1024), 90).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, "PNG")
    tracing = svg_tracing.Tracing(width=1024, height=1024, colours=[(0, 0, 0), (255, 255, 0)],
                                background=(255, 255, 255))
    data = svg_tracing.vectorize(buffer.getvalue(), tracing)
    root = ElementTree.fromstring(data)
    assert {element.get("fill") for element in root.iter() if element.get("fill")} == {
        "#ffffff", "#000000", "#ffff00"}
    assert len(data) < 400_000


# Image masking (§2.5).

def test_face_mask_is_binary_without_blur_and_covers_the_detection():
    made = mask(picture(), Masking("face", blur=0, output_format="PNG"))
    assert len(made.detections) == 1
    found = made.detections[0]
    image = opened(made.image).convert("L")
    assert image.size == SIZE and values(image) == {0, 255}
    assert 0 <= found.x_min < found.x_max <= SIZE[0] and 0 <= found.y_min < found.y_max <= SIZE[1]
    middle = ((found.x_min + found.x_max) // 2, (found.y_min + found.y_max) // 2)
    assert image.getpixel(middle) == 255 and image.getpixel((2, 2)) == 0
    corner = (found.x_min, found.y_min)
    assert image.getpixel(corner) == 0  # a face is painted as an ellipse in its box
    # The face lies in the upper part of the figure (the ellipse from 20% to 95% down).
    assert found.y_max < SIZE[1] * 0.6 and found.y_min >= SIZE[1] * 0.18


def test_mask_default_format_is_jpg_and_blur_softens_it():
    made = mask(picture(), Masking("face"))
    image = opened(made.image)
    assert image.format == "JPEG"
    assert len(values(image.convert("L"))) > 2


def test_confidence_and_max_detections_bound_the_detections():
    two = picture(boxes=((0.05, 0.1, 0.3, 0.9), (0.6, 0.2, 0.9, 0.95)))
    assert len(mask(two, Masking("person")).detections) == 2
    assert len(mask(two, Masking("person", max_detections=1)).detections) == 1
    nothing = mask(two, Masking("person", confidence=1.0, blur=0, output_format="PNG"))
    assert nothing.detections == ()
    assert opened(nothing.image).convert("L").getbbox() is None
    assert all(0 < found.confidence <= 1 for found in mask(two, Masking("hand")).detections)


def test_mask_padding_grows_and_shrinks_the_mask():
    def white(padding: int, target: str) -> int:
        made = mask(picture(), Masking(target, padding=padding, blur=0, output_format="PNG"))
        return opened(made.image).convert("L").histogram()[255]

    for target in ("face", "person", "hand"):
        assert white(-3, target) < white(0, target) < white(12, target), target


def test_each_target_masks_its_own_region():
    boxes = {target: mask(picture(), Masking(target)).detections for target in masking.TARGETS}
    assert len(boxes["hand"]) == 2
    hands = mask(picture(), Masking("hand", padding=0, blur=0, output_format="PNG"))
    corner = (hands.detections[0].x_min + 1, hands.detections[0].y_min + 1)
    assert opened(hands.image).convert("L").getpixel(corner) == 255  # a hand, as a box
    spots = {target: [(d.x_min, d.y_min, d.x_max, d.y_max) for d in found]
             for target, found in boxes.items()}
    assert len({tuple(found) for found in spots.values()}) == len(spots)


def test_a_jpeg_input_read_at_reduced_scale_keeps_its_size_and_aspect():
    data = picture((600, 300), fmt="JPEG")
    root = ElementTree.fromstring(svg_tracing.vectorize(data, svg_tracing.Tracing()))
    assert (root.get("width"), root.get("height")) == ("600", "300")
    assert opened(mask(data, Masking("face")).image).size == (600, 300)
    document, _ = read_glb(glb.model(data, "GLB"))
    positions = document["accessors"][0]
    width = positions["max"][0] - positions["min"][0]
    assert abs(width / (positions["max"][1] - positions["min"][1]) - 2) < 0.01


# 3D (§2.7).

def read_glb(data: bytes) -> tuple[dict, bytes]:
    """The JSON and BIN chunks, checked as the glTF 2.0 binary format lays them out."""
    magic, version, length = struct.unpack_from("<4sII", data)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_length % 4 == 0
    document = json.loads(data[20:20 + json_length])
    bin_length, bin_type = struct.unpack_from("<II", data, 20 + json_length)
    assert bin_type == 0x004E4942 and bin_length % 4 == 0
    binary = data[28 + json_length:28 + json_length + bin_length]
    assert 28 + json_length + bin_length == len(data)
    return document, binary


SIZES = {5126: 4, 5123: 2, 5125: 4}
COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3}


def test_glb_is_valid_binary_gltf_with_the_picture_as_texture():
    document, binary = read_glb(glb.model(picture((300, 150)), "GLB"))
    assert document["asset"]["version"] == "2.0"
    assert document["buffers"][0]["byteLength"] == len(binary)
    for view in document["bufferViews"]:
        assert view["byteOffset"] % 4 == 0
        assert view["byteOffset"] + view["byteLength"] <= len(binary)
    for accessor in document["accessors"]:
        view = document["bufferViews"][accessor["bufferView"]]
        need = accessor["count"] * SIZES[accessor["componentType"]] * COMPONENTS[accessor["type"]]
        assert need == view["byteLength"]
    primitive = document["meshes"][0]["primitives"][0]
    positions = document["accessors"][primitive["attributes"]["POSITION"]]
    indices = document["accessors"][primitive["indices"]]
    view = document["bufferViews"][indices["bufferView"]]
    index_bytes = binary[view["byteOffset"]:view["byteOffset"] + view["byteLength"]]
    assert max(struct.unpack(f"<{indices['count']}H", index_bytes)) < positions["count"]
    width = positions["max"][0] - positions["min"][0]
    height = positions["max"][1] - positions["min"][1]
    assert abs(width / height - 2) < 0.01  # the picture's aspect ratio
    image = document["images"][document["textures"][0]["source"]]
    view = document["bufferViews"][image["bufferView"]]
    texture = opened(binary[view["byteOffset"]:view["byteOffset"] + view["byteLength"]])
    assert texture.size == (300, 150) and texture.format == "JPEG"


def test_the_other_3d_formats_are_well_formed():
    data = picture()
    obj = glb.model(data, "OBJ").decode().splitlines()
    vertices = sum(line.startswith("v ") for line in obj)
    faces = [line for line in obj if line.startswith("f ")]
    assert vertices == sum(line.startswith("vt ") for line in obj) > 0
    assert all(0 < int(corner.split("/")[0]) <= vertices
               for line in faces for corner in line.split()[1:])
    ply = glb.model(data, "PLY")
    header, body = ply.split(b"end_header\n", 1)
    counts = dict(re.findall(r"element (\w+) (\d+)", header.decode()))
    assert len(body) == int(counts["vertex"]) * 15 + int(counts["face"]) * 13
    stl = glb.model(data, "STL")
    (triangles,) = struct.unpack_from("<I", stl, 80)
    assert len(stl) == 84 + 50 * triangles and triangles == len(faces)


def test_3mf_and_usdz_are_well_formed_packages():
    data = picture()
    with zipfile.ZipFile(io.BytesIO(glb.model(data, "3MF"))) as package:
        assert {"[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model"} <= set(package.namelist())
        model = ElementTree.fromstring(package.read("3D/3dmodel.model"))
    core = "{http://schemas.microsoft.com/3dmanufacturing/core/2015/02}"
    vertices = len(model.findall(f".//{core}vertex"))
    corners = [int(t.get(key)) for t in model.iter(f"{core}triangle") for key in ("v1", "v2", "v3")]
    assert corners and max(corners) < vertices
    usdz = glb.model(data, "USDZ")
    with zipfile.ZipFile(io.BytesIO(usdz)) as package:
        (entry,) = package.infolist()
        assert entry.filename.endswith(".usda") and entry.compress_type == zipfile.ZIP_STORED
        layer = package.read(entry).decode()
    # The USDZ specification: stored (not compressed) files whose data starts on 64 bytes.
    name_length, extra_length = struct.unpack_from("<HH", usdz, entry.header_offset + 26)
    assert (entry.header_offset + 30 + name_length + extra_length) % 64 == 0
    assert layer.startswith("#usda 1.0") and "point3f[] points" in layer


def read_fbx_records(data: bytes, offset: int, end: int) -> dict[str, list]:
    """Binary FBX 7.4 records from ``offset`` up to a null record: name -> [(properties,
    children)], each end offset checked."""
    found: dict[str, list] = {}
    while offset < end:
        record_end, count, _, name_length = struct.unpack_from("<IIIB", data, offset)
        if record_end == 0:
            return found
        name = data[offset + 13:offset + 13 + name_length].decode()
        position, properties = offset + 13 + name_length, []
        for _ in range(count):
            kind = chr(data[position])
            position += 1
            if kind in "dfil":
                length, _, size = struct.unpack_from("<III", data, position)
                properties.append(struct.unpack_from(f"<{length}{kind}", data, position + 12))
                position += 12 + size
            elif kind == "S":
                (size,) = struct.unpack_from("<I", data, position)
                properties.append(data[position + 4:position + 4 + size])
                position += 4 + size
            else:
                form = {"I": "<i", "L": "<q", "D": "<d", "C": "<?", "Y": "<h", "F": "<f"}[kind]
                properties.append((kind, *struct.unpack_from(form, data, position)))
                position += struct.calcsize(form)
        children = read_fbx_records(data, position, record_end) if position < record_end else {}
        if children:  # a list of children ends on a null record
            assert data[record_end - 13:record_end] == bytes(13), name
        found.setdefault(name, []).append((properties, children))
        offset = record_end
    return found


def test_fbx_is_binary_fbx_with_the_mesh():
    data = glb.model(picture(), "FBX")
    assert data.startswith(b"Kaydara FBX Binary  \x00\x1a\x00")
    assert struct.unpack_from("<I", data, 23) == (7400,)
    tree = read_fbx_records(data, 27, len(data))
    ((_, objects),) = tree["Objects"]
    ((geometry_properties, geometry),) = objects["Geometry"]
    assert geometry_properties[0][0] == "L"  # object ids are 64-bit
    ((vertices,), _), = geometry["Vertices"]
    ((corners,), _), = geometry["PolygonVertexIndex"]
    assert len(vertices) % 3 == 0 and len(corners) % 3 == 0
    ends = [index for index in corners if index < 0]  # each polygon ends on -(index + 1)
    assert len(ends) == len(corners) // 3
    assert max(max(corners), max(-index - 1 for index in ends)) < len(vertices) // 3
    assert {"FBXHeaderExtension", "GlobalSettings", "Connections"} <= set(tree)


# Videos (§2.8, §2.2).

@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """One second, 160x120 at 25 fps with sound: a red square on a flat blue backdrop."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    made = ffmpeg("-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x285ac8:s=160x120:r=25:d=1",
                  "-f", "lavfi", "-i", "sine=d=1", "-vf",
                  "drawbox=x=50:y=30:w=50:h=60:color=0xe6281e:t=fill",
                  "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path))
    assert made.returncode == 0, made.stderr
    return path


@pytest.mark.parametrize(("output_format", "codec"), [("MP4", "h264"), ("WEBM", "vp9")])
def test_video_upscale_is_factor_times_the_size_and_as_long(clip, tmp_path, output_format, codec):
    target = tmp_path / f"up.{output_format.lower()}"
    asyncio.run(upscale_video(FFmpegPool(1), clip, target, 2, output_format))
    source, made = decode(clip), decode(target)
    assert (made["width"], made["height"]) == (320, 240)
    assert made["video_codec"] == codec and made["errors"] == 0
    assert made["frames"] == source["frames"]
    assert list(tmp_path.iterdir()) == [target]  # no partial file left behind


def test_video_upscale_fps_resamples_the_frames_and_keeps_the_length(clip, tmp_path):
    target = tmp_path / "up.mp4"
    asyncio.run(upscale_video(FFmpegPool(1), clip, target, 2, "MP4", fps=10))
    made = decode(target)
    assert made["frames"] == 10  # one second at 10 fps
    assert abs(made["audio_seconds"] - decode(clip)["audio_seconds"]) < 0.05


# How ffmpeg reports the alpha: VP9 carries it beside the picture (a WebM track flag, decoded
# by libvpx), ProRes 4444 in the pixel format.
@pytest.mark.parametrize(("output_format", "decoder", "alpha_marker"), [
    ("WEBM", ["-c:v", "libvpx-vp9"], r"alpha_mode\s*:\s*1"), ("MOV", [], r"prores.*yuva444p")])
def test_video_background_removal_has_alpha_same_size_and_length(clip, tmp_path, output_format,
                                                                 decoder, alpha_marker):
    target = tmp_path / f"cut.{output_format.lower()}"
    asyncio.run(remove_video_background(FFmpegPool(1), clip, target, output_format))
    source, made = decode(clip), decode(target)
    assert (made["width"], made["height"], made["frames"]) == (160, 120, source["frames"])
    frame = tmp_path / "frame.png"
    decoded = ffmpeg("-v", "error", "-y", *decoder, "-i", str(target), "-frames:v", "1",
                     "-pix_fmt", "rgba", str(frame))
    assert decoded.returncode == 0, decoded.stderr
    assert re.search(alpha_marker, ffmpeg("-i", str(target)).stderr)
    alpha = Image.open(frame).getchannel("A")
    assert alpha.getpixel((5, 5)) < 16  # the backdrop is transparent
    assert alpha.getpixel((75, 60)) > 240  # the square is not
