"""The dependency-free core every other layer builds on.

Nothing here imports another part of the package, only the standard library, NumPy and
Gymnasium: atomic file writes (:mod:`.atomic`), bounded reads (:mod:`.safe_read`), contained
paths and registered env ids (:mod:`.safe_paths`), the shared record type (:mod:`.episode`),
environment construction and stepping (:mod:`.rollout`), every seed rule (:mod:`.seeding`), the
one function that measures a policy (:mod:`.evaluation`), the metrics (:mod:`.metrics`), typed
configuration (:mod:`.config`), the exception base class (:mod:`.errors`) and name matching
(:mod:`.names`). ``.ci/run`` checks the layering (``lint-imports``, contracts in
``pyproject.toml``).
"""
