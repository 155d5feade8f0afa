"""The commands of `keras-tone`, run by `keras_tone_cli.main` once it has parsed them.

Each command takes the parsed arguments, calls the library and returns the
exit status; a failure to report as one line is a `CommandError`. `run`
keeps normal runs quiet: TensorFlow's Python logging is cut to errors and
only keras_tone's warnings about weights (`keras_tone.presets.WeightsWarning`)
are shown, as one line each (`--debug` shows every warning).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import shlex
import sys
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: `predict` shows a progress bar on stderr from this many files on.
PROGRESS_MIN_FILES = 10


class CommandError(Exception):
    """A failure to report as one line on stderr, with an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def run(args: argparse.Namespace) -> int:
    """Run the command that `args` names (`args.command`); return the exit status."""
    handler = {
        "predict": predict,
        "check": check,
        "plot": plot,
        "doctor": doctor,
        "train": train,
        "evaluate": evaluate,
        "card": card,
    }[args.command]
    if not args.debug:
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    from keras_tone.presets import WeightsWarning

    with warnings.catch_warnings():
        if not args.debug:  # only what keras_tone has to say about the weights
            warnings.simplefilter("ignore")
            warnings.simplefilter("default", WeightsWarning)
        warnings.showwarning = _warning_line(args.prefix)
        return int(handler(args) or EXIT_OK)


def _warning_line(prefix: str) -> Any:
    def show(message: Any, category: type, *_: Any, **__: Any) -> None:
        error_line(f"{prefix}: warning: {message}")

    return show


def error_line(message: str, stream: TextIO | None = None) -> None:
    """Print `message` on one line to stderr: whitespace collapsed, control characters escaped."""
    from keras_tone.reports import printable

    line = printable(" ".join(str(message).split()))
    print(line, file=sys.stderr if stream is None else stream)


#: What to do about the operating system errors a command meets most, by errno.
_OS_ADVICE = {
    errno.ENOSPC: "free some disk space, or write to another disk, and run again",
    errno.EDQUOT: "free some disk space, or write to another disk, and run again",
    errno.EACCES: "check the permissions of the file and its folder, or choose another path",
    errno.EPERM: "check the permissions of the file and its folder, or choose another path",
    errno.EROFS: "choose a folder on a writable file system",
    errno.ENAMETOOLONG: "choose a shorter path",
}


def describe(error: BaseException) -> str:
    """What went wrong, in words, for an error line: no Python class names.

    An operating system error gives its description, the file it concerns
    and, for the common ones, what to do; any other error its message.

    Example:
        >>> import errno
        >>> from keras_tone.commands import describe
        >>> print(describe(OSError(errno.ENOSPC, "No space left on device", "tones.csv")))
        no space left on device: tones.csv (free some disk space, or write to another disk, ...)
        >>> describe(ValueError("tone must be 1-5"))
        'tone must be 1-5'
    """
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror[:1].lower() + error.strerror[1:]
        if error.filename is not None:
            text += f": {os.fsdecode(error.filename)}"
        advice = _OS_ADVICE.get(error.errno or 0)
        return f"{text} ({advice})" if advice else text
    text = " ".join(str(error).split())
    text = text[:-1] if text.endswith(".") and not text.endswith("..") else text
    if isinstance(error, KeyError) and len(error.args) == 1:
        text = f"missing key {text}"
    return text or "an unexpected error without a message"


# --------------------------------------------------------------------------- models


def _configure_devices(args: argparse.Namespace) -> None:
    from keras_tone.devices import configure_gpu_memory

    try:
        configure_gpu_memory(growth=True, limit_mb=args.gpu_memory_limit)
    except RuntimeError as error:  # GPUs already initialised: not fatal for the CLI
        error_line(f"{args.prefix}: warning: {error}")


def _load(args: argparse.Namespace, *, speaker_context: bool = False) -> Any:
    """The model that `--weights` names, on the devices `--gpu-memory-limit` allows."""
    from keras_tone import load_model
    from keras_tone.presets import list_presets

    _configure_devices(args)
    try:
        return load_model(args.weights, speaker_context=speaker_context)
    except (OSError, ValueError) as error:
        message = " ".join(str(error).split()).rstrip(".")
        raise CommandError(
            f"cannot load the weights {args.weights!r}: {message}. Pass --weights with a "
            f"preset name (known presets: {', '.join(list_presets())}), an hf:// handle, a "
            "preset folder, or a .weights.h5 or .keras file (as written by "
            "`keras-tone train` or keras_tone.weights.save_preset)."
        ) from error


# --------------------------------------------------------------------------- predict


def predict(args: argparse.Namespace) -> int:
    """`keras-tone predict`: one line per clip; files that get no tone on stderr, exit 1."""
    from keras_tone.inference import find_audio_files, predict_files, speakers_by_folder
    from keras_tone.writers import PredictionWriter, format_for

    output = None if args.output is None else Path(args.output)
    try:
        fmt = format_for(output, args.format) if output else args.format or "table"
    except ValueError as error:
        raise CommandError(f"{error} (--format)", EXIT_USAGE) from None
    files, problems = find_audio_files(args.paths)
    for path, message in problems:
        error_line(f"{args.prefix}: {path}: {message}")
    if not files:
        raise CommandError("no audio files to classify")
    if output is not None:
        _check_output(output, files)
    speakers = None
    if args.speaker_context or args.speaker is not None:
        speakers = [args.speaker] * len(files) if args.speaker else speakers_by_folder(files)
        alone = sorted(s for s, n in Counter(speakers).items() if n == 1)
        if alone:
            error_line(
                f"{args.prefix}: warning: no speaker context for {', '.join(alone)}: "
                "one clip of the speaker only"
            )
    model = _load(args, speaker_context=speakers is not None)
    top = min(args.top, int(model.output_shape[-1]))
    progress = not args.quiet and len(files) >= PROGRESS_MIN_FILES
    results = predict_files(model, files, speakers=speakers, progress=progress)
    failed = len(problems)
    with _open_output(args, output, files) as (stream, out):
        array = output is not None and output.suffix.lower() == ".json"
        writer = PredictionWriter(stream, fmt, top=top, array=array)
        for result in results:
            if result.error is not None:
                failed += 1
                error_line(f"{args.prefix}: {result.path}: {result.error}")
            elif not result.voiced:
                failed += 1
                error_line(f"{args.prefix}: {result.path}: no tone: {result.refusal}")
            else:
                writer.write(result.path, result.top(top))
        writer.close()
        if out is not None and failed == len(files) + len(problems):
            out.keep = False
            error_line(f"{args.prefix}: no clip got a tone, so {output} was not written")
    if failed:
        error_line(f"{args.prefix}: {failed} of {len(files) + len(problems)} inputs failed")
        return EXIT_FAILED
    return EXIT_OK


def _check_output(output: str | Path, inputs: Sequence[Any]) -> Path:
    """`output` as a Path, or a usage error when it is a folder or one of the inputs."""
    from keras_tone.outputs import check_output

    try:
        return check_output(output, inputs)
    except ValueError as error:
        raise CommandError(str(error), EXIT_USAGE) from None


@contextlib.contextmanager
def _output(args: argparse.Namespace, output: str | Path, inputs: Sequence[Any]) -> Iterator[Any]:
    """`keras_tone.outputs.output_file` for a command: one-line errors, a note when replacing."""
    from keras_tone.outputs import output_file

    with contextlib.ExitStack() as stack:
        try:
            out = stack.enter_context(output_file(output, inputs=inputs))
        except ValueError as error:  # a folder, or an input
            raise CommandError(str(error), EXIT_USAGE) from None
        except OSError as error:
            raise CommandError(f"cannot write {output}: {describe(error)}") from error
        yield out
    if out.keep and out.replaced:
        error_line(f"{args.prefix}: note: replaced the existing file {output}")


@contextlib.contextmanager
def _open_output(
    args: argparse.Namespace, output: Path | None, inputs: Sequence[Any]
) -> Iterator[tuple[TextIO, Any]]:
    """stdout, or a text stream to `output` written through `_output`."""
    if output is None:
        yield sys.stdout, None
        return
    with (
        _output(args, output, inputs) as out,
        out.temporary.open("w", encoding="utf-8", newline="") as stream,
    ):
        yield stream, out


# --------------------------------------------------------------------------- check


def check(args: argparse.Namespace) -> int:
    """`keras-tone check`: one word's expected against heard tones, one row per syllable."""
    from keras_tone.scoring import write_textgrid
    from keras_tone.writers import write_score

    if args.tier is not None and args.textgrid is None:
        raise CommandError("--tier needs --textgrid", EXIT_USAGE)
    intervals = _read_tier(args.textgrid, args.tier or "syllables")
    expected = args.expect
    if expected is None:
        if not intervals:
            raise CommandError(
                "--expect PINYIN is required (or --textgrid with labels)", EXIT_USAGE
            )
        expected = " ".join(interval.label for interval in intervals)
    inputs = [args.file, *([args.textgrid] if args.textgrid else [])]
    if args.write_textgrid is not None:
        _check_output(args.write_textgrid, inputs)
    _, _, result = _score_file(args, expected, boundaries=intervals)
    if args.write_textgrid is not None:
        with _output(args, args.write_textgrid, inputs) as out:
            try:
                write_textgrid(out.temporary, result, template=args.textgrid)
            except (OSError, ValueError) as error:
                raise CommandError(f"cannot write {args.write_textgrid}: {error}") from error
    write_score(args.file, result, args.format, sys.stdout)
    return EXIT_OK


def _read_tier(path: str | None, tier: str) -> list[Any] | None:
    if path is None:
        return None
    from keras_tone.textgrid import read_intervals

    try:
        return read_intervals(path, tier)
    except (OSError, ValueError) as error:
        raise CommandError(str(error)) from error


def _score_file(
    args: argparse.Namespace, expected: str, *, boundaries: list[Any] | None = None
) -> tuple[Any, int, dict]:
    """`keras_tone.score` on `args.file` with `args.weights` and `args.hanzi`.

    Returns:
        `(waveform, its sampling rate, the score)`.
    """
    from keras_tone import load_audio, score
    from keras_tone.decoding import failure_reason
    from keras_tone.gate import NoToneError
    from keras_tone.pinyin import expected_tones
    from keras_tone.tonenet import model_sample_rate

    try:
        expected_tones(expected, args.hanzi)  # a typing error fails before the model loads
    except ValueError as error:
        raise CommandError(str(error), EXIT_USAGE) from error
    path = _existing_clip(args.file)
    model = _load(args, speaker_context=True)
    rate = model_sample_rate(model)
    try:
        clip = load_audio(path, sample_rate=rate)
        result = score(
            clip,
            expected,
            sample_rate=rate,
            hanzi=args.hanzi,
            weights=model,
            boundaries=boundaries,
        )
        return clip, rate, result
    except NoToneError as error:
        raise CommandError(f"{path}: no verdicts: {error.reason}") from error
    except (OSError, ValueError) as error:
        raise CommandError(f"{path}: {failure_reason(error)}") from error


def _existing_clip(name: str) -> Path:
    """The audio file `name`, refused when missing or when its header says it is too long.

    The length is read before decoding (`keras_tone.decoding.declared_seconds`):
    a recording of minutes would otherwise be decoded and pitch-tracked first.
    """
    from keras_tone.audio import check_duration
    from keras_tone.decoding import declared_seconds, failure_reason

    path = Path(name)
    if not path.is_file():
        raise CommandError(f"no such file: {name}")
    try:
        check_duration(declared_seconds(path), name=str(path))
    except ValueError as error:
        raise CommandError(failure_reason(error)) from error
    return path


# --------------------------------------------------------------------------- plot, doctor


def plot(args: argparse.Namespace) -> int:
    """`keras-tone plot`: draw one clip into an image file; exit 1 when it gets no tone."""
    try:
        import matplotlib  # noqa: F401 - checked here so the error comes first
    except ImportError as error:
        raise CommandError(
            f"`keras-tone plot` needs matplotlib, which is not installed ({error}). "
            "Install it with `pip install keras-tone[plot]` (or `pip install matplotlib`)."
        ) from error
    from keras_tone import load_audio
    from keras_tone.config import SAMPLE_RATE
    from keras_tone.decoding import failure_reason
    from keras_tone.gate import refusals
    from keras_tone.plot import plot_clip, plot_word
    from keras_tone.runner import Runner
    from keras_tone.scoring import WORDS_PRESET
    from keras_tone.tonenet import model_sample_rate

    path = Path(args.file)
    _check_output(args.output, [path])
    if args.weights is None:
        args.weights = WORDS_PRESET if args.expect is not None else "blcu"
    if args.expect is None and args.hanzi is not None:
        raise CommandError("--hanzi needs --expect", EXIT_USAGE)
    if args.expect is not None and args.weights.lower() == "none":
        raise CommandError("--expect needs weights to hear the tones", EXIT_USAGE)
    _existing_clip(args.file)
    reason = None
    if args.expect is not None:
        clip, sample_rate, result = _score_file(args, args.expect)
        figure = plot_word(clip, sample_rate, result, title=path.name)
    else:
        model = None if args.weights.lower() == "none" else _load(args)
        sample_rate = SAMPLE_RATE if model is None else model_sample_rate(model)
        try:
            clip = load_audio(path, sample_rate=sample_rate)
            prediction = None if model is None else Runner(model).predict([clip])
            figure = plot_clip(
                clip, sample_rate, model=model, title=path.name, prediction=prediction
            )
        except (OSError, ValueError) as error:
            raise CommandError(f"{path}: {failure_reason(error)}") from error
        if prediction is not None:
            reason = refusals(prediction.voiced_seconds, [clip.size / sample_rate])[0]
    with _output(args, args.output, [path]) as out:
        figure.savefig(out.temporary, dpi=120)
    print(args.output)
    if reason is not None:
        error_line(f"{args.prefix}: {path}: no tone: {reason}")
        return EXIT_FAILED
    return EXIT_OK


def doctor(args: argparse.Namespace) -> int:
    """`keras-tone doctor`: print the report; exit 1 when it finds a problem."""
    from keras_tone.doctor import doctor_report

    report = doctor_report()
    width = max(len(key) for key, _ in report["lines"])
    for key, value in report["lines"]:
        print(f"{key.ljust(width)}  {value}")
    for note in report["notes"]:
        print(f"note: {note}")
    print()
    if report["problems"]:
        print(f"{len(report['problems'])} problem(s) found:")
        for problem in report["problems"]:
            print(f"  - {problem}")
        return EXIT_FAILED
    print("No problems found.")
    return EXIT_OK


# --------------------------------------------------------------------------- train, evaluate, card


def train(args: argparse.Namespace) -> int:
    """`keras-tone train`: train a preset, or cross-validate with `--loso`."""
    if args.speakers is not None and not args.loso:
        raise CommandError("--speakers needs --loso", EXIT_USAGE)
    card_options = (args.name, args.licences, args.card_notes, args.loso_report, args.validation)
    if args.loso and any(option is not None for option in card_options):
        options = "--name, --licences, --card-notes, --loso-report and --validation"
        raise CommandError(f"{options} are for a preset, not --loso", EXIT_USAGE)
    if args.tempo is not None and args.tempo[0] > args.tempo[1]:
        low, high = args.tempo
        raise CommandError(f"--tempo LOW HIGH needs LOW <= HIGH; received {low} {high}", EXIT_USAGE)
    manifests = _existing(args.manifests, "manifest")
    licences = _read_json(args.licences, "licences")
    notes = _read_text(args.card_notes, "card notes")
    loso_report = _loso_report(args.loso_report)
    from keras_tone import crossval, training
    from keras_tone.recipe import Recipe
    from keras_tone.reports import format_report

    _configure_devices(args)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # folds, timings
    recipe = Recipe(
        mixed_precision={"auto": None, "float32": False, "bfloat16": True}[args.precision]
    )
    if args.tempo is not None:
        recipe = replace(recipe, tempo=tuple(args.tempo))
    options: dict[str, Any] = {
        "classes": args.classes,
        "recipe": recipe,
        "exclude_speakers": args.exclude,
        "command": [" ".join(["keras-tone", *map(shlex.quote, args.argv)])],
    }
    for key, value in (
        ("epochs", args.epochs),
        ("batch_size", args.batch_size),
        ("neutral_speakers", args.neutral_from),
        ("class_weighting", args.class_weighting),
    ):
        if value is not None:
            options[key] = value
    if args.loso:
        if args.speakers is not None:
            options["speakers"] = args.speakers
        if args.classes == 5:
            options["compare_classes"] = 4
        report = crossval.cross_validate(manifests, args.output, seeds=args.seed, **options)
    else:
        options["seed"] = args.seed if len(args.seed) > 1 else args.seed[0]  # several: an ensemble
        for key, value in (
            ("validation_manifests", args.validation and _existing(args.validation, "manifest")),
            ("name", args.name),
            ("data_licences", licences),
            ("card_notes", notes),
            ("loso_report", loso_report),
        ):
            if value is not None:
                options[key] = value
        report = training.train(manifests, args.output, **options)
    print(format_report(report))
    return EXIT_OK


def evaluate(args: argparse.Namespace) -> int:
    """`keras-tone evaluate`: score weights on manifests; rows not scored on stderr, exit 1."""
    from keras_tone.evaluation import evaluate as evaluate_model
    from keras_tone.evaluation import manifests_are_words
    from keras_tone.reports import format_report

    manifests = _existing(args.manifests, "manifest")
    if args.json:
        _check_output(args.json, manifests)
    try:
        words = manifests_are_words(manifests)
    except ValueError as error:
        raise CommandError(str(error), EXIT_USAGE) from error
    # Syllables of words are classified with their word's other syllables as context.
    model = _load(args, speaker_context=args.speaker_context or words)
    options: dict[str, Any] = {
        "speaker_context": args.speaker_context,
        "allow_outside_paths": args.allow_outside_paths,
    }
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    try:
        report = evaluate_model(model, manifests, **options)
    except (OSError, ValueError) as error:
        raise CommandError(describe(error)) from error
    unit = "words" if words else "clips"
    scored = report["overall"]["clips"]
    for key, summary in (
        ("unreadable", f"could not be read{' or cut into syllables' if words else ''}"),
        ("refused", "got no tone (too little voiced speech)"),
    ):
        for row in report.get(key, []):
            error_line(f"{args.prefix}: {row['path']}: {row['reason']}")
        if report.get(key):
            error_line(
                f"{args.prefix}: {len(report[key])} {unit} {summary} and are not scored "
                f"({scored} {'syllables' if words else 'clips'} are)"
            )
    print(format_report(report))
    if args.json:
        with _output(args, args.json, manifests) as out:
            out.temporary.write_text(json.dumps(report, indent=2, default=_jsonable) + "\n")
    return EXIT_FAILED if report.get("unreadable") or report.get("refused") else EXIT_OK


def card(args: argparse.Namespace) -> int:
    """`keras-tone card`: rewrite a preset's model card from its report.json."""
    from keras_tone.cards import write_card
    from keras_tone.presets import REPORT_NAME

    preset = Path(args.preset)
    if not (preset / REPORT_NAME).is_file():
        raise CommandError(f"no {REPORT_NAME} in {preset} (is it a folder written by train?)")
    licences = _read_json(args.licences, "licences")
    notes = _read_text(args.card_notes, "card notes")
    conditions = [_read_json(path, "conditions report") for path in args.conditions_report or ()]
    added = {"loso": _loso_report(args.loso_report), "conditions": conditions or None}
    if args.validation is not None:
        from keras_tone.training import validate_preset

        added.update(validate_preset(preset, _existing(args.validation, "manifest")))
    if any(value is not None for value in added.values()):
        report = json.loads((preset / REPORT_NAME).read_text())
        report.update({key: value for key, value in added.items() if value is not None})
        (preset / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    print(write_card(preset, name=args.name, data_licences=licences, notes=notes))
    return EXIT_OK


def _loso_report(paths: Sequence[str] | None) -> dict | None:
    """The `--loso-report` files as one report (several runs joined)."""
    if paths is None:
        return None
    reports = [_read_json(path, "LOSO report") for path in paths]
    from keras_tone.crossval import merge_reports

    try:
        return merge_reports(reports)
    except (KeyError, ValueError) as error:
        raise CommandError(f"--loso-report: {error}", EXIT_USAGE) from None


def _existing(paths: Sequence[str], what: str) -> list[str]:
    if missing := [p for p in paths if not Path(p).is_file()]:
        raise CommandError(f"no such {what} file: {', '.join(missing)}")
    return list(paths)


def _read_text(path: str | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot read the {what} file {path}: {error.strerror}") from None


def _read_json(path: str | None, what: str) -> Any:
    text = _read_text(path, what)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"the {what} file {path} is not valid JSON: {error}") from None


def _jsonable(value: Any) -> Any:
    """`json.dumps` fallback for numpy scalars and arrays, paths and the rest."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


__all__ = ["CommandError", "describe", "error_line", "run"]
