"""Workers: the only place where Optuna trials meet training.

A worker takes trials from studies in an Optuna storage, turns each into a training
configuration, reports every epoch for pruning and tells the result. The embedded
``pcsearch search`` runs these same workers as local processes.
"""
