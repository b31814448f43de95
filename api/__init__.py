"""The HTTP service (FastAPI): submit, watch, stop, resume and delete studies.

Thin adapters over :mod:`store.studies` (what a study does) and :mod:`store.views`
(what a person sees of it); Optuna's storage stays the only source of truth. Never
imports JAX, so the API image needs no accelerator stack. ``create_app`` in
:mod:`api.main` builds the app; ``pcsearch api`` serves it.
"""
