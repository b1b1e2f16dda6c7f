"""The Kubernetes recipe (examples/kubernetes/cronjobs.yaml) is what docs/deploy.md says: one
CronJob per flow that never runs beside itself, is not retried by Kubernetes, and runs a command
the guide's runnable blocks run for real (tests/docs)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..docs.blocks import REPO, blocks

MANIFEST = REPO / "examples" / "kubernetes" / "cronjobs.yaml"
GUIDE = REPO / "docs" / "deploy.md"


def cronjobs() -> list[dict[str, Any]]:
    with MANIFEST.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def guide_commands() -> set[str]:
    """The ``ct-prima-sync`` commands of the guide's runnable blocks and of its crontab."""
    found = set()
    for block in blocks(GUIDE):
        for line in block.text.splitlines():
            if block.runnable:
                words = shlex.split(line, comments=True)
            else:
                words = re.sub(r"^(\S+\s+){5}", "", line).split(">>")[0].split()
            if words[:1] == ["ct-prima-sync"]:
                found.add(" ".join(words[:3] if words[1:2] == ["run"] else words[:2]))
    return found


def test_there_is_a_cronjob_for_every_flow_and_the_purge() -> None:
    commands = [
        " ".join(job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"])
        for job in cronjobs()
    ]
    assert commands == [
        "ct-prima-sync run orders",
        "ct-prima-sync run stock",
        "ct-prima-sync run dispatch",
        "ct-prima-sync purge",
    ]


@pytest.mark.parametrize("job", cronjobs(), ids=lambda job: job["metadata"]["name"])
def test_a_cronjob_never_runs_beside_itself_and_is_not_retried_by_kubernetes(
    job: dict[str, Any],
) -> None:
    assert job["kind"] == "CronJob"
    spec = job["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 0
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert {"name": "CT_PRIMA_SYNC_CONFIG", "value": "/etc/ct-prima-sync/ct-prima-sync.toml"} in (
        container["env"]
    )


def test_every_cronjob_runs_a_command_the_guide_runs_or_schedules() -> None:
    commands = guide_commands()
    assert {"ct-prima-sync run orders", "ct-prima-sync run stock"} <= commands
    for job in cronjobs():
        args = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        assert " ".join(args) in commands, args


def test_the_guide_names_the_manifest() -> None:
    assert Path("examples/kubernetes/cronjobs.yaml").as_posix() in GUIDE.read_text("utf-8")
