"""Preset registry and weights resolution, against a local Hub over real HTTP.

No mocks of huggingface_hub: `hub_server.LocalHub` answers the client's real
requests on 127.0.0.1. The presets are made here from `ToneNet(weights=None)`
and registered for one test at a time, so nothing depends on trained weights.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
import pytest

import keras_tone
from keras_tone import ToneNet, ToneNetConfig, presets, weights
from keras_tone.config import FRONT_END_VERSION
from keras_tone.presets import file_sha256

if TYPE_CHECKING:
    from hub_server import HubEnv, LocalHub

pytest_plugins = ("hub_server",)  # the local_hub and hub_env fixtures
pytestmark = pytest.mark.filterwarnings("ignore::keras_tone.weights.UnregisteredWeightsWarning")

REPO_ROOT = Path(__file__).resolve().parents[1]
REPO_ID = "keras-tone/tonenet-test"
CARD = "---\nlicense: apache-2.0\nlibrary_name: keras\n---\n# ToneNet test preset\n"


@pytest.fixture(scope="session")
def presets_made(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two 4-class preset folders with different weights (one model build)."""
    root = tmp_path_factory.mktemp("presets")
    model = ToneNet(weights=None)
    head = model.get_layer("predictions")
    kernel_a, bias = head.get_weights()
    folder_a = weights.save_preset(model, root / "a", config=ToneNetConfig(), card=CARD)
    head.set_weights([kernel_a + 1.0, bias])
    folder_b = weights.save_preset(model, root / "b", config=ToneNetConfig(), card=CARD)
    return SimpleNamespace(a=folder_a, b=folder_b, kernel_a=kernel_a)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    """A private copy of the registry, and no bundled copies unless a test adds some."""
    table = dict(presets.PRESETS)
    monkeypatch.setattr(presets, "PRESETS", table)
    monkeypatch.setattr(weights, "_bundled_roots", lambda: [])
    return table


def publish(hub: LocalHub, folder: Path, name: str = "test-preset") -> tuple[str, dict]:
    """Commit a preset folder to the local hub and register it, pinned to that commit."""
    commit = hub.add_commit(REPO_ID, folder)
    entry = presets.preset_entry(folder, repo_id=REPO_ID, revision=commit, description="test")
    presets.register_preset(name, entry)
    return commit, entry


def cached_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file() and ".locks" not in p.parts)


# -- the registry ---------------------------------------------------------------


def test_builtin_registry_is_plain_data_in_the_package():
    assert keras_tone.list_presets() == sorted(presets.PRESETS)
    assert "list_presets" in keras_tone.__all__ and "preset_descriptions" in keras_tone.__all__
    assert presets.PRESETS_FILE == Path(keras_tone.__file__).parent / "presets.json"
    assert json.loads(presets.PRESETS_FILE.read_text()) == presets.PRESETS
    for name, entry in presets.PRESETS.items():
        presets.check_preset_name(name)
        presets.check_entry(name, entry)
    descriptions = keras_tone.preset_descriptions()
    assert list(descriptions) == keras_tone.list_presets()
    assert all(isinstance(text, str) and text for text in descriptions.values())


def test_presets_file_round_trips_and_refuses_bad_entries(tmp_path):
    path = tmp_path / "presets.json"
    presets.write_presets(presets.PRESETS, path)
    assert presets.read_presets(path) == presets.PRESETS
    path.write_text(json.dumps({"blcu": {**presets.PRESETS["blcu"], "sha256": "abc"}}))
    with pytest.raises(ValueError, match="sha256 must be 64 lower-case hex"):
        presets.read_presets(path)


def test_preset_entry_and_register(presets_made, registry):
    entry = presets.preset_entry(presets_made.a, repo_id=REPO_ID)
    assert entry["sha256"] == file_sha256(presets_made.a / "model.weights.h5")
    assert entry["config_sha256"] == file_sha256(presets_made.a / "config.json")
    assert entry["revision"] is None and "4 classes" in entry["description"]
    presets.register_preset("mine", entry)
    assert "mine" in keras_tone.list_presets()
    with pytest.raises(ValueError, match="exists already"):
        presets.register_preset("mine", entry)


@pytest.mark.parametrize(
    "name, change, match",
    [
        ("../evil", {}, "Invalid preset name"),
        ("Has Space", {}, "Invalid preset name"),
        ("ok", {"revision": "main"}, "40-hex commit"),
        ("ok", {"sha256": "abc"}, "64 lower-case hex"),
        ("ok", {"repo_id": "../../x"}, "Invalid Hugging Face repo id"),
        ("ok", {"repo_id": "https://evil.example/x"}, "Invalid Hugging Face repo id"),
        ("ok", {"filename": "../../etc/passwd"}, "filename must be"),
        ("ok", {"extra": 1}, "unexpected"),
    ],
)
def test_register_preset_rejects_bad_entries(registry, name, change, match):
    entry = {
        "description": "d",
        "repo_id": REPO_ID,
        "revision": "0" * 40,
        "filename": "model.weights.h5",
        "sha256": "a" * 64,
        "config_sha256": "b" * 64,
        **change,
    }
    with pytest.raises(ValueError, match=match):
        presets.register_preset(name, entry)


# -- local paths ----------------------------------------------------------------


def test_local_folder_and_file(presets_made):
    with pytest.warns(weights.UnregisteredWeightsWarning, match="checked against the metadata"):
        folder = weights.resolve_weights(presets_made.a)
    assert folder.source == "local" and folder.path == presets_made.a / "model.weights.h5"
    assert folder.config.classes == 4 and folder.preset is None
    file = weights.resolve_weights(str(presets_made.a / "model.weights.h5"))
    assert file.path == folder.path and file.config == folder.config
    with pytest.raises(FileNotFoundError, match="has no model.weights.h5"):
        weights.resolve_weights(presets_made.a.parent)


def test_a_bare_unregistered_file_loads_with_a_warning(presets_made, tmp_path):
    bare = tmp_path / "mine.weights.h5"
    bare.write_bytes((presets_made.a / "model.weights.h5").read_bytes())
    with pytest.warns(weights.UnregisteredWeightsWarning, match="nothing to check them against"):
        model = ToneNet(weights=bare)
    kernel = model.get_layer("predictions").get_weights()[0]
    np.testing.assert_array_equal(kernel, presets_made.kernel_a)


def test_a_bare_preset_name_is_the_preset_beside_a_folder_of_that_name(tmp_path, monkeypatch):
    """A `blcu/` folder here (a BLCU corpus, say) does not shadow the preset; `./blcu` is it."""
    (tmp_path / "blcu").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.warns(weights.WeightsWarning, match="both a preset and a folder.*'./blcu'"):
        resolved = weights.resolve_weights("blcu")
    assert resolved.preset == "blcu" and resolved.source == "bundled"
    with pytest.raises(FileNotFoundError, match="The folder 'blcu' has no model.weights.h5"):
        weights.resolve_weights("./blcu")
    with pytest.raises(FileNotFoundError, match="has no model.weights.h5"):
        weights.resolve_weights(Path("blcu"))  # a Path is always a path


def test_a_bare_name_of_no_preset_is_a_local_folder(presets_made, tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("model.weights.h5", "config.json", "metadata.json"):
        (folder / name).write_bytes((presets_made.a / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    with pytest.warns(weights.UnregisteredWeightsWarning):
        resolved = weights.resolve_weights("mine")
    assert resolved.source == "local" and resolved.path == Path("mine") / "model.weights.h5"
    with pytest.raises(ValueError, match=r"Unknown preset 'theirs'.*'\./blcu'"):
        weights.resolve_weights("theirs")


@pytest.mark.parametrize("changed", ["model.weights.h5", "config.json"])
def test_folder_that_does_not_match_its_metadata_is_refused(presets_made, tmp_path, changed):
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("model.weights.h5", "config.json", "metadata.json"):
        (folder / name).write_bytes((presets_made.a / name).read_bytes())
    source = presets_made.b if changed == "model.weights.h5" else None
    if source is not None:  # other weights under the same metadata
        (folder / changed).write_bytes((source / changed).read_bytes())
    else:  # the same config, one setting changed
        text = (folder / changed).read_text().replace('"n_mels": 80', '"n_mels": 64')
        (folder / changed).write_text(text)
    with pytest.raises(weights.WeightsChecksumError, match=f"{changed} does not match.*metadata"):
        ToneNet(weights=folder)
    weights.write_metadata(folder, parameter_count=0)  # the change made deliberate
    weights.resolve_weights(folder)


def test_copy_of_a_registered_preset_with_a_doctored_config_is_refused(tmp_path):
    """Weights whose sha256 is blcu's are blcu: a config that says otherwise is refused."""
    shipped = REPO_ROOT / "weights" / "blcu"
    folder = tmp_path / "my-blcu"
    folder.mkdir()
    (folder / "model.weights.h5").write_bytes((shipped / "model.weights.h5").read_bytes())
    config = json.loads((shipped / "config.json").read_text())
    config["front_end"]["syllable"]["top_db"] = 40.0
    config["front_end"]["log_mel"]["fmax"] = 4000.0
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="not that preset's config") as error:
        ToneNet(weights=folder)
    message = str(error.value)
    assert "front_end.syllable.top_db: 25.0 -> 40.0" in message
    assert "front_end.log_mel.fmax: 3700.0 -> 4000.0" in message
    assert "'blcu'" in message

    # The same config written otherwise (no indentation) is the preset's; no warning.
    compact = json.dumps(json.loads((shipped / "config.json").read_text()))
    (folder / "config.json").write_text(compact)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolved = weights.resolve_weights(folder)
    assert resolved.preset == "blcu" and resolved.config.classes == 4
    # Without a config.json, registered weights take the preset's config.
    (folder / "config.json").unlink()
    assert weights.resolve_weights(folder / "model.weights.h5").config == resolved.config


def test_config_of_another_front_end_version_is_refused(presets_made, tmp_path):
    folder = tmp_path / "future"
    folder.mkdir()
    (folder / "model.weights.h5").write_bytes((presets_made.a / "model.weights.h5").read_bytes())
    config = json.loads((presets_made.a / "config.json").read_text())
    future = FRONT_END_VERSION + 1
    config["front_end_version"] = future
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(
        ValueError, match=f"front end version {future}.*Received: front_end_version={future}"
    ):
        ToneNet(weights=folder)


# -- presets from the Hub ---------------------------------------------------------


def test_download_then_cache_hit_with_server_stopped(presets_made, registry, hub_env: HubEnv):
    hub = hub_env.hub
    commit, entry = publish(hub, presets_made.a)
    first = weights.resolve_weights("test-preset")
    assert first.source == "hub" and first.preset == "test-preset"
    assert file_sha256(first.path) == entry["sha256"]
    assert hub_env.cache in first.path.parents and commit in str(first.path)
    assert hub.count("HEAD", "/resolve/") == 2  # weights + config, pinned to the commit
    assert hub.count("GET") == 2, hub.requests

    hub.stop()
    second = weights.resolve_weights("test-preset")
    assert second.source == "cache" and second.path == first.path
    model = ToneNet(weights="test-preset")  # loads from the cache, hub down
    np.testing.assert_array_equal(
        model.get_layer("predictions").get_weights()[0], presets_made.kernel_a
    )


def test_corrupted_download_is_rejected_and_evicted(presets_made, registry, hub_env: HubEnv):
    hub = hub_env.hub
    commit, _ = publish(hub, presets_made.a)
    hub.corrupt(REPO_ID, commit, "model.weights.h5")  # same size and ETag, other bytes
    with pytest.raises(weights.WeightsChecksumError, match="was not loaded and was deleted"):
        weights.resolve_weights("test-preset")
    assert not [p for p in cached_files(hub_env.cache) if p.name.endswith(".h5")]
    assert not list(hub_env.cache.rglob("*.h5"))  # no dangling pointer either
    with pytest.raises(weights.WeightsChecksumError):
        ToneNet(weights="test-preset")  # nothing is loaded


def test_corrupted_cache_is_rejected_then_fetched_again(presets_made, registry, hub_env: HubEnv):
    publish(hub_env.hub, presets_made.a)
    path = weights.resolve_weights("test-preset").path
    blob = path.resolve()
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # bit rot in the cache
    blob.write_bytes(bytes(data))
    with pytest.raises(weights.WeightsChecksumError, match="Hugging Face cache"):
        weights.resolve_weights("test-preset")
    assert not blob.exists() and not path.exists()
    again = weights.resolve_weights("test-preset")
    assert again.source == "hub"
    assert file_sha256(again.path) == presets.PRESETS["test-preset"]["sha256"]


def test_pinned_revision_is_respected(presets_made, registry, hub_env: HubEnv):
    hub = hub_env.hub
    commit_a, entry = publish(hub, presets_made.a)
    commit_b = hub.add_commit(REPO_ID, presets_made.b)  # main moves on to other weights
    assert commit_a != commit_b
    resolved = weights.resolve_weights("test-preset")
    assert weights.file_sha256(resolved.path) == entry["sha256"]
    assert hub.count("HEAD", f"/resolve/{commit_a}/") == 2
    assert hub.count(contains="/resolve/main/") == 0


def test_offline_uses_bundled_copy(presets_made, registry, hub_env: HubEnv, monkeypatch, tmp_path):
    publish(hub_env.hub, presets_made.a)
    bundled = tmp_path / "bundled"
    (bundled / "test-preset").mkdir(parents=True)
    for name in ("model.weights.h5", "config.json", "README.md"):
        (bundled / "test-preset" / name).write_bytes((presets_made.a / name).read_bytes())
    monkeypatch.setattr(weights, "_bundled_roots", lambda: [bundled])
    hub_env.set_offline(monkeypatch)
    resolved = weights.resolve_weights("test-preset")
    assert resolved.source == "bundled" and resolved.path.parent == bundled / "test-preset"
    assert hub_env.hub.requests == []
    assert not hub_env.cache.exists() or not cached_files(hub_env.cache)


def test_bundled_copy_with_wrong_hash_is_ignored(
    presets_made, registry, hub_env: HubEnv, monkeypatch, tmp_path
):
    publish(hub_env.hub, presets_made.a)
    monkeypatch.setattr(weights, "_bundled_roots", lambda: [tmp_path])
    (tmp_path / "test-preset").mkdir()
    for name in ("model.weights.h5", "config.json"):  # the other weights under this name
        (tmp_path / "test-preset" / name).write_bytes((presets_made.b / name).read_bytes())
    with pytest.warns(UserWarning, match="Ignoring the bundled copy of preset 'test-preset'"):
        resolved = weights.resolve_weights("test-preset")
    assert resolved.source == "hub"


def test_offline_env_var_is_read_at_call_time(presets_made, registry, hub_env: HubEnv, monkeypatch):
    publish(hub_env.hub, presets_made.a)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the client's constant still says online
    with pytest.raises(FileNotFoundError, match="HF_HUB_OFFLINE is set"):
        weights.resolve_weights("test-preset")
    assert hub_env.hub.requests == []


def test_offline_and_nothing_local_is_a_helpful_error(presets_made, registry, hub_env, monkeypatch):
    commit, entry = publish(hub_env.hub, presets_made.a)
    hub_env.set_offline(monkeypatch)
    with pytest.raises(FileNotFoundError) as error:
        ToneNet(weights="test-preset")
    message = str(error.value)
    for part in (
        "config.json",
        entry["config_sha256"],
        f"{hub_env.hub.url}/{REPO_ID}/resolve/{commit}/config.json",
        "HF_HUB_OFFLINE is set",
        "ToneNet(weights='/path/to/folder')",
        f"hf download {REPO_ID}",
    ):
        assert part in message
    assert hub_env.hub.requests == []


@pytest.mark.slow  # the client retries a refused connection with backoff: about 23 s
def test_hub_unreachable_and_nothing_local(presets_made, registry, hub_env: HubEnv):
    commit, _ = publish(hub_env.hub, presets_made.a)
    hub_env.hub.stop()
    with pytest.raises(FileNotFoundError, match="could not be reached") as error:
        weights.resolve_weights("test-preset")
    assert f"/{REPO_ID}/resolve/{commit}/" in str(error.value)
    from huggingface_hub.errors import LocalEntryNotFoundError

    assert isinstance(error.value.__cause__, LocalEntryNotFoundError)


def test_unpublished_preset_needs_its_bundled_copy(presets_made, registry, hub_env: HubEnv):
    entry = presets.preset_entry(presets_made.a, repo_id=REPO_ID, revision=None)
    presets.register_preset("unpublished", entry)
    with pytest.raises(FileNotFoundError, match="not published on the Hugging Face Hub yet"):
        weights.resolve_weights("unpublished")
    assert hub_env.hub.requests == []


def test_hub_errors_become_python_errors(presets_made, registry, hub_env: HubEnv):
    from huggingface_hub import errors

    hub = hub_env.hub
    commit = hub.add_commit(REPO_ID, {"README.md": b"# no weights here\n"})
    entry = presets.preset_entry(presets_made.a, repo_id=REPO_ID, revision=commit)
    presets.register_preset("no-file", entry)
    presets.register_preset("no-repo", {**entry, "repo_id": "someone/missing"})
    presets.register_preset("no-rev", {**entry, "revision": "f" * 40})
    cases = {
        "no-file": (errors.RemoteEntryNotFoundError, "has no file 'config.json'"),
        "no-repo": (errors.RepositoryNotFoundError, "no Hub repository 'someone/missing'"),
        "no-rev": (errors.RevisionNotFoundError, "has no revision"),
    }
    for name, (cause, match) in cases.items():
        with pytest.raises(FileNotFoundError, match=match) as error:
            weights.resolve_weights(name)
        assert isinstance(error.value.__cause__, cause)


# -- hf:// handles ----------------------------------------------------------------


def test_hf_uri_with_and_without_revision(presets_made, hub_env: HubEnv):
    hub = hub_env.hub
    commit_a = hub.add_commit("someone/my-tones", presets_made.a)
    hub.add_commit("someone/my-tones", presets_made.b)  # main
    sha_a = file_sha256(presets_made.a / "model.weights.h5")
    sha_b = file_sha256(presets_made.b / "model.weights.h5")

    pinned = weights.resolve_weights(f"hf://someone/my-tones@{commit_a}")
    assert file_sha256(pinned.path) == sha_a and pinned.config.classes == 4
    latest = weights.resolve_weights("hf://someone/my-tones")
    assert file_sha256(latest.path) == sha_b and latest.source == "hub"

    hub.stop()  # a pinned commit in the cache needs no request
    assert weights.resolve_weights(f"hf://someone/my-tones@{commit_a}").source == "cache"


def test_hf_uri_private_repo_uses_hf_token(presets_made, hub_env: HubEnv, monkeypatch):
    hub_env.hub.add_commit("someone/private", presets_made.a, private_token="hf_secret")
    with pytest.raises(FileNotFoundError, match="set HF_TOKEN"):
        weights.resolve_weights("hf://someone/private")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    assert weights.resolve_weights("hf://someone/private").config.classes == 4


def test_hf_uri_corrupted_lfs_download_is_rejected(presets_made, hub_env: HubEnv):
    commit = hub_env.hub.add_commit("someone/my-tones", presets_made.a)
    hub_env.hub.corrupt("someone/my-tones", commit, "model.weights.h5")
    with pytest.raises(weights.WeightsChecksumError, match="the Hub reported"):
        weights.resolve_weights(f"hf://someone/my-tones@{commit}")
    assert not list(hub_env.cache.rglob("*.h5"))


# -- rejected handles -------------------------------------------------------------


@pytest.mark.parametrize(
    "handle, error, match",
    [
        ("no-such-preset", ValueError, "Unknown preset 'no-such-preset'. weights= accepts"),
        ("Bad;name", ValueError, "Invalid preset name"),
        ("name\x00.h5x", ValueError, "Invalid preset name"),
        ("https://evil.example/model.weights.h5", ValueError, "Unsupported weights URL"),
        ("file:///etc/passwd", ValueError, "Unsupported weights URL"),
        ("hf://../../etc", ValueError, "Invalid Hub handle"),
        ("hf://owner/repo/extra", ValueError, "Invalid Hub handle"),
        ("hf://datasets/owner/repo", ValueError, "Invalid Hub handle"),
        ("hf://owner/..", ValueError, "Invalid Hugging Face repo id"),
        ("hf://owner/repo@", ValueError, "Invalid revision"),
        ("hf://owner/repo@main;rm -rf", ValueError, "Invalid revision"),
        ("hf://owner/repo@../../x", ValueError, "Invalid revision"),
        ("../../no/such/model.weights.h5", FileNotFoundError, "No weights file or preset folder"),
    ],
)
def test_bad_handles_are_rejected_without_requests(registry, hub_env: HubEnv, handle, error, match):
    with pytest.raises(error, match=match) as raised:
        weights.resolve_weights(handle)
    if error is FileNotFoundError or "URL" in match:
        assert "weights= accepts" in str(raised.value)  # lists every accepted form
    assert hub_env.hub.requests == []


def test_head_size_mismatch_with_config_is_refused(presets_made, registry, hub_env: HubEnv):
    publish(hub_env.hub, presets_made.a)
    with pytest.raises(ValueError, match="4-class head"):
        ToneNet(weights="test-preset", classes=5)


# -- bundled copies in a source checkout ------------------------------------------


def test_source_checkout_falls_back_to_top_level_weights(monkeypatch):
    roots = weights._bundled_roots()
    if (REPO_ROOT / "weights").is_dir():
        assert REPO_ROOT / "weights" in roots
    assert all(root.name in ("_bundled_weights", "weights") for root in roots)


# -- two processes at once --------------------------------------------------------


def _resolve_in_child(name: str, barrier, results) -> None:
    try:
        barrier.wait(timeout=30)
        resolved = weights.resolve_weights(name)
        results.put(("ok", str(resolved.path), file_sha256(resolved.path)))
    except BaseException as error:  # report everything to the parent
        results.put(("error", repr(error), ""))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to start in well under a second")
def test_two_processes_resolve_the_same_preset_at_once(presets_made, registry, hub_env: HubEnv):
    """Two forked processes download the same preset into one empty cache together.

    The body of every file is sent in two halves 0.5 s apart, so that the
    downloads overlap. (Forked, not spawned: a fresh interpreter spends ~10 s
    importing TensorFlow on this machine; the slow test below does that.)
    """
    import multiprocessing

    hub = hub_env.hub
    hub.body_delay = 0.5
    _, entry = publish(hub, presets_made.a)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    children = [
        context.Process(target=_resolve_in_child, args=("test-preset", barrier, results))
        for _ in range(2)
    ]
    try:
        for child in children:
            child.start()
        outcomes = [results.get(timeout=60) for _ in children]
        for child in children:
            child.join(timeout=30)
            assert child.exitcode == 0
    finally:
        for child in children:
            if child.is_alive():  # only ours, by object
                child.kill()
    assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
    assert outcomes[0][1] == outcomes[1][1]
    assert {o[2] for o in outcomes} == {entry["sha256"]}
    blobs = [p for p in cached_files(hub_env.cache) if p.parent.name == "blobs"]
    assert len(blobs) == 2  # one weights blob, one config blob
    assert not list(hub_env.cache.rglob("*.incomplete"))
    assert hub.count("HEAD", "model.weights.h5") == 2  # both asked at once...
    assert hub.count("GET", "model.weights.h5") == 1  # ...one downloaded: the client's lock


_CHILD = """
import json, sys
from keras_tone import presets, weights
presets.register_preset(sys.argv[1], json.loads(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()
resolved = weights.resolve_weights(sys.argv[1])
print(json.dumps({"path": str(resolved.path), "source": resolved.source,
                  "sha256": presets.file_sha256(resolved.path)}), flush=True)
"""


@pytest.mark.slow  # each fresh process imports TensorFlow
def test_fresh_processes_configured_by_env_vars_only(presets_made, local_hub: LocalHub, tmp_path):
    """Two new interpreters, pointed at the hub only by HF_ENDPOINT and HF_HUB_CACHE."""
    hub = local_hub
    hub.body_delay = 0.5
    try:
        commit = hub.add_commit(REPO_ID, presets_made.a)
        entry = presets.preset_entry(presets_made.a, repo_id=REPO_ID, revision=commit)
        cache = tmp_path / "hf-cache"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
        env.update(hub.environ(cache), TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))
        children = [
            subprocess.Popen(
                [sys.executable, "-c", _CHILD, "concurrent-preset", json.dumps(entry)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=tmp_path,
            )
            for _ in range(2)
        ]
        for child in children:  # both imported keras_tone: start them together
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        hub.stop()
    assert {r["sha256"] for r in results} == {entry["sha256"]}
    assert {r["source"] for r in results} == {"hub"}
    assert results[0]["path"] == results[1]["path"]
    assert Path(results[0]["path"]).is_relative_to(cache)
    assert not list(cache.rglob("*.incomplete"))
    assert hub.count("GET", "model.weights.h5") == 1
