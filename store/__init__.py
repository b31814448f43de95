"""The study store: how pcsearch keeps studies in an Optuna storage.

Shared by the workers and the HTTP API (which sit side by side above it): study configs and
their checks, opening a storage (SQLite, journal file or Postgres) and keeping its
connections, the attributes pcsearch writes on studies and trials, trial leases, samplers
and pruners by name, the read views, reruns and report data, and the service's settings.
Optuna's storage is the source of truth; nothing here keeps a copy of it.
"""
