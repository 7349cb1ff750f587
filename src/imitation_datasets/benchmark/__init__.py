"""The benchmark: datasets, splits and seeds per env, a resumable grid of cells, the report."""
