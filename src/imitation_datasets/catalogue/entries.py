"""The catalogue of canonical datasets: one per curated expert plus a random-policy split.

Each dataset is fixed by its expert, its episode count and its dataset seed, so anyone can
regenerate it; its **content fingerprint** (``data/fingerprint.py``: sha256 of the decoded
arrays, independent of the Parquet writer) is committed here, so anyone can check that what
they hold (regenerated, from a cache, or from the hub) is the canonical data.

Fingerprints hold for the versions in :data:`MEASURED_WITH` (Gymnasium and the simulators
define the physics; ``docs/format.md``, "What byte-identical on any machine covers"). They were
measured with ``python benchmarks/catalogue_fingerprints.py``, every entry once, on one machine;
an entry without one could be generated but not verified.
"""

from __future__ import annotations

from dataclasses import dataclass

EPISODES = 1000
"""Episodes of every canonical split (the original IL-Datasets hub datasets' size)."""
DATASET_SEED = 0
"""Dataset seed of every canonical split."""
HUB_ORG = "il-datasets"
"""The hub organisation of the catalogue's repos (``<org>/<EnvId>``, splits train and random,
as the original's ``NathanGavenski/<EnvId>``)."""
MEASURED_WITH = {"gymnasium": "1.4.0", "numpy": "2.4.6", "box2d": "2.3.10", "mujoco": "4.0.0"}
"""Versions the committed fingerprints were measured with."""
SPLITS = ("train", "random")
"""``train``: the curated expert; ``random``: uniformly random actions (BCO-style pre-training)."""
LEVEL_SPLITS = ("medium",)
"""Splits played by a lower-proficiency expert of the same recipe (``<key>-medium``, D4RL-style);
only where that expert is shipped (``experts/zoo/levels/``)."""
ALL_SPLITS = (*SPLITS, *LEVEL_SPLITS)


@dataclass(frozen=True)
class Split:
    """One canonical dataset: what makes it, and what it must hash to."""

    episodes: int
    seed: int
    fingerprint: str | None
    steps: int | None
    size_mib: float | None
    """Size of the dataset folder (Parquet, metadata and ``teacher.npz``) when measured."""


@dataclass(frozen=True)
class Entry:
    """A curated expert's canonical datasets."""

    key: str
    env_id: str
    train: Split
    random: Split
    medium: Split | None = None
    """The medium expert's split (``None``: no medium expert is shipped for this key)."""

    def split(self, name: str) -> Split:
        """The ``train``, ``random`` or (where there is one) ``medium`` split."""
        if name not in ALL_SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(ALL_SPLITS)}")
        found = {"train": self.train, "random": self.random, "medium": self.medium}[name]
        if found is None:
            raise ValueError(f"{self.key} has no {name!r} split; it has "
                             f"{', '.join(self.splits())}")
        return found

    def splits(self) -> tuple[str, ...]:
        """Names of this entry's splits, in :data:`ALL_SPLITS` order."""
        return tuple(name for name in ALL_SPLITS if name in SPLITS
                     or getattr(self, name) is not None)

    @property
    def hub_repo(self) -> str:
        """``<HUB_ORG>/<EnvId>``."""
        return f"{HUB_ORG}/{self.env_id}"


NOT_MEASURED = ()
"""A split that exists but whose fingerprint, steps and size are not committed yet."""


def _entry(key: str, env_id: str, train: tuple[str, int, float] | None = None,
           random: tuple[str, int, float] | None = None,
           medium: tuple[str, int, float] | tuple[()] | None = None) -> Entry:
    def split(measured: tuple[str, int, float] | tuple[()] | None) -> Split:
        if not measured:
            return Split(EPISODES, DATASET_SEED, None, None, None)
        return Split(EPISODES, DATASET_SEED, *measured)

    return Entry(key, env_id, split(train), split(random),
                 None if medium is None else split(medium))


CATALOGUE: dict[str, Entry] = {e.key: e for e in (
    _entry("acrobot", "Acrobot-v1",
           ("8f792ed60cce217f393de1997af8d3c69de97cfc55ed6b9e4122c180f5c2b5dc", 76193, 5.8),
           ("9930d3fad068e7e179e45eecaca687e2ad860d454cd4880c27834b6e27277c8e", 498941, 34.1),
           medium=("f80e4b58796a42b2776f3846405961df6b19240a02baa10c901809d8e1d3f080", 107642,
                   7.9)),
    _entry("cartpole", "CartPole-v1",
           ("7e7402315aab145db996e1c4ca1cf447343a67e92c4c291af8503bf2181cecf1", 500000, 27.0),
           ("dd41f719188067337b8264f0d27399f64562430a3bd4774221a1afe37d056252", 22895, 1.5),
           medium=("e9c4cfaf305270c1965efea2b2083846e437cd2005e6dafcac5cb5b69a04e3cb", 209986,
                   11.7)),
    _entry("mountaincar", "MountainCar-v0",
           ("29132f38dcaa3a1f3b2defdf960322451e93fd4b6504ae6edd2ef88df52bb982", 99386, 4.2),
           ("432ed1adc16aa0216aeb44dea419551f3d809c2635ad265e47259971bd19e7d9", 200000, 8.2)),
    _entry("mountaincarcontinuous", "MountainCarContinuous-v0",
           ("e6a0c9a0f3036c32bf30f32adaba45eebda9587a8c551749c5b6931f5d4de24f", 160092, 7.9),
           ("fcab673a298923113348e28d6e8d975e3b1c576ae7650dae863856a0ee7c2d0b", 998810, 45.9)),
    _entry("pendulum", "Pendulum-v1",
           ("d323e5793da461296775926027b0ec19a694bba5188cbe6abed3abfd42abbfde", 200000, 9.7),
           ("6a3913028e4b4a43c2180b1e03a84581fafc7c3fcd5a6d64d170224563b2a9e5", 200000, 11.7),
           medium=("e7bc1a049893ce5ebda350fce85a5485298128ec4a18d98cc04a2188efabd01d", 200000,
                   11.6)),
    _entry("lunarlander", "LunarLander-v3",
           ("df61b5be2fa6ec509b2cdda91d102ac875d0e6a876bddae3dcb04db4b1de757d", 223744, 19.2),
           ("7cc01d07e3bfb131682b8100189c795a704ee4fcf4c4850032cd93bcf3808b94", 93009, 8.5),
           medium=("65e2a6c46f82cb42b29101543b6a49e09d78bbfbe5ed798f4d07e0b0f3a8087f", 825096,
                   69.4)),
    _entry("lunarlandercontinuous", "LunarLanderContinuous-v3",
           ("4201887194a594c0ec4387aded0c9b92be2ac5e36bad1b79191d40b08adaabc4", 206602, 19.7),
           ("7beeeb7068415375525a02f8f985bbfb9038617cc8cfdf80b14add89faa7d61f", 110604, 11.2)),
    _entry("bipedalwalker", "BipedalWalker-v3",
           ("b1f04c77c8c784b0461b6526bbb47b8eff84f5044fbe889762206cbeeb289efe", 675817, 142.5),
           ("415863b3991af213be236a385ae567084a85294542ba26e20c91d76ced06868f", 574717, 126.5)),
    _entry("ant", "Ant-v5",
           ("8ca183242a38ea79c3825d9468f1ec4384b715736ff9522f7d92b1061cb58670", 998646, 1088.1),
           ("0c8097690c85fdabe0bb1b53b6fdc208b3a1bcddaa8dac11d2572331d5846995", 164313, 181.9)),
    _entry("cheetah", "HalfCheetah-v5",
           ("29096b11b6dd8ee983dd3efec1a11add5ab07784fde8ca786eac4bf1bf9c8cf7", 1000000, 314.5),
           ("c1b937e3532cc12a81e6de956d508d7a276753dbab3b0a8632a0ff2e74dc7994", 1000000, 323.0)),
    _entry("hopper", "Hopper-v5",
           ("65ada200f939c9b356198d835ea203d9a77dae26e61a9ff6ed1dd054752f9b81", 1000000, 210.0),
           ("1b39e666efbf897e465a8da6fb0ad727731750b9ced694b4b9dd0822d50b00d2", 22496, 5.3)),
    _entry("humanoid", "Humanoid-v5",
           ("a019bbea7be794f331a62c8927a472f33b13e09935a6cd9e2e153d51fbe46533", 999952, 4558.7),
           ("b3b56eca2c76533c77753bf91a76204ffc9e59536f4af3a121d4f9085d51eda2", 24491, 116.3)),
    _entry("inverteddoublependulum", "InvertedDoublePendulum-v5",
           ("747859baf8ce3d43efd74dd1f158f1ff05faab6f4bae8ebc4de4839bf43e7d98", 1000000, 153.3),
           ("0cbb3b17430d20266a166f29b26f7353189388d8417889714100589680265a0e", 6542, 1.3)),
    _entry("invertedpendulum", "InvertedPendulum-v5",
           ("e696c265bfd6ae280cd8f36978806eb2420af0c61c116f9e344446652158fd5e", 1000000, 83.4),
           ("d6eb1985f555ce0fec5937a4aa085e2b054045087a4a313ae1a3eb880764d3be", 6284, 0.7)),
    _entry("reacher", "Reacher-v5",
           ("cf18785a904ada49f8f100e66ffdea5b2527d952ad3974ae5ac3382c5e87d1e9", 50000, 9.4),
           ("5c30d241e2e46646046625a9c3393210dc55a49d088ab9ee8a48e1869829acef", 50000, 9.4)),
    _entry("swimmer", "Swimmer-v5",
           ("ac98b9a1d3e02276ff90ed973e5720fc9867e555bb9e86c8c8e8c1914e27e62a", 1000000, 151.5),
           ("2c191c4e036c6909ec43467f4d139e63f70034b884765d8eda8363a0ac5e20ea", 1000000, 158.1)),
    _entry("walker", "Walker2d-v5",
           ("4b808490b97bec402ed61c9db9bab305899109324e642d4ca70b2cd340a54335", 1000000, 308.5),
           ("170bfc6965056bdbde9073cc5312f80b869d028592fd1e2f615b028fa10b9cf2", 21395, 7.4)),
)}
"""Every curated expert's canonical datasets, by expert key."""
