"""The media makers of issue 24's task types, in process: how long each output takes to make.

    python benchmarks/new_outputs.py [--draws 15] [--video-runs 1] [--compare] [--videos-only]
                                     [--untuned-allocator]

Prints, for a 1024x1024 input (PNG), the median and worst time of a background removal (PNG,
WEBP, JPG, and PNG with alphaMatting), a ControlNet guide (each preprocessor, JPG, PNG and WEBP), a
vectorize (SVG) and a 3D model (GLB), each from the input bytes to the output bytes; wall
time and the thread's CPU time, which a machine shared with other work inflates less. Two
inputs: one of the emulator's own generated pictures (what a client chaining imageInference
into these tasks sends) and a photo-like one (gradients, shapes and grain, which encoders find
harder). Then a 10 s 720p video (25 fps, with sound) upscaled by 2 to MP4, both a still one (the
emulator's own kind of video) and one moving everywhere (ffmpeg's testsrc2). Targets (issue 24):
pictures at most 30 ms, GLB at most 20 ms, the video at most 2 s. The C allocator is tuned as
the server tunes it (media.allocator); --untuned-allocator leaves glibc's defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from runware_mock.media import glb, matte
from runware_mock.media.allocator import keep_freed_memory
from runware_mock.media.background_removal import Removal, encode_cut_out, remove_background
from runware_mock.media.controlnet_guides import PREPROCESSORS, Guide, guide
from runware_mock.media.ffmpeg import FFmpegPool, executable
from runware_mock.media.placeholder import Picture, draw, encode
from runware_mock.media.svg_tracing import Tracing, vectorize
from runware_mock.media.video_probe import probe_video
from runware_mock.media.video_upscale import upscale_video

PICTURE_TARGET, GLB_TARGET, VIDEO_TARGET = 0.030, 0.020, 2.0


def generated() -> bytes:
    return draw(Picture(1024, 1024, "PNG", 95, 7, ("A red fox in the snow", "runware:400@2")))


def photo_like() -> bytes:
    backdrop = Image.linear_gradient("L").resize((1024, 1024))
    grain = Image.effect_noise((1024, 1024), 6)
    canvas = Image.merge("RGB", (backdrop.point(lambda v: 150 + v // 6),
                                 backdrop.point(lambda v: 160 + v // 8),
                                 backdrop.point(lambda v: 170 + v // 10)))
    canvas = ImageChops.add(canvas, Image.merge("RGB", (grain,) * 3), 1, -128)
    pen = ImageDraw.Draw(canvas)
    pen.ellipse((330, 180, 700, 980), fill=(170, 70, 40))
    pen.ellipse((430, 120, 600, 330), fill=(220, 170, 140))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)  # photos come as JPEG
    return buffer.getvalue()


def timings(make: Callable[[], object], draws: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of ``draws`` calls (after one warm-up)."""
    make()
    walls, cpus = [], []
    for _ in range(draws):
        wall, cpu = time.perf_counter(), time.thread_time()
        make()
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return walls, cpus


def report(label: str, make: Callable[[], object], draws: int, target: float) -> None:
    walls, cpus = timings(make, draws)
    verdict = "meets" if statistics.median(cpus) <= target else "MISSES"
    print(f"{label:38} wall p50 {statistics.median(walls) * 1000:6.1f} ms  max "
          f"{max(walls) * 1000:6.1f} ms   cpu p50 {statistics.median(cpus) * 1000:6.1f} ms  "
          f"({verdict} {target * 1000:.0f} ms)")


def pictures(draws: int) -> None:
    for name, data in (("generated (PNG)", generated()), ("photo-like (JPEG)", photo_like())):
        print(f"-- 1024x1024 input: {name}")
        report("decoding the input alone", lambda data=data: matte.decode(data), draws,
               PICTURE_TARGET)
        cut = Image.open(io.BytesIO(remove_background(data, Removal()))).convert("RGBA")
        for output_format in ("PNG", "WEBP", "JPG"):
            removal = Removal(output_format=output_format)
            report(f"removeBackground {output_format}",
                   lambda data=data, removal=removal: remove_background(data, removal), draws,
                   PICTURE_TARGET)
            if output_format != "JPG":
                # The encoders side by side: Pillow's defaults as placeholders use them (what
                # background removal used before), and background removal's own.
                report(f"  encoding its {output_format} alone (Pillow)",
                       lambda cut=cut, output_format=output_format: encode(cut, output_format, 95),
                       draws, PICTURE_TARGET)
                report(f"  encoding its {output_format} alone (now)",
                       lambda cut=cut, removal=removal: encode_cut_out(cut, removal), draws,
                       PICTURE_TARGET)
        matting = Removal(alpha_matting=True)
        report("removeBackground PNG alphaMatting",
               lambda data=data, matting=matting: remove_background(data, matting), draws,
               PICTURE_TARGET)
        for output_format in ("JPG", "PNG", "WEBP"):
            for preprocessor in PREPROCESSORS:
                settings = Guide(preprocessor, output_format=output_format)
                report(f"controlNetPreprocess {preprocessor} {output_format}",
                       lambda data=data, settings=settings: guide(data, settings), draws,
                       PICTURE_TARGET)
        report("vectorize SVG", lambda data=data: vectorize(data, Tracing()), draws,
               PICTURE_TARGET)
        report("3dInference GLB", lambda data=data: glb.model(data, "GLB"), draws, GLB_TARGET)


def clip(folder: Path, moving: bool) -> Path:
    path = folder / f"{'moving' if moving else 'still'}-720p.mp4"
    source = ("testsrc2=s=1280x720:r=25:d=10" if moving else
              "color=c=0x3c6e9a:s=1280x720:r=25:d=10,"
              "drawbox=x=400:y=120:w=480:h=520:color=0xc8643c:t=fill")
    subprocess.run([executable(), "-v", "error", "-y", "-f", "lavfi", "-i", source, "-f", "lavfi",
                    "-i", "sine=d=10", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt",
                    "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


# The first settings of media.video_upscale (CRF 30, the sound re-encoded to AAC), run beside
# today's in the same run (--compare), to show what the change bought on the same machine.
BEFORE = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p",
          "-c:a", "aac", "-movflags", "+faststart", "-f", "mp4"]


async def _before(source: Path, target: Path) -> None:
    await FFmpegPool(1).run(["-y", "-v", "error", "-i", str(source), "-map", "0:v:0", "-map",
                             "0:a:0?", "-vf", "scale=trunc(iw*2/2)*2:trunc(ih*2/2)*2:"
                             "flags=fast_bilinear", *BEFORE, str(target)])


def videos(runs: int, compare: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for moving in (False, True):
            source = clip(Path(folder), moving)
            # The emulator probes its input first: the sound's codec decides whether it is
            # copied (media.video_upscale).
            info = asyncio.run(probe_video(FFmpegPool(1), source))
            makers = {"now": lambda target, info=info, source=source: upscale_video(
                FFmpegPool(1), source, target, 2, "MP4", audio_codec=info.audio_codec)}
            if compare:
                makers["before"] = lambda target, source=source: _before(source, target)
            for label, make in makers.items():
                walls, cpus = [], []
                for run in range(runs):
                    started, spent = time.perf_counter(), _children_cpu()
                    asyncio.run(make(Path(folder) / f"up-{label}{run}.mp4"))
                    walls.append(time.perf_counter() - started)
                    cpus.append(_children_cpu() - spent)
                verdict = "meets" if statistics.median(walls) <= VIDEO_TARGET else "MISSES"
                print(f"video upscale x2, 10 s 720p {'moving' if moving else 'still':6} -> "
                      f"1440p MP4 ({label:6}): wall p50 {statistics.median(walls):5.2f} s  max "
                      f"{max(walls):5.2f} s  ffmpeg cpu p50 {statistics.median(cpus):5.2f} s  "
                      f"({verdict} {VIDEO_TARGET:.0f} s)")


def _children_cpu() -> float:
    """CPU seconds (user and system) of the finished ffmpeg processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=15)
    parser.add_argument("--video-runs", type=int, default=1)
    parser.add_argument("--compare", action="store_true",
                        help="run the video upscale's first settings beside today's")
    parser.add_argument("--videos-only", action="store_true")
    parser.add_argument("--untuned-allocator", action="store_true",
                        help="leave glibc's malloc as it is (the server tunes it at its start, "
                             "media.allocator)")
    options = parser.parse_args()
    if not options.untuned_allocator:
        keep_freed_memory()
    if not options.videos_only:
        pictures(options.draws)
    videos(options.video_runs, options.compare)


if __name__ == "__main__":
    main()
