"""API keys: which are accepted, and the error a rejected one gets."""

from __future__ import annotations

from runware_mock.contract.errors import ApiError, error


class Authenticator:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = frozenset(keys)

    def accepts(self, key: object) -> bool:
        """With no configured keys any non-empty key is accepted, as a sandbox would."""
        if not isinstance(key, str) or not key.strip():
            return False
        return not self._keys or key in self._keys

    @staticmethod
    def rejection(key: object) -> ApiError:
        reason = "no API key was given" if not key else "the API key is not accepted"
        return error("invalidApiKey", f"Invalid API key: {reason}. Send it as "
                     "'Authorization: Bearer <key>' or in an authentication task.",
                     parameter="apiKey", task_type="authentication")
