"""A Hugging Face Hub stand-in on 127.0.0.1 for tests: the endpoints ``huggingface_hub`` (2.x) and
``datasets`` call to publish a dataset repo and to download it again, and nothing else.

    with HubServer(tokens={"tok": User("alice", orgs=["org"])}) as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": "tok", "HF_HUB_DISABLE_XET": "1"}
        ...  # run the publisher / load_dataset in a subprocess with env
        hub.repo("dataset", "org/name").files()  # what the repo holds at main
        hub.requests                              # (method, path) of every request

Request and response shapes follow the installed library's source (``hf_api.py``,
``_commit_api.py``, ``lfs.py``, ``file_download.py``, ``hf_file_system.py``):

- ``GET  /api/whoami-v2``                                    who the bearer token is
- ``POST /api/repos/create``                                 ``{name, organization, type, visibility}``
- ``GET  /api/{type}s/{ns}/{name}[/revision/{rev}]``         repo info: ``id``, ``sha``, ``private``, ``siblings``
- ``GET  /api/{type}s/{ns}/{name}/tree/{rev}[/{path}]``      ``?recursive=&expand=``; files carry ``oid`` (git
                                                             blob id), ``size`` and, for LFS, ``lfs.oid`` (sha256)
- ``POST /api/{type}s/{ns}/{name}/branch/{branch}``          ``{startingPoint}``
- ``POST /api/{type}s/{ns}/{name}/preupload/{rev}``          upload mode (lfs / regular) and remote oid per file
- ``POST /api/validate-yaml``                                the card's YAML header parses
- ``POST /{prefix}{ns}/{name}.git/info/lfs/objects/batch``   git-lfs batch API, "basic" transfer: an upload
                                                             and a verify action per object not stored yet
- ``PUT  /lfs/{repo}/{oid}`` then ``POST /lfs-verify/{repo}/{oid}``   the object, then its check (sha256, size)
- ``POST /api/{type}s/{ns}/{name}/commit/{rev}``             NDJSON: header (``parentCommit`` checked), ``file``
                                                             (base64), ``lfsFile`` (must be stored and verified),
                                                             ``deletedFile`` / ``deletedFolder``
- ``HEAD|GET /{prefix}{ns}/{name}/resolve/{rev}/{path}``     ``X-Repo-Commit``, ``ETag`` / ``X-Linked-Etag``,
                                                             ``X-Linked-Size``, ``Range`` reads

Errors carry the ``X-Error-Code`` header (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``) that
``hf_raise_for_status`` maps to the library's exceptions. Xet storage is not spoken (its CAS protocol is
binary): clients run with ``HF_HUB_DISABLE_XET=1`` and use the git-lfs "basic" transfer, which the Hub
also accepts. New repos start, as on the Hub, with a commit holding a ``.gitattributes``.

Fault injection: ``fail_put_once(oid, status)`` answers the next PUT of that object with an HTTP
error; ``drop_put_once(oid)`` makes the next PUT of that object read half its body and close
the connection without an answer; ``stall_put(oid)`` holds the next PUT of that object until ``release_puts()``
(so a test can kill the client mid-upload). A client that goes away mid-request is not an error.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

GITATTRIBUTES = b"".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n".encode() for p in (
    "*.parquet", "*.arrow", "*.tar", "*.npy", "*.npz", "*.png", "*.jpg", "*.mp4", "*.bin", "*.pt", "*.h5"))
LFS_SIZE = 10 * 1024 * 1024  # the Hub stores larger files (and binary ones) in LFS
PREFIX = {"dataset": "datasets/", "space": "spaces/", "model": ""}


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class User:
    name: str
    orgs: list[str] = field(default_factory=list)
    can_write: bool = True  # False: a read token

    def namespaces(self) -> set[str]:
        return {self.name, *self.orgs}


@dataclass
class Entry:
    """One file of a commit's tree: git blob id, size, and the sha256 when the content is in LFS."""
    oid: str
    size: int
    sha256: str | None = None

    def info(self, path: str) -> dict:
        out = {"type": "file", "oid": self.oid, "size": self.size, "path": path}
        if self.sha256:
            out["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": len(lfs_pointer(self.sha256, self.size))}
        return out


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    operations: list[dict]  # as received, content replaced by its size
    tree: dict[str, Entry]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)  # regular files by git blob id
    lfs: dict[str, bytes] = field(default_factory=dict)  # LFS objects by sha256, once verified
    lfs_pending: dict[str, bytes] = field(default_factory=dict)  # PUT but not verified yet

    def resolve(self, rev: str) -> Commit | None:
        oid = self.branches.get(rev) or (rev if rev in self.commits else None)
        if oid is None and re.fullmatch(r"[0-9a-f]{7,40}", rev):
            oid = next((c for c in self.commits if c.startswith(rev)), None)
        return self.commits.get(oid) if oid else None

    def files(self, rev: str = "main") -> dict[str, bytes]:
        """Path -> content of every file at ``rev`` (what a clone would hold)."""
        return {p: self.content(e) for p, e in self.resolve(rev).tree.items()}

    def content(self, e: Entry) -> bytes:
        return self.lfs[e.sha256] if e.sha256 else self.blobs[e.oid]

    def history(self, branch: str = "main") -> list[Commit]:
        """Commits reachable from ``branch``, newest first."""
        out, oid = [], self.branches.get(branch)
        while oid:
            out.append(self.commits[oid])
            oid = self.commits[oid].parent
        return out

    def commit(self, parent: Commit | None, title: str, ops: list[dict], tree: dict[str, Entry], branch: str) -> Commit:
        digest = hashlib.sha1(json.dumps([parent.oid if parent else None, title, ops, time.time_ns(),
                                          sorted((p, e.oid) for p, e in tree.items())]).encode()).hexdigest()
        c = Commit(digest, parent.oid if parent else None, title, ops, tree)
        self.commits[c.oid] = c
        self.branches[branch] = c.oid
        return c


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hung up (a killed publisher) is expected; anything else is printed."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class HubServer:
    """The stand-in: a threaded HTTP server plus the repos it holds. Use as a context manager."""

    def __init__(self, tokens: dict[str, User] | None = None):
        self.tokens = tokens or {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.lfs_puts: list[tuple[str, str, int]] = []  # (repo_id, sha256, bytes received) of complete PUTs
        self.errors: list[str] = []  # requests the stand-in could not handle (tests assert it stays empty)
        self._drop_once: set[str] = set()
        self._fail_once: dict[str, int] = {}
        self._stalls: dict[str, threading.Event] = {}  # armed, by object
        self._held: list[threading.Event] = []  # taken by a PUT that waits
        self.lock = threading.RLock()
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "HubServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.release_puts()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------ test controls

    def repo(self, repo_type: str, repo_id: str) -> Repo:
        return self.repos[(repo_type, repo_id)]

    def create(self, repo_type: str, repo_id: str, private: bool = False) -> Repo:
        repo = Repo(repo_type, repo_id, private)
        oid = git_blob_id(GITATTRIBUTES)
        repo.blobs[oid] = GITATTRIBUTES
        repo.commit(None, "initial commit", [], {".gitattributes": Entry(oid, len(GITATTRIBUTES))}, "main")
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def drop_put_once(self, sha256: str) -> None:
        """The next PUT of this object reads half its body, then the connection is closed unanswered."""
        self._drop_once.add(sha256)

    def fail_put_once(self, sha256: str, status: int) -> None:
        """The next PUT of this object is answered with ``status`` (storage refusing it)."""
        self._fail_once[sha256] = status

    def stall_put(self, sha256: str) -> None:
        """The next PUT of this object waits (before reading its body) until ``release_puts``."""
        self._stalls[sha256] = threading.Event()

    def release_puts(self) -> None:
        for event in [*self._stalls.values(), *self._held]:
            event.set()

    def writes(self, since: int = 0) -> list[tuple[str, str]]:
        """Requests (from the ``since``-th on) that could change something: anything but GET / HEAD."""
        return [(m, p) for m, p in self.requests[since:] if m not in ("GET", "HEAD")]

    # ------------------------------------------------------------ request handling

    def user(self, headers) -> User | None:
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        if token is None:
            return None
        if token not in self.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.tokens[token]

    def readable(self, repo_type: str, repo_id: str, user: User | None) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and (user is None or repo_id.split("/")[0] not in user.namespaces())):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def writable(self, repo_type: str, repo_id: str, user: User | None) -> Repo:
        repo = self.readable(repo_type, repo_id, user)
        if user is None or not user.can_write or repo_id.split("/")[0] not in user.namespaces():
            raise HubError(403, "You don't have the rights to write to this repository")
        return repo

    @staticmethod
    def commit_of(repo: Repo, rev: str) -> Commit:
        c = repo.resolve(rev)
        if c is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return c

    @staticmethod
    def upload_mode(repo: Repo, tree: dict[str, Entry], path: str, size: int, sample: bytes) -> str:
        """LFS for paths the repo's .gitattributes sends to LFS, big files and binary ones; else regular."""
        e = tree.get(".gitattributes")
        patterns = [line.split()[0] for line in repo.blobs[e.oid].decode().splitlines() if "filter=lfs" in line] if e else []
        if any(fnmatch.fnmatch(path.rsplit("/", 1)[-1], p) or fnmatch.fnmatch(path, p) for p in patterns):
            return "lfs"
        return "lfs" if size >= LFS_SIZE or b"\0" in sample else "regular"


def _tree_listing(commit: Commit, path: str, recursive: bool) -> list[dict]:
    """Files and folders under ``path`` (its direct children, or all with ``recursive``), folders first."""
    base = f"{path.strip('/')}/" if path.strip("/") else ""
    if base and not any(p.startswith(base) for p in commit.tree):
        if path.strip("/") in commit.tree:
            return [commit.tree[path.strip("/")].info(path.strip("/"))]
        raise HubError(404, f"{path} does not exist", "EntryNotFound")
    files, folders = [], {}
    for p, e in sorted(commit.tree.items()):
        if not p.startswith(base):
            continue
        rest = p[len(base):].split("/")
        for i in range(1, len(rest)):
            if recursive or i == 1:
                folder = base + "/".join(rest[:i])
                folders[folder] = {"type": "directory", "oid": hashlib.sha1(folder.encode()).hexdigest(), "path": folder}
        if recursive or len(rest) == 1:
            files.append(e.info(p))
    return list(folders.values()) + files


def _handler(hub: HubServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        # ---------------- plumbing

        def body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self._read(size)
                    self.rfile.readline()
            return self._read(int(self.headers.get("Content-Length") or 0))

        def _read(self, n: int) -> bytes:
            data = self.rfile.read(n)
            if len(data) < n:
                raise ConnectionError("the client went away mid-request")
            return data

        def send(self, status: int, payload=None, headers: dict | None = None, raw: bytes | None = None) -> None:
            data = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def dispatch(self) -> None:
            url = urlsplit(self.path)
            with hub.lock:
                hub.requests.append((self.command, url.path))
            parts = [unquote(p) for p in url.path.split("/")[1:]]
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            try:
                user = hub.user(self.headers)
                self.route(parts, query, user)
            except (ConnectionError, TimeoutError):  # the client went away: nothing to answer
                self.close_connection = True
            except HubError as e:
                headers = {"X-Error-Message": e.message}
                if e.code:
                    headers["X-Error-Code"] = e.code
                self.send(e.status, {"error": e.message}, headers)
            except Exception as e:  # a bug of the stand-in: answer (400, not retried) and keep it for the test
                hub.errors.append(f"{self.command} {self.path}: {type(e).__name__}: {e}")
                self.send(400, {"error": f"stand-in error: {e}"})

        do_GET = do_HEAD = do_POST = do_PUT = lambda self: self.dispatch()  # noqa: E731

        # ---------------- routes

        def route(self, parts: list[str], query: dict, user: User | None) -> None:
            m, n = self.command, len(parts)
            if parts[:2] == ["api", "whoami-v2"]:
                if user is None:
                    raise HubError(401, "Unauthorized")
                return self.send(200, {"type": "user", "name": user.name, "orgs": [{"name": o} for o in user.orgs],
                                       "auth": {"accessToken": {"role": "write" if user.can_write else "read"}}})
            if parts[:3] == ["api", "repos", "create"] and m == "POST":
                return self.create_repo(json.loads(self.body()), user)
            if parts[:2] == ["api", "validate-yaml"] and m == "POST":
                return self.validate_yaml(json.loads(self.body()))
            if n >= 4 and parts[0] == "api" and parts[1] in ("datasets", "models", "spaces"):
                repo_type, repo_id, rest = parts[1][:-1], f"{parts[2]}/{parts[3]}", parts[4:]
                return self.api(repo_type, repo_id, rest, query, user)
            if n >= 2 and parts[0] == "lfs":
                return self.lfs_put(parts[1], parts[2])
            if n >= 2 and parts[0] == "lfs-verify":
                return self.lfs_verify(parts[1], parts[2], json.loads(self.body()))
            repo_type = "dataset" if parts[0] == "datasets" else "space" if parts[0] == "spaces" else "model"
            p = parts[1:] if repo_type != "model" else parts
            if len(p) >= 2 and p[1].endswith(".git") and p[2:] == ["info", "lfs", "objects", "batch"]:
                return self.lfs_batch(repo_type, f"{p[0]}/{p[1][:-4]}", json.loads(self.body()), user)
            if len(p) >= 5 and p[2] == "resolve":
                return self.resolve(repo_type, f"{p[0]}/{p[1]}", p[3], "/".join(p[4:]), user)
            raise HubError(404, f"no route {m} {self.path}")

        def api(self, repo_type: str, repo_id: str, rest: list[str], query: dict, user: User | None) -> None:
            m = self.command
            if m == "GET" and (not rest or rest[0] == "revision"):
                repo = hub.readable(repo_type, repo_id, user)
                c = hub.commit_of(repo, rest[1] if rest else "main")
                return self.send(200, {"id": repo_id, "sha": c.oid, "private": repo.private,
                                       "siblings": [{"rfilename": p} for p in sorted(c.tree)]})
            if m == "GET" and rest[0] == "tree":
                c = hub.commit_of(hub.readable(repo_type, repo_id, user), rest[1])
                return self.send(200, _tree_listing(c, "/".join(rest[2:]), query.get("recursive") in ("True", "true", "1")))
            if m == "POST" and rest[0] == "branch":
                return self.create_branch(hub.writable(repo_type, repo_id, user), rest[1], json.loads(self.body() or b"{}"))
            if m == "POST" and rest[0] == "preupload":
                repo = hub.writable(repo_type, repo_id, user)
                return self.preupload(repo, hub.commit_of(repo, rest[1]), json.loads(self.body()))
            if m == "POST" and rest[0] == "commit":
                repo = hub.writable(repo_type, repo_id, user)
                return self.commit(repo, rest[1], self.body())
            raise HubError(404, f"no route {m} {self.path}")

        def create_repo(self, payload: dict, user: User | None) -> None:
            if user is None:
                raise HubError(401, "You must be authenticated to create a repo")
            namespace = payload.get("organization") or user.name
            repo_type = payload.get("type") or "model"
            repo_id = f"{namespace}/{payload['name']}"
            if namespace not in user.namespaces() or not user.can_write:
                raise HubError(403, f"You don't have the rights to create a repo under the namespace {namespace}")
            if (repo_type, repo_id) in hub.repos:
                raise HubError(409, "You already created this dataset repo")
            private = payload.get("visibility") == "private" or bool(payload.get("private"))
            with hub.lock:
                hub.create(repo_type, repo_id, private)
            self.send(200, {"url": f"{hub.url}/{PREFIX[repo_type]}{repo_id}", "name": repo_id})

        def create_branch(self, repo: Repo, branch: str, payload: dict) -> None:
            if branch in repo.branches:
                raise HubError(409, "Reference already exists")
            start = hub.commit_of(repo, payload.get("startingPoint") or "main")
            with hub.lock:
                repo.branches[branch] = start.oid
            self.send(200, {})

        def validate_yaml(self, payload: dict) -> None:
            text = payload.get("content", "")
            match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
            try:
                meta = yaml.safe_load(match.group(1)) if match else {}
            except yaml.YAMLError as e:
                return self.send(400, {"errors": [{"message": f"Invalid YAML: {e}"}], "warnings": []})
            if match and not isinstance(meta, dict):
                return self.send(400, {"errors": [{"message": "metadata must be a mapping"}], "warnings": []})
            self.send(200, {"errors": [], "warnings": []})

        def preupload(self, repo: Repo, commit: Commit, payload: dict) -> None:
            files = []
            for f in payload["files"]:
                sample = base64.b64decode(f["sample"])
                mode = hub.upload_mode(repo, commit.tree, f["path"], f["size"], sample)
                e = commit.tree.get(f["path"])
                oid = (e.sha256 if mode == "lfs" else e.oid) if e and bool(e.sha256) == (mode == "lfs") else None
                files.append({"path": f["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
            self.send(200, {"files": files, "commitOid": commit.oid})

        def lfs_batch(self, repo_type: str, repo_id: str, payload: dict, user: User | None) -> None:
            repo = hub.writable(repo_type, repo_id, user)
            key = repo_id.replace("/", "--")
            objects = []
            for o in payload["objects"]:
                obj = {"oid": o["oid"], "size": o["size"]}
                if o["oid"] not in repo.lfs:
                    obj["actions"] = {"upload": {"href": f"{hub.url}/lfs/{key}/{o['oid']}", "header": {}},
                                      "verify": {"href": f"{hub.url}/lfs-verify/{key}/{o['oid']}"}}
                objects.append(obj)
            self.send(200, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

        def _repo_by_key(self, key: str) -> Repo:
            repo = next((r for (_, rid), r in hub.repos.items() if rid.replace("/", "--") == key), None)
            if repo is None:
                raise HubError(404, f"no LFS storage {key}")
            return repo

        def lfs_put(self, key: str, oid: str) -> None:
            repo = self._repo_by_key(key)
            stall = hub._stalls.pop(oid, None)
            if stall is not None:
                hub._held.append(stall)
                stall.wait(timeout=120)
            if oid in hub._drop_once:  # read half the body, then hang up without an answer
                hub._drop_once.discard(oid)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(max(1, length // 2)) if length else self.rfile.readline()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            data = self.body()
            if oid in hub._fail_once:
                raise HubError(hub._fail_once.pop(oid), "AccessDenied: the upload URL was refused")
            with hub.lock:
                repo.lfs_pending[oid] = data
                hub.lfs_puts.append((repo.repo_id, oid, len(data)))
            self.send(200, raw=b"", headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

        def lfs_verify(self, key: str, oid: str, payload: dict) -> None:
            repo = self._repo_by_key(key)
            data = repo.lfs_pending.get(oid)
            if data is None or hashlib.sha256(data).hexdigest() != oid or len(data) != payload["size"]:
                raise HubError(400, f"object {oid} was not received whole")
            with hub.lock:
                repo.lfs[oid] = repo.lfs_pending.pop(oid)
            self.send(200, {})

        def commit(self, repo: Repo, rev: str, body: bytes) -> None:
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            header = next(x["value"] for x in lines if x["key"] == "header")
            with hub.lock:
                parent = hub.commit_of(repo, rev)
                wanted = header.get("parentCommit")
                if wanted and not parent.oid.startswith(wanted):
                    raise HubError(412, f"A commit has happened since. Parent is {parent.oid}, not {wanted}")
                tree, ops = dict(parent.tree), []
                for item in lines:
                    key, v = item["key"], item["value"]
                    if key == "file":
                        data = base64.b64decode(v["content"])
                        oid = git_blob_id(data)
                        repo.blobs[oid] = data
                        tree[v["path"]] = Entry(oid, len(data))
                        ops.append({"key": key, "path": v["path"], "size": len(data)})
                    elif key == "lfsFile":
                        if v["oid"] not in repo.lfs:
                            raise HubError(400, f"Your push was rejected because an LFS pointer pointed to a file "
                                                f"that does not exist: {v['path']} ({v['oid']})")
                        size = len(repo.lfs[v["oid"]])
                        tree[v["path"]] = Entry(git_blob_id(lfs_pointer(v["oid"], size)), size, v["oid"])
                        ops.append({"key": key, "path": v["path"], "size": size, "oid": v["oid"]})
                    elif key in ("deletedFile", "deletedFolder"):
                        path = v["path"].rstrip("/")
                        gone = [p for p in tree if p == path or (key == "deletedFolder" and p.startswith(path + "/"))]
                        if not gone:
                            raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                        for p in gone:
                            del tree[p]
                        ops.append({"key": key, "path": path})
                branch = rev if rev in repo.branches else None
                if branch is None:
                    raise HubError(400, f"{rev} is not a branch")
                c = repo.commit(parent, header["summary"], ops, tree, branch)
            self.send(200, {"commitUrl": f"{hub.url}/{PREFIX[repo.repo_type]}{repo.repo_id}/commit/{c.oid}",
                            "commitOid": c.oid, "pullRequestUrl": None, "success": True})

        def resolve(self, repo_type: str, repo_id: str, rev: str, path: str, user: User | None) -> None:
            repo = hub.readable(repo_type, repo_id, user)
            c = hub.commit_of(repo, rev)
            e = c.tree.get(path)
            if e is None:
                raise HubError(404, f"{path} does not exist at {rev}", "EntryNotFound")
            data = repo.content(e)
            headers = {"X-Repo-Commit": c.oid, "ETag": f'"{e.oid}"', "Accept-Ranges": "bytes"}
            if e.sha256:
                headers.update({"X-Linked-Etag": f'"{e.sha256}"', "X-Linked-Size": str(e.size)})
            rng = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if rng and self.command == "GET":
                start = int(rng.group(1))
                end = min(int(rng.group(2)) if rng.group(2) else len(data) - 1, len(data) - 1)
                if start >= len(data):
                    return self.send(416, raw=b"", headers={"Content-Range": f"bytes */{len(data)}"})
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                return self.send(206, raw=data[start:end + 1], headers=headers)
            self.send(200, raw=data, headers=headers)

    return Handler
