"""The dataset card, ``README.md``: what the HuggingFace hub and ``datasets`` read first.

Every dataset folder gets one (``steps`` and ``episodes`` configs, so
``datasets.load_dataset(folder, "steps")`` reads ``steps.parquet`` alone), and so does every hub
folder (a ``default`` config over its data files). The YAML header holds the fields
``huggingface_hub.DatasetCardData`` defines (license, ``task_categories``, tags, size, configs,
``pretty_name``); the body summarises the provenance in ``metadata.json``.

The card is written with PyYAML, not ``huggingface_hub`` (an optional extra): its bytes depend on
the metadata alone, never on which packages are installed, so a dataset folder stays
byte-identical on any machine. ``tests/test_interop_hf.py`` checks that ``DatasetCard`` parses
it into the same fields.
"""

from __future__ import annotations

from typing import Any

import yaml

from imitation_datasets.data.schema import EPISODES_FILE, STEPS_FILE

CARD_FILE = "README.md"
LICENSE = "mit"
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                   (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"),
                   (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))
"""HuggingFace's size buckets, by number of rows (steps)."""


def size_category(rows: Any) -> str:
    """The hub's ``size_categories`` bucket for ``rows`` rows."""
    if not isinstance(rows, int) or isinstance(rows, bool):
        return "unknown"
    return next((name for bound, name in SIZE_CATEGORIES if rows < bound), "n>1T")


def _number(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else "-"


def _header(metadata: dict[str, Any], configs: list[dict[str, Any]]) -> dict[str, Any]:
    env_id = str((metadata.get("env") or {}).get("id") or "unknown environment")
    kind = (metadata.get("expert") or {}).get("kind")
    who = "random-policy" if kind == "random" else "expert"
    tags = ["imitation-learning", "reinforcement-learning", "il-datasets", "gymnasium"]
    if env_id != "unknown environment":
        tags.append(env_id)
    return {
        "license": LICENSE,
        "pretty_name": f"{env_id} {who} dataset",
        "task_categories": ["reinforcement-learning"],
        "tags": tags,
        "size_categories": [size_category(metadata.get("total_steps"))],
        "configs": configs,
    }


def _summary(metadata: dict[str, Any]) -> str:
    env = metadata.get("env") or {}
    expert = metadata.get("expert") or {}
    episodes = metadata.get("episodes") or {}
    returns = metadata.get("returns") or {}
    collection = metadata.get("collection") or {}
    acceptance = metadata.get("acceptance") or {}
    reference = metadata.get("reference") or {}
    algo = f" ({expert['algo']})" if expert.get("algo") else ""
    rows = [
        ("environment", f"`{env.get('id', '-')}`"),
        ("expert", f"`{expert.get('id', expert.get('kind', '-'))}`{algo}"),
        ("episodes", str(episodes.get("count", "-"))),
        ("steps", str(metadata.get("total_steps", "-"))),
        ("return (mean ± std)", f"{_number(returns.get('mean'))} ± {_number(returns.get('std'))}"),
        ("random-policy return", _number(reference.get("random_return_mean"))),
        ("dataset seed", str(collection.get("dataset_seed", "-"))),
        ("accepted / attempts",
         f"{acceptance.get('accepted', '-')} / {acceptance.get('attempts', '-')}"),
        ("created by", f"`{(metadata.get('creation') or {}).get('command', '-')}`"),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def _card(header: dict[str, Any], title: str, body: str) -> str:
    front = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n\n# {title}\n\n{body.strip()}\n"


FOLDER_BODY = """
Made with [imitation_datasets](https://github.com/NathanGavenski/IL-Datasets). Two tables:
`steps.parquet` (one row per step: `episode_index`, `step`, `obs`, `action`, `reward`,
`terminated`, `truncated`, `episode_start`) and `episodes.parquet` (one row per episode: `seed`,
`return`, `length`, `final_obs`, ...); provenance in `metadata.json`, the same data in the original
IL-Datasets layout in `teacher.npz` (when written).

{summary}

```python
import datasets
steps = datasets.load_dataset("<this folder or repo>", "steps", split="train")
episodes = datasets.load_dataset("<this folder or repo>", "episodes", split="train")

from imitation_datasets.dataset import BaselineDataset  # (s, a, s') that never cross episodes
train = BaselineDataset("<this folder>", n_episodes=100)
```
"""

HUB_BODY = """
Made with [imitation_datasets](https://github.com/NathanGavenski/IL-Datasets) (IL-Datasets
layout: one row per step; `obs`, `actions`, `rewards`, `episode_starts`, plus `terminated`,
`truncated`, `episode_index`, `step` and `next_obs`, the observation after the step; image
observations have `final_obs` instead, each episode's final frame on its last row).
Provenance is in `metadata.json`.

{summary}

```python
import datasets
steps = datasets.load_dataset("<repo id>", split="{split}").with_format("torch")

from imitation_datasets.dataset import BaselineDataset
train = BaselineDataset("<repo id>", source="hf", n_episodes=100)
evaluation = BaselineDataset("<repo id>", source="hf", n_episodes=100, split="eval")
```
"""


def folder_card(metadata: dict[str, Any]) -> str:
    """``README.md`` of a dataset folder: ``steps`` (default) and ``episodes`` configs."""
    configs: list[dict[str, Any]] = [
        {"config_name": "steps", "data_files": [{"split": "train", "path": STEPS_FILE}],
         "default": True},
        {"config_name": "episodes", "data_files": [{"split": "train", "path": EPISODES_FILE}]},
    ]
    header = _header(metadata, configs)
    body = FOLDER_BODY.replace("{summary}", _summary(metadata))
    return _card(header, header["pretty_name"], body)


def hub_card(metadata: dict[str, Any] | None, split: str = "train") -> str:
    """``README.md`` of a hub folder: a ``default`` config over ``data/<split>-*.parquet``."""
    meta = metadata or {}
    configs = [{"config_name": "default",
                "data_files": [{"split": split, "path": f"data/{split}-*.parquet"}]}]
    header = _header(meta, configs)
    body = HUB_BODY.replace("{summary}", _summary(meta)).replace("{split}", split)
    return _card(header, header["pretty_name"], body)


REPO_BODY = """
Made with [imitation_datasets](https://github.com/NathanGavenski/IL-Datasets) (IL-Datasets
layout: one row per step; `obs`, `actions`, `rewards`, `episode_starts`, plus `terminated`,
`truncated`, `episode_index`, `step` and `next_obs`, the observation after the step; image
observations have `final_obs` instead, each episode's final frame on its last row).
Splits: {splits}. Each split's provenance is in `metadata/<split>/metadata.json`.

{summaries}

```python
import datasets
steps = datasets.load_dataset("<repo id>", split="{first}").with_format("torch")

from imitation_datasets.dataset import BaselineDataset
train = BaselineDataset("<repo id>", source="hf", hf_split="{first}", n_episodes=100)
```
"""


def hub_repo_card(metadatas: dict[str, dict[str, Any]], notes: dict[str, str] | None = None
                  ) -> str:
    """``README.md`` of a hub folder holding several splits (one metadata file per split).

    One ``default`` config lists ``data/<split>-*.parquet`` for every split of ``metadatas``
    (in its order); the body has one provenance table per split, each followed by its line of
    ``notes`` (a fingerprint, say).
    """
    splits = list(metadatas)
    configs = [{"config_name": "default",
                "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits]}]
    first = metadatas[splits[0]]
    header = _header(first, configs)
    header["size_categories"] = [size_category(sum(
        int(m.get("total_steps") or 0) for m in metadatas.values()))]
    header["pretty_name"] = f"{(first.get('env') or {}).get('id', 'unknown environment')} dataset"
    summaries = "\n\n".join(
        f"### `{name}`\n\n{_summary(meta)}" + (f"\n\n{notes[name]}" if notes and name in notes
                                                else "")
        for name, meta in metadatas.items())
    body = (REPO_BODY.replace("{splits}", ", ".join(f"`{s}`" for s in splits))
            .replace("{summaries}", summaries).replace("{first}", splits[0]))
    return _card(header, header["pretty_name"], body)


__all__ = ["CARD_FILE", "folder_card", "hub_card", "hub_repo_card", "size_category"]
