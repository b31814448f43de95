"""``pcsearch tasks`` and ``pcsearch algorithms``: what exists, one line each.

``pcsearch tasks --markdown`` prints the table of tasks and algorithms that the README
shows (a test keeps the two equal). ``pcsearch tasks show TASK`` shows one task as a
researcher checks it before spending GPU hours: its network layer by layer (by shape
evaluation: no weights made, nothing trained), its data and preprocessing, and where each
default value comes from.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pcsearch.catalogue import ALGORITHMS, DATASETS, MODELS, TASKS, check_supported, task_info
from pcsearch.catalogue.paper_best import PAPER_VALUES
from pcsearch.errors import PCSearchError

ORIGINS = {
    "paper": "the paper's best values",
    "task": "the task's definition",
    "pcsearch": "ours: pcsearch's global default, not the paper's",
}
"""What each layer of ``pcsearch.params.resolve`` is, in words."""


def tasks_markdown() -> str:
    """Tasks as rows, algorithms as columns, like the paper's tables."""
    names = [n for n, a in ALGORITHMS.items() if a.implemented]
    header = ["task", "mode", "metric", *names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, task in TASKS.items():
        metric = f"{task.metric} ({'max' if task.direction == 'maximize' else 'min'})"
        marks = ["x" if a in task.algorithms else "" for a in names]
        lines.append("| " + " | ".join([f"`{name}`", task.mode, metric, *marks]) + " |")
    return "\n".join(lines)


def task_description(name: str, algorithm: str | None = None) -> dict[str, Any]:
    """Everything ``tasks show`` prints, as plain data (its ``--json``). ``algorithm``
    (default: the task's first) picks the network (BP's autoencoders have an encoder) and
    the defaults."""
    import equinox as eqx
    import jax

    from pcsearch.models import build_model
    from pcsearch.models.layer_table import layer_table, parameter_count
    from pcsearch.params import missing_paper_values, resolve, sources
    from pcsearch.training.modes import mode_of

    info = task_info(name)
    algorithm = algorithm or info.algorithms[0]
    check_supported(name, algorithm)
    params = resolve(name, algorithm)
    clamping = mode_of(info).clamping(algorithm)
    data = DATASETS[info.dataset]
    shape = info.augmentation.input_shape(data.shape)
    model = eqx.filter_eval_shape(
        build_model, info.model, params, shape, data.classes, jax.random.PRNGKey(0), clamping
    )
    bottom = {"input": shape, "label": (data.classes,)}.get(clamping.bottom)
    rows = layer_table(
        model,
        bottom if bottom is not None else model.latent_shape,
        bottom=clamping.bottom,
        top=clamping.top,
        states=ALGORITHMS[algorithm].family != "bp",
    )
    return {
        "task": name,
        "summary": info.summary,
        "mode": info.mode,
        "metric": info.metric,
        "direction": info.direction,
        "algorithms": list(info.algorithms),
        "algorithm": algorithm,
        "model": {
            "name": info.model,
            "title": MODELS[info.model].title,
            "layers": [
                {
                    "layer": r.layer,
                    "modules": r.modules,
                    "output_shape": list(r.output_shape),
                    "state": r.state,
                    "state_shape": None if r.state_shape is None else list(r.state_shape),
                    "parameters": r.parameters,
                }
                for r in rows
            ],
            "parameters": parameter_count(model),
        },
        "data": {
            "name": info.dataset,
            "title": data.title,
            "shape": list(data.shape),
            "classes": data.classes,
            "input_shape": list(shape),
            "preprocessing": data.preprocessing,
            "augmentation": describe_augmentation(info.augmentation),
        },
        "state_energy": {
            "value": params.get("state_energy", info.state_energy),
            "source": info.state_energy_source,
        }
        if ALGORITHMS[algorithm].family != "bp"
        else None,
        "defaults": _defaults(name, algorithm, params, sources(name, algorithm)),
        "note": missing_paper_values(name, algorithm),
        "paper_note": getattr(PAPER_VALUES.get((name, algorithm)), "note", None),
    }


def _defaults(
    name: str, algorithm: str, params: dict[str, Any], origin: dict[str, str]
) -> list[dict[str, Any]]:
    """Each resolved value with the layer it came from and that layer's source."""
    paper = PAPER_VALUES.get((name, algorithm))
    where = {
        "paper": None
        if paper is None
        else paper.source + (f" File: {paper.file}." if paper.file else ""),
        "task": TASKS[name].defaults_source
        or "pcsearch/catalogue's definition of the task (no source recorded)",
        "pcsearch": "pcsearch.params.GLOBAL_DEFAULTS",
    }
    return [
        {
            "name": k,
            "value": v,
            "from": origin.get(k, "task"),
            "source": where[origin.get(k, "task")],
        }
        for k, v in params.items()
    ]


def describe_augmentation(augmentation: Any) -> str:
    """A task's ``Augmentation`` in words."""
    parts = []
    fill = getattr(augmentation, "fill", None)
    filled = f" (filled with {fill})" if fill else ""
    if augmentation.padding:
        parts.append(f"random crops of the image padded by {augmentation.padding}{filled}")
    if augmentation.crop is not None:
        size = augmentation.crop
        parts.append(f"random {size}x{size} crops (the test set centre-cropped)")
    if augmentation.flip:
        parts.append("horizontal flips with probability 1/2")
    if getattr(augmentation, "rotation", 0):
        parts.append(f"rotations by up to {augmentation.rotation:g} degrees{filled}")
    return "; ".join(parts) or "none"


def _shape(shape: list[int] | None) -> str:
    return "-" if shape is None else "x".join(map(str, shape))


def show_task(args: argparse.Namespace) -> int:
    if not args.name:
        raise PCSearchError(
            "give a task to show, e.g. `pcsearch tasks show vgg5-cifar10`; "
            "`pcsearch tasks` lists them"
        )
    described = task_description(args.name, args.algorithm)
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    d, model, data = described, described["model"], described["data"]
    print(f"{d['task']}: {d['summary']}")
    print(f"mode {d['mode']}, metric {d['metric']} ({d['direction']}), algorithms: "
          f"{', '.join(d['algorithms'])}")  # fmt: skip
    print(f"\ndata: {data['name']} ({data['title']}), {_shape(data['shape'])}, "
          f"{data['classes']} classes; the model sees {_shape(data['input_shape'])}")  # fmt: skip
    print(f"  preprocessing: {data['preprocessing'] or 'not recorded'}")
    print(f"  augmentation: {data['augmentation']}")
    print(f"\nmodel: {model['name']} ({model['title']}), as {d['algorithm']} trains it")
    header = ("layer", "modules", "output shape", "state", "parameters")
    table = [header] + [
        (r["layer"], r["modules"], _shape(r["output_shape"]),
         _shape(r["state_shape"]) if r["state"] == "free" else r["state"], f"{r['parameters']:,}")
        for r in model["layers"]
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [
            c.rjust(w) if i == 4 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells))
    print(f"  total parameters: {model['parameters']:,}")
    if any(len(r["output_shape"]) == 3 for r in model["layers"][1:-1]):
        print("  conv states are channels-last, H x W x C (the paper writes C x H x W); "
              "images keep the data's C x H x W")  # fmt: skip
    if d["state_energy"] is not None:
        energy = d["state_energy"]
        print(f"\nstate energy: {energy['value']} (source: {energy['source'] or 'not recorded'})")
    print(f"\ndefaults for {d['algorithm']}:")
    width = max(len(x["name"]) for x in d["defaults"])
    values = max(len(str(x["value"])) for x in d["defaults"])
    for x in d["defaults"]:
        print(f"  {x['name']:<{width}}  {x['value']!s:<{values}}  {x['from']}")
    print("sources:")
    for origin in dict.fromkeys(x["from"] for x in d["defaults"]):
        source = next(x["source"] for x in d["defaults"] if x["from"] == origin)
        print(f"  {origin}: {ORIGINS[origin]}: {source}")
    for note in (d["paper_note"], d["note"]):
        if note:
            print(f"note: {note}")
    return 0


def tasks(args: argparse.Namespace) -> int:
    if args.action == "show":
        return show_task(args)
    if args.name:
        raise PCSearchError(
            f"`pcsearch tasks {args.name}`: to show one task write `pcsearch tasks show "
            f"{args.name}`; `pcsearch tasks` lists them"
        )
    return list_tasks(args)


def list_tasks(args: argparse.Namespace) -> int:
    if args.markdown:
        print(tasks_markdown())
        return 0
    width = max(map(len, TASKS))
    modes = max(len(t.mode) for t in TASKS.values())
    for name, task in TASKS.items():
        print(f"{name:<{width}}  {task.mode:<{modes}}  {task.metric:<8}  {task.summary}")
    return 0


def list_algorithms(args: argparse.Namespace) -> int:
    width = max(map(len, ALGORITHMS))
    for name, algo in ALGORITHMS.items():
        note = "" if algo.implemented else "  (not implemented yet)"
        print(f"{name:<{width}}  {algo.family:<7}  {algo.summary}{note}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "tasks",
        help="list the tasks, their modes, metrics and algorithms; or show one: its layers, "
        "data and where its defaults come from",
    )
    p.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    p.add_argument("name", nargs="?", help="the task to show")
    p.add_argument(
        "--markdown", action="store_true", help="one table: tasks by algorithms (the README's)"
    )
    p.add_argument(
        "--algorithm", help="show: whose network and defaults (default: the task's first)"
    )
    p.add_argument("--json", action="store_true", help="show: one JSON object")
    p.set_defaults(handler=tasks)
    commands.add_parser("algorithms", help="list the algorithms").set_defaults(
        handler=list_algorithms
    )
