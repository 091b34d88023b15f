"""The redaction registry: every key the process holds, in its obvious encodings, is taken out."""

from __future__ import annotations

import base64
import io
import logging
import sys
from urllib.parse import quote

import pytest

from bulkops.redaction import (
    MIN_SECRET_LENGTH,
    REDACTED,
    SECRETS,
    RedactingStream,
    SecretRegistry,
    redact,
    redacted_output,
)

KEY = "console-SECRETxyz0123456789abcdefQRST"
OTHER = "console-OTHERkey9876543210zyxwvuts"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def urlsafe(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.fixture
def registry() -> SecretRegistry:
    reg = SecretRegistry()
    reg.register(KEY)
    return reg


def test_a_registered_key_is_replaced(registry: SecretRegistry) -> None:
    assert registry.redact(f"401: key {KEY} rejected") == f"401: key {REDACTED} rejected"


@pytest.mark.parametrize(
    "encode",
    [
        b64,
        urlsafe,
        lambda k: b64(k).rstrip("="),
        lambda k: urlsafe(k).rstrip("="),
        lambda k: k.encode().hex(),
        lambda k: k.encode().hex().upper(),
    ],
    ids=["base64", "urlsafe", "base64-nopad", "urlsafe-nopad", "hex", "HEX"],
)
def test_its_encodings_are_replaced(registry: SecretRegistry, encode: object) -> None:
    form = encode(KEY)  # type: ignore[operator]
    clean = registry.redact(f"header {form} end")
    assert form not in clean and REDACTED in clean


@pytest.mark.parametrize("prefix", ["", "u", "us", "user:", "Basic x:"])
def test_base64_of_a_longer_text_holding_the_key_is_cut_at_any_alignment(
    registry: SecretRegistry, prefix: str
) -> None:
    whole = b64(prefix + KEY + ":tail")
    clean = registry.redact(whole)
    assert REDACTED in clean
    assert b64(KEY).rstrip("=")[2:-2] not in clean


def test_a_key_with_special_characters_is_replaced_percent_encoded_and_json_escaped() -> None:
    reg = SecretRegistry()
    key = 'pa ss/wo"rd+ünï'
    reg.register(key)
    for form in (quote(key, safe=""), quote(key), '"pa ss/wo\\"rd+\\u00fcn\\u00ef"'):
        assert REDACTED in reg.redact(form), form
    assert key.encode() not in reg.redact_bytes(f"x{key}y".encode())


def test_every_registered_key_is_replaced(registry: SecretRegistry) -> None:
    registry.register(OTHER)
    clean = registry.redact(f"{KEY} and {b64(OTHER)}")
    assert KEY not in clean and b64(OTHER) not in clean
    assert registry.statistics().secrets == 2


def test_a_key_shorter_than_the_minimum_is_not_registered() -> None:
    reg = SecretRegistry()
    short = "k" * (MIN_SECRET_LENGTH - 1)
    assert reg.register(short) is False
    assert reg.register("  ") is False and reg.register(None) is False
    assert reg.redact(f"the {short} stays") == f"the {short} stays"
    assert reg.statistics().secrets == 0 and not reg


def test_an_explicit_secret_is_replaced_whatever_its_length(registry: SecretRegistry) -> None:
    assert registry.redact("password pw here", "pw") == f"password {REDACTED} here"


def test_bytes_are_redacted_too(registry: SecretRegistry) -> None:
    data = f'{{"message": "{KEY}", "b": "{b64(KEY)}"}}'.encode()
    clean = registry.redact_bytes(data)
    assert KEY.encode() not in clean and b64(KEY).encode() not in clean
    assert clean.startswith(b'{"message": "<redacted>"')


def test_forget_stops_redacting_a_key(registry: SecretRegistry) -> None:
    registry.forget(KEY)
    assert registry.redact(KEY) == KEY and KEY not in registry


def test_keys_of_the_environment_and_arguments_are_registered() -> None:
    reg = SecretRegistry()
    reg.register_environment(
        {
            "STATSIG_CONSOLE_API_KEY": KEY,
            "STATSIG_PROD_CONSOLE_API_KEY": OTHER,
            "BULKOPS_BUDGET_URL": "redis://:redis%2Fpassw0rd@127.0.0.1:6379/0",
            "HOME": "/home/someone-long",
        }
    )
    assert KEY in reg and OTHER in reg and "redis/passw0rd" in reg
    assert "/home/someone-long" not in reg
    args = SecretRegistry()
    args.register_arguments(["run", "x", "--target-api-key", KEY, f"--api-key={OTHER}"])
    assert KEY in args and OTHER in args


def test_resolving_a_key_registers_it() -> None:
    from bulkops.api.config import resolve_api_key
    from bulkops.run.connections import resolve_connections

    resolve_api_key(None, {"STATSIG_CONSOLE_API_KEY": KEY})
    resolve_connections(["target"], env={"STATSIG_TARGET_CONSOLE_API_KEY": OTHER})
    assert KEY in SECRETS and OTHER in SECRETS


def test_bulkops_log_lines_and_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    SECRETS.register(KEY)
    log = logging.getLogger("bulkops.api")
    with caplog.at_level(logging.DEBUG, logger="bulkops"):
        log.warning("rejected %s", KEY)
        try:
            raise RuntimeError(f"boom {b64(KEY)}")
        except RuntimeError:
            log.debug("failed", exc_info=True)
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert KEY not in text and b64(KEY) not in text and REDACTED in text


def test_a_redacting_stream_writes_without_the_key() -> None:
    SECRETS.register(KEY)
    out = io.StringIO()
    stream = RedactingStream(out)
    print(f"key={KEY}", file=stream)  # type: ignore[call-overload]
    assert out.getvalue() == f"key={REDACTED}\n"
    assert stream.getvalue() == out.getvalue()  # everything else is the wrapped stream's


def test_the_cli_output_is_redacted_and_restored(capsys: pytest.CaptureFixture[str]) -> None:
    before = sys.stdout
    with redacted_output(["--api-key", KEY]):
        print(f"a message quoting {KEY}")
        print(f"and its base64 {b64(KEY)}", file=sys.stderr)
    assert sys.stdout is before
    out, err = capsys.readouterr()
    assert KEY not in out and b64(KEY) not in err and out.count(REDACTED) == 1


def test_redact_is_the_registry_of_the_process() -> None:
    SECRETS.register(KEY)
    assert redact(f"{KEY}") == REDACTED
