"""A local stand-in for the Hugging Face Hub, so that tests upload and download without the internet.

``serve()`` starts it on a free port of 127.0.0.1, in a thread; ``use(monkeypatch, hub.url, home)``
points huggingface_hub at it in this process, with its cache and token files under ``home``.

It speaks the part of the Hub's HTTP API that huggingface_hub 2.4 uses for ``create_repo``,
``upload_folder`` and ``snapshot_download`` (and so for Keras's ``load_model("hf://user/name")``):

    POST /api/repos/create                       a model repository, holding .gitattributes (409 when it exists)
    POST /api/validate-yaml                      any model card is valid
    POST /api/models/USER/NAME/preupload/REV     every file "regular", so its content comes inline in the commit
    POST /api/models/USER/NAME/commit/REV        the commit, ndjson: a header line, then a line per file (base64)
    GET  /api/models/USER/NAME[/revision/REV]    the revision's commit sha and its files
    GET  /api/models/USER/NAME/tree/REV          the revision's files with their sizes and git blob ids
    HEAD, GET /USER/NAME/resolve/REV/PATH        a file, with the headers hf_hub_download reads
    GET  /api/agent-harnesses                    huggingface_hub's registry of coding agents: empty

As on the Hub, writes need a token (``Authorization: Bearer ...``), so a test can see an upload refused
without one; anything missing is a 404 with the ``X-Error-Code`` that huggingface_hub turns into its
own errors (RepoNotFound, RevisionNotFound, EntryNotFound). Repositories live in memory:
``hub.repos[repo_id]`` is the list of their commits, oldest first, each ``(sha, {path: bytes})``.
Only branch ``main`` and commit shas are revisions; nothing is stored as LFS or Xet.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

BRANCH = "main"
# What the Hub puts in a new repository: clients see files they did not upload.
FIRST_FILES = {".gitattributes": b"*.h5 filter=lfs diff=lfs merge=lfs -text\n"}
_REPO = r"(?P<repo>[^/]+/[^/]+)"
_REVISION = r"(?P<revision>[^/]+)"


def git_blob_id(content: bytes) -> str:
    """The id git gives a file's content: the Hub's ETag and tree ``oid`` of a file not stored in LFS."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class HubError(Exception):
    def __init__(self, status: int, code: str, message: str, **body):
        super().__init__(message)
        self.status, self.code, self.body = status, code, body


class Hub:
    """The repositories and the server; ``url`` is what ``HF_ENDPOINT`` would be set to."""

    def __init__(self):
        self.repos: dict[str, list[tuple[str, dict[str, bytes]]]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"hub": self}))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll, so that stopping takes no half second.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="hub-endpoint", daemon=True)

    def stop(self) -> None:
        """Stops answering: a request after this fails to connect, as with no network."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def files(self, repo_id: str, revision: str = BRANCH) -> dict[str, bytes]:
        return self.commit(repo_id, revision)[1]

    def commit(self, repo_id: str, revision: str) -> tuple[str, dict[str, bytes]]:
        commits = self.repos.get(repo_id)
        if commits is None:
            raise HubError(404, "RepoNotFound", f"Repository {repo_id} not found.")
        if revision == BRANCH:
            return commits[-1]
        for commit in commits:
            if commit[0] == revision:
                return commit
        raise HubError(404, "RevisionNotFound", f"Revision {revision} not found in {repo_id}.")

    def add_commit(self, repo_id: str, parent: str, files: dict[str, bytes]) -> str:
        listing = "".join(f"{path} {git_blob_id(content)}\n" for path, content in sorted(files.items()))
        sha = hashlib.sha1(f"parent {parent}\n{listing}".encode()).hexdigest()
        self.repos[repo_id].append((sha, files))
        return sha


@contextmanager
def serve() -> Iterator[Hub]:
    hub = Hub()
    hub.thread.start()
    try:
        yield hub
    finally:
        if hub.thread.is_alive():
            hub.stop()


def use(monkeypatch, endpoint: str, home: Path, *, offline: bool = False, token: str | None = "hf_local_test") -> None:
    """Points huggingface_hub at ``endpoint`` for the test, with its cache and files under ``home``.

    huggingface_hub reads its environment once, into ``huggingface_hub.constants``, when it is
    imported: so the variables are set, the constants are read again from them (a fresh copy of
    the module), and each one that differs is patched for the test (monkeypatch undoes both).
    """
    variables = {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_HUB_OFFLINE": "1" if offline else "0",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_TOKEN": token,
    }
    for name, value in variables.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    from huggingface_hub import constants

    spec = importlib.util.find_spec(constants.__name__)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    for name, value in vars(fresh).items():
        if name.isupper() and getattr(constants, name, None) != value:
            monkeypatch.setattr(constants, name, value)


class _Handler(BaseHTTPRequestHandler):
    hub: Hub

    def do_GET(self):
        self._answer("GET")

    def do_HEAD(self):
        self._answer("HEAD")

    def do_POST(self):
        self._answer("POST")

    def log_message(self, format, *args):
        """Quiet: pytest shows a failing test's requests through huggingface_hub's own errors."""

    def _answer(self, method: str) -> None:
        path = urlsplit(self.path).path
        for methods, pattern, action in _ROUTES:
            match = re.fullmatch(pattern, path)
            if match and method in methods:
                break
        else:
            return self._send(404, b"", {"X-Error-Code": "EntryNotFound", "X-Error-Message": f"No route {path}"})
        try:
            with self.hub.lock:
                arguments = {key: unquote(value) for key, value in match.groupdict().items() if value is not None}
                status, body, headers = action(self, **arguments)
        except HubError as error:
            return self._send(error.status, {"error": str(error), **error.body},
                              {"X-Error-Code": error.code, "X-Error-Message": str(error)})
        self._send(status, body, headers, head=method == "HEAD")

    def _send(self, status: int, body: bytes | dict | list, headers: dict, head: bool = False) -> None:
        if not isinstance(body, bytes):
            body, headers = json.dumps(body).encode(), {"Content-Type": "application/json", **headers}
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _require_token(self) -> None:
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            raise HubError(401, "Unauthorized", "Invalid username or password: writing needs a token.")

    # ----------------------------------------------------------------- routes
    def create_repo(self):
        self._require_token()
        request = json.loads(self._body())
        repo_id = f"{request['organization']}/{request['name']}"
        if request.get("type", "model") != "model":
            raise HubError(400, "BadRequest", "This stand-in holds model repositories only.")
        if repo_id in self.hub.repos:  # huggingface_hub's exist_ok reads the url from the refusal
            raise HubError(409, "Conflict", "You already created this model repo.", url=f"{self.hub.url}/{repo_id}")
        self.hub.repos[repo_id] = []
        self.hub.add_commit(repo_id, "", dict(FIRST_FILES))
        return 200, {"url": f"{self.hub.url}/{repo_id}", "name": repo_id}, {}

    def validate_yaml(self):
        self._body()  # read whole before the answer, so that the client's send never meets a closed socket
        return 200, {"errors": [], "warnings": []}, {}

    def preupload(self, repo, revision):
        self._require_token()
        self.hub.commit(repo, revision)
        files = json.loads(self._body())["files"]
        return 200, {"files": [{"path": file["path"], "uploadMode": "regular", "shouldIgnore": False}
                               for file in files]}, {}

    def commit(self, repo, revision):
        self._require_token()
        parent, files = self.hub.commit(repo, revision)
        files = dict(files)
        for line in self._body().splitlines():
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "file" and value.get("encoding") == "base64":
                files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] == "deletedFile":
                files.pop(value["path"], None)
            elif item["key"] == "deletedFolder":
                files = {path: content for path, content in files.items()
                         if not path.startswith(value["path"].rstrip("/") + "/")}
            elif item["key"] != "header":
                raise HubError(422, "BadRequest", f"This stand-in takes files inline only, not {item['key']!r}.")
        sha = self.hub.add_commit(repo, parent, files)
        return 200, {"commitUrl": f"{self.hub.url}/{repo}/commit/{sha}", "commitOid": sha,
                     "pullRequestUrl": None}, {}

    def model_info(self, repo, revision=None):
        sha, files = self.hub.commit(repo, revision or BRANCH)
        return 200, {"id": repo, "sha": sha, "private": False,
                     "siblings": [{"rfilename": path} for path in sorted(files)]}, {}

    def tree(self, repo, revision):
        files = self.hub.files(repo, revision)
        return 200, [{"type": "file", "path": path, "size": len(content), "oid": git_blob_id(content)}
                     for path, content in sorted(files.items())], {}

    def resolve(self, repo, revision, path):
        sha, files = self.hub.commit(repo, revision)
        if path not in files:
            raise HubError(404, "EntryNotFound", f"{path} is not in {repo} at {revision}.")
        content = files[path]
        return 200, content, {"Content-Type": "application/octet-stream", "X-Repo-Commit": sha,
                              "ETag": f'"{git_blob_id(content)}"'}

    def agent_harnesses(self):
        return 200, {"standardEnvVars": [], "harnesses": {}}, {}


_ROUTES = (
    (("POST",), r"/api/repos/create", _Handler.create_repo),
    (("POST",), r"/api/validate-yaml", _Handler.validate_yaml),
    (("POST",), rf"/api/models/{_REPO}/preupload/{_REVISION}", _Handler.preupload),
    (("POST",), rf"/api/models/{_REPO}/commit/{_REVISION}", _Handler.commit),
    (("GET",), rf"/api/models/{_REPO}(?:/revision/{_REVISION})?", _Handler.model_info),
    (("GET",), rf"/api/models/{_REPO}/tree/{_REVISION}", _Handler.tree),
    (("GET", "HEAD"), rf"/{_REPO}/resolve/{_REVISION}/(?P<path>.+)", _Handler.resolve),
    (("GET",), r"/api/agent-harnesses", _Handler.agent_harnesses),
)
