"""Memory of the request journal under load: does it stay within its cap?

    python benchmarks/journal.py [--entries 100000] [--limit 10000] [--value-limit 256]

Records ``--entries`` realistic exchanges straight into a Journal (half avatar submits carrying
the fixture portrait and voice as base64, half getResponse polls answered with a result), then
prints the entries kept and the memory they hold, measured with tracemalloc. For comparison it
does the same with the cap lifted to ``--entries``, and times recording without tracemalloc.
"""

from __future__ import annotations

import argparse
import base64
import time
import tracemalloc
import uuid
from typing import Any

from runware_mock.fixtures import media_path
from runware_mock.settings import Settings
from runware_mock.transport.journal import Journal

PORTRAIT = "b06de116-9865-4f69-85aa-47389348df02.jpg"
VOICE = "f7e9776d-d6d9-40d3-aa53-120611f4b9c8.mp3"


def exchanges(count: int) -> list[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """``count`` (tasks, reply) pairs; the large base64 strings are shared, as a server's
    parsed request would be dropped after recording anyway."""
    image = base64.b64encode(media_path(PORTRAIT).read_bytes()).decode()
    audio = base64.b64encode(media_path(VOICE).read_bytes()).decode()
    pairs = []
    for index in range(count):
        task_uuid = str(uuid.UUID(int=index, version=4))
        if index % 2 == 0:
            tasks = [{"taskType": "videoInference", "taskUUID": task_uuid,
                      "model": "klingai:avatar@2.0-standard", "includeCost": True,
                      "inputs": {"image": image, "audio": audio}}]
            reply = {"data": [{"taskType": "videoInference", "taskUUID": task_uuid}]}
        else:
            tasks = [{"taskType": "getResponse", "taskUUID": task_uuid}]
            reply = {"data": [{"taskType": "videoInference", "taskUUID": task_uuid,
                               "status": "success", "videoUUID": task_uuid,
                               "videoURL": f"http://127.0.0.1:8787/video/{task_uuid}.mp4",
                               "seed": index, "cost": 0.5397}]}
        pairs.append((tasks, reply))
    return pairs


def fill(journal: Journal, pairs: list[tuple[list[dict[str, Any]], dict[str, Any]]]) -> None:
    for tasks, reply in pairs:
        journal.record("rest", "request", api_key="bench-key", tasks=tasks, reply=reply,
                       status=200)


def traced(limit: int, value_limit: int, pairs: list) -> tuple[int, int, int]:
    """(entries kept, bytes held after recording, peak bytes while recording)."""
    tracemalloc.start()
    journal = Journal(limit, value_limit)
    fill(journal, pairs)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return len(journal), current, peak


def timed(limit: int, value_limit: int, pairs: list) -> float:
    journal = Journal(limit, value_limit)
    started = time.perf_counter()
    fill(journal, pairs)
    return len(pairs) / (time.perf_counter() - started)


def main() -> None:
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=defaults.journal_limit)
    parser.add_argument("--value-limit", type=int, default=defaults.journal_value_limit)
    arguments = parser.parse_args()
    pairs = exchanges(arguments.entries)

    print(f"recorded {arguments.entries} exchanges (request body ~"
          f"{len(str(pairs[0][0])) // 1024} KB for a submit), value limit "
          f"{arguments.value_limit} characters")
    print(f"{'cap':>10} {'entries kept':>13} {'held MiB':>9} {'peak MiB':>9} {'bytes/entry':>12}")
    for limit in (arguments.limit, arguments.entries):
        kept, current, peak = traced(limit, arguments.value_limit, pairs)
        print(f"{limit:>10} {kept:>13} {current / 2**20:>9.1f} {peak / 2**20:>9.1f} "
              f"{current // max(kept, 1):>12}")
    rate = timed(arguments.limit, arguments.value_limit, pairs)
    print(f"recording speed without tracemalloc: {rate:,.0f} entries/s")


if __name__ == "__main__":
    main()
