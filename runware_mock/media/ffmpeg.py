"""The bundled ffmpeg run as an async subprocess, never through a shell, in a bounded pool."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import imageio_ffmpeg


@cache
def executable() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


# How ffmpeg reports an output it could not write for lack of room (strerror(ENOSPC)).
_NO_SPACE = os.strerror(errno.ENOSPC)


class FFmpegError(RuntimeError):
    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        tail = stderr.strip().splitlines()[-3:]
        super().__init__(f"ffmpeg exited with {returncode}: {' | '.join(tail)}")
        self.stderr = stderr


@dataclass(frozen=True)
class Completed:
    stdout_bytes: int
    stderr: str


class FFmpegPool:
    """At most ``workers`` ffmpeg processes of this pool run at once; the rest wait their turn."""

    def __init__(self, workers: int) -> None:
        self._slots = asyncio.Semaphore(workers)

    async def run(self, args: Sequence[str], *, check: bool = True) -> Completed:
        """Run ffmpeg with ``args``; stdout is counted (not kept), stderr is returned."""
        async with self._slots:
            process = await asyncio.create_subprocess_exec(
                executable(), "-hide_banner", "-nostdin", *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            _lower_priority(process.pid)
            try:
                counted, stderr = await asyncio.gather(
                    _count(process.stdout), process.stderr.read()  # type: ignore[arg-type, union-attr]
                )
                await process.wait()
            finally:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
        text = stderr.decode("utf-8", "replace")
        if check and process.returncode != 0:
            failure = FFmpegError(args, process.returncode or -1, text)
            if _NO_SPACE in text:  # the disk's fault, not the render's: told as an OSError
                raise OSError(errno.ENOSPC, f"{_NO_SPACE} ({failure})") from failure
            raise failure
        return Completed(counted, text)


def _lower_priority(pid: int) -> None:
    """Renders yield the CPU to the API: polls must stay fast while videos encode."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, pid, 10)


async def _count(stream: asyncio.StreamReader) -> int:
    total = 0
    while chunk := await stream.read(1 << 16):
        total += len(chunk)
    return total
