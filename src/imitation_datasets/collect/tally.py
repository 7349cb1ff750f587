"""Counting what comes back from the workers: progress bar, statistics, and the stop rule."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from imitation_datasets.core.errors import ImitationDatasetsError


class CollectionError(ImitationDatasetsError, RuntimeError):
    """Collection stopped (threshold never reached, workers crashing); staged data is kept."""


class Tally:
    """Accepted/rejected/error counts for one play phase, shown on a progress bar.

    Args:
        total: episodes the dataset will have.
        already: episodes already staged (a resumed run).
        threshold: acceptance threshold (for the error message).
        staging_path: where staged episodes are kept (for messages).
        progress: show a tqdm bar.
    """

    def __init__(self, total: int, already: int, threshold: float, staging_path: Path,
                 progress: bool) -> None:
        self.accepted = already
        self.rejected = 0
        self.errors = 0
        self.restarts = 0
        self.threshold = threshold
        self.staging_path = staging_path
        self.started = time.perf_counter()
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=already, unit="ep", desc="episodes",
                            dynamic_ncols=True)

    def record(self, kind: str, info: dict[str, Any]) -> None:
        """Count one result; raise :class:`CollectionError` if an episode exhausted its attempts."""
        self.rejected += len(info["rejected_returns"])
        self.errors += info["errors"]
        if kind == "failed":
            raise CollectionError(self._failure(info))
        self.accepted += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(accepted=self.accepted, rejected=self.rejected,
                                 errors=self.errors, refresh=False)

    def _failure(self, info: dict[str, Any]) -> str:
        returns = info["rejected_returns"]
        best = (f"best return {max(returns):.2f}" if returns
                else "every attempt failed with an error")
        log = self.staging_path / "errors.log"
        advice = ("Fix the error" if not returns
                  else "Lower the threshold or raise max_attempts")
        return (
            f"episode {info['index']} did not reach the threshold {self.threshold:g} in "
            f"{info['attempts']} attempts ({best}); stopping. {self.accepted} accepted episodes "
            f"are kept in {self.staging_path}. {advice}"
            + (f"; tracebacks are in {log}" if info["errors"] else "")
        )

    def close(self) -> dict[str, Any]:
        """Close the bar; return the run's statistics."""
        if self.bar is not None:
            self.bar.close()
        return {"accepted": self.accepted, "rejected": self.rejected, "errors": self.errors,
                "restarts": self.restarts, "seconds": time.perf_counter() - self.started}
