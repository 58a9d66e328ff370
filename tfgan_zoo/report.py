"""One self-contained HTML page from a run directory.

    python -m tfgan_zoo.report RUN_DIR [--out RUN_DIR/report.html]

The page holds the run's config, its training curves and metrics, the last
epoch's figures, health warnings and the sample sheets over epochs. Images are
embedded as base64 data URIs, so the file can be mailed or moved on its own.
The module itself imports no TensorFlow (matplotlib and numpy only), and reads
a run that is still training: a half-written log line is skipped, not fatal.

Only regular files inside the run directory go into the page
(:mod:`tfgan_zoo.safe_files`): a link leading out of it, a FIFO or a folder
where a file is expected is skipped with a warning that names it, so a
planted ``samples/epoch_999.png`` link cannot carry another file into a page
that is meant to be passed around.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime
import errno
import html
import io
import json
import os
import re
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tfgan_zoo import safe_files
from tfgan_zoo.commands import command_main

LOSSES = ("d_loss", "g_loss")
D_SCORES = ("d_real", "d_fake")
# Other logged columns, by what they tell; the first group sharing a word
# (split at "_") with the column's name takes it, the rest go to "Other".
METRIC_GROUPS = (
    ("Sample quality", {"fid", "kid", "precision", "recall", "inception", "density", "coverage"}),
    ("Conditioning", {"label", "accuracy", "class", "classifier"}),
    ("Training dynamics", {"gp", "grad", "norm", "lr", "learning"}),
)
D_SCORES_NOTE = (
    "d_real and d_fake are D's mean score on real and on generated images: probabilities for the bce "
    "loss, raw scores for lsgan and hinge. d_real &rarr; 1 and d_fake &rarr; 0 while g_loss climbs means "
    "D overpowers G, which then gets little useful gradient. Both near 0.5 (bce) means D cannot tell "
    "them apart: fine if the samples look right, else D may be too weak."
)
SAMPLE_FILE = re.compile(r"epoch_(\d+)\.png")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } .path { font-family: monospace; color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; }
th { background: #f3f3f3; text-align: left; } td.num { text-align: right; font-family: monospace; }
.grid { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; } figcaption { text-align: center; color: #555; }
figure img { image-rendering: pixelated; } .note { max-width: 60em; color: #444; }
.missing { color: #a33; } .warnings th { background: #fde8e8; }
"""


class NotARunDirectory(FileNotFoundError):
    """The path holds none of the files that ``tfgan_zoo.experiment.run`` writes."""


def read_log(path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """Epochs (1-based), numeric columns and the count of skipped rows of a CSVLogger file.

    Keras logs 0-based epochs; they are shifted to match samples/epoch_NNN.png.
    A resumed run can log an epoch twice (killed between the log and the
    checkpoint): the later row wins. Rows of another width than the header
    (a live run's half-written line, or a resumed run logging other columns)
    are skipped; empty cells (figures of epochs without an evaluation) read as
    NaN, and columns without a single value (the "NA" val_ columns of Keras'
    CSVLogger in older runs) are dropped.
    """
    return _parse_log(Path(path).read_bytes().decode("utf-8"))


def _parse_log(text: str) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """:func:`read_log` on the file's text."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or not rows[0]:
        return np.zeros(0), {}, 0
    header = rows[0]
    body = [row for row in rows[1:] if len(row) == len(header)]
    skipped = sum(1 for row in rows[1:] if row) - len(body)
    table = {name: np.array([_number(row[i]) for row in body]) for i, name in enumerate(header)}
    epochs = table.pop("epoch", np.arange(len(body), dtype=float)) + 1
    finite = np.flatnonzero(np.isfinite(epochs))
    reversed_unique = np.unique(epochs[finite][::-1], return_index=True)[1]
    keep = finite[len(finite) - 1 - reversed_unique]
    columns = {name: values[keep] for name, values in table.items() if not np.isnan(values[keep]).all()}
    return epochs[keep], columns, skipped


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _png_uri(data: bytes) -> str:
    return f"data:image/png;base64,{base64.b64encode(data).decode('ascii')}"


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _plot(epochs: np.ndarray, columns: dict[str, np.ndarray], names, title: str, size=(4.8, 3.0)) -> str:
    """A PNG data URI: a line per name, its val_ twin dashed, its _std column as a band."""
    figure = Figure(figsize=size, layout="constrained")  # Figure alone renders with Agg; no pyplot state
    axes = figure.subplots()
    for name in names:
        line = _line(axes, epochs, columns[name], name)
        if f"val_{name}" in columns:
            _line(axes, epochs, columns[f"val_{name}"], f"val_{name}", color=line.get_color(), linestyle="--")
        if f"{name}_std" in columns:
            mean, std = columns[name], columns[f"{name}_std"]
            ok = np.isfinite(mean) & np.isfinite(std)
            axes.fill_between(epochs[ok], (mean - std)[ok], (mean + std)[ok], color=line.get_color(), alpha=0.2,
                              label=f"± {name}_std")
    axes.set_title(title)
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    if len(axes.get_legend_handles_labels()[1]) > 1:
        axes.legend(fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return _png_uri(buffer.getvalue())


def _line(axes, epochs, values, label, **style):
    # Only finite points: metrics computed every few epochs leave gaps a plain line would not bridge.
    ok = np.isfinite(values)
    marker = "o" if ok.sum() <= 30 else None
    return axes.plot(epochs[ok], values[ok], label=label, marker=marker, markersize=3, **style)[0]


def _metric_groups(columns: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """Columns other than losses and D scores by METRIC_GROUPS; val_x and x_std are drawn with x."""
    twins = {f"val_{name}" for name in columns} | {f"{name}_std" for name in columns}
    groups: dict[str, list[str]] = {title: [] for title, _ in METRIC_GROUPS}
    groups["Other"] = []
    for name in columns:
        if name in LOSSES or name in D_SCORES or name in twins:
            continue
        words = set(name.removeprefix("val_").split("_"))
        title = next((title for title, keys in METRIC_GROUPS if words & keys), "Other")
        groups[title].append(name)
    return {title: names for title, names in groups.items() if names}


def _format(value) -> str:
    """Numbers to 4 significant digits, strings as they are, anything else as JSON."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return value if isinstance(value, str) else json.dumps(value)


def _table(rows, header=None, numeric: bool = False) -> str:
    cell = '<td class="num">{}</td>' if numeric else "<td>{}</td>"
    head = "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>" if header else ""
    body = "".join(
        f"<tr><th>{html.escape(str(row[0]))}</th>" + "".join(cell.format(html.escape(_format(v))) for v in row[1:])
        + "</tr>"
        for row in rows
    )
    return f"<table>{head}{body}</table>"


def _read_json(path: Path, run_dir: Path):
    """The parsed file, or a note to show instead (a file skipped as unsafe, or not JSON)."""
    data = safe_files.read_file_or_skip(path, run_dir)
    if data is None:
        return f"{path.name} was skipped: not a regular file inside the run directory (see the warning)"
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError as error:
        return f"could not read {path.name}: {error}"


def _json_section(data) -> str:
    if isinstance(data, dict):
        # Exact values, not the figures' 4 digits: an lr of 1.2345e-4 must read as it was set.
        rows = [(key, value if isinstance(value, str) else json.dumps(value)) for key, value in sorted(data.items())]
        return _table(rows)
    return f'<p class="missing">{html.escape(_format(data))}</p>'


def _configuration_section(config) -> str:
    """The run's settings as a page reads them: what it trains (family, data) and
    the options set otherwise than the defaults (config.json's ``changed``), with
    the whole record folded underneath."""
    if not isinstance(config, dict):
        return _json_section(config)
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    rows = [("family", config.get("model", "?"))]
    rows += [(f"data: {name}", value) for name, value in sorted(data.items()) if name not in ("sources", "classes")]
    for name, source in sorted((data.get("sources") or {}).items()):
        rows.append((f"source: {name}", _describe_source(source)))
    if data.get("classes"):
        rows.append(("classes", ", ".join(map(str, data["classes"]))))
    rows.append(("epochs", (config.get("run") or {}).get("epochs", "?")))
    parts = [_table(rows)]
    changed = config.get("changed")
    if isinstance(changed, dict) and changed:
        changed_rows = [(name, json.dumps(pair[1]), json.dumps(pair[0])) for name, pair in sorted(changed.items())]
        parts.append("<p>Options set otherwise than their defaults:</p>"
                     + _table(changed_rows, header=("option", "this run", "default")))
    elif isinstance(changed, dict):
        parts.append("<p>Every option has its default.</p>")
    else:
        parts.append('<p class="note">This run was recorded before runs listed their changed options; '
                     "the full record below has them all.</p>")
    record = html.escape(json.dumps(config, indent=2, sort_keys=True))
    parts.append(f"<details><summary>Full record (config.json)</summary><pre>{record}</pre></details>")
    return "".join(parts)


def _describe_source(source) -> str:
    """``/data/faces (1,204 files)``, ``60,000 arrays`` or the plain value of one recorded source."""
    if not isinstance(source, dict):
        return source if isinstance(source, str) else json.dumps(source)
    if "path" in source:
        count = f"{source['files']:,} files" if "files" in source else f"{source.get('bytes', 0):,} bytes"
        return f"{source['path']} ({count})" if source.get("exists", True) else f"{source['path']} (missing)"
    return f"{source.get('count', '?'):,} in memory, fingerprint {source.get('fingerprint', '?')}"


def _curves_section(epochs, columns, skipped: int, log_path: Path) -> str:
    if not len(epochs):
        return f'<p class="missing">{html.escape(str(log_path))} holds no finished epoch yet.</p>'
    parts = []
    if skipped:
        parts.append(
            f'<p class="note">{skipped} row(s) of training.csv were skipped: their width differs from the '
            "header (a half-written line of a live run, or a resumed run that logs other columns).</p>"
        )
    figures = []
    for names, title in ((LOSSES, "Losses"), (D_SCORES, "D scores")):
        present = [name for name in names if name in columns]
        if present:
            figures.append(_img(_plot(epochs, columns, present, title, size=(6, 3.5)), title))
    parts.append(f'<div class="grid">{"".join(figures)}</div>')
    if any(name in columns for name in D_SCORES):
        parts.append(f'<p class="note">{D_SCORES_NOTE}</p>')
    for title, names in _metric_groups(columns).items():
        plots = "".join(_img(_plot(epochs, columns, [name], name), name) for name in names)
        parts.append(f'<h3>{html.escape(title)}</h3><div class="grid">{plots}</div>')
    return "".join(parts)


def _final_section(epochs, columns) -> str:
    """Every column at the last epoch (or its latest value, for metrics not computed then), min and max."""
    rows = []
    first = [name for name in LOSSES + D_SCORES if name in columns]
    for name in first + [name for name in columns if name not in first]:
        values = columns[name]
        final = _format(values[-1])
        if np.isnan(values[-1]):
            latest = np.flatnonzero(~np.isnan(values))[-1]
            final = f"n/a (latest {_format(values[latest])} at epoch {epochs[latest]:.0f})"
        finite = values[np.isfinite(values)]
        rows.append((name, final, *((finite.min(), finite.max()) if finite.size else ("", ""))))
    return f"<p>Epoch {epochs[-1]:.0f}.</p>" + _table(rows, ("column", "final", "min", "max"), numeric=True)


def _health_section(text: str) -> tuple[str, int]:
    """The monitor's warnings (``logs/health.jsonl``'s text) as a table (loosely:
    any JSON object per line), and their count."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return "<p>The health monitor logged no warnings.</p>", 0
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        records.append(record if isinstance(record, dict) else {"message": line})
    keys = [key for key in ("epoch", "condition", "message") if any(key in r for r in records)]
    keys += sorted({key for r in records for key in r} - set(keys))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_format(r.get(key, '')))}</td>" for key in keys) + "</tr>"
        for r in records
    )
    head = "".join(f"<th>{html.escape(key)}</th>" for key in keys)
    return f'<table class="warnings"><tr>{head}</tr>{body}</table>', len(records)


def sample_sheets(run_dir: str | Path, count: int = 12) -> tuple[list[tuple[int, Path]], int]:
    """``(epoch, path)`` of the sheets to show, and how many there are.

    All of them if few, else ``count`` evenly spaced from the first to the last.
    Only regular files inside ``run_dir`` count; anything else is skipped with a warning.
    """
    found = sorted(
        (int(match.group(1)), path)
        for path in (Path(run_dir) / "samples").glob("epoch_*.png")
        if (match := SAMPLE_FILE.fullmatch(path.name)) and safe_files.file_or_skip(path, run_dir)
    )
    if len(found) <= count + 1:
        return found, len(found)
    return [found[i] for i in np.unique(np.linspace(0, len(found) - 1, count).round().astype(int))], len(found)


def _samples_section(run_dir: Path) -> tuple[str, int]:
    sheets, total = sample_sheets(run_dir)
    if not sheets:
        return '<p class="missing">No sample sheets (samples/epoch_NNN.png) yet.</p>', 0
    intro = f"<p>{len(sheets)} of {total} sheets, from the same fixed noise each epoch.</p>"
    figures = "".join(
        f"<figure>{_img(_png_uri(data), f'samples at epoch {epoch}')}<figcaption>epoch {epoch}</figcaption></figure>"
        for epoch, path in sheets
        # Read again through the check: the file may have been swapped for a link since it was listed.
        if (data := safe_files.read_file_or_skip(path, run_dir)) is not None
    )
    return f'{intro}<div class="grid">{figures}</div>', len(sheets)


def _files_section(run_dir: Path) -> str:
    entries = (
        ("checkpoints", "weights and optimizer states; re-run the same command to resume"),
        ("export/generator", "SavedModel versions of the generator (TF Serving base path)"),
        ("logs/tensorboard", f"tensorboard --logdir {run_dir / 'logs' / 'tensorboard'}"),
    )
    items = "".join(
        f"<li><code>{html.escape(name)}/</code>: {html.escape(what)}</li>"
        for name, what in entries
        if (run_dir / name).exists()
    )
    return f"<ul>{items}</ul>" if items else "<p>No checkpoints, export or TensorBoard logs yet.</p>"


def build_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Writes the HTML report of ``run_dir`` to ``out`` (default ``run_dir/report.html``) and returns its path.

    Raises:
        NotARunDirectory: ``run_dir`` is no run directory.
        IsADirectoryError: ``out`` is a folder.
    """
    run_dir = Path(run_dir).expanduser()
    if not run_dir.is_dir():
        raise NotARunDirectory(
            f"{run_dir} is not a directory; expected a run directory written by experiments/*.py."
        )
    if not any((run_dir / name).exists() for name in ("config.json", "logs", "samples")):
        raise NotARunDirectory(
            f"{run_dir} is not a run directory: it holds none of config.json, logs/training.csv, "
            "samples/epoch_NNN.png (as written by experiments/*.py through tfgan_zoo.experiment.run)."
        )
    out = Path(out).expanduser() if out is not None else run_dir / "report.html"
    if out.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(out))

    config_path = run_dir / "config.json"
    config = _read_json(config_path, run_dir) if os.path.lexists(config_path) else "no config.json"
    model = config.get("model", "unknown model") if isinstance(config, dict) else "unknown model"
    sections = [("Configuration", "config", _configuration_section(config))]

    log_path = run_dir / "logs" / "training.csv"
    log = safe_files.read_file_or_skip(log_path, run_dir)
    epochs = np.zeros(0)
    if log is not None:
        epochs, columns, skipped = _parse_log(log.decode("utf-8", errors="replace"))
        sections.append(("Training curves", "curves", _curves_section(epochs, columns, skipped, log_path)))
        if len(epochs):
            sections.append(("Final-epoch figures", "final", _final_section(epochs, columns)))
    else:
        sections.append(("Training curves", "curves", '<p class="missing">No logs yet (logs/training.csv).</p>'))

    for path in sorted((run_dir / "best").glob("*.json")):
        sections.append((f"Best: {path.name}", "best", _json_section(_read_json(path, run_dir))))

    health_log = safe_files.read_file_or_skip(run_dir / "logs" / "health.jsonl", run_dir)
    warnings = 0
    if health_log is not None:
        health, warnings = _health_section(health_log.decode("utf-8", errors="replace"))
        sections.append(("Health warnings", "health", health))

    samples, shown = _samples_section(run_dir)
    sections.append(("Samples over epochs", "samples", samples))
    sections.append(("Files", "files", _files_section(run_dir)))

    summary = [f"{len(epochs)} epoch(s) logged", f"{shown} sample sheet(s) shown"]
    if warnings:
        summary.append(f'<a href="#health" class="missing">{warnings} health warning(s)</a>')
    generated = datetime.datetime.now().isoformat(timespec="seconds")
    where = str(run_dir.resolve())
    body = "".join(f'<h2 id="{anchor}">{html.escape(name)}</h2>{content}' for name, anchor, content in sections)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(f'{model}: {where}')}</title><style>{STYLE}</style></head><body>"
        f"<h1>Run report: {html.escape(str(model))}</h1><p class=\"path\">{html.escape(where)}</p>"
        f"<p>{' · '.join(summary)}. Generated {generated}; epochs count from 1, as in samples/epoch_NNN.png.</p>"
        f"{body}</body></html>\n"
    )
    _write_atomically(out, page)
    return out


def _write_atomically(out: Path, text: str) -> None:
    """``text`` into ``out`` through a file beside it and a rename: a reader
    never sees half a page, and a link at ``out`` is replaced, never the file it points to."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, out)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        # Named after the page asked for, not the temporary file the user never saw.
        raise OSError(error.errno, error.strerror, str(out)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@command_main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tfgan_zoo.report",
        description="Writes a self-contained HTML report of a tfgan-zoo run directory.",
    )
    parser.add_argument("run_dir", help="run directory (the --out of an experiments/*.py run)")
    parser.add_argument("--out", default=None, help="HTML file to write (default: RUN_DIR/report.html)")
    args = parser.parse_args(argv)
    print(build_report(args.run_dir, args.out))


if __name__ == "__main__":
    main()
