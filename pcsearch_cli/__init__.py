"""The ``pcsearch`` command: a thin shell over the core, the search spaces and the workers."""
