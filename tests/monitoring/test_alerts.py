"""Alerts reach their owner where they read messages: a new exception and an escalation reach a
local webhook receiver and a local SMTP server, once each, with owner, kind and order number and
no personal data; the routes and their secrets come from the settings file and the environment;
a failing channel never breaks a run."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from ct_prima_sync.engine import FakeClock, Notifier
from ct_prima_sync.settings import load_settings
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing.scenario import SyncScenario

from ..cli.conftest import to_toml
from .conftest import EngineFactory

PERSONAL = ("@example.com", "Example", "Alex", "Musterstrasse", "+49 30")


class Receiver:
    """A webhook receiver on a free loopback port; ``status`` is what it answers."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """What the SMTP server received, and the logins it saw."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, _server: object, _session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def authenticate(
        self, _server: object, _session: Session, _envelope: Envelope, _mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"smtp-s3cret")


class LocalSmtp(Controller):
    """aiosmtpd's controller on a free port (it wants to know the port before it binds)."""

    def _trigger_server(self) -> None:
        server: Any = self.server
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    served = Receiver()
    yield served
    served.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    smtp = LocalSmtp(
        box, hostname="127.0.0.1", port=0, authenticator=box.authenticate, auth_require_tls=False
    )
    smtp.start()
    yield box, smtp.port
    smtp.stop()


def _notifier(tmp_path: Path, receiver: Receiver, smtp_port: int) -> Notifier:
    settings = tmp_path / "sync.toml"
    settings.write_text(
        to_toml(
            {
                "state": {"url": "sqlite:///sync.db"},
                "alerts": {
                    "smtp": {
                        "host": "127.0.0.1",
                        "port": smtp_port,
                        "security": "none",
                        "username": "ct-prima-sync",
                        "password_env": "TEST_SMTP_PASSWORD",
                        "sender": "sync@shop.test",
                    },
                    "finance": {
                        "webhook_url_env": "TEST_FINANCE_HOOK",
                        "webhook_format": "json",
                        "email": ["finance@shop.test", "controller@shop.test"],
                    },
                    "operations": {"webhook_url_file": "ops-hook.txt", "log": False},
                },
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "ops-hook.txt").write_text(receiver.url("/ops") + "\n", encoding="utf-8")
    loaded = load_settings(
        settings,
        {"TEST_SMTP_PASSWORD": "smtp-s3cret", "TEST_FINANCE_HOOK": receiver.url("/finance")},
    )
    assert loaded.alerts is not None
    assert "smtp-s3cret" not in repr(loaded.alerts)
    assert "/finance" not in repr(loaded.alerts)
    return loaded.alerts.notifier()


def test_a_new_exception_and_its_escalation_reach_webhook_and_mail_once_each(
    *,
    tmp_path: Path,
    receiver: Receiver,
    mailbox: tuple[Mailbox, int],
    sqlite_store: StateStore,
    make_engine: EngineFactory,
    scenario: SyncScenario,
    clock: FakeClock,
) -> None:
    box, port = mailbox
    engine = make_engine(sqlite_store, notifier=_notifier(tmp_path, receiver, port))
    first = engine.sync_orders()
    clock.advance(5 * 3600)
    second = engine.sync_orders()
    clock.advance(60)
    third = engine.sync_orders()
    assert (first.alerts_sent, second.alerts_sent, third.alerts_sent) == (12, 12, 0)
    assert first.alerts_failed == second.alerts_failed == 0

    bad = dict(scenario.bad)
    finance = [b for b in receiver.bodies if b.get("owner") == "finance"]
    operations = [b for b in receiver.bodies if "owner" not in b]
    assert Counter(b["level"] for b in finance) == {"new": 6, "escalated": 6}
    assert len({(b["exception_id"], b["level"]) for b in finance}) == 12
    for body in finance:
        assert body["kind"] == bad[body["order_number"]]
        assert f"Order: {body['order_number']}" in body["text"]
        assert "Owner: finance" in body["text"]
    assert len(operations) == 8  # slack format: the text alone
    seen: Counter[str] = Counter()
    for body in operations:
        assert set(body) == {"text"}
        number = next(n for n in bad if f"Order: {n}\n" in body["text"])
        assert f"Kind: {bad[number]}" in body["text"]
        assert "Owner: operations" in body["text"]
        seen[number] += 1
    assert set(seen.values()) == {2}

    assert len(box.messages) == 12
    assert set(box.logins) == {(b"ct-prima-sync", b"smtp-s3cret")}
    subjects: Counter[str] = Counter()
    for recipients, message in box.messages:
        assert recipients == ["finance@shop.test", "controller@shop.test"]
        assert message["From"] == "sync@shop.test"
        subject = " ".join(str(message["Subject"]).split())
        number = subject.rsplit("order ", 1)[1]
        assert subject.endswith(f"{bad[number]} for finance: order {number}")
        subjects["ESCALATED" if "ESCALATED" in subject else "new"] += 1
    assert subjects == {"new": 6, "ESCALATED": 6}
    everything = json.dumps(receiver.bodies) + "".join(str(m) for _, m in box.messages)
    for personal in PERSONAL:
        assert personal not in everything, personal


def test_a_failing_channel_is_logged_and_counted_and_never_breaks_the_run(
    *,
    tmp_path: Path,
    receiver: Receiver,
    mailbox: tuple[Mailbox, int],
    sqlite_store: StateStore,
    make_engine: EngineFactory,
    scenario: SyncScenario,
    caplog: pytest.LogCaptureFixture,
) -> None:
    box, port = mailbox
    receiver.status = 500
    notifier = _notifier(tmp_path, receiver, port)
    with caplog.at_level(logging.ERROR, logger="ct_prima_sync.alerts"):
        summary = make_engine(sqlite_store, notifier=notifier).sync_orders()
    assert summary.posted == len(scenario.good)
    assert summary.excepted == len(scenario.bad)
    # Every finance and operations alert lost its webhook; e-mail to finance still went out.
    assert (summary.alerts_sent, summary.alerts_failed) == (2, 10)
    assert len(box.messages) == 6
    # After three failures in a row each webhook pauses instead of being called again.
    assert len([b for b in receiver.bodies if b.get("owner") == "finance"]) == 3
    assert len([b for b in receiver.bodies if "owner" not in b]) == 3
    failures = [r for r in caplog.records if r.getMessage().startswith("alert not delivered")]
    assert len(failures) == 10
    assert {getattr(r, "channel", None) for r in failures} == {"webhook"}
    assert "/finance" not in caplog.text
    (record,) = sqlite_store.list_flow_runs()
    assert record.totals["alerts_failed"] == 10
