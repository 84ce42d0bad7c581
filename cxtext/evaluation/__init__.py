"""Evaluation on the public datasets in ``../shared/datasets`` (``cxtext eval``)."""
