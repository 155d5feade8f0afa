"""The `keras-tone` command line: parsing, and the door to keras_tone's commands.

This package imports only the standard library, so `keras-tone --help` and
`keras-tone --version` answer at once. After parsing, `main` turns
TensorFlow's logging down (unless `--debug`), then imports
`keras_tone.commands`, which runs the command with the library.

Exit status: 0 on success; 1 when the command ran but failed (a file could not
be read, weights could not be found, `doctor` found problems); 2 for a bad
command line. Errors are one line on stderr; `--debug` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

PROG = "keras-tone"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

COMMANDS = ("predict", "check", "plot", "doctor", "train", "evaluate", "card")


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
        help="show TensorFlow's log lines and every warning; on an error, print the traceback",
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
    card_opts.add_argument(
        "--loso-report",
        nargs="+",
        default=None,
        metavar="JSON",
        help="report.json of --loso runs for the model card; several runs of one design "
        "(e.g. other seeds) are joined (not with --loso)",
    )
    card_opts.add_argument(
        "--validation",
        nargs="+",
        default=None,
        metavar="MANIFEST",
        help="manifests of voices not trained on: the preset (and, in train, each network of "
        "an ensemble) is evaluated on them, alone and with speaker context, for the report "
        "and the model card (not with --loso)",
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
        ".wav, .flac, .ogg and .mp3 files. Files that cannot be read, and clips without "
        "voiced speech (silence, noise, hum, a test tone), get no tone: they are reported "
        "on stderr with the reason, and the exit status is then 1.",
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
        default=None,
        help="table (aligned columns), json (one JSON object per line; a JSON array in a "
        "-o FILE.json) or csv (default: table, or as the suffix of -o says)",
    )
    predict.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="write the results to FILE instead of stdout: CSV for .csv, JSON for .json "
        "(an array) or .jsonl (one object per line), unless --format says otherwise",
    )
    predict.add_argument(
        "--speaker-context",
        action="store_true",
        help="judge each clip against the other clips of its speaker (the model's speaker "
        "context): the clips of each folder are one speaker",
    )
    predict.add_argument(
        "--speaker",
        default=None,
        metavar="NAME",
        help="all the given files are clips of one speaker, NAME (implies --speaker-context)",
    )
    predict.add_argument(
        "--quiet", action="store_true", help="no progress bar, even for many files"
    )

    check = commands.add_parser(
        "check",
        parents=[common, model_opts],
        help="check the tones of a recorded word against its expected pinyin",
        description="Cut a recording of one word or short phrase into the syllables of the "
        "expected pinyin, classify each syllable's tone (with the word's other syllables as "
        "context) and compare it with the tone expected after tone sandhi: one row per "
        "syllable with its expected and heard tone, probability and verdict (ok, wrong tone, "
        "unsure when no tone reaches probability 0.5, not judged). Exit status 1 when the "
        "file cannot be read or cut into that many syllables.",
    )
    check.add_argument("file", metavar="FILE", help="a recording of one word or short phrase")
    check.add_argument(
        "--expect",
        metavar="PINYIN",
        default=None,
        help='the citation reading, tone digits or marks ("ni3 hao3", "nǐ hǎo"); tone sandhi '
        "is applied to it. Required unless --textgrid's labels give it",
    )
    _add_hanzi(check)
    _add_weights(check, default="blcu-words")
    check.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (aligned columns and a line for the word), json (one JSON object for the "
        "file, with a list of syllables) or csv (one row per syllable) (default: table)",
    )
    check.add_argument(
        "--textgrid",
        metavar="IN",
        default=None,
        help="take the syllables' boundaries from an interval tier of this Praat TextGrid "
        "(and the pinyin from its labels when --expect is not given)",
    )
    check.add_argument(
        "--tier",
        metavar="NAME",
        default=None,
        help="the tier of --textgrid that marks the syllables (default: syllables)",
    )
    check.add_argument(
        "--write-textgrid",
        metavar="OUT",
        default=None,
        help="write a TextGrid with the tiers of --textgrid (else a syllables tier) and a "
        "tier 'tones' labelled 'heard p=probability exp=expected'",
    )

    plot = commands.add_parser(
        "plot",
        parents=[common, model_opts],
        help="draw waveform, log-mel, F0 contour and tone probabilities of a clip",
        description="Draw one clip's waveform, log-mel spectrogram, F0 contour (librosa.pyin) "
        "and ToneNet's tone probabilities in one figure; with --expect, a word's waveform and "
        "pitch contour with its syllables, expected and heard tones (as `check` finds them). "
        "Needs matplotlib (`pip install keras-tone[plot]`).",
    )
    plot.add_argument("file", metavar="FILE", help="an audio file")
    plot.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="image to write; the format follows the suffix (.png, .svg, .pdf)",
    )
    plot.add_argument(
        "--expect",
        metavar="PINYIN",
        default=None,
        help="the word's citation pinyin (as for `check`): draw its syllables and tones",
    )
    _add_hanzi(plot)
    _add_weights(plot, allow_none=True, default=None, shown="blcu; blcu-words with --expect")

    commands.add_parser(
        "doctor",
        parents=[common],
        help="check the installation: TensorFlow, Keras, CUDA, GPUs, weights",
        description="Print the versions and settings keras_tone depends on (Python, "
        "TensorFlow, which Keras `tf.keras` is, CUDA/cuDNN, GPUs and their memory "
        "settings, caches, pretrained presets). Exit status 1 when it finds a problem.",
    )

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
    train.add_argument(
        "--seed",
        type=int,
        nargs="+",
        default=[0],
        metavar="N",
        help="random seed (default: 0); with --loso, several seeds run every fold once "
        "per seed and report the mean and range; without, several seeds train one network "
        "each and the preset is their ensemble (one model, their probabilities averaged)",
    )
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
        "--exclude",
        nargs="+",
        default=(),
        metavar="SPEAKER",
        help="leave these speakers out of training (with --loso: of every fold)",
    )
    train.add_argument(
        "--precision",
        choices=("auto", "float32", "bfloat16"),
        default="auto",
        help="training precision: mixed bfloat16, float32, or auto: bfloat16 where the "
        "hardware computes it natively (a GPU of compute capability >= 8, or a CPU with "
        "AVX512-BF16/AMX), float32 elsewhere (default: auto)",
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

    evaluate = commands.add_parser(
        "evaluate",
        parents=[common, model_opts],
        help="evaluate weights on manifests of labelled clips",
        description="Evaluate a weights file or preset on one or more corpus manifests and "
        "print accuracy and confusion matrix. Clips that cannot be read, and clips without "
        "enough voiced speech for a tone, are not scored: they are listed on stderr with the "
        "reason, and the exit status is then 1.",
    )
    evaluate.add_argument("manifests", nargs="+", metavar="MANIFEST", help="manifest.csv files")
    _add_weights(evaluate, required=True)
    evaluate.add_argument("--batch-size", type=_positive_int, default=None, metavar="N")
    evaluate.add_argument(
        "--speaker-context",
        action="store_true",
        help="give each clip the speaker context of the other clips of its speaker "
        "(the manifests' speaker column)",
    )
    evaluate.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    evaluate.add_argument(
        "--allow-outside-paths",
        action="store_true",
        help="accept manifest rows whose audio path is absolute or leads out of the "
        "manifest's folder (refused by default: a manifest from elsewhere must not open "
        "files outside it)",
    )

    card = commands.add_parser(
        "card",
        parents=[common, card_opts],
        help="rewrite a preset's model card from its report.json",
        description="Rewrite the model card (README.md) of a preset folder written by "
        "`keras-tone train` from its report.json, e.g. after editing the card notes.",
    )
    card.add_argument("--preset", required=True, metavar="DIR", help="the preset folder")
    card.add_argument(
        "--conditions-report",
        nargs="+",
        default=None,
        metavar="JSON",
        help="JSON files of scripts/conditions_report.py for the card's table of recording "
        "conditions",
    )
    return parser


def _add_weights(
    parser: argparse.ArgumentParser,
    *,
    allow_none: bool = False,
    required: bool = False,
    default: str | None = "blcu",
    shown: str | None = None,
) -> None:
    extra = "; `none` for no probabilities" if allow_none else ""
    parser.add_argument(
        "--weights",
        required=required,
        default=None if required else default,
        metavar="NAME|PATH",
        help=f"a pretrained preset name, hf://owner/repo[@revision], a preset folder, or a "
        f".weights.h5 or .keras file{extra}"
        + ("" if required else f" (default: {shown or default})"),
    )


def _add_hanzi(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hanzi",
        metavar="CHARACTERS",
        default=None,
        help="the word's characters, one per syllable (e.g. 一定): needed for the sandhi of "
        "一 and 不",
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
    if args.version:
        print(f"{PROG} {version()}")
        return EXIT_OK
    if args.command is None:
        _error_line(
            f"{PROG}: error: no command given; choose one of {', '.join(COMMANDS)} "
            f"(see `{PROG} --help`)"
        )
        return EXIT_USAGE
    args.debug = bool(getattr(args, "debug", False))
    args.prefix = f"{PROG} {args.command}"
    args.argv = argv  # recorded in training reports
    _set_tensorflow_logging(args.debug)
    try:
        from keras_tone import commands  # TensorFlow, Keras and the library

        return int(commands.run(args))
    except KeyboardInterrupt:
        _error_line(f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error of ours.
        _silence_stdout()
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the CLI's last resort
        if args.debug:
            traceback.print_exc()
        commands = sys.modules.get("keras_tone.commands")
        if commands is not None and isinstance(error, commands.CommandError):
            _error_line(f"{args.prefix}: error: {error}")  # its message says it all
            return error.status
        describe = commands.describe if commands is not None else str
        _error_line(
            f"{args.prefix}: error: {describe(error)}"
            + ("" if args.debug else " (run again with --debug for the traceback)")
        )
        return EXIT_FAILED


def _set_tensorflow_logging(debug: bool) -> None:
    """TensorFlow's C++ logging for a command: errors hidden, or everything with `debug`.

    Set before keras_tone (and TensorFlow) is imported, which reads it. Its
    start-up lines, written before that setting is read, keras_tone keeps off
    stderr itself unless the level is 0 (`keras_tone._keras`).
    """
    if debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
    else:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # "failed call to cuInit" without a GPU


def version() -> str:
    """keras_tone's version, read from `keras_tone/_version.py` without importing keras_tone."""
    spec = importlib.util.find_spec("keras_tone")  # finds the package; does not import it
    if spec is None or not spec.submodule_search_locations:
        return "unknown (keras_tone is not installed)"
    path = Path(next(iter(spec.submodule_search_locations))) / "_version.py"
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    return str(namespace["__version__"])


def _error_line(message: str) -> None:
    commands = sys.modules.get("keras_tone.commands")
    if commands is not None:  # the same line, with control characters escaped
        commands.error_line(message)
        return
    print(" ".join(str(message).split()), file=sys.stderr)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


__all__ = ["PROG", "build_parser", "main", "version"]
