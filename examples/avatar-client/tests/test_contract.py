"""Contract tests of avatar_client against the runware-mock emulator (pytest plugin)."""

from __future__ import annotations

import itertools

import httpx
import pytest
from avatar_client import AvatarClient, RunwareError, parse_reply
from hypothesis import given, settings
from hypothesis import strategies as st

from runware_mock.contract import schemas
from runware_mock.contract import strategies as rs

# The seed document's inputs: the emulator serves these URLs from its shipped fixtures.
PORTRAIT = "https://assets.runware.ai/assets/inputs/b06de116-9865-4f69-85aa-47389348df02.jpg"
VOICE = "https://assets.runware.ai/assets/inputs/f7e9776d-d6d9-40d3-aa53-120611f4b9c8.mp3"
VOICE_COST = 0.5397  # 12.266 s at $0.044/s


@pytest.fixture
def client(runware_mock) -> AvatarClient:
    return AvatarClient(runware_mock.api_key, runware_mock.url, poll_interval=0.05)


def test_waits_for_the_video_and_its_cost(client, runware_admin) -> None:
    task_uuid = client.submit(PORTRAIT, VOICE, prompt="A friendly host", include_cost=True)
    runware_admin.advance(59)  # simulated seconds: a minute of latency is not over yet
    assert runware_admin.task(task_uuid)["state"] == "processing"
    runware_admin.advance(1)
    [video] = client.wait(task_uuid, timeout=60)
    assert video.cost == VOICE_COST
    assert httpx.get(video.url).headers["content-type"] == "video/mp4"


@pytest.mark.runware_mock(latency="instant", seed=7)
def test_several_results_each_with_its_seed(client) -> None:
    videos = client.wait(client.submit(PORTRAIT, VOICE, results=2), timeout=60)
    assert len({video.seed for video in videos}) == 2


def test_a_rejected_prompt_raises_with_the_parameter(client) -> None:
    with pytest.raises(RunwareError) as caught:
        client.submit(PORTRAIT, VOICE, prompt="x" * 2501)
    assert (caught.value.code, caught.value.parameter) == ("invalidPositivePromptLength",
                                                           "positivePrompt")


def test_webhook_and_upload_deliveries(client, runware_admin, webhook_receiver,
                                       upload_receiver) -> None:
    task_uuid = client.submit(PORTRAIT, VOICE, webhook_url=webhook_receiver.url,
                              upload_endpoint=upload_receiver.url)
    runware_admin.complete(task_uuid)  # skip the latency
    [video] = parse_reply(webhook_receiver.wait_for(1)[0].json()).videos
    [upload] = upload_receiver.wait_for(1)
    assert upload.method == "PUT" and upload.body == httpx.get(video.url).content


@settings(max_examples=25, deadline=None)
@given(prompt=st.text(min_size=1, max_size=2500), results=st.integers(1, 4))
def test_every_task_the_client_builds_is_valid(prompt: str, results: int) -> None:
    task = AvatarClient("key").build_task(PORTRAIT, VOICE, prompt, results=results)
    assert schemas.is_valid("request.videoInference.klingai-avatar-2.0", task)


@settings(max_examples=50, deadline=None)
@given(case=rs.invalid_avatar_tasks())
def test_every_rejection_becomes_a_runware_error(runware_mock_session, case) -> None:
    client = AvatarClient(runware_mock_session.api_key, runware_mock_session.url)
    with pytest.raises(RunwareError) as caught:
        client.send(case.task)
    assert (caught.value.code, caught.value.parameter) == (case.code, case.parameter)


@settings(max_examples=100, deadline=None)
@given(sequence=rs.result_sequences(failures=False))
def test_the_poll_parser_follows_any_result_sequence(sequence) -> None:
    polls = [parse_reply(reply) for reply in sequence.replies]
    assert polls[-1].processing == 0
    assert len(polls[-1].videos) == sequence.number_results
    assert all(len(a.videos) <= len(b.videos) for a, b in itertools.pairwise(polls))
