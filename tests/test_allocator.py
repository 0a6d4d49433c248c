"""media.allocator: once tuned, glibc keeps the blocks a picture frees, so making the same
picture again touches no fresh page (each fresh page is a fault that zeroes it). Measured in a
fresh interpreter, whose allocator no test has used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

MAKE_TWICE = """
import json, resource, sys
from PIL import Image
from runware_mock.media.allocator import keep_freed_memory
tuned = keep_freed_memory() if sys.argv[1] == "tuned" else None

def faults_of_one_picture():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    Image.new("L", (1024, 1024), 7).convert("RGB").resize((1000, 1000)).tobytes()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults_of_one_picture()
print(json.dumps({"tuned": tuned, "again": min(faults_of_one_picture() for _ in range(3))}))
"""


def made_twice(mode: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", MAKE_TWICE, mode], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def test_a_picture_made_again_touches_no_fresh_memory():
    tuned = made_twice("tuned")
    if tuned["tuned"] is False:
        pytest.skip("not glibc: the allocator is left as it is")
    # A 1024x1024 RGB picture alone is 1,024 pages of 4 KiB; untuned, glibc maps them afresh.
    assert tuned["again"] < 100, tuned
