"""Fixtures of the worker tests: ``run_main``, the command line in this process (see
tests/cli/conftest.py), for the commands whose output is tested, not their process."""

from tests.cli.conftest import run_main

__all__ = ["run_main"]
