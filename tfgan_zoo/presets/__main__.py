"""``python -m tfgan_zoo.presets list | show NAME | export NAME OUT | make RUN NAME | push PRESET hf://USER/NAME
| rewrite-card NAME...``.

Works offline right after ``pip install -e .``: the shipped presets are files
of the package.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tfgan_zoo.commands import CommandError, command_main
from tfgan_zoo.presets import HUB_PREFIX, PresetError, available, from_preset, locate

HUB_TOKEN_HELP = (
    "Uploading needs a Hugging Face token with write access: run `hf auth login` once (huggingface_hub before 0.34: "
    "`huggingface-cli login`), or set HF_TOKEN."
)


def _list() -> None:
    presets = available()
    rows = [("name", "family", "data", "size", "quality")]
    for preset in presets:
        size = f"{preset.size_bytes / 1e6:.1f} MB" if preset.has_weights else "card only"
        rows.append((preset.name, preset.family, preset.data, size, preset.headline))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
    total = sum(preset.size_bytes for preset in presets)
    print(f"\n{len(presets)} presets, {total / 1e6:.1f} MB in all. "
          "python -m tfgan_zoo.presets show NAME prints a preset's card.")


def _export(name: str, out: str) -> None:
    from tfgan_zoo import export

    model = from_preset(name)
    version = export.save(model, out, class_names=model.preset.record.get("class_names"))
    print(f"Exported preset {model.preset.name!r} to {version} (serve it: python -m tfgan_zoo.demo {out}).")


def _make(args) -> None:
    from tfgan_zoo.presets import making

    preset = making.make(args.run, args.name, args.out, command=args.command, wall_seconds=args.wall_seconds,
                         machine=args.machine, limits=tuple(args.limit), data_licence=args.licence,
                         register=args.register)
    print(f"Preset {preset.name!r} written to {preset.folder} ({preset.size_bytes / 1e6:.1f} MB): {preset.headline}."
          f"\nLoad it with tfgan_zoo.from_preset({str(preset.folder)!r}).")


def push(source: str, address: str) -> str:
    """Uploads a preset (a name, a preset folder, or a run directory, made into a preset first) to ``address``."""
    if not address.startswith(HUB_PREFIX) or address[len(HUB_PREFIX):].strip("/").count("/") != 1:
        raise CommandError(f"{address!r} is not a Hub address: write hf://USER/NAME.")
    repo_id = address[len(HUB_PREFIX):].strip("/")
    try:
        import huggingface_hub
    except ImportError as error:
        raise CommandError("Pushing needs huggingface_hub: pip install huggingface_hub") from error
    with tempfile.TemporaryDirectory() as scratch:
        if Path(source, "checkpoints").is_dir() and Path(source, "config.json").is_file():
            from tfgan_zoo.presets import making

            preset = making.make(source, repo_id.split("/")[1], Path(scratch) / "preset")
        else:
            preset = locate(source)
            from tfgan_zoo.presets import verify

            verify(preset)
        files = [*preset.checksums, "preset.json"]
        api = huggingface_hub.HfApi(library_name="tfgan_zoo")
        try:
            api.create_repo(repo_id, exist_ok=True)
            api.upload_folder(repo_id=repo_id, folder_path=str(preset.folder), allow_patterns=files,
                              commit_message=f"tfgan_zoo preset {preset.name}")
        except Exception as error:  # the hub's errors have no common base across versions
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise CommandError(f"Uploading to {address} failed ({message}). {HUB_TOKEN_HELP}") from error
    return repo_id


@command_main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tfgan_zoo.presets", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="action", required=True)
    commands.add_parser("list", help="every shipped preset: name, family, data, size, measured quality")
    show = commands.add_parser("show", help="print a preset's model card")
    show.add_argument("name", help="a shipped preset's name, a preset folder or hf://USER/NAME")
    export_command = commands.add_parser("export", help="write a preset's serving SavedModel")
    export_command.add_argument("name")
    export_command.add_argument("out", help="the export base path (TF Serving's --model_base_path)")
    make = commands.add_parser("make", help="turn a finished run directory into a preset")
    make.add_argument("run", help="the run directory (an experiment's --out)")
    make.add_argument("name", help="the preset's name (letters, digits, _ and -)")
    make.add_argument("--out", default=None, help="the preset folder to write (default: presets/NAME)")
    make.add_argument("--command", default=None, help="the command that trained the run, for the card")
    make.add_argument("--wall-seconds", type=float, default=None, help="its wall time, for the card")
    make.add_argument("--machine", default=None, help="the machine it ran on, for the card")
    make.add_argument("--limit", action="append", default=[], help="a known limit, for the card (repeatable)")
    make.add_argument("--licence", default=None, help="the data's licence, for the card")
    make.add_argument("--register", action="store_true",
                      help="write it into the package's presets and registry (maintainers shipping a preset)")
    push_command = commands.add_parser("push", help="upload a preset or a run to the Hugging Face Hub")
    push_command.add_argument("source", help="a preset name or folder, or a run directory")
    push_command.add_argument("address", help="hf://USER/NAME")
    rewrite = commands.add_parser("rewrite-card", help="render shipped presets' cards again from their records "
                                  "(maintainers changing the card; the weights stay)")
    rewrite.add_argument("names", nargs="+", metavar="NAME")
    args = parser.parse_args(argv)
    try:
        if args.action == "list":
            _list()
        elif args.action == "show":
            print(locate(args.name).card())
        elif args.action == "export":
            _export(args.name, args.out)
        elif args.action == "make":
            _make(args)
        elif args.action == "rewrite-card":
            from tfgan_zoo.presets import CARD_FILE, making

            for name in args.names:
                print(f"Rewrote {making.rewrite_card(name).folder / CARD_FILE}.")
        else:
            repo_id = push(args.source, args.address)
            print(f"Pushed to {HUB_PREFIX}{repo_id}; load it with tfgan_zoo.from_preset('{HUB_PREFIX}{repo_id}').")
    except PresetError as error:
        raise CommandError(str(error)) from None


if __name__ == "__main__":
    main()
