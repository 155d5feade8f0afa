"""Recording conditions: noise, rooms and channels, applied to waveforms with numpy.

People record syllables on phones, in rooms, next to other people talking.
This module makes those conditions from clean recordings, for two callers:
the training recipe (`keras_tone.features`), which gives each virtual speaker
one condition so that a speaker's clips and its speaker context share one
room, one noise and one channel; and `scripts/conditions_report.py`, which
measures a preset under fixed conditions.

* `coloured_noise`, `babble`: noise of unit RMS (white, pink, brown; or
  several other talkers at once).
* `add_noise`: noise at a signal-to-noise ratio relative to the clip's
  active speech level (`speech_level`).
* `room_impulse_responses`, `reverberate`: simulated rooms
  (pyroomacoustics: image sources for the early reflections, ray tracing
  for the tail) and their effect on a clip.
* `telephone`: the 300-3400 Hz band of a telephone line, through 8 kHz.
* `Condition` and `apply`: one drawn condition, applied in the order sound
  meets them (room, then noise at the microphone, then the channel).

Example:
    >>> import numpy as np
    >>> from keras_tone import conditions
    >>> rng = np.random.default_rng(0)
    >>> clip = np.sin(2 * np.pi * 200 * np.arange(8000) / 16000).astype("float32")
    >>> noisy = conditions.add_noise(clip, conditions.coloured_noise(8000, "pink", rng), 10.0)
    >>> level = conditions.speech_level
    >>> round(float(20 * np.log10(level(clip) / level(noisy - clip))), 1)
    10.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The noises `coloured_noise` makes; `"babble"` is made by `babble`.
NOISE_COLOURS = ("white", "pink", "brown")

#: The channels `apply` knows: `None` (the recording as it is) or the telephone band.
CHANNELS = (None, "telephone")

#: Frames of `speech_level`, in seconds.
_LEVEL_FRAME = 0.02


def coloured_noise(samples: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise of unit RMS whose power falls as `1 / f**alpha`.

    Args:
        samples: length of the noise.
        colour: `"white"` (alpha 0), `"pink"` (1) or `"brown"` (2).
        rng: the random generator.

    Returns:
        float32 `[samples]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.conditions import coloured_noise
        >>> noise = coloured_noise(16000, "brown", np.random.default_rng(0))
        >>> round(float(np.sqrt(np.mean(noise ** 2))), 3)
        1.0
    """
    if colour not in NOISE_COLOURS:
        raise ValueError(f"colour must be one of {NOISE_COLOURS}. Received: colour={colour!r}")
    white = rng.standard_normal(max(samples, 1))
    if colour != "white":
        alpha = NOISE_COLOURS.index(colour)
        spectrum = np.fft.rfft(white)
        frequencies = np.arange(spectrum.size, dtype=np.float64)
        frequencies[0] = 1.0  # no DC boost
        white = np.fft.irfft(spectrum / frequencies ** (alpha / 2.0), n=white.size)
        white -= white.mean()
    return _unit_rms(white[:samples])


def babble(
    samples: int,
    sources: Sequence[np.ndarray],
    rng: np.random.Generator,
    *,
    talkers: tuple[int, int] = (3, 7),
) -> np.ndarray:
    """Several other talkers at once, of unit RMS: the noise of a room full of speakers.

    Each talker is a random source clip, looped to `samples` from a random
    offset and scaled to unit RMS, so that no one voice stands out.

    Args:
        samples: length of the babble.
        sources: clips of speech to draw the talkers from (other speakers).
        rng: the random generator.
        talkers: the range (inclusive) of the number of talkers.

    Returns:
        float32 `[samples]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.conditions import babble
        >>> rng = np.random.default_rng(0)
        >>> voices = [rng.standard_normal(4000).astype("float32") for _ in range(10)]
        >>> babble(16000, voices, rng).shape
        (16000,)
    """
    if not sources:
        raise ValueError("babble needs at least one source clip. Received: sources=[]")
    total = np.zeros(max(samples, 1), np.float64)
    for _ in range(int(rng.integers(talkers[0], talkers[1] + 1))):
        source = np.asarray(sources[int(rng.integers(len(sources)))], np.float64)
        if not np.any(source):
            continue
        start = int(rng.integers(source.size))
        looped = np.resize(np.roll(source, -start), total.size)
        total += looped / np.sqrt(np.mean(looped**2) + 1e-12)
    return _unit_rms(total[:samples])


def speech_level(waveform: np.ndarray, sample_rate: int = 16000) -> float:
    """The active speech level: the RMS over the 20 ms frames within 30 dB of the loudest.

    Silence before and after a syllable does not lower it, so a signal-to-noise
    ratio relative to it means the same for a clip with or without silence.

    Example:
        >>> import numpy as np
        >>> from keras_tone.conditions import speech_level
        >>> clip = np.concatenate([np.zeros(16000), np.full(3200, 0.5)])
        >>> round(speech_level(clip), 3)
        0.5
    """
    x = np.asarray(waveform, np.float64)
    frame = max(int(_LEVEL_FRAME * sample_rate), 1)
    usable = max(x.size // frame, 1) * frame
    energy = np.mean(np.resize(x, usable).reshape(-1, frame) ** 2, axis=1)
    active = energy >= energy.max() * 1e-3
    return float(np.sqrt(np.mean(energy[active])))


def add_noise(
    waveform: np.ndarray, noise: np.ndarray, snr_db: float, sample_rate: int = 16000
) -> np.ndarray:
    """`waveform` plus `noise` scaled to `snr_db` below its active speech level.

    Args:
        waveform: the clean clip.
        noise: noise at least as long (`coloured_noise`, `babble`); its RMS
            is taken over the part used.
        snr_db: signal-to-noise ratio in dB, relative to `speech_level`.
        sample_rate: the clips' rate (for the speech level's frames).

    Returns:
        float32, as long as `waveform`.
    """
    x = np.asarray(waveform, np.float32)
    n = _unit_rms(np.asarray(noise, np.float64)[: x.size])
    if n.size < x.size:
        raise ValueError(
            f"The noise is shorter than the clip. Received: {n.size} noise samples "
            f"for a clip of {x.size}"
        )
    scale = speech_level(x, sample_rate) * 10.0 ** (-snr_db / 20.0)
    return (x + n * scale).astype(np.float32)


def room_impulse_responses(
    count: int,
    *,
    rt60: tuple[float, float] = (0.2, 0.9),
    sample_rate: int = 16000,
    seed: int = 0,
) -> list[np.ndarray]:
    """Impulse responses of `count` simulated rooms (pyroomacoustics), each `[samples]` float32.

    Each room is a shoebox 3-10 m by 3-8 m by 2.4-4 m with walls absorbing
    as much as a reverberation time drawn uniformly from `rt60` asks
    (Sabine's formula); a talker and a microphone 0.5-3 m apart stand at
    random inside. Image sources give the early reflections (order 3) and
    ray tracing the tail. Each response is scaled so that its direct sound
    has unit amplitude, and ends when it has decayed by 60 dB.

    Example:
        >>> from keras_tone.conditions import room_impulse_responses
        >>> rooms = room_impulse_responses(2, rt60=(0.3, 0.3), seed=1)
        >>> len(rooms), rooms[0].dtype.name
        (2, 'float32')
    """
    rng = np.random.default_rng([seed, count])
    return [
        room_impulse_response(float(rng.uniform(*rt60)), sample_rate=sample_rate, rng=rng)
        for _ in range(count)
    ]


def room_impulse_response(
    rt60: float, *, sample_rate: int = 16000, rng: np.random.Generator
) -> np.ndarray:
    """The impulse response of one random room aiming at the reverberation time `rt60` seconds.

    See `room_impulse_responses`. The room's measured reverberation time
    comes within about 20% of `rt60` (ray tracing is random);
    `measured_rt60` measures it.
    """
    import pyroomacoustics as pra

    size = np.array([rng.uniform(3, 10), rng.uniform(3, 8), rng.uniform(2.4, 4.0)])
    absorption, _ = pra.inverse_sabine(rt60, size)
    room = pra.ShoeBox(
        size,
        fs=sample_rate,
        materials=pra.Material(float(min(max(absorption, 0.01), 0.99))),
        max_order=3,
        ray_tracing=True,
        air_absorption=True,
        use_rand_ism=False,
    )
    room.set_ray_tracing(receiver_radius=0.5, n_rays=3000, energy_thres=1e-6)
    # The ray tracer draws from pyroomacoustics' own generators: seed them from
    # `rng`, so that the same rng gives the same room.
    pra.random.seed(numpy=int(rng.integers(2**63)), libroom=int(rng.integers(2**63)))
    margin = 0.5
    while True:
        talker = rng.uniform(margin, size - margin)
        microphone = rng.uniform(margin, size - margin)
        if 0.5 <= np.linalg.norm(talker - microphone) <= 3.0:
            break
    room.add_source(talker)
    room.add_microphone(microphone)
    room.compute_rir()
    response = np.asarray(room.rir[0][0], np.float64)
    response /= np.abs(response).max() + 1e-12
    energy = np.cumsum(response[::-1] ** 2)[::-1]
    end = int(np.searchsorted(-energy, -energy[0] * 1e-6))
    return response[: max(end, 1)].astype(np.float32)


def calibrated_room(rt60: float, *, sample_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """The impulse response of a random room whose measured reverberation time is `rt60` (+-5%).

    `room_impulse_response` aims at a reverberation time and lands within
    about 20% of it; this re-aims until `measured_rt60` is within 5%, so that
    a test condition such as "RT60 0.6 s" means what it says.

    Example:
        >>> from keras_tone.conditions import calibrated_room, measured_rt60
        >>> round(measured_rt60(calibrated_room(0.3)), 1)
        0.3
    """
    aim = rt60
    for _ in range(10):
        rng = np.random.default_rng([seed, round(rt60 * 1000)])
        response = room_impulse_response(aim, sample_rate=sample_rate, rng=rng)
        measured = measured_rt60(response, sample_rate)
        if abs(measured - rt60) <= 0.05 * rt60:
            return response
        aim *= rt60 / measured
    raise RuntimeError(
        f"No room came within 5% of RT60 {rt60} s (last: {measured:.3f} s). Received: rt60={rt60}"
    )


def measured_rt60(response: np.ndarray, sample_rate: int = 16000) -> float:
    """The reverberation time of an impulse response, in seconds (pyroomacoustics' T30 method)."""
    import pyroomacoustics as pra

    return float(pra.experimental.measure_rt60(response, fs=sample_rate, decay_db=30))


def reverberate(waveform: np.ndarray, response: np.ndarray) -> np.ndarray:
    """The clip as heard in a room: convolved with the room's impulse response, tail kept.

    The output is as long as the clip plus the response (the reverberation
    goes on after the talker stops), float32, at the clip's level (the
    direct sound has unit gain).
    """
    from scipy.signal import fftconvolve

    x = np.asarray(waveform, np.float64)
    return fftconvolve(x, np.asarray(response, np.float64)).astype(np.float32)


def telephone(waveform: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """The clip through a telephone line: the 300-3400 Hz band, carried at 8 kHz.

    A 4th-order Butterworth band-pass, then resampled to 8 kHz and back to
    `sample_rate` (soxr), as long as the clip.

    Example:
        >>> import numpy as np
        >>> from keras_tone.conditions import telephone
        >>> t = np.arange(16000) / 16000
        >>> hum, voice = np.sin(2 * np.pi * 100 * t), np.sin(2 * np.pi * 1000 * t)
        >>> kept = lambda x: round(float(np.std(telephone(x)[2000:-2000]) / np.std(x)), 1)
        >>> kept(hum), kept(voice)
        (0.0, 1.0)
    """
    from scipy.signal import butter, sosfilt

    from keras_tone.audio import resample

    sos = butter(4, [300.0, 3400.0], btype="bandpass", fs=sample_rate, output="sos")
    band = sosfilt(sos, np.asarray(waveform, np.float64)).astype(np.float32)
    narrow = resample(band, sample_rate, 8000)
    return resample(narrow, 8000, sample_rate)[: band.size]


@dataclass(frozen=True)
class Condition:
    """Where and how a clip was recorded (`apply` records a clip so).

    Attributes:
        room: the impulse response of the room, or `None` for a dry recording.
        noise: `"white"`, `"pink"`, `"brown"`, `"babble"`, or `None`.
        snr_db: the noise's signal-to-noise ratio, in dB (`add_noise`).
        channel: `None` or `"telephone"`.
    """

    room: np.ndarray | None = None
    noise: str | None = None
    snr_db: float = 30.0
    channel: str | None = None


def apply(
    waveform: np.ndarray,
    condition: Condition,
    rng: np.random.Generator,
    *,
    sample_rate: int = 16000,
    babble_sources: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """The clip recorded under `condition`: room, then noise, then channel.

    The noise is drawn from `rng` (babble from `babble_sources`) over the
    whole output, reverberant tail included.

    Example:
        >>> import numpy as np
        >>> from keras_tone.conditions import Condition, apply
        >>> clip = np.sin(np.arange(8000) * 0.1).astype("float32")
        >>> heard = apply(clip, Condition(noise="white", snr_db=20.0, channel="telephone"),
        ...               np.random.default_rng(0))
        >>> heard.shape, heard.dtype.name
        ((8000,), 'float32')
    """
    if condition.channel not in CHANNELS:
        raise ValueError(
            f"channel must be one of {CHANNELS}. Received: channel={condition.channel!r}"
        )
    x = np.asarray(waveform, np.float32)
    if condition.room is not None:
        x = reverberate(x, condition.room)
    if condition.noise is not None:
        if condition.noise == "babble":
            noise = babble(x.size, babble_sources, rng)
        else:
            noise = coloured_noise(x.size, condition.noise, rng)
        x = add_noise(x, noise, condition.snr_db, sample_rate)
    if condition.channel == "telephone":
        x = telephone(x, sample_rate)
    return x


#: The conditions `scripts/conditions_report.py` measures a preset under, by name.
REPORT_CONDITIONS: dict[str, dict] = {
    "clean": {},
    "white 20 dB": {"noise": "white", "snr_db": 20.0},
    "white 10 dB": {"noise": "white", "snr_db": 10.0},
    "pink 20 dB": {"noise": "pink", "snr_db": 20.0},
    "pink 10 dB": {"noise": "pink", "snr_db": 10.0},
    "RT60 0.3 s": {"rt60": 0.3},
    "RT60 0.6 s": {"rt60": 0.6},
    "telephone": {"channel": "telephone"},
}


def report_condition(name: str, *, sample_rate: int = 16000) -> Condition:
    """One of `REPORT_CONDITIONS` as a `Condition` (rooms from `calibrated_room`, seed 0).

    Example:
        >>> from keras_tone.conditions import report_condition
        >>> report_condition("pink 10 dB")
        Condition(room=None, noise='pink', snr_db=10.0, channel=None)
    """
    if name not in REPORT_CONDITIONS:
        raise ValueError(
            f"Unknown test condition; expected one of {list(REPORT_CONDITIONS)}. "
            f"Received: name={name!r}"
        )
    spec = dict(REPORT_CONDITIONS[name])
    rt60 = spec.pop("rt60", None)
    room = None if rt60 is None else calibrated_room(rt60, sample_rate=sample_rate)
    return Condition(room=room, **spec)


def _unit_rms(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


__all__ = [
    "CHANNELS",
    "Condition",
    "NOISE_COLOURS",
    "REPORT_CONDITIONS",
    "add_noise",
    "apply",
    "babble",
    "calibrated_room",
    "coloured_noise",
    "measured_rt60",
    "reverberate",
    "room_impulse_response",
    "room_impulse_responses",
    "speech_level",
    "telephone",
    "report_condition",
]
