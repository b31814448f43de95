"""Rendering of search results: tables, comparison with the paper, figures, report folders.

This is the pure layer under ``pcsearch report`` / ``pcsearch compare``: it takes plain
data (``ResultCell``, ``StudyFigures``) and never imports Optuna, SQLAlchemy, FastAPI or
JAX, so it can be tested and reused without a study database or an accelerator stack.
matplotlib is imported only when a figure is drawn.
"""

from pcsearch.analysis.compare import (
    ComparisonRow,
    compare,
    comparison_csv,
    comparison_markdown,
)
from pcsearch.analysis.energy_imbalance import energy_imbalance, subsequent_ratios
from pcsearch.analysis.paper_numbers import (
    PAPER_ALGORITHMS,
    PaperResult,
    load_paper_results,
    paper_notes,
)
from pcsearch.analysis.plots import (
    plot_energy_imbalance,
    plot_energy_per_step,
    plot_metric_against,
    plot_optimisation_history,
)
from pcsearch.analysis.report_files import StudyFigures, safe_name, write_report
from pcsearch.analysis.summary import Direction, ResultCell, Summary, summarise
from pcsearch.analysis.tables import table_csv, table_markdown

__all__ = [
    "PAPER_ALGORITHMS",
    "ComparisonRow",
    "Direction",
    "PaperResult",
    "ResultCell",
    "StudyFigures",
    "Summary",
    "compare",
    "comparison_csv",
    "comparison_markdown",
    "energy_imbalance",
    "load_paper_results",
    "paper_notes",
    "plot_energy_imbalance",
    "plot_energy_per_step",
    "plot_metric_against",
    "plot_optimisation_history",
    "safe_name",
    "subsequent_ratios",
    "summarise",
    "table_csv",
    "table_markdown",
    "write_report",
]
