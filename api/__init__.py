"""The HTTP service (FastAPI) for submitting, watching, stopping and deleting studies.

Not built yet: it arrives with its own issue. Until then, studies are created with
``pcsearch search`` (embedded) or by ``workers.study.create_or_resume`` on a Postgres
storage, and served by ``pcsearch worker``.
"""
