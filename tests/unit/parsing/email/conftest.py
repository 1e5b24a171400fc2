from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[3] / "files" / "email"


@pytest.fixture
def eml():
    """Read one of our own .eml fixtures by name."""

    def read(name: str) -> bytes:
        return (FILES / name).read_bytes()

    return read
