"""A local Hugging Face Hub look-alike over real HTTP, and the fixtures that use it.

`LocalHub` serves model repos from memory on 127.0.0.1 (a free port, in a
thread) with the endpoints and headers that `huggingface_hub.hf_hub_download`
(2.x) really uses, read from `file_download.py` and `utils/_http.py`:

* `HEAD` and `GET /{owner}/{repo}/resolve/{revision}/{filename}`; `revision`
  is a branch (`main`) or a 40-hex commit, URL-quoted by the client.
* Every answer about a file carries `X-Repo-Commit` (the client refuses one
  without it) and an `ETag` (quoted; it names the cache blob).
* A regular file: `200` with `Content-Length` and the body; its `ETag` is the
  git blob id (sha1 of `b"blob <size>\\0" + content`), as on the Hub.
* An LFS file (`*.h5`): `302` to a CDN URL on another host name
  (`http://localhost:<port>/_cdn/...`, so the client neither follows the
  redirect on `HEAD` nor sends the token there), with `X-Linked-Etag` (the
  content's sha256), `X-Linked-Size` and `Location`; the client then `GET`s the
  CDN URL, which answers `200` with `Content-Length` (and `206` +
  `Content-Range` for a `Range: bytes=N-` resume).
* Errors, by `X-Error-Code`: unknown or unauthorised repo -> `401 RepoNotFound`;
  unknown revision -> `404 RevisionNotFound`; unknown file -> `404
  EntryNotFound` (with `X-Repo-Commit`, which the client uses to cache the
  miss). Any other path -> plain `404`.
* A private repo wants `Authorization: Bearer <token>` (the client sends
  `HF_TOKEN`).
* `GET /api/agent-harnesses` -> `200` with an empty registry. huggingface_hub
  2.4 fetches it from `HF_ENDPOINT` once per process (before its first
  request, unless `HF_HUB_DISABLE_TELEMETRY` is set or
  `$HF_HOME/.agent_harnesses.json` is under a day old) to name AI agents in
  its User-Agent; the fixtures disable telemetry, so it is rarely asked for.

Every response closes its connection (`Connection: close`), so stopping the
server really stops it: no pooled keep-alive connection outlives `stop()`.
`requests` records each request as `(method, path)`.

Test-only faults: `corrupt()` serves altered bytes under the published size
and ETag (only a sha256 check can catch it); `body_delay` pauses in the
middle of each body so that concurrent downloads overlap.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

LFS_SUFFIXES = (".h5", ".keras", ".bin", ".safetensors", ".onnx", ".tflite")


def git_blob_id(data: bytes) -> str:
    """The git object id of a file's content: what the Hub sends as a regular file's ETag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class _Repo:
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    #: (commit, filename) -> the bytes actually served, when corrupted.
    served: dict[tuple[str, str], bytes] = field(default_factory=dict)


class LocalHub:
    """A minimal Hugging Face Hub on 127.0.0.1 that serves model repos over HTTP.

    Example:
        >>> hub = LocalHub().start()
        >>> commit = hub.add_commit("me/demo", {"config.json": b"{}"})
        >>> len(commit)
        40
        >>> hub.stop()
    """

    def __init__(self, *, body_delay: float = 0.0) -> None:
        self.repos: dict[str, _Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.body_delay = body_delay
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._commits = 0
        # The CDN is another host name for the same server, as on the real Hub.
        self.cdn_host = "localhost" if _resolves_to_loopback("localhost") else None

    # -- content -------------------------------------------------------------

    def add_commit(
        self,
        repo_id: str,
        files: dict[str, bytes] | str | Path,
        *,
        branch: str = "main",
        private_token: str | None = None,
    ) -> str:
        """Commit `files` (a dict, or a folder's files) on `branch`; returns the commit hash.

        The commit holds only these files (no inheritance from earlier commits).
        """
        if not isinstance(files, dict):
            folder = Path(files)
            files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        with self._lock:
            self._commits += 1
            digest = hashlib.sha1(f"{repo_id}:{self._commits}".encode())
            for name in sorted(files):
                digest.update(name.encode() + b"\0" + files[name])
            commit = digest.hexdigest()
            repo = self.repos.setdefault(repo_id, _Repo())
            repo.commits[commit] = dict(files)
            repo.refs[branch] = commit
            if private_token is not None:
                repo.token = private_token
        return commit

    def corrupt(self, repo_id: str, commit: str, filename: str) -> None:
        """Serve altered bytes for a file, under its published size and ETag."""
        data = bytearray(self.repos[repo_id].commits[commit][filename])
        middle = len(data) // 2
        data[middle] ^= 0xFF
        self.repos[repo_id].served[(commit, filename)] = bytes(data)

    def count(self, method: str | None = None, contains: str = "") -> int:
        """How many requests (of `method`, whose path contains `contains`) were served."""
        return sum(
            1
            for m, path in self.requests
            if (method is None or m == method) and contains in unquote(path)
        )

    # -- server --------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "the hub is not running"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The endpoint, as `HF_ENDPOINT` takes it."""
        return f"http://127.0.0.1:{self.port}"

    def environ(self, cache: str | Path) -> dict[str, str]:
        """Environment variables that point a fresh Python process at this hub."""
        cache = Path(cache)
        return {
            "HF_ENDPOINT": self.url,
            "HF_HOME": str(cache.parent / "hf-home"),
            "HF_HUB_CACHE": str(cache),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }

    def start(self) -> LocalHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _resolves_to_loopback(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET)
    except OSError:
        return False
    return any(info[4][0] == "127.0.0.1" for info in infos)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: LocalHub

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
        self._serve(body=False)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._serve(body=True)

    # -- routing -------------------------------------------------------------

    def _serve(self, *, body: bool) -> None:
        hub = self.hub
        with hub._lock:
            hub.requests.append((self.command, self.path))
        path = self.path.split("?", 1)[0]
        parts = path.lstrip("/").split("/")
        if parts[0] == "_cdn" and len(parts) >= 5:
            repo_id = f"{unquote(parts[1])}/{unquote(parts[2])}"
            commit, filename = unquote(parts[3]), unquote("/".join(parts[4:]))
            return self._cdn(repo_id, commit, filename, body=body)
        if path == "/api/agent-harnesses":
            payload = b'{"standardEnvVars": [], "harnesses": {}}'
            return self._send(200, {"Content-Type": "application/json"}, payload, body=body)
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id = f"{unquote(parts[0])}/{unquote(parts[1])}"
            revision, filename = unquote(parts[3]), unquote("/".join(parts[4:]))
            return self._resolve(repo_id, revision, filename, body=body)
        self._send(404, {}, b"Not Found", body=body)

    def _resolve(self, repo_id: str, revision: str, filename: str, *, body: bool) -> None:
        repo = self.hub.repos.get(repo_id)
        authorised = repo is not None and (
            repo.token is None or self.headers.get("Authorization") == f"Bearer {repo.token}"
        )
        if not authorised:
            return self._error(401, "RepoNotFound", "Repository not found", body=body)
        commit = repo.refs.get(revision, revision if revision in repo.commits else None)
        if commit is None:
            return self._error(404, "RevisionNotFound", "Invalid rev id", body=body)
        files = repo.commits[commit]
        if filename not in files:
            return self._error(404, "EntryNotFound", "Entry not found", body=body, commit=commit)
        data = files[filename]
        if filename.endswith(LFS_SUFFIXES) and self.hub.cdn_host:
            quoted = "/".join(("_cdn", repo_id, commit, filename))
            location = f"http://{self.hub.cdn_host}:{self.hub.port}/{quoted}"
            pointer = (
                "version https://git-lfs.github.com/spec/v1\n"
                f"oid sha256:{hashlib.sha256(data).hexdigest()}\nsize {len(data)}\n"
            ).encode()
            headers = {
                "X-Repo-Commit": commit,
                "ETag": f'"{git_blob_id(pointer)}"',
                "X-Linked-Etag": f'"{hashlib.sha256(data).hexdigest()}"',
                "X-Linked-Size": str(len(data)),
                "Location": location,
            }
            return self._send(302, headers, b"", body=body)
        etag = (
            hashlib.sha256(data).hexdigest()
            if filename.endswith(LFS_SUFFIXES)
            else git_blob_id(data)
        )
        served = repo.served.get((commit, filename), data)
        headers = {"X-Repo-Commit": commit, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
        self._send_content(headers, served, body=body)

    def _cdn(self, repo_id: str, commit: str, filename: str, *, body: bool) -> None:
        repo = self.hub.repos.get(repo_id)
        if repo is None or filename not in repo.commits.get(commit, {}):
            return self._send(404, {}, b"NoSuchKey", body=body)
        data = repo.served.get((commit, filename), repo.commits[commit][filename])
        headers = {"ETag": f'"{hashlib.md5(data).hexdigest()}"', "Accept-Ranges": "bytes"}
        self._send_content(headers, data, body=body)

    # -- responses -----------------------------------------------------------

    def _send_content(self, headers: dict[str, str], data: bytes, *, body: bool) -> None:
        status, start = 200, 0
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes=") and ranged.endswith("-"):
            start = min(int(ranged[len("bytes=") : -1] or 0), len(data))
            status = 206
            headers = {**headers, "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
        headers = {**headers, "Content-Type": "application/octet-stream"}
        self._send(status, headers, data[start:], body=body)

    def _error(
        self, status: int, code: str, message: str, *, body: bool, commit: str | None = None
    ) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message}
        if commit is not None:
            headers["X-Repo-Commit"] = commit
        payload = json.dumps({"error": message}).encode()
        self._send(status, {**headers, "Content-Type": "application/json"}, payload, body=body)

    def _send(self, status: int, headers: dict[str, str], payload: bytes, *, body: bool) -> None:
        self.close_connection = True
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not body or not payload:
            return
        try:
            if self.hub.body_delay and len(payload) > 1:
                half = len(payload) // 2
                self.wfile.write(payload[:half])
                self.wfile.flush()
                time.sleep(self.hub.body_delay)
                self.wfile.write(payload[half:])
            else:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


# --------------------------------------------------------------------------
# Fixtures (import them into a test module: `from hub_server import hub_env`)


@dataclass
class HubEnv:
    """A running `LocalHub` that huggingface_hub in this process points at."""

    hub: LocalHub
    cache: Path

    def set_offline(self, monkeypatch: pytest.MonkeyPatch, offline: bool = True) -> None:
        """Turn `HF_HUB_OFFLINE` on or off, as the variable and as the client's constant."""
        from huggingface_hub import constants

        if offline:
            monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        else:
            monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


@pytest.fixture
def local_hub() -> Iterator[LocalHub]:
    """A `LocalHub` running for one test."""
    hub = LocalHub().start()
    yield hub
    hub.stop()


@pytest.fixture
def hub_env(
    local_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HubEnv]:
    """Point huggingface_hub at `local_hub`, with an empty cache and no token.

    huggingface_hub reads `HF_ENDPOINT`, `HF_HUB_CACHE` and `HF_HUB_OFFLINE`
    once, when `huggingface_hub.constants` is first imported, and builds
    `HUGGINGFACE_CO_URL_TEMPLATE` from the endpoint then. In a process where
    that already happened, setting the variables is not enough: this fixture
    sets them (for child processes and for keras_tone's own call-time check
    of `HF_HUB_OFFLINE`) and patches the constants the client reads at call
    time, as huggingface_hub's own test-suite does.
    """
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    for key, value in local_hub.environ(cache).items():
        monkeypatch.setenv(key, value)
    for key in ("HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", local_hub.url)
    monkeypatch.setattr(
        constants,
        "HUGGINGFACE_CO_URL_TEMPLATE",
        local_hub.url + "/{repo_id}/resolve/{revision}/{filename}",
    )
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    yield HubEnv(hub=local_hub, cache=cache)
