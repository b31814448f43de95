"""Data loading: numpy arrays only, so nothing here needs JAX or an accelerator."""

from pcsearch.data.datasets import DATASETS, Dataset, default_data_dir, load_dataset

__all__ = ["DATASETS", "Dataset", "default_data_dir", "load_dataset"]
