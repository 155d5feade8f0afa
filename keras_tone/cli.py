"""The `keras-tone` command line: predict, plot, doctor, train, evaluate, card.

The CLI only parses arguments and calls the library (`ToneNet`,
`load_audio`, `prepare_batch`, `decode_predictions`, `keras_tone.training`);
every heavy or optional import (TensorFlow, librosa, matplotlib, tqdm, the
training module) happens inside the subcommand that needs it.

Exit status: 0 on success; 1 when the command ran but failed (a file could not
be read, weights could not be found, `doctor` found problems); 2 for a bad
command line. Errors are one line on stderr; `--debug` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

PROG = "keras-tone"

#: File name endings that `predict` picks up when it walks a directory.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")

#: `predict` shows a progress bar on stderr from this many files on.
PROGRESS_MIN_FILES = 10

#: Clips per `model.predict` call in `predict`.
PREDICT_CHUNK = 64

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure to report as one line on stderr, with an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


class _UsageError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not call sys.exit."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self, message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise _Exit(status)


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The `keras-tone` argument parser (exposed for the docs and tests)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="on an error, print the full traceback",
    )
    card_opts = argparse.ArgumentParser(add_help=False)
    card_opts.add_argument(
        "--name", default=None, help="preset name for the model card (default: the folder name)"
    )
    card_opts.add_argument(
        "--licences",
        default=None,
        metavar="JSON",
        help="JSON file {manifest folder name: licence} for the model card",
    )
    card_opts.add_argument(
        "--card-notes", default=None, metavar="MD", help="Markdown file added to the model card"
    )
    model_opts = argparse.ArgumentParser(add_help=False)
    model_opts.add_argument(
        "--gpu-memory-limit",
        type=_positive_int,
        metavar="MB",
        default=None,
        help="cap TensorFlow's memory on each GPU at MB MiB (default: memory growth, "
        "take memory as needed)",
    )

    parser = _Parser(
        prog=PROG,
        description="Classify Mandarin lexical tones in audio files with ToneNet.",
        epilog=f"Run `{PROG} COMMAND --help` for the options of each command.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", default=False, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    predict = commands.add_parser(
        "predict",
        parents=[common, model_opts],
        help="classify the tone of audio files",
        description="Classify the tone of each audio file: one line per clip with the file, "
        "the tone number, its name and its probability. Directories are walked for "
        f"{', '.join(AUDIO_SUFFIXES)} files. Files that cannot be read are reported on "
        "stderr and skipped; the exit status is then 1.",
    )
    predict.add_argument("paths", nargs="+", metavar="FILE|DIR", help="audio files or folders")
    _add_weights(predict)
    predict.add_argument(
        "--top",
        type=_positive_int,
        default=1,
        metavar="K",
        help="also list the K most probable tones per clip (default: 1)",
    )
    predict.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (aligned columns), json (one JSON object per line) or csv (default: table)",
    )
    predict.add_argument(
        "--quiet", action="store_true", help="no progress bar, even for many files"
    )
    predict.set_defaults(handler=_cmd_predict)

    plot = commands.add_parser(
        "plot",
        parents=[common, model_opts],
        help="draw waveform, log-mel, F0 contour and tone probabilities of a clip",
        description="Draw one clip's waveform, log-mel spectrogram, F0 contour (librosa.pyin) "
        "and ToneNet's tone probabilities in one figure. Needs matplotlib "
        "(`pip install keras-tone[plot]`).",
    )
    plot.add_argument("file", metavar="FILE", help="an audio file")
    plot.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="image to write; the format follows the suffix (.png, .svg, .pdf)",
    )
    _add_weights(plot, allow_none=True)
    plot.set_defaults(handler=_cmd_plot)

    doctor = commands.add_parser(
        "doctor",
        parents=[common],
        help="check the installation: TensorFlow, Keras, CUDA, GPUs, weights",
        description="Print the versions and settings keras_tone depends on (Python, "
        "TensorFlow, which Keras `tf.keras` is, CUDA/cuDNN, GPUs and their memory "
        "settings, caches, pretrained presets). Exit status 1 when it finds a problem.",
    )
    doctor.set_defaults(handler=_cmd_doctor)

    train = commands.add_parser(
        "train",
        parents=[common, model_opts, card_opts],
        help="train ToneNet on manifests of labelled clips",
        description="Train ToneNet on one or more corpus manifests (manifest.csv with "
        "path,syllable,tone,speaker,sex) and write a preset folder to DIR. With --loso, "
        "run leave-one-speaker-out cross-validation instead.",
    )
    train.add_argument("manifests", nargs="+", metavar="MANIFEST", help="manifest.csv files")
    train.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    train.add_argument(
        "--classes",
        type=int,
        choices=(4, 5),
        default=4,
        help="4: tones 1-4; 5: with the neutral tone (default: 4)",
    )
    train.add_argument("--epochs", type=_positive_int, default=None, metavar="N")
    train.add_argument("--batch-size", type=_positive_int, default=None, metavar="N")
    train.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    train.add_argument(
        "--loso",
        action="store_true",
        help="leave-one-speaker-out cross-validation: one model per held-out speaker",
    )
    train.add_argument(
        "--speakers",
        nargs="+",
        default=None,
        metavar="SPEAKER",
        help="with --loso: the speakers to hold out (default: every speaker)",
    )
    train.add_argument(
        "--neutral-from",
        nargs="+",
        default=None,
        metavar="SPEAKER",
        help="with --classes 5: keep the neutral-tone clips of these speakers only "
        "(default: of every speaker)",
    )
    train.add_argument(
        "--class-weighting",
        choices=("none", "balanced"),
        default=None,
        help="weigh classes by inverse frequency or not "
        "(default: balanced for 5 classes, none for 4)",
    )
    train.add_argument(
        "--tempo",
        nargs=2,
        type=_positive_float,
        default=None,
        metavar=("LOW", "HIGH"),
        help="range of the tempo augmentation, as rates (above 1 is faster); "
        "1 1 turns it off (default: the recipe's, 0.67 1.5)",
    )
    train.add_argument(
        "--loso-report",
        default=None,
        metavar="JSON",
        help="report.json of a --loso run, for the model card (not with --loso)",
    )
    train.set_defaults(handler=_cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        parents=[common, model_opts],
        help="evaluate weights on manifests of labelled clips",
        description="Evaluate a weights file or preset on one or more corpus manifests and "
        "print accuracy and confusion matrix.",
    )
    evaluate.add_argument("manifests", nargs="+", metavar="MANIFEST", help="manifest.csv files")
    evaluate.add_argument(
        "--weights",
        required=True,
        metavar="NAME|PATH",
        help="a preset name, a preset folder or a .weights.h5 file",
    )
    evaluate.add_argument("--batch-size", type=_positive_int, default=None, metavar="N")
    evaluate.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    evaluate.set_defaults(handler=_cmd_evaluate)

    card = commands.add_parser(
        "card",
        parents=[common, card_opts],
        help="rewrite a preset's model card from its report.json",
        description="Rewrite the model card (README.md) of a preset folder written by "
        "`keras-tone train` from its report.json, e.g. after editing the card notes.",
    )
    card.add_argument("--preset", required=True, metavar="DIR", help="the preset folder")
    card.set_defaults(handler=_cmd_card)
    return parser


def _add_weights(parser: argparse.ArgumentParser, *, allow_none: bool = False) -> None:
    extra = "; `none` for no probabilities" if allow_none else ""
    parser.add_argument(
        "--weights",
        default="blcu",
        metavar="NAME|PATH",
        help=f"a pretrained preset name, a preset folder or a .weights.h5 file{extra} "
        "(default: blcu)",
    )


def _positive(text: str, convert: Any, noun: str) -> Any:
    try:
        value = convert(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive {noun}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    return _positive(text, float, "number")


def _positive_int(text: str) -> int:
    return _positive(text, int, "integer")


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run `keras-tone` with `argv` (default: `sys.argv[1:]`); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        _error_line(f"{error.parser.prog}: error: {error} (see `{error.parser.prog} --help`)")
        return EXIT_USAGE
    except _Exit as done:
        return done.status
    debug = bool(getattr(args, "debug", False))
    if args.version:
        print(_version())
        return EXIT_OK
    if args.command is None:
        _error_line(
            f"{PROG}: error: no command given; choose one of "
            "predict, plot, doctor, train, evaluate, card (see `keras-tone --help`)"
        )
        return EXIT_USAGE
    try:
        return int(args.handler(args) or EXIT_OK)
    except KeyboardInterrupt:
        _error_line(f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error of ours.
        _silence_stdout()
        return EXIT_OK
    except CommandError as error:
        if debug:
            traceback.print_exc()
        _error_line(f"{PROG} {args.command}: error: {error}")
        return error.status
    except Exception as error:  # noqa: BLE001 - the CLI's last resort
        if debug:
            traceback.print_exc()
        _error_line(
            f"{PROG} {args.command}: error: {type(error).__name__}: {error}"
            + ("" if debug else " (run again with --debug for the traceback)")
        )
        return EXIT_FAILED


def _error_line(message: str, stream: TextIO | None = None) -> None:
    stream = sys.stderr if stream is None else stream
    print(" ".join(str(message).split()), file=stream)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _version() -> str:
    from keras_tone import __version__

    return f"{PROG} {__version__}"


# --------------------------------------------------------------------------- models


def _configure_devices(args: argparse.Namespace) -> None:
    from keras_tone.devices import configure_gpu_memory

    try:
        configure_gpu_memory(growth=True, limit_mb=getattr(args, "gpu_memory_limit", None))
    except RuntimeError as error:  # GPUs already initialised: not fatal for the CLI
        _error_line(f"{PROG}: warning: {error}")


def load_model(handle: str) -> Any:
    """Build the ToneNet that `handle` (preset name or weights path) names.

    The number of classes and the sampling rate come from the preset's
    `config.json` when there is one (4 classes at 16 kHz otherwise).

    Raises:
        CommandError: the weights cannot be found or do not fit ToneNet; the
            message names the handle and the accepted forms.
    """
    from keras_tone import tonenet
    from keras_tone import weights as weights_lib

    try:
        resolved = weights_lib.resolve_weights(handle)
    except Exception as error:  # noqa: BLE001 - every resolver failure gets the same advice
        raise CommandError(_weights_advice(handle, error)) from error
    config = getattr(resolved, "config", None) or {}
    classes = int(config.get("classes", 4))
    sample_rate = int(config.get("sample_rate", tonenet.SAMPLE_RATE))
    path = getattr(resolved, "path", handle)
    try:
        return tonenet.ToneNet(weights=path, classes=classes, sample_rate=sample_rate)
    except (OSError, ValueError) as error:
        raise CommandError(
            f"could not load the weights {handle!r} ({path}) into ToneNet: "
            f"{type(error).__name__}: {error}"
        ) from error


def _weights_advice(handle: str, error: Exception) -> str:
    presets = _preset_names()
    known = ", ".join(presets) if presets else "none registered in this version"
    message = str(error).rstrip(".")
    return (
        f"cannot load the weights {handle!r}: {message}. Pass --weights with a preset name "
        f"(known presets: {known}), a preset folder or the path of a .weights.h5 file "
        f"(as written by keras_tone.weights.save_preset or `{PROG} train`)."
    )


def _preset_names() -> list[str]:
    """Names of the known presets (`keras_tone.weights.list_presets()`), or [] on failure."""
    try:
        from keras_tone import weights as weights_lib

        return [str(name) for name in weights_lib.list_presets()]
    except Exception:  # noqa: BLE001 - used in error messages and the doctor report
        return []


# --------------------------------------------------------------------------- predict


def find_audio_files(paths: Sequence[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into audio files; return `(files, problems)`.

    Folders are walked recursively for `AUDIO_SUFFIXES` (any case), in sorted
    order; files named explicitly are kept whatever their suffix. A path that
    does not exist is a problem `(path, message)`.
    """
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
            if not found:
                problems.append((text, f"no {'/'.join(AUDIO_SUFFIXES)} files in this folder"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append((text, "no such file or folder"))
    return files, problems


def _cmd_predict(args: argparse.Namespace) -> int:
    files, problems = find_audio_files(args.paths)
    for path, message in problems:
        _error_line(f"{PROG} predict: {path}: {message}")
    if not files:
        raise CommandError("no audio files to classify")

    _configure_devices(args)
    model = load_model(args.weights)
    sample_rate = _model_sample_rate(model)
    classes = int(model.output_shape[-1])
    top = min(args.top, classes)

    from keras_tone import decode_predictions, load_audio, prepare_batch

    writer = _PredictionWriter(args.format, top, sys.stdout)
    failed = len(problems)
    bar = None
    if not args.quiet and len(files) >= PROGRESS_MIN_FILES:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(files), unit="clip", desc="Classifying", file=sys.stderr)
    try:
        for start in range(0, len(files), PREDICT_CHUNK):
            names, clips = [], []
            for path in files[start : start + PREDICT_CHUNK]:
                try:
                    with warnings.catch_warnings():
                        if not getattr(args, "debug", False):  # librosa's fallback chatter
                            warnings.simplefilter("ignore")
                        clip = load_audio(path, sample_rate=sample_rate)
                    prepare_batch([clip], sample_rate, model_sample_rate=sample_rate)  # checks
                except (OSError, ValueError) as error:
                    failed += 1
                    _error_line(f"{PROG} predict: {path}: {error}")
                else:
                    names.append(str(path))
                    clips.append(clip)
                if bar is not None:
                    bar.update(1)
            if not clips:
                continue
            batch = prepare_batch(clips, sample_rate, model_sample_rate=sample_rate)
            probabilities = model.predict(batch, verbose=0)
            for name, guesses in zip(
                names, decode_predictions(probabilities, top=top), strict=True
            ):
                writer.write(name, guesses)
    finally:
        if bar is not None:
            bar.close()
    writer.close()
    if failed:
        _error_line(f"{PROG} predict: {failed} of {len(files) + len(problems)} inputs failed")
        return EXIT_FAILED
    return EXIT_OK


def _model_sample_rate(model: Any) -> int:
    from keras_tone import tonenet

    for name in ("syllable", "log_mel"):
        try:
            return int(model.get_layer(name).sample_rate)
        except (ValueError, AttributeError):
            continue
    return tonenet.SAMPLE_RATE


class _PredictionWriter:
    """Writes one line per clip as an aligned table, JSON Lines or CSV."""

    def __init__(self, fmt: str, top: int, stream: TextIO) -> None:
        self.fmt, self.top, self.stream = fmt, top, stream
        self.rows: list[tuple[str, list[tuple[int, str, float]]]] = []
        if fmt == "csv":
            import csv

            self._csv = csv.writer(stream, lineterminator="\n")
            header = ["file", "tone", "name", "probability"]
            for k in range(2, top + 1):
                header += [f"tone_{k}", f"name_{k}", f"probability_{k}"]
            self._csv.writerow(header)

    def write(self, name: str, guesses: list[tuple[int, str, float]]) -> None:
        if self.fmt == "json":
            import json

            best = guesses[0]
            record: dict[str, Any] = {
                "file": name,
                "tone": best[0],
                "name": best[1],
                "probability": round(best[2], 6),
            }
            if self.top > 1:
                record["top"] = [
                    {"tone": t, "name": n, "probability": round(p, 6)} for t, n, p in guesses
                ]
            print(json.dumps(record, ensure_ascii=False), file=self.stream, flush=True)
        elif self.fmt == "csv":
            row: list[Any] = [name]
            for tone, tone_name, probability in guesses:
                row += [tone, tone_name, f"{probability:.6f}"]
            self._csv.writerow(row)
            self.stream.flush()
        else:
            self.rows.append((name, guesses))  # aligned once all widths are known

    def close(self) -> None:
        if self.fmt != "table" or not self.rows:
            return
        header = ["file", "tone", "name", "probability"] + (["next"] if self.top > 1 else [])
        lines = []
        for name, guesses in self.rows:
            tone, tone_name, probability = guesses[0]
            line = [name, str(tone), tone_name, f"{probability:.3f}"]
            if self.top > 1:
                line.append(", ".join(f"{t}: {p:.3f}" for t, _, p in guesses[1:]))
            lines.append(line)
        widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
        for row in [header, *lines]:
            print(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(),
                file=self.stream,
            )


# --------------------------------------------------------------------------- plot


def _cmd_plot(args: argparse.Namespace) -> int:
    try:
        import matplotlib  # noqa: F401 - checked here so the error comes first
    except ImportError as error:
        raise CommandError(
            f"`{PROG} plot` needs matplotlib, which is not installed ({error}). "
            "Install it with `pip install keras-tone[plot]` (or `pip install matplotlib`)."
        ) from error
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"no such file: {args.file}")

    model = None
    if args.weights.lower() != "none":
        _configure_devices(args)
        model = load_model(args.weights)
    from keras_tone import tonenet

    sample_rate = _model_sample_rate(model) if model is not None else tonenet.SAMPLE_RATE
    from keras_tone import load_audio

    try:
        clip = load_audio(path, sample_rate=sample_rate)
    except (OSError, ValueError) as error:
        raise CommandError(str(error)) from error
    figure = plot_clip(clip, sample_rate, model=model, title=path.name)
    output = Path(args.output)
    if output.parent != Path(""):
        output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=120)
    print(output)
    return EXIT_OK


def plot_clip(clip: Any, sample_rate: int, *, model: Any = None, title: str = "") -> Any:
    """Draw waveform, log-mel, F0 contour and tone probabilities of one clip.

    Args:
        clip: mono float waveform `[samples]`.
        sample_rate: its sampling rate in Hz.
        model: a ToneNet with `include_top=True`, or `None` to leave the
            probability panel empty.
        title: the figure's title.

    Returns:
        A `matplotlib.figure.Figure` (no pyplot, so no display is needed).
    """
    import librosa
    import numpy as np
    from matplotlib.figure import Figure

    from keras_tone import labels, prepare_batch, tonenet
    from keras_tone.layers import LogMelSpectrogram

    clip = np.asarray(clip, dtype=np.float32)
    seconds = clip.size / sample_rate
    figure = Figure(figsize=(9, 8), layout="constrained")
    axes = figure.subplots(4, 1, gridspec_kw={"height_ratios": [1, 1.6, 1.2, 1.1]}, sharex=False)
    if title:
        figure.suptitle(title)

    time = np.arange(clip.size) / sample_rate
    axes[0].plot(time, clip, linewidth=0.6, color="#1f77b4")
    axes[0].set(xlim=(0, seconds), ylabel="amplitude", title="Waveform")

    settings = dict(tonenet.LOG_MEL, hop_length=256)
    log_mel = np.asarray(LogMelSpectrogram(sample_rate=sample_rate, **settings)(clip[None]))[0]
    image = axes[1].imshow(
        log_mel.T,
        origin="lower",
        aspect="auto",
        extent=(0, seconds, 0, log_mel.shape[1]),
        cmap="magma",
    )
    axes[1].set(ylabel="mel band", title="Log-mel spectrogram (ToneNet front end settings)")
    figure.colorbar(image, ax=axes[1], label="dB", pad=0.01)

    f0, voiced, _ = librosa.pyin(
        clip, fmin=60.0, fmax=500.0, sr=sample_rate, frame_length=1024, hop_length=160
    )
    f0_time = librosa.times_like(f0, sr=sample_rate, hop_length=160)
    axes[2].plot(f0_time, np.where(voiced, f0, np.nan), color="#d62728", linewidth=2)
    axes[2].set(xlim=(0, seconds), ylabel="Hz", xlabel="time (s)", title="F0 contour (pyin)")
    if np.any(voiced):
        low, high = np.nanmin(f0[voiced]), np.nanmax(f0[voiced])
        axes[2].set_ylim(max(0.0, low * 0.8), high * 1.2)

    if model is None:
        axes[3].text(0.5, 0.5, "no weights given", ha="center", va="center")
        axes[3].set_axis_off()
    else:
        probabilities = model.predict(
            prepare_batch([clip], sample_rate, model_sample_rate=sample_rate), verbose=0
        )[0]
        names = labels.class_names(len(probabilities))
        positions = np.arange(len(probabilities))
        bars = axes[3].barh(positions, probabilities, color="#2ca02c")
        bars[int(np.argmax(probabilities))].set_color("#ff7f0e")
        axes[3].set_yticks(positions, names)
        axes[3].invert_yaxis()
        axes[3].set(xlim=(0, 1), xlabel="probability", title="Tone probabilities (ToneNet)")
        for y, p in zip(positions, probabilities, strict=True):
            axes[3].text(min(p + 0.01, 0.9), y, f"{p:.2f}", va="center")
    return figure


# --------------------------------------------------------------------------- doctor


def _cmd_doctor(args: argparse.Namespace) -> int:
    report = doctor_report()
    width = max(len(key) for key, _ in report["lines"])
    for key, value in report["lines"]:
        print(f"{key.ljust(width)}  {value}")
    for note in report["notes"]:
        print(f"note: {note}")
    if report["problems"]:
        print()
        print(f"{len(report['problems'])} problem(s) found:")
        for problem in report["problems"]:
            print(f"  - {problem}")
        return EXIT_FAILED
    print()
    print("No problems found.")
    return EXIT_OK


def doctor_report() -> dict[str, list]:
    """Collect what `keras-tone doctor` prints.

    Returns:
        `{"lines": [(key, value), ...], "problems": [...], "notes": [...]}`.
        Every check is guarded: a failing import or call becomes a problem
        instead of an exception.
    """
    import importlib.metadata as metadata
    import platform

    lines: list[tuple[str, str]] = []
    problems: list[str] = []
    notes: list[str] = []

    def version_of(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    lines.append(("Python", f"{platform.python_version()} ({sys.executable})"))
    lines.append(("Platform", platform.platform()))
    legacy = os.environ.get("TF_USE_LEGACY_KERAS")
    lines.append(("TF_USE_LEGACY_KERAS", "unset" if legacy is None else repr(legacy)))
    if legacy is not None and legacy.strip().lower() in ("1", "true", "yes"):
        problems.append(
            f"TF_USE_LEGACY_KERAS={legacy!r} makes tf.keras the legacy Keras 2 (tf_keras); "
            "keras_tone needs Keras 3. Unset it: `unset TF_USE_LEGACY_KERAS`."
        )
    for dist in ("keras", "tf_keras"):
        found = version_of(dist) or version_of(dist.replace("_", "-"))
        lines.append((f"{dist} installed", found or "no"))
    tf_keras_version = version_of("tf_keras") or version_of("tf-keras")
    keras_version = version_of("keras")
    if keras_version and not keras_version.startswith("3."):
        problems.append(
            f"the standalone `keras` package is {keras_version}; TensorFlow >= 2.16 needs "
            "Keras 3: `pip install -U keras`."
        )

    tf = None
    try:
        import tensorflow as tf
    except Exception as error:  # noqa: BLE001
        problems.append(f"TensorFlow cannot be imported: {type(error).__name__}: {error}")
        lines.append(("TensorFlow", "not importable"))
    if tf is not None:
        wheels = [d for d in ("tensorflow", "tensorflow-cpu", "tf-nightly") if version_of(d)]
        lines.append(
            (
                "TensorFlow",
                f"{tf.__version__} (pip: {', '.join(wheels) or '?'}; {Path(tf.__file__).parent})",
            )
        )
        _doctor_keras(lines, problems, tf_keras_version)
        _doctor_build(tf, lines, notes)
        _doctor_gpus(tf, lines, problems, notes)

    try:
        from keras_tone import __version__ as tone_version
    except Exception as error:  # noqa: BLE001 - e.g. TF_USE_LEGACY_KERAS=1
        tone_version = f"not importable ({type(error).__name__}: {error})"
    lines.append(("keras_tone", tone_version))
    for dist in ("numpy", "librosa", "soundfile", "huggingface-hub"):
        lines.append((dist, version_of(dist) or "not installed"))
    _doctor_caches(lines, notes)
    _doctor_presets(lines, problems, notes)
    return {"lines": lines, "problems": problems, "notes": notes}


def _doctor_keras(lines: list, problems: list, tf_keras_version: str | None) -> None:
    """Which Keras `tensorflow.keras` is, through keras_tone's one Keras import."""
    try:
        from keras_tone._keras import keras as tfk  # `from tensorflow import keras`
    except (ImportError, RecursionError) as error:
        lines.append(("tf.keras", "not importable"))
        problems.append(
            f"keras_tone cannot import Keras through tensorflow.keras "
            f"({type(error).__name__}: {' '.join(str(error).split())})"
            + (f"; tf_keras {tf_keras_version} is installed" if tf_keras_version else "")
        )
        return
    name = getattr(tfk, "__name__", type(tfk).__name__)
    version = getattr(tfk, "__version__", "?")
    lines.append(("tf.keras", f"Keras {version} (resolves to module {name})"))
    standalone = sys.modules.get("keras")  # imported by TensorFlow itself when it is Keras 3
    if standalone is not None and hasattr(standalone, "Model"):
        same = standalone.Model is tfk.Model
        lines.append(("tf.keras is `keras`", "yes" if same else "NO"))
        if not same:
            problems.append(
                "tf.keras and the `keras` package are different Keras installs: objects from "
                'one fail in the other ("Could not interpret optimizer identifier").'
            )


def _doctor_build(tf: Any, lines: list, notes: list) -> None:
    try:
        info = dict(tf.sysconfig.get_build_info())
    except Exception:  # noqa: BLE001
        info = {}
    cuda_build = bool(info.get("is_cuda_build", False)) or tf.test.is_built_with_cuda()
    lines.append(("TF built with CUDA", "yes" if cuda_build else "no (CPU-only build)"))
    if cuda_build:
        lines.append(("  CUDA (build)", str(info.get("cuda_version", "?"))))
        lines.append(("  cuDNN (build)", str(info.get("cudnn_version", "?"))))
        capabilities = info.get("cuda_compute_capabilities")
        if capabilities:
            lines.append(("  compute caps (build)", ", ".join(map(str, capabilities))))


def _doctor_gpus(tf: Any, lines: list, problems: list, notes: list) -> None:
    from keras_tone.devices import ALLOW_GROWTH_ENV, allow_growth_env, gpu_report

    try:
        gpus = gpu_report()
    except Exception as error:  # noqa: BLE001
        problems.append(f"listing GPUs failed: {type(error).__name__}: {error}")
        return
    growth_env = allow_growth_env()
    lines.append((ALLOW_GROWTH_ENV, "unset" if growth_env is None else repr(growth_env)))
    lines.append(("Visible GPUs", str(len(gpus)) if gpus else "none"))
    for gpu in gpus:
        growth = {True: "on", False: "off", None: "unknown"}[gpu["memory_growth"]]
        if gpu["memory_growth"] is False and growth_env and growth_env.lower() == "true":
            growth = f"on (through {ALLOW_GROWTH_ENV})"
        limit = gpu["memory_limit_mb"]
        lines.append(
            (
                f"  {gpu['name']}",
                f"{gpu['device_name'] or 'unknown GPU'}, compute capability "
                f"{gpu['compute_capability'] or '?'}, memory growth {growth}"
                + (f", limit {limit} MiB" if limit else ""),
            )
        )
    cuda_build = tf.test.is_built_with_cuda()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        lines.append(("CUDA_VISIBLE_DEVICES", repr(visible)))
    driver = _nvidia_driver_present()
    if cuda_build and not gpus and driver:
        problems.append(
            "TensorFlow was built with CUDA but sees no GPU. Check `nvidia-smi`, the driver "
            "version against the CUDA version above, CUDA_VISIBLE_DEVICES, and that "
            "`pip install tensorflow[and-cuda]` installed the CUDA libraries (TensorFlow "
            "logs 'Cannot dlopen some GPU libraries' at start-up when they are missing)."
        )
    if not gpus and not driver:
        notes.append("no NVIDIA driver found on this machine: TensorFlow runs on the CPU.")
    if gpus and not growth_env:
        notes.append(
            "TensorFlow reserves nearly all GPU memory by default; keras-tone turns memory "
            f"growth on, in your code call keras_tone.devices.configure_gpu_memory() or set "
            f"{ALLOW_GROWTH_ENV}=true."
        )


def _nvidia_driver_present() -> bool:
    """Whether this machine looks like it has an NVIDIA GPU and driver."""
    import shutil

    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None


def _doctor_caches(lines: list, notes: list) -> None:
    try:
        from huggingface_hub import constants

        hub_cache = getattr(constants, "HF_HUB_CACHE", None) or getattr(
            constants, "HUGGINGFACE_HUB_CACHE", "?"
        )
        offline = getattr(constants, "HF_HUB_OFFLINE", None)
        lines.append(("Hugging Face cache", f"{hub_cache}"))
        lines.append(("HF_HUB_OFFLINE", str(bool(offline)) if offline is not None else "?"))
    except Exception as error:  # noqa: BLE001
        lines.append(("Hugging Face cache", f"unknown ({type(error).__name__}: {error})"))
    try:
        from keras_tone import datasets

        cache = datasets.default_cache_dir()
        files = list(cache.glob("*.npz")) if cache.is_dir() else []
        size = sum(f.stat().st_size for f in files) / 2**20
        lines.append(("Decoded-clip cache", f"{cache} ({len(files)} files, {size:.1f} MiB)"))
    except Exception:  # noqa: BLE001 - datasets is optional for doctor
        pass


def _doctor_presets(lines: list, problems: list, notes: list) -> None:
    try:
        from keras_tone import weights as weights_lib
    except Exception as error:  # noqa: BLE001
        problems.append(f"keras_tone.weights cannot be imported: {type(error).__name__}: {error}")
        return
    names = _preset_names()
    if not names:
        lines.append(("Presets", "none registered in this version"))
        return
    for name in names:
        lines.append((f"Preset {name}", preset_status(weights_lib, name)))


def preset_status(weights_lib: Any, name: str) -> str:
    """Whether preset `name` loads without a network connection, and from where.

    Resolves it with `HF_HUB_OFFLINE=1` in the environment (which
    `keras_tone.weights` reads at each call), so nothing is downloaded: a
    bundled copy or a Hugging Face cache entry that passes the sha256 check
    counts as available.
    """
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        resolved = weights_lib.resolve_weights(name)
    except Exception as error:  # noqa: BLE001 - reported, not raised
        reason = " ".join(str(error).split())
        if len(reason) > 160:
            reason = reason[:157] + "..."
        return f"not available offline ({type(error).__name__}: {reason})"
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
    return f"available offline ({resolved.source}: {resolved.path})"


# --------------------------------------------------------------------------- train / evaluate


def _training_module() -> Any:
    try:
        from keras_tone import training
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith("keras_tone"):
            raise CommandError(
                "keras_tone.training is not available in this installation of keras_tone"
            ) from error
        raise
    return training


def _cmd_train(args: argparse.Namespace) -> int:
    if args.speakers is not None and not args.loso:
        raise CommandError("--speakers needs --loso", EXIT_USAGE)
    card_options = (args.name, args.licences, args.card_notes, args.loso_report)
    if args.loso and any(option is not None for option in card_options):
        raise CommandError(
            "--name, --licences, --card-notes and --loso-report are for a preset, not --loso",
            EXIT_USAGE,
        )
    manifests = _existing(args.manifests, "manifest")
    licences = _read_json(args.licences, "licences")
    notes = _read_text(args.card_notes, "card notes")
    loso_report = _read_json(args.loso_report, "LOSO report")
    training = _training_module()
    _configure_devices(args)
    _log_progress()
    options: dict[str, Any] = {"classes": args.classes, "seed": args.seed}
    if args.epochs is not None:
        options["epochs"] = args.epochs
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    if args.neutral_from is not None:
        options["neutral_speakers"] = args.neutral_from
    if args.class_weighting is not None:
        options["class_weighting"] = args.class_weighting
    if args.tempo is not None:
        low, high = args.tempo
        if low > high:
            raise CommandError(
                f"--tempo LOW HIGH needs LOW <= HIGH; received {low} {high}", EXIT_USAGE
            )
        options["recipe"] = training.Recipe(tempo=(low, high))
    if args.loso:
        if args.speakers is not None:
            options["speakers"] = args.speakers
        if args.classes == 5:
            options["compare_classes"] = 4
        report = training.cross_validate(manifests, args.output, **options)
    else:
        for key, value in (
            ("name", args.name),
            ("data_licences", licences),
            ("card_notes", notes),
            ("loso_report", loso_report),
        ):
            if value is not None:
                options[key] = value
        report = training.train(manifests, args.output, **options)
    print(training.format_report(report))
    return EXIT_OK


def _cmd_card(args: argparse.Namespace) -> int:
    preset = Path(args.preset)
    if not (preset / "report.json").is_file():
        raise CommandError(f"no report.json in {preset} (is it a folder written by train?)")
    licences = _read_json(args.licences, "licences")
    notes = _read_text(args.card_notes, "card notes")
    training = _training_module()
    path = training.write_card(preset, name=args.name, data_licences=licences, notes=notes)
    print(path)
    return EXIT_OK


def _read_text(path: str | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot read the {what} file {path}: {error.strerror}") from None


def _read_json(path: str | None, what: str) -> Any:
    import json

    text = _read_text(path, what)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"the {what} file {path} is not valid JSON: {error}") from None


def _log_progress() -> None:
    """Show the training module's progress messages (folds, timings) on stderr."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    manifests = _existing(args.manifests, "manifest")
    training = _training_module()
    _configure_devices(args)
    options: dict[str, Any] = {}
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    report = training.evaluate(args.weights, manifests, **options)
    print(training.format_report(report))
    if args.json:
        import json

        output = Path(args.json)
        if output.parent != Path(""):
            output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2, default=_jsonable) + "\n")
    return EXIT_OK


def _existing(paths: Sequence[str], what: str) -> list[str]:
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise CommandError(f"no such {what} file: {', '.join(missing)}")
    return list(paths)


def _jsonable(value: Any) -> Any:
    """`json.dumps` fallback for numpy scalars and arrays, paths and the rest."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    return str(value)


__all__ = [
    "CommandError",
    "build_parser",
    "doctor_report",
    "find_audio_files",
    "load_model",
    "main",
    "plot_clip",
]
