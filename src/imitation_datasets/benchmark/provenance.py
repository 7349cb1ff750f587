"""What makes two benchmark results comparable, recorded with every results bundle.

A bundle (``benchmark_results.json``) carries, per environment, the protocol its cells were made
under (seeds, splits, episode counts) with a hash of it, and the fingerprints of the data they
trained on (the expert and random datasets' collection runs, a hash of their inputs, and their
content, a hash of the data themselves) and of the curated expert's card. Cells from two bundles
may share a table only when these agree (:mod:`~imitation_datasets.benchmark.compare`). Each
invocation also records the package and library versions and the machine it ran on
(:func:`run_record`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from typing import Any

from imitation_datasets.benchmark.reproducible import ARITHMETIC, CELL_ENVIRONMENT
from imitation_datasets.core.versions import library_versions

LIBRARIES = ("numpy", "torch", "gymnasium", "mujoco", "box2d", "scipy", "pyarrow")
"""Libraries whose versions a run records (cells depend on them; the simulators decide the data)."""
COMPARED = ("protocol_hash", "dataset_fingerprint", "random_fingerprint",
            "dataset_content_fingerprint", "random_content_fingerprint", "expert_card_sha256")
"""Per-environment fields that must agree for two bundles' cells to share a table."""


def digest(value: Any) -> str:
    """Hex sha256 of ``value``'s canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def env_provenance(facts: dict[str, Any]) -> dict[str, Any]:
    """The comparability record of one environment, from its facts file.

    The protocol is everything ``envs.yaml`` fixes plus the validation and test seeds drawn
    from it; facts written before a fingerprint was recorded give ``None`` for it.
    """
    protocol = {"protocol": facts.get("protocol"), "env_id": facts["env_id"],
                "validation_seeds": facts.get("validation_seeds"),
                "test_seeds": facts.get("test_seeds")}
    return {
        **protocol,
        "protocol_hash": digest(protocol),
        "dataset_fingerprint": facts.get("dataset_fingerprint"),
        "random_fingerprint": facts.get("random_fingerprint"),
        "dataset_content_fingerprint": facts.get("dataset_content_fingerprint"),
        "random_content_fingerprint": facts.get("random_content_fingerprint"),
        "expert_card_sha256": facts.get("expert_card_sha256"),
        "expert_weights_sha256": (facts.get("expert") or {}).get("weights_sha256"),
    }


def provenance(envs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every environment's comparability record and one hash of all the protocols."""
    records = {env: env_provenance(facts) for env, facts in envs.items()}
    return {"protocol_hash": digest({env: r["protocol_hash"] for env, r in records.items()}),
            "envs": records}


def machine() -> dict[str, Any]:
    """The machine a run used (cell numbers do not depend on it; wall times do)."""
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                          if line.startswith("model name")), model)
    except OSError:
        pass
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu": model,
            "cpus": os.cpu_count()}


def run_record() -> dict[str, Any]:
    """What one benchmark invocation ran with: package, libraries, cell arithmetic, machine."""
    return {"libraries": library_versions(("imitation-datasets", *LIBRARIES),
                                          missing="not installed"),
            "cell_environment": dict(CELL_ENVIRONMENT), "arithmetic": ARITHMETIC,
            "machine": machine()}
