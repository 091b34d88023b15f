"""A file the user names that is missing, a directory or not text: one line naming the file,
what is wrong and what was expected (``bulkops.run.userfile``)."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from bulkops.errors import ConfigError, JobConfigError
from bulkops.run.userfile import read_user_text

EXPECTED = "UTF-8 text with one ID per line"


def _read(path: Path) -> str:
    return read_user_text(path, "--add-passing file", EXPECTED, error=JobConfigError)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"alice\nb\xe9b\n", "is not UTF-8 text (byte 0xe9 on line 2): expected " + EXPECTED),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is not UTF-8 text (byte 0x89 on line 1)"),
        (b"alice\nbob\x00\n", "is not text (a NUL byte on line 2): expected " + EXPECTED),
        (codecs.BOM_UTF16_LE + "alice\n".encode("utf-16-le"), "is UTF-16 text: save it as UTF-8"),
    ],
)
def test_a_file_that_is_not_utf8_text_is_named_with_what_is_expected(
    tmp_path: Path, data: bytes, problem: str
) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes(data)
    with pytest.raises(JobConfigError) as caught:
        _read(path)
    assert str(caught.value).startswith(f"--add-passing file {path} {problem}")


def test_a_byte_order_mark_and_crlf_are_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes(codecs.BOM_UTF8 + b"alice\r\nbob\r\n")
    assert _read(path).splitlines() == ["alice", "bob"]


def test_a_missing_file_and_a_directory_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(JobConfigError, match=r"ids\.txt does not exist$"):
        _read(tmp_path / "ids.txt")
    with pytest.raises(JobConfigError, match=f"{tmp_path} is a directory: expected {EXPECTED}$"):
        _read(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_says_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("alice\n")
    path.chmod(0)
    with pytest.raises(ConfigError, match="ids.txt cannot be read: permission denied$"):
        read_user_text(path, "--add-passing file", EXPECTED)
