"""Test signals built in code: chirps, noise, bursts and voiced tone contours."""

from __future__ import annotations

import numpy as np

#: F0 contours (Hz at start, middle, end) of tones 1-4 for a mid-range voice.
TONE_CONTOURS = {
    1: (240.0, 240.0, 238.0),
    2: (170.0, 195.0, 260.0),
    3: (180.0, 140.0, 190.0),
    4: (290.0, 240.0, 150.0),
}


def chirp(sample_rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    f0, f1 = 100.0, 0.45 * sample_rate
    phase = 2 * np.pi * f0 * seconds / np.log(f1 / f0) * (np.exp(t / seconds * np.log(f1 / f0)) - 1)
    return (0.5 * np.sin(phase)).astype(np.float32)


def white_noise(sample_rate: int, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(int(sample_rate * seconds))).astype(np.float32)


def silence_then_burst(sample_rate: int, seconds: float = 1.0, seed: int = 1) -> np.ndarray:
    y = np.zeros(int(sample_rate * seconds), np.float32)
    start, stop = int(0.6 * y.size), int(0.7 * y.size)
    rng = np.random.default_rng(seed)
    y[start:stop] = 0.3 * rng.standard_normal(stop - start)
    return y


def voiced_syllable(
    tone: int,
    sample_rate: int = 16000,
    *,
    seconds: float = 0.45,
    pitch_scale: float = 1.0,
    lead_silence: float = 0.1,
    gain: float = 0.3,
) -> np.ndarray:
    """A vowel-like harmonic signal following the F0 contour of `tone`."""
    start, middle, end = TONE_CONTOURS[tone]
    n = int(seconds * sample_rate)
    t = np.linspace(0.0, 1.0, n)
    f0 = pitch_scale * np.interp(t, [0.0, 0.5, 1.0], [start, middle, end])
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voice = np.zeros(n)
    for k in range(1, 30):
        freq = k * f0
        # crude vowel /a/: formant-like bumps at 800 and 1200 Hz, -6 dB/oct tilt
        envelope = (1.0 / k) * (
            1.0
            + 3.0 * np.exp(-(((freq - 800.0) / 200.0) ** 2))
            + 2.0 * np.exp(-(((freq - 1200.0) / 250.0) ** 2))
        )
        voice += np.where(freq < sample_rate / 2, envelope * np.sin(k * phase), 0.0)
    ramp = np.minimum(1.0, np.minimum(t, 1.0 - t) * 10.0)
    voice *= ramp / np.abs(voice).max()
    lead = np.zeros(int(lead_silence * sample_rate))
    return (gain * np.concatenate([lead, voice, np.zeros(int(0.05 * sample_rate))])).astype(
        np.float32
    )


def pink_noise(sample_rate: int, seconds: float = 1.0, seed: int = 0, slope: float = 0.5):
    """Noise whose amplitude falls as f**-slope: 0.5 is pink, 1.0 brown (red)."""
    n = int(sample_rate * seconds)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    frequencies = np.fft.rfftfreq(n, 1.0 / sample_rate)
    spectrum[1:] /= frequencies[1:] ** slope
    spectrum[0] = 0.0
    y = np.fft.irfft(spectrum, n)
    return (0.1 * y / y.std()).astype(np.float32)


def hum(sample_rate: int, mains: float, seconds: float = 1.0, *, harmonics: str = "all"):
    """Mains hum: `mains` Hz and its harmonics up to 7.9 kHz at 1/k amplitude.

    `harmonics="odd"` keeps the odd ones (a transformer's hum); `"second"`
    makes the second harmonic the strongest (a rectifier's buzz).
    """
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    y = np.zeros_like(t)
    for k in range(1, int(7900 // mains) + 1):
        if harmonics == "odd" and k % 2 == 0:
            continue
        amplitude = (
            1.0
            if (harmonics == "second" and k == 2)
            else (0.3 if harmonics == "second" else 1.0) / k
        )
        y += amplitude * np.sin(2 * np.pi * mains * k * t + k)
    return (0.1 * y / np.abs(y).max()).astype(np.float32)


def sine(sample_rate: int, frequency: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def click_train(sample_rate: int, rate_hz: float, seconds: float = 1.0) -> np.ndarray:
    y = np.zeros(int(sample_rate * seconds), np.float32)
    y[:: int(round(sample_rate / rate_hz))] = 0.5
    return y


def voiced_word(*tones: int, sample_rate: int = 16000) -> np.ndarray:
    """`voiced_syllable`s of 0.3 s, the first after 0.1 s of silence, then 0.1 s apart.

    The syllables lie at 0.1-0.4 s, 0.5-0.8 s, 0.9-1.2 s...
    """
    parts = [
        voiced_syllable(tone, sample_rate, seconds=0.3, lead_silence=0.1 if i == 0 else 0.05)
        for i, tone in enumerate(tones)
    ]
    return np.concatenate(parts)


def consonant(kind: str, rng: np.random.Generator, sample_rate: int = 16000) -> np.ndarray:
    """A consonant-like stretch: 's' (noise above 3 kHz) or 't' (closure, then a burst)."""
    if kind == "s":  # 90 ms of noise above 3 kHz
        noise = rng.standard_normal(int(0.09 * sample_rate))
        spectrum = np.fft.rfft(noise)
        spectrum[np.fft.rfftfreq(noise.size, 1 / sample_rate) < 3000] = 0
        return 0.06 * np.fft.irfft(spectrum, n=noise.size) / noise.std()
    if kind == "t":  # 50 ms closure, then a 15 ms burst
        n = int(0.015 * sample_rate)
        burst = 0.08 * rng.standard_normal(n) * np.hanning(n)
        return np.concatenate([np.zeros(int(0.05 * sample_rate)), burst])
    raise ValueError(kind)


def spoken_sentence(
    syllables: list[tuple[str, int]],
    *,
    seed: int = 0,
    pause_after: tuple[int, ...] = (),
    sample_rate: int = 16000,
) -> tuple[np.ndarray, np.ndarray]:
    """A sentence of `(initial, tone)` syllables ('s', 't' or '' for none), and its true starts.

    Vowel-like syllables of 140-220 ms after their consonant, 0.3 s of silence around, a
    0.4 s pause after each syllable index in `pause_after`, a -80 dB noise floor.
    """
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(0.3 * sample_rate))]
    starts = []
    position = parts[0].size
    for i, (initial, tone) in enumerate(syllables):
        if i - 1 in pause_after:
            parts.append(np.zeros(int(0.4 * sample_rate)))
            position += parts[-1].size
        starts.append(position / sample_rate)
        if initial:
            parts.append(consonant(initial, rng, sample_rate))
            position += parts[-1].size
        seconds = rng.uniform(0.14, 0.22)
        vowel = voiced_syllable(tone, sample_rate, seconds=seconds, lead_silence=0.0)
        vowel = vowel[: int(seconds * sample_rate)]
        if not initial and i:  # a vowel-initial syllable: a dip in level marks its start
            vowel = vowel * np.minimum(1.0, np.linspace(0.3, 2.0, vowel.size))
        parts.append(vowel)
        position += vowel.size
    parts.append(np.zeros(int(0.3 * sample_rate)))
    x = np.concatenate(parts)
    x += 1e-4 * rng.standard_normal(x.size)
    return x.astype(np.float32), np.array(starts)


def sentence_pinyin(syllables: list[tuple[str, int]]) -> str:
    """The pinyin of `spoken_sentence`'s syllables: sa1, ta4, a2..."""
    return " ".join(f"{initial}a{tone}" for initial, tone in syllables)
