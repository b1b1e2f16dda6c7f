"""The Celery example deployed for real on this machine: Celery worker and beat processes and
the uvicorn webhook, over the Redis broker and a PostgreSQL state, against the fakes of both
systems served by the test process (whose Prima emulator is where exactly-once is checked)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import redis

from ct_prima_sync.state import OrderStatus, open_store
from ct_prima_sync.testing.scenario import SCENARIO_MAPPING_TOML, SyncScenario

from ..cli.conftest import to_toml
from .conftest import EXAMPLE

BIN: Final = Path(sys.executable).parent
WEBHOOK_SECRET: Final = "the-webhook-secret-for-these-tests"
#: connect 1 s + read 2 s + rate-limit wait 1 s: what the engine takes the request timeout for.
PRIMA: Final = {"connect_timeout": 1.0, "read_timeout": 2.0, "max_wait": 1.0}
#: Short leases and retries, so that a dead worker's orders come back within seconds.
ENGINE: Final = {
    "lease_seconds": 3.0,
    "claim_batch": 10,
    "concurrency": 2,
    "breaker_threshold": 1000,
    "retry": {"base_seconds": 0.5, "cap_seconds": 1.0},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def subscription_payloads(scenario: SyncScenario) -> list[dict[str, Any]]:
    """What a commercetools subscription delivers for the scenario's orders (``Platform``)."""
    return [
        {**message, "notificationType": "Message", "projectKey": scenario.commercetools.project_key}
        for message in scenario.commercetools.messages()
        if message["type"] == "OrderCreated"
    ]


class Deployment:
    """Workers, beat and the webhook of one test, each a process group of its own."""

    def __init__(
        self,
        folder: Path,
        *,
        redis_url: str,
        state_url: str,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.state_url = state_url
        self.queue = f"ct-prima-sync-test-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "CT_PRIMA_SYNC_CONFIG": str(folder / "ct-prima-sync.toml"),
            "CELERY_BROKER_URL": redis_url,
            "CT_PRIMA_SYNC_CELERY_QUEUE": self.queue,
            "CT_PRIMA_SYNC_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PYTHONPATH": str(EXAMPLE),
            **(environment or {}),
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.webhook_url: str | None = None

    def write_settings(
        self,
        scenario: SyncScenario,
        *,
        ct_url: str,
        prima_url: str,
        engine: Mapping[str, Any] | None = None,
    ) -> None:
        """The settings file every process shares: the fakes, the PostgreSQL state;
        ``engine`` adds to (or replaces keys of) the ``[engine]`` section."""
        ct = scenario.commercetools
        (self.folder / "mapping.toml").write_text(SCENARIO_MAPPING_TOML, encoding="utf-8")
        (self.folder / "ct.secret").write_text(ct.client_secret, encoding="utf-8")
        since = (scenario.first_order_at - timedelta(days=1)).isoformat()
        settings = {
            "state": {"url": self.state_url},
            "commercetools": {
                "project_key": ct.project_key,
                "api_url": ct_url,
                "auth_url": ct_url,
                "client_id": ct.client_id,
                "client_secret_file": "ct.secret",
            },
            "prima": {"endpoint": prima_url, "rate_limit": 1000.0, "burst": 50, **PRIMA},
            "mapping": {"file": "mapping.toml"},
            "engine": {"initial_cursor": since, **ENGINE, **(engine or {})},
        }
        (self.folder / "ct-prima-sync.toml").write_text(to_toml(settings), encoding="utf-8")

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def _start(self, name: str, argv: list[str]) -> None:
        with self.log(name).open("ab") as log:
            self.processes[name] = subprocess.Popen(  # noqa: S603 (the example under test)
                argv,
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group: killing it kills the pool too
            )

    def start_worker(self, name: str) -> None:
        """A Celery worker (prefork pool, one process) named ``name``, once it is ready."""
        self._start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "sync_service.tasks",
                "worker",
                "--hostname",
                f"{name}@%h",
                "--queues",
                self.queue,
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
        )
        self.wait_for(lambda: "ready." in self.text(name), f"worker {name} to start", name)

    def start_beat(self) -> None:
        """Celery beat (exactly one per deployment), its schedule file in the test's folder."""
        self._start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "sync_service.tasks",
                "beat",
                "--schedule",
                str(self.folder / "beat-schedule"),
                "--loglevel",
                "INFO",
            ],
        )

    def start_webhook(self) -> str:
        """The webhook under uvicorn on a free port; its base URL once it answers."""
        port = free_port()
        self._start(
            "webhook",
            [
                str(BIN / "uvicorn"),
                "--factory",
                "sync_service.webhook:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
        )
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        self.wait_for(answers, "the webhook to answer", "webhook")
        self.webhook_url = url
        return url

    def deliver(self, payload: Mapping[str, Any], *, secret: str = WEBHOOK_SECRET) -> int:
        """POST one delivery to the webhook, as the subscription's push would; the status."""
        assert self.webhook_url is not None
        response = httpx.post(
            f"{self.webhook_url}/commercetools/deliveries",
            json=dict(payload),
            headers={"X-Ct-Prima-Sync-Secret": secret},
            timeout=10,
        )
        return response.status_code

    def send_task(self, name: str) -> None:
        """Queue one task by name, as beat does."""
        from sync_service.tasks import app

        app.conf.broker_url = self.env["CELERY_BROKER_URL"]
        app.send_task(name, queue=self.queue)

    def kill(self, name: str) -> None:
        """SIGKILL the whole process group: a machine or container gone, mid-task."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, name: str) -> None:
        """SIGTERM (Celery's warm shutdown: tasks in hand finish), then SIGKILL after 20 s."""
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def text(self, name: str) -> str:
        path = self.log(name)
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def flow_runs(self, *names: str) -> list[dict[str, Any]]:
        """The ``flow-run`` lines the tasks logged, from the named processes' logs."""
        runs = []
        for name in names:
            for line in self.text(name).splitlines():
                _, marker, rest = line.partition("flow-run ")
                if marker:
                    runs.append({**json.loads(rest), "worker": name})
        return runs

    def wait_for(
        self, condition: Callable[[], bool], what: str, *names: str, seconds: float = 60
    ) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            for name in names:
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise AssertionError(
                        f"{name} exited ({process.returncode}):\n{self.text(name)}"
                    )
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n}\n{self.text(n)[-4000:]}" for n in names)
                raise AssertionError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.1)

    def order_counts(self) -> dict[OrderStatus, int]:
        with open_store(self.state_url) as store:
            return dict(store.count_orders_by_status())


@contextmanager
def deployed(
    folder: Path, *, redis_url: str, state_url: str, environment: Mapping[str, str] | None = None
) -> Iterator[Deployment]:
    """A deployment whose processes are all stopped on the way out, whatever happened."""
    deployment = Deployment(
        folder, redis_url=redis_url, state_url=state_url, environment=environment
    )
    try:
        yield deployment
    finally:
        for name in list(deployment.processes):
            process = deployment.processes.pop(name)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        client = redis.Redis.from_url(redis_url)
        client.delete(deployment.queue)  # what the test left queued goes with it
        client.close()
