"""Run the benchmark grid (method × env × training seed), resumably, locally or on Ray.

Each cell trains one method on one environment's training episodes with one seed, selects its
model on validation seeds, and is tested on the protocol's test seeds. A finished cell is a JSON
file under ``<out>/cells/``; rerunning skips it. Environment-level facts (expert and random
returns on the test seeds, the leakage check) go to ``<out>/envs/``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Any

from imitation_datasets.benchmark.cells import Cell, check_folders, run_cell
from imitation_datasets.benchmark.method_specs import method_spec, overrides_text
from imitation_datasets.benchmark.options import method_rank
from imitation_datasets.benchmark.protocol import (
    LeakageError,
    Splits,
    env_key,
    env_protocol,
    expand_families,
    leakage_check,
    prepare,
    protocol_table,
    start_states,
)
from imitation_datasets.benchmark.provenance import digest
from imitation_datasets.benchmark.ray_runner import run_cells_on_ray
from imitation_datasets.benchmark.reproducible import (
    ARITHMETIC,
    cell_environment,
    cell_pool,
    torch_version,
)
from imitation_datasets.benchmark.results_lock import results_writer
from imitation_datasets.benchmark.structure import (
    CELL_STRUCTURE,
    FACTS_STRUCTURE,
    ReportFormatError,
    read_checked,
)
from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.errors import ConfigError, OneLineError
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.names import UnknownNameError
from imitation_datasets.data.fingerprint import content_fingerprint

__all__ = ["DataMismatchError", "GridPlan", "StaleCellError", "cell_files", "env_facts",
           "expert_on_test_seeds", "facts_path", "finished_results", "plan_grid",
           "run_benchmark", "run_cells", "stale_cells"]

log = logging.getLogger(__name__)


class StaleCellError(OneLineError, RuntimeError):
    """A finished cell was made with another config of its method than the current one."""


class DataMismatchError(OneLineError, RuntimeError):
    """A results folder's cells were made from other datasets than the ones in the data folder."""


def cell_files(out: str | Path) -> list[Path]:
    """Every finished cell under ``out`` (the published table's and the curves'), sorted."""
    root = Path(out) / "cells"
    return sorted([*root.glob("*/*/seed*.json"), *root.glob("*/*/demos*/seed*.json")])


def read_cell(path: Path) -> dict[str, Any]:
    """The finished cell file ``path``, checked (:data:`~.structure.CELL_STRUCTURE`, a known env).

    Raises:
        DatasetFormatError: the file is missing, too large or not JSON.
        ReportFormatError: ``"<path>: <field>: <problem>"`` for the first wrong field.
    """
    cell: dict[str, Any] = read_checked(path, CELL_STRUCTURE)
    try:
        env_key(cell["env"])
    except UnknownNameError as exc:
        raise ReportFormatError(f"{path}: env: {exc}") from None
    return cell


def finished_results(out: str | Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every finished cell under ``out`` and the facts of their environments: a report's input.

    A folder's report covers all of its cells, so a run of a few cells never hides the rest of
    a grid that was run into the same folder.

    Raises:
        DatasetFormatError: a file is missing, too large or not JSON.
        ReportFormatError: a cell or facts file lacks a field the report reads, or has one of
            the wrong type (the file and the field named).
    """
    envs = list(protocol_table())

    def order(cell: dict[str, Any]) -> tuple[Any, ...]:
        """The report's order: envs.yaml's envs, METHODS' methods (others after), demos, seed."""
        return (envs.index(cell["env"]) if cell["env"] in envs else len(envs), cell["env"],
                method_rank(cell["method"]), cell["method"], cell.get("demos") or 0,
                cell["seed"])

    cells = sorted((read_cell(path) for path in cell_files(out)), key=order)
    facts = {env: read_checked(facts_path(out, env), FACTS_STRUCTURE)
             for env in dict.fromkeys(c["env"] for c in cells)}
    return cells, facts


def cell_demos(env: str, demos: int | None) -> int | None:
    """``demos`` as a cell of ``env`` names it: ``None`` for the protocol's own count.

    Raises:
        ConfigError: ``demos`` is outside ``[1, train_episodes]`` of ``env``.
    """
    protocol = env_protocol(env)
    n = protocol.training_episodes(demos)
    return None if n == protocol.train_episodes else n


def stale_cells(cells: Sequence[Cell], out: Path) -> list[tuple[Path, str]]:
    """Finished cells made another way than their method's current config would make them.

    A report must not mix two configs of one method; the reason names the first difference.
    A cell on fewer demonstrations of a method with ``repeats_demos`` that records no
    ``demo_repeats`` was made before that rule and is stale too.
    A field missing from a recorded config (added to the method later) counts as its dataclass
    default: a new option whose default keeps the old behaviour leaves older cells valid
    (``benchmarks/rerun_identity.py`` is how such a claim is checked). A cell trained under
    another torch release is stale too (a release may change a kernel); one that records none
    predates the record and was made with the release the set-up paths install. So is one of
    another arithmetic (:data:`~.reproducible.ARITHMETIC`; one that records none has 1).
    """
    stale = []
    torch_now = torch_version()
    for cell in cells:
        path = cell.path(out)
        if not path.exists():
            continue
        current = json.loads(json.dumps(cell.spec.config_mapping(env_protocol(cell.env).env_id)))
        defaults = json.loads(json.dumps(cell.spec.config_defaults()))
        cell_result = read_checked(path, CELL_STRUCTURE)
        recorded = {**{k: v for k, v in defaults.items() if k in current},
                    **(cell_result.get("config") or {})}
        if cell_result.get("arithmetic", 1) != ARITHMETIC:
            stale.append((path, f"made with arithmetic {cell_result.get('arithmetic', 1)}, now "
                          f"{ARITHMETIC} (benchmark/reproducible.py: torch's Adam square root, "
                          "whose bits depend on the CPU)"))
        elif cell_result.get("torch_version", torch_now) != torch_now:
            stale.append((path, f"made with torch {cell_result['torch_version']}, now "
                          f"{torch_now} (a release may round differently)"))
        elif (cell.demos is not None and "demo_repeats" not in cell_result
                and getattr(cell.spec.method_class(), "repeats_demos", False)):
            stale.append((path, f"made before {cell.method}'s epochs repeated fewer "
                          "demonstrations to the full set's gradient steps (demo_repeats)"))
        elif recorded != current:
            keys = sorted(set(current) | set(recorded))
            diff = next((k for k in keys if recorded.get(k) != current.get(k)), "?")
            stale.append((path, f"made with another {cell.method} config ({diff}: "
                          f"{recorded.get(diff)!r}, now {current.get(diff)!r})"))
    return stale


def facts_path(out: str | Path, env: str) -> Path:
    """The file holding an environment's facts under ``out``, for any spelling of its name.

    The one place that names it: the runner writes it and the CLI's report reads it, so
    ``--envs CartPole-v1`` and ``--envs cartpole`` name the same ``envs/cartpole.json``.
    """
    return Path(out) / "envs" / f"{env_key(env)}.json"


def expert_on_test_seeds(splits: Splits) -> dict[str, float]:
    """The curated expert's own return on the test seeds: what a perfect clone would score.

    Performance normalises by the *dataset's* mean return (other start states), so on a given
    set of test seeds a perfect clone scores ``(this − random) / (expert − random)``, which can
    be a little above or below 1; the report prints it next to the methods.
    """
    from imitation_datasets.experts import Experts

    p = splits.protocol
    returns = evaluate_policy(Experts.get_expert(p.expert), p.env_id, splits.test_seeds,
                              p.env_kwargs)
    return {"expert_test_return": float(returns.mean()),
            "expert_test_return_std": float(returns.std())}


def data_fingerprints(splits: Splits) -> dict[str, str]:
    """Fingerprints of what an env's cells train on: the data's runs and content, the expert card.

    ``dataset_fingerprint`` and ``random_fingerprint`` are the collection runs' fingerprints,
    hashes of what decides the data (env, expert or random policy, seeds);
    ``dataset_content_fingerprint`` and ``random_content_fingerprint`` hash the data themselves
    (``data/fingerprint.py``), so data collected with the same inputs but other simulator or
    library versions (other physics, other bits) do not pass for the same; the card's is a hash of
    its content. They go into the env's facts and every results bundle, so that a resumed run
    and two bundles can be checked to come from the same data.
    """
    from imitation_datasets.experts import Experts

    card = Experts.get_expert(splits.protocol.expert).card.to_dict()
    return {"dataset_fingerprint": splits.dataset[1]["collection"]["fingerprint"],
            "random_fingerprint": splits.random_data[1]["collection"]["fingerprint"],
            "dataset_content_fingerprint": content_fingerprint(splits.dataset[0]),
            "random_content_fingerprint": content_fingerprint(splits.random),
            "expert_card_sha256": digest(card)}


def env_facts(splits: Splits) -> dict[str, Any]:
    """Expert/random reference returns on the test seeds and the leakage check of one env."""
    p = splits.protocol
    training = [splits.train, splits.random]
    report = leakage_check(splits.test_seeds, start_states(p.env_id, splits.test_seeds,
                                                           p.env_kwargs), training)
    random_test = evaluate_policy(None, p.env_id, splits.test_seeds, p.env_kwargs)
    random_validation = evaluate_policy(None, p.env_id, splits.validation_seeds, p.env_kwargs)
    meta = splits.dataset[1]
    return {
        "env": p.expert,
        "env_id": p.env_id,
        "protocol": asdict(p),
        "expert_return": splits.expert_return,
        "expert_return_std": float(meta["returns"]["std"]),
        "expert": meta["expert"],
        "random_return": float(random_test.mean()),
        "random_return_std": float(random_test.std()),
        "random_validation_return": float(random_validation.mean()),
        "validation_seeds": splits.validation_seeds,
        "test_seeds": splits.test_seeds,
        "leakage": report.to_dict(),
        **expert_on_test_seeds(splits),
        **data_fingerprints(splits),
    }


def run_benchmark(methods: Sequence[str | type], envs: Sequence[str], seeds: int, out: str | Path,
                  data_dir: str | Path, workers: int = 2, backend: str = "local",
                  address: str | None = None, progress: bool = True, *,
                  demos: Sequence[int] = (), overwrite: bool = False,
                  jobs: int | None = None, budget_scale: float = 1.0,
                  first_seed: int = 0, stop_after: float | None = None,
                  overrides: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run every missing cell of the grid; return all cell results (old and new).

    ``methods`` are shipped names, ``"package.module:Class"`` strings or classes (a user's own
    method: :mod:`~imitation_datasets.benchmark.method_specs`). Environments may be named by
    expert key or Gymnasium id; cells and facts are keyed by the
    expert key (:func:`~imitation_datasets.benchmark.protocol.env_key`), so either spelling
    resumes the same grid. ``workers`` cells run in parallel (``jobs`` is its old name).
    ``demos`` lists demonstration-episode counts (default: the protocol's ``train_episodes``).
    Cells run seed by seed, so a stopped run leaves whole seeds of the grid behind. The seeds
    are ``first_seed`` to ``first_seed + seeds - 1``; a cell's numbers depend on its seed, not
    on the other seeds run with it. ``stop_after`` (seconds) ends the run then, cells not
    finished dropped (:func:`run_cells`); only finished cells are returned.
    ``budget_scale`` other than 1 is a budget probe (not the protocol): every method's
    ``budget_fields`` (epochs, iterations, environment steps) times it; its cells record it and
    belong in their own ``out`` (finished protocol cells there are stale for it, and the
    other way round). ``overrides`` (config fields set for every method, e.g.
    ``{"absorbing": True}``) is a config probe, likewise recorded and kept apart. A folder holds
    one config per method and env: a grid whose config differs from the folder's finished
    cells of that method and env stops before any work, whichever cells it names.

    Raises:
        LeakageError: an environment's leakage check failed (nothing is run for it).
        StaleCellError: a finished cell was made with another config of its method and
            ``overwrite`` is false (nothing is run).
        ResultsBusyError: another run is writing ``out`` (:mod:`.results_lock`).
    """
    workers = workers if jobs is None else jobs
    with results_writer(out):
        plan = plan_grid(methods, envs, seeds, out, data_dir, workers, demos=demos,
                         overwrite=overwrite, budget_scale=budget_scale, first_seed=first_seed,
                         overrides=overrides)
        run_cells(plan, out, data_dir, workers, backend, address, progress, stop_after)
    return [read_checked(c.path(Path(out)), CELL_STRUCTURE) for c in plan.cells
            if c.path(Path(out)).exists()]


@dataclasses.dataclass
class GridPlan:
    """What a grid holds (``cells``), what of it is left to run (``todo``), and its envs' facts."""

    cells: list[Cell]
    todo: list[Cell]
    facts: dict[str, dict[str, Any]]

    def __add__(self, other: GridPlan) -> GridPlan:
        """Both grids, this one's cells first (a cell named by both is run once)."""
        return GridPlan(list(dict.fromkeys(self.cells + other.cells)),
                        list(dict.fromkeys(self.todo + other.todo)),
                        {**self.facts, **other.facts})


def plan_grid(methods: Sequence[str | type], envs: Sequence[str], seeds: int, out: str | Path,
              data_dir: str | Path, workers: int = 2, *, demos: Sequence[int] = (),
              overwrite: bool = False, budget_scale: float = 1.0,
              first_seed: int = 0, overrides: Mapping[str, Any] | None = None) -> GridPlan:
    """Create the grid's datasets and env facts, check them, and list its cells left to run.

    Arguments as :func:`run_benchmark`'s; ``workers`` processes create the datasets.

    Raises:
        LeakageError: an environment's leakage check failed.
        StaleCellError: a finished cell was made with another config of its method and
            ``overwrite`` is false, or a finished cell outside the grid was (a folder holds
            one config per method and env).
        ConfigError: ``overrides`` that a method's config does not take.
    """
    out, data_dir = Path(out), Path(data_dir)
    text = overrides_text(overrides)
    specs = list(dict.fromkeys(dataclasses.replace(method_spec(m), budget_scale=budget_scale,
                                                   overrides=text)
                               for m in methods))  # bad ones fail before work
    envs = list(dict.fromkeys(env_key(env) for env in expand_families(envs)))  # unknown: fail
    for env in envs if budget_scale != 1 or text else ():  # what a config cannot take: now
        for spec in specs:
            spec.config(env_protocol(env).env_id)
    facts = {env: env_facts_of(env, out, data_dir, workers) for env in envs}
    counts: list[int | None] = list(dict.fromkeys(demos)) or [None]
    cells = list(dict.fromkeys(Cell(m.name, e, s, cell_demos(e, d), m.target, m.budget_scale,
                                    m.overrides)
                               for s in range(first_seed, first_seed + seeds)
                               for d in counts for e in envs
                               for m in specs))
    stale = stale_cells(cells, out)
    if stale and not overwrite:
        path, reason = stale[0]
        raise StaleCellError(f"{path}: {reason}; {len(stale)} such cell(s) in {out} (rerun "
                             "them with --overwrite, or use another --out)")
    check_folders([p for c in cells for p in (c.path(out), c.state_path(out))], out)
    grid = set(cells)
    others = stale_cells([c for c in folder_siblings(cells, out) if c not in grid], out)
    if others:
        path, reason = others[0]
        raise StaleCellError(f"{path}: {reason}; a results folder holds one config per method "
                             f"and env ({len(others)} such cell(s) outside this grid): use "
                             "another --out")
    rerun = {path for path, _ in stale}
    todo = [c for c in cells if not c.path(out).exists() or c.path(out) in rerun]
    for cell in grid - set(todo):  # a run killed between writing the result and this
        cell.state_path(out).unlink(missing_ok=True)
    log.info("%d of %d cells to run (%d finished earlier)", len(todo), len(cells),
             len(cells) - len(todo))
    return GridPlan(cells, todo, facts)


SEED_FILE = re.compile(r"seed([0-9]{1,9})\.json")
DEMOS_FOLDER = re.compile(r"demos([0-9]{1,9})")


def folder_siblings(cells: Sequence[Cell], out: Path) -> list[Cell]:
    """The finished cells in ``out`` of the grid's methods and envs, on any seed and count.

    Each is made with its grid cell's method (same spec), so :func:`stale_cells` tells
    whether the grid's config is the one they were made with.
    """
    siblings: list[Cell] = []
    for cell in dict.fromkeys(dataclasses.replace(c, seed=0, demos=None) for c in cells):
        folder = out / "cells" / cell.env / cell.method
        for path in sorted(folder.glob("seed*.json")) + sorted(folder.glob("demos*/seed*.json")):
            seed = SEED_FILE.fullmatch(path.name)
            demos = DEMOS_FOLDER.fullmatch(path.parent.name) if path.parent != folder else None
            if seed and (demos or path.parent == folder):
                siblings.append(dataclasses.replace(
                    cell, seed=int(seed[1]), demos=int(demos[1]) if demos else None))
    return siblings


def env_facts_of(env: str, out: Path, data_dir: Path, workers: int) -> dict[str, Any]:
    """``env``'s facts under ``out``: read (upgraded if written by an older version) or made.

    Its datasets are created first if ``data_dir`` lacks them.

    Raises:
        LeakageError: the env's test start states overlap its training data.
    """
    splits = prepare(env, data_dir, workers=workers)
    path = facts_path(out, env)
    if path.exists():
        facts = read_checked(path, FACTS_STRUCTURE)
        made = data_fingerprints(splits)
        for key, value in made.items():
            if facts.get(key, value) != value:
                raise DataMismatchError(
                    f"{env}: the data in {data_dir} differ from those the cells in {out} were "
                    f"made from ({key} {value[:12]}, recorded {str(facts[key])[:12]}); use "
                    "another --out, or the data and library versions they were made with")
        # what facts written by an older version lack: fingerprints recorded from the data
        # found now (which match every fingerprint recorded then), the expert's test return
        upgrades: dict[str, Any] = {key: value for key, value in made.items() if key not in facts}
        if "expert_test_return" not in facts:
            upgrades.update(expert_on_test_seeds(splits))
        if upgrades:
            facts.update(upgrades)
            atomic_write_text(path, json.dumps(facts, indent=1))
    else:
        log.info("%s: reference returns and leakage check on the test seeds", env)
        facts = env_facts(splits)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(facts, indent=1))
    if not facts["leakage"]["passed"]:
        raise LeakageError(f"{env}: test start states overlap the training data: "
                           f"{facts['leakage']}")
    return facts


def run_cells(plan: GridPlan, out: str | Path, data_dir: str | Path, workers: int = 2,
              backend: str = "local", address: str | None = None,
              progress: bool = True, stop_after: float | None = None) -> int:
    """Run the cells ``plan`` has left, in its order, ``workers`` at a time (or on Ray).

    ``stop_after`` (seconds, local backend only) ends the run then: cells not finished by that
    time are dropped unwritten (the running ones stopped), so the run can end inside a time
    limit with every finished cell kept. Returns how many cells were left unfinished.
    """
    if stop_after is not None and backend == "ray":
        raise ConfigError("stop_after works with the local backend only")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(plan.cells), initial=len(plan.cells) - len(plan.todo), unit="cell",
                   desc="benchmark", dynamic_ncols=True)
    left = 0
    if backend == "ray":
        run_cells_on_ray(plan.todo, str(data_dir), str(out), plan.facts, address, bar)
    elif plan.todo:
        with cell_environment(), cell_pool(workers) as pool:
            futures = {pool.submit(run_cell, c, str(data_dir), str(out), plan.facts[c.env]): c
                       for c in plan.todo}
            try:
                for done, future in enumerate(as_completed(futures, timeout=stop_after), 1):
                    result = future.result()
                    if bar is not None:
                        bar.update(1)
                    else:  # a long run in the background: one line per finished cell
                        log.info("cell %s done (%d of %d): performance %.3f, %.1f min%s",
                                 futures[future].path(Path(".")).as_posix(), done,
                                 len(futures), result["performance"],
                                 result["train_seconds"] / 60,
                                 f", resumed {result['resumed']} time(s)"
                                 if result.get("resumed") else "")
            except TimeoutError:
                left = sum(1 for f in futures if not f.done())
                log.warning("stopped after %.0f s: %d cell(s) not finished, dropped (rerun to "
                            "continue)", stop_after, left)
                stop_workers(pool)
    if bar is not None:
        bar.close()
    return left


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel ``pool``'s queued cells and end its running ones (their files are not written).

    When it returns no worker is alive and every future is settled: cancelled, or broken for
    the cells that were running.
    """
    # The pool's manager thread reaps the workers and then settles the futures of the cells
    # that were running (BrokenProcessPool), some time after they die: wait for it.
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        processes = []
    else:
        processes = list((pool._processes or {}).values())  # no public way before 3.14
        pool.shutdown(wait=False, cancel_futures=True)  # (this forgets processes and manager)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()
    deadline = time.monotonic() + 30
    if manager is not None:
        manager.join(timeout=30)
    # A join that lost the reaping race to the manager returns before the Process object has
    # seen its exit status: wait until each one has.
    while any(process.is_alive() for process in processes) and time.monotonic() < deadline:
        time.sleep(0.02)
