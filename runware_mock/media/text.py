"""Placeholder text: the emulator's answers to textInference and promptEnhance.

Nothing here understands language. An answer says what it answers (the model, an excerpt of
the last user message, the seed), then continues with sentences drawn from a fixed
vocabulary; an enhanced prompt is the prompt behind a style word, followed by descriptive
phrases. Every draw comes from the emulator's ``Randomness`` (engine/randomness.py, handed
in by the task) keyed by the inputs, so the same ``--seed`` and inputs give the same text.

Tokens are counted the emulator's way, documented in docs/text.md: a token is a run of
non-space characters with the spaces before it. Streamed chunks are tokens, so a stream's
deltas join to exactly the final text.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Protocol

from runware_mock.contract.request_types import TextInferenceChatRequest

# Tokens are cut at the ends of these runs. Not ``\s*\S+``: that pattern backtracks through a
# run of spaces from each of its positions, and a 77,000-character systemPrompt of spaces took
# four seconds of the event loop; this one looks at each character once.
_WORD = re.compile(r"\S+")
# Words of the answer's sentences: plain, so any client can print them.
_SUBJECTS = ("The emulator", "This answer", "A placeholder reply", "The offline service",
             "A deterministic model", "The mock")
_VERBS = ("repeats", "describes", "outlines", "summarises", "considers", "returns", "notes")
_OBJECTS = ("the request", "a short plan", "three ideas", "the main point", "an example",
            "the context given", "a simple answer", "the next step")
_ENDINGS = ("in plain words.", "for testing only.", "without any real inference.",
            "as a stand-in for a language model.", "with the same seed every time.",
            "and stops here.", "so clients can parse it.")
# promptEnhance: each version starts with a different style word (none a prefix of another,
# all shorter than the smallest promptMaxLength), so versions differ however short they are.
_STYLES = ("Cinematic", "Vivid", "Detailed", "Moody", "Serene", "Dramatic", "Ethereal",
           "Rustic")
_PHRASES = ("soft golden hour light", "shallow depth of field", "ultra detailed",
            "sharp focus", "rich colour palette", "volumetric fog", "wide angle shot",
            "award winning photography", "intricate textures", "dynamic composition",
            "high dynamic range", "subtle film grain", "natural skin tones",
            "dramatic shadows", "crisp reflections", "8k resolution")
# Longest excerpt of the user's message quoted in an answer.
_EXCERPT = 60


class Randomness(Protocol):
    """The seeded source (``engine.randomness.Randomness``): media sits below the engine."""

    def stream(self, *key: object) -> random.Random: ...


def tokens(text: str) -> list[str]:
    """``text`` as the emulator counts and streams it (the pieces join back to ``text``
    without its trailing spaces)."""
    pieces, start = [], 0
    for word in _WORD.finditer(text):
        pieces.append(text[start:word.end()])
        start = word.end()
    return pieces


def count_tokens(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


@dataclass(frozen=True)
class Answer:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int

    def usage(self) -> dict[str, int]:
        return {"promptTokens": self.prompt_tokens, "completionTokens": self.completion_tokens,
                "totalTokens": self.prompt_tokens + self.completion_tokens,
                "thinkingTokens": 0}


@dataclass(frozen=True)
class Conversation:
    """What an answer depends on, read from a validated textInference task."""

    model: str
    messages: tuple[tuple[str, str], ...]
    system_prompt: str
    max_tokens: int | None
    stop_sequences: tuple[str, ...]

    @classmethod
    def of(cls, task: TextInferenceChatRequest) -> Conversation:
        settings = {**{name: task[name] for name in _LEGACY if name in task},
                    **task.get("settings", {})}
        return cls(str(task["model"]),
                   # An assistant turn that called tools may carry no content.
                   tuple((m["role"], m.get("content", "")) for m in task["messages"]),
                   str(settings.get("systemPrompt", "")), settings.get("maxTokens"),
                   tuple(settings.get("stopSequences", ())))

    def digest(self) -> str:
        """The inputs' fingerprint, a key of the draws (cheap to hash, whatever their size)."""
        material = repr((self.model, self.messages, self.system_prompt)).encode()
        return hashlib.sha256(material, usedforsecurity=False).hexdigest()

    def prompt_tokens(self) -> int:
        return count_tokens(self.system_prompt) + sum(count_tokens(content)
                                                      for _, content in self.messages)

    def last_user_message(self) -> str:
        return next((content for role, content in reversed(self.messages) if role == "user"),
                    "")


# Top-level spellings sdk-js passes through; settings.* wins when both are given.
_LEGACY = ("seed", "maxTokens", "temperature", "topP", "topK", "stopSequences", "systemPrompt")


def request_seed(task: TextInferenceChatRequest) -> int | None:
    """The seed the client asked for (``settings.seed`` or the top-level ``seed``)."""
    seed = task.get("settings", {}).get("seed", task.get("seed"))
    return None if seed is None else int(seed)


def answer(randomness: Randomness, conversation: Conversation, seed: int) -> Answer:
    """The answer to ``conversation`` for this seed: cut at ``maxTokens`` (finishReason
    ``length``) or before a stop sequence (``stop``)."""
    rng = randomness.stream("textInference", conversation.digest(), seed)
    excerpt = " ".join(conversation.last_user_message().split())
    if len(excerpt) > _EXCERPT:
        excerpt = excerpt[:_EXCERPT - 3].rstrip() + "..."
    sentences = [f'{conversation.model} (emulated, seed {seed}) answers "{excerpt}".']
    for _ in range(rng.randint(2, 5)):
        sentences.append(" ".join((rng.choice(_SUBJECTS), rng.choice(_VERBS),
                                   rng.choice(_OBJECTS), rng.choice(_ENDINGS))))
    text, reason = " ".join(sentences), "stop"
    for stop in conversation.stop_sequences:
        at = text.find(stop)
        if at >= 0:
            text = text[:at].rstrip()
    pieces = tokens(text)
    if conversation.max_tokens is not None and len(pieces) > conversation.max_tokens:
        pieces, reason = pieces[:conversation.max_tokens], "length"
        text = "".join(pieces)
    return Answer(text, reason, conversation.prompt_tokens(), len(pieces))


def enhanced_prompt(randomness: Randomness, prompt: str, version: int,
                    max_length: int) -> str:
    """Version ``version`` (0-based) of an enhanced ``prompt``, at most ``max_length``
    characters; different versions of one prompt always differ."""
    key = hashlib.sha256(prompt.encode("utf-8", "surrogatepass"),
                         usedforsecurity=False).hexdigest()
    styles = list(_STYLES)
    randomness.stream("promptEnhance-styles", key).shuffle(styles)
    phrases = list(_PHRASES)
    randomness.stream("promptEnhance", key, version).shuffle(phrases)
    text = f"{styles[version % len(styles)]} {' '.join(prompt.split())}"
    for phrase in phrases:
        longer = f"{text}, {phrase}"
        if len(longer) > max_length:
            break
        text = longer
    return _within(text, max_length)


def _within(text: str, most: int) -> str:
    """``text`` cut to ``most`` characters at a word boundary (the first word always fits:
    it is a style word, shorter than any allowed ``promptMaxLength``)."""
    if len(text) <= most:
        return text
    cut = text[:most + 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,")
