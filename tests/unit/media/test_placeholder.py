"""placeholder.webp_quality (docs/images.md): outputQuality is libwebp's quality up to 80, and
80 to 100 are squeezed below 89, where libwebp's fastest method starts coding every block as
intra 4x4; it keeps rising, so a lower outputQuality never asks for a larger file."""

from __future__ import annotations

from itertools import pairwise

from runware_mock.media.placeholder import webp_quality


def test_up_to_80_output_quality_is_libwebps_own():
    assert [webp_quality(quality) for quality in (0, 20, 50, 80)] == [0, 20, 50, 80]


def test_above_80_it_keeps_rising_and_stays_below_89():
    mapped = [webp_quality(quality) for quality in range(20, 101)]
    assert all(lower < higher for lower, higher in pairwise(mapped))
    assert mapped[-1] < 89
