"""Collecting datasets: play seeded episodes with an expert on many workers, then collate them.

The modules, in the order a run uses them:

* ``options`` — :class:`CollectOptions`, every option of a collection (the CLI's and the
  Controller's), and the rule for options given to ``start(opt)``;
* ``controller`` — the :class:`Controller` (the paper's API), which runs the steps below;
* ``run_description`` — what the run is (fingerprinted: resuming and "already complete");
* ``folder`` — the dataset folder: one writer, replaced whole, repaired after a crash;
* ``resume`` — whether the folder already holds this dataset; other runs' stagings;
* ``scheduling`` — the play phase: episodes left, worker count, backend, policy check;
* ``local_backend`` / ``ray_backend`` — worker processes or Ray actors, behind ``player``
  (attempts and retries) and ``worker`` (the worker process and its messages);
* ``staging`` — where accepted episodes wait between play and collate;
* ``tally`` — progress bar, counts and the stop rule;
* ``collate`` — the dataset and its metadata from the staged episodes;
* ``functions`` — the built-in ``enjoy``/``collate`` functions.
"""
