"""Publish a built dataset (``hub/<name>/``) to the Hugging Face Hub.

    python -m builders.publish hub/bliss --repo-id ORG/bliss [--wds-repo-id ORG/bliss-wds]
        [--private] [--revision BRANCH] [--dry-run]

Two dataset repos, because the Hub cannot mix parquet and webdataset configs in one:

- ``--repo-id``: ``README.md`` (the card, rendered again from build.json with ``load_dataset("ORG/NAME")``
  in its "Load it" section), ``build.json``, ``data/**`` (the parquet shards build.json lists) and
  ``figures/**`` when the build has them;
- ``--wds-repo-id`` (default ``<repo-id>-wds``): its own card, whose YAML declares each config's tars,
  and ``wds/**``.

Each repo gets at most one commit per run, made with ``HfApi.create_commit``: only files whose
content differs from the repo's (local sha256 against the LFS sha256, or the git blob id of small
files, from ``HfApi.list_repo_tree``) are uploaded, and files under ``data/`` / ``figures/`` / ``wds/``
that the build no longer has (shards renamed when their count changes) are deleted in the same
commit. An unchanged build makes no commit and uploads nothing. The commit names its parent, so a
repo that changed meanwhile refuses it instead of mixing two builds. A run cut short commits nothing;
rerunning resumes: LFS objects the Hub already holds are not sent again. The token comes from
``HF_TOKEN`` or ``hf auth login``; the endpoint from ``HF_ENDPOINT``.

``--dry-run`` only reads: it lists every file (local path, repo path, size, upload / unchanged /
delete) and prints each card's unified diff against the card in the repo (or against nothing).
Offline (``HF_HUB_OFFLINE=1``) it lists every file and both cards, marked "not compared with the
Hub (offline)", and exits 0: a first publish previewed without a network.
Errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from common import cli
from common.safefiles import UnsafeFileError, file_kind, read_json

REPO_TYPE = "dataset"
PARQUET_OWNED = ("data/", "figures/")  # repo folders the build owns: files there that it lacks are deleted
WDS_OWNED = ("wds/",)
OFFLINE_MESSAGE = "HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set: publishing talks to the Hub; unset it for this command"


class PublishError(Exception):
    """A problem the user fixes (input, token, repo, network): one line, exit status 2."""


# ---------------------------------------------------------------- the build on disk


@dataclass
class LocalFile:
    """A file to publish: a file of the build, or bytes rendered here (a card)."""

    path_in_repo: str
    source: Path | None = None
    data: bytes | None = None
    size: int = 0
    sha256: str = ""
    git_oid: str = ""  # git blob id: what the Hub lists for a file that is not in LFS

    def __post_init__(self) -> None:
        sha, size = hashlib.sha256(), self.size_of()
        blob = hashlib.sha1(b"blob %d\0" % size)
        for chunk in self.chunks():
            sha.update(chunk)
            blob.update(chunk)
        self.size, self.sha256, self.git_oid = size, sha.hexdigest(), blob.hexdigest()

    def size_of(self) -> int:
        return len(self.data) if self.data is not None else self.source.stat().st_size

    def chunks(self):
        if self.data is not None:
            yield self.data
            return
        with open(self.source, "rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk

    def where(self) -> str:
        return str(self.source) if self.source is not None else "(rendered card)"


def read_build(hub_dir: Path) -> dict:
    """build.json of a built dataset directory, checked for what publishing needs."""
    if not hub_dir.is_dir():
        raise PublishError(f"{hub_dir} is not a directory: pass a built dataset directory (hub/<name>)")
    path = hub_dir / "build.json"
    if not path.is_file():
        raise PublishError(f"{hub_dir} has no build.json: not a built dataset (run python -m builders.<name> first)")
    try:
        build = read_json(build_file(hub_dir, "build.json", listed=False))
    except UnsafeFileError as e:
        raise PublishError(f"{e}: rebuild the dataset") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PublishError(f"{path} is not valid JSON ({e}): rebuild the dataset") from e
    configs = build.get("configs") if isinstance(build, dict) else None
    if not configs or not all(isinstance(c, dict) and c.get("splits") for c in configs.values()):
        raise PublishError(f"{path} records no built config with splits: rebuild the dataset")
    if not isinstance(build.get("card"), dict) or "dataset" not in build:
        raise PublishError(f"{path} has no card facts (card, dataset): it was not written by a builder")
    return build


def build_file(hub_dir: Path, rel, listed: bool = True) -> Path:
    """``hub_dir / rel`` if it is a regular file inside the build once resolved: ``rel`` relative, without
    ``..``, not through a symlink that leaves the build; PublishError (one line) otherwise, so nothing
    outside the build directory is ever uploaded."""
    named = f"{hub_dir}/build.json names {rel!r}" if listed else f"{hub_dir / rel}"
    if not isinstance(rel, str) or not rel or rel.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", rel) or any(
            part in ("", ".", "..") for part in rel.replace("\\", "/").split("/")):
        raise PublishError(f"{named}: not a plain relative path inside the build; refusing to publish it")
    path = hub_dir / rel
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(path)
    root, real = hub_dir.resolve(), path.resolve()
    if not real.is_relative_to(root):
        raise PublishError(f"{named}: it resolves to {real}, outside the build directory; refusing to publish it")
    mode = real.stat().st_mode
    if not stat.S_ISREG(mode):
        raise PublishError(f"{named}: {file_kind(mode)}, not a regular file; refusing to publish it")
    return path


def build_files(hub_dir: Path, build: dict) -> tuple[list[Path], list[Path], list[Path]]:
    """(parquet shards, webdataset tars, figures) of the build: exactly the shards build.json lists,
    each present, a regular file inside the build (``build_file``); a shard on disk that build.json
    does not list is an error (a stale file)."""
    listed = {"parquet": [], "wds": []}
    for name, rec in sorted(build["configs"].items()):
        for split, facts in rec["splits"].items():
            for kind in listed:
                listed[kind] += facts.get(kind, [])
    if not listed["parquet"]:
        raise PublishError(f"{hub_dir}/build.json lists no parquet shard: rebuild the dataset")
    for kind, folder, pattern in (("parquet", "data", "*.parquet"), ("wds", "wds", "*.tar*")):
        missing = []
        for p in listed[kind]:
            try:
                build_file(hub_dir, p)
            except FileNotFoundError:
                missing.append(p)
        if missing:
            raise PublishError(f"{hub_dir}/{missing[0]} is listed in build.json but missing"
                               f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}: rebuild the dataset")
        on_disk = {p.relative_to(hub_dir).as_posix() for p in (hub_dir / folder).rglob(pattern)}
        stale = sorted(on_disk - set(listed[kind]))
        if stale:
            raise PublishError(f"{hub_dir}/{stale[0]} is not in build.json (left from an earlier build?): "
                               "remove it or rebuild the dataset")
    figures = []
    if (hub_dir / "figures").is_dir():
        for p in sorted((hub_dir / "figures").rglob("*")):
            if not p.is_dir():
                figures.append(build_file(hub_dir, p.relative_to(hub_dir).as_posix(), listed=False))
    return ([hub_dir / p for p in listed["parquet"]], [hub_dir / p for p in listed["wds"]], figures)


# ---------------------------------------------------------------- one repo: plan, compare, commit


@dataclass
class RepoPlan:
    """What one Hub repo should hold after publishing, and how it differs from what it holds."""

    repo_id: str
    files: list[LocalFile]
    owned: tuple[str, ...]
    exists: bool = False
    private: bool | None = None
    branch_exists: bool = True
    sha: str | None = None  # the commit compared against (the parent of ours)
    remote: dict = field(default_factory=dict)  # path -> RepoFile
    upload: list[LocalFile] = field(default_factory=list)
    unchanged: list[LocalFile] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)

    def card(self) -> LocalFile:
        return next(f for f in self.files if f.path_in_repo == "README.md")


def same_content(local: LocalFile, remote) -> bool:
    """Whether the repo's file (a ``RepoFile``) holds the local content: LFS files by sha256,
    others by git blob id."""
    if remote.size != local.size:
        return False
    if remote.lfs is not None:
        return remote.lfs.sha256 == local.sha256
    return remote.blob_id == local.git_oid


def compare(plan: RepoPlan) -> None:
    local = {f.path_in_repo for f in plan.files}
    changed = [f.path_in_repo not in plan.remote or not same_content(f, plan.remote[f.path_in_repo]) for f in plan.files]
    plan.upload = [f for f, c in zip(plan.files, changed) if c]
    plan.unchanged = [f for f, c in zip(plan.files, changed) if not c]
    plan.delete = sorted(p for p in plan.remote if p.startswith(plan.owned) and p not in local)


def inspect_remote(api, plan: RepoPlan, revision: str) -> None:
    """Fill in the repo's state at ``revision`` (nothing when it does not exist) and compare."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.hf_api import RepoFile

    try:
        info = api.repo_info(plan.repo_id, repo_type=REPO_TYPE, revision=revision)
    except RevisionNotFoundError:  # a new branch starts from the default branch
        plan.branch_exists = False
        info = api.repo_info(plan.repo_id, repo_type=REPO_TYPE)
    except RepositoryNotFoundError:
        plan.exists, plan.remote = False, {}
        compare(plan)
        return
    plan.exists, plan.private, plan.sha = True, bool(info.private), info.sha
    tree = api.list_repo_tree(plan.repo_id, repo_type=REPO_TYPE, revision=info.sha, recursive=True)
    plan.remote = {e.path: e for e in tree if isinstance(e, RepoFile)}
    compare(plan)


def remote_card(api, plan: RepoPlan) -> str:
    """The card in the repo at the compared commit ('' when there is none)."""
    if "README.md" not in plan.remote:
        return ""
    with tempfile.TemporaryDirectory() as tmp:
        path = api.hf_hub_download(plan.repo_id, "README.md", repo_type=REPO_TYPE, revision=plan.sha, local_dir=tmp)
        return Path(path).read_text()


def card_diff(api, plan: RepoPlan) -> str:
    card = plan.card()
    if not any(card is f for f in plan.upload):
        return f"{plan.repo_id}: README.md unchanged\n"
    old = remote_card(api, plan)
    where = f"{plan.repo_id}@{plan.sha[:7]}:README.md" if old else "(no card in the repo)"
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), card.data.decode().splitlines(keepends=True),
                                        fromfile=where, tofile=f"{plan.repo_id}:README.md (new)"))


def ensure_repo(api, plan: RepoPlan, private: bool, revision: str) -> None:
    """Create the repo (and the branch) when missing; ``plan.sha`` becomes the commit to build on."""
    from huggingface_hub.errors import HfHubHTTPError

    if not plan.exists:
        try:
            api.create_repo(plan.repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
        except HfHubHTTPError as e:
            if e.response.status_code not in (401, 403):
                raise
            raise PublishError(f"{plan.repo_id} does not exist and the token may not create it (HTTP "
                               f"{e.response.status_code}): create it on the Hub or use a token with write access "
                               f"to {plan.repo_id.split('/')[0]}") from e
        inspect_remote(api, plan, revision)
        if not plan.exists:  # it existed already, private to someone else
            raise PublishError(f"{plan.repo_id} exists but this token cannot read it: use a token of its owner")
    if not plan.branch_exists:
        api.create_branch(plan.repo_id, branch=revision, repo_type=REPO_TYPE, revision=plan.sha, exist_ok=True)
        plan.branch_exists = True
        inspect_remote(api, plan, revision)


def commit(api, plan: RepoPlan, revision: str, dataset: str):
    """One commit with every changed file and every deletion; None when there is nothing to change."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    if not plan.upload and not plan.delete:
        return None
    ops = [CommitOperationAdd(f.path_in_repo, f.data if f.data is not None else str(f.source)) for f in plan.upload]
    ops += [CommitOperationDelete(p) for p in plan.delete]
    return api.create_commit(
        plan.repo_id, ops, repo_type=REPO_TYPE, revision=revision, parent_commit=plan.sha,
        commit_message=f"Publish {dataset} with vsumhub: {len(plan.upload)} file(s) updated, {len(plan.delete)} deleted",
        commit_description=_description(plan),
    )


def _description(plan: RepoPlan, limit: int = 200) -> str:
    lines = ([f"upload {f.path_in_repo} ({f.size} bytes, sha256 {f.sha256})" for f in plan.upload]
             + [f"delete {p}" for p in plan.delete])
    return "\n".join(lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else []))


# ---------------------------------------------------------------- errors


def _transport_errors() -> tuple[type[Exception], ...]:
    errors: list[type[Exception]] = [ConnectionError, TimeoutError]
    for module in ("httpx2", "httpx", "requests"):  # whichever HTTP client huggingface_hub uses
        try:
            mod = __import__(module)
        except ImportError:
            continue
        errors.append(getattr(mod, "TransportError", None) or getattr(mod, "RequestException"))
    return tuple(errors)


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _request_url(exc: BaseException) -> str:
    for holder in (getattr(exc, "response", None), exc):
        try:
            request = getattr(holder, "request", None)
            if request is not None and getattr(request, "url", None) is not None:
                return str(request.url)
        except RuntimeError:  # httpx raises when an error has no request attached
            pass
    return ""


def explain(exc: BaseException, repo_id: str | None, endpoint: str, stage: str) -> str:
    """One line saying what failed, where, and what to do. The cause that matters is the first HTTP
    or network error along the exception's chain (the library wraps upload errors in RuntimeError)."""
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

    where = f"{repo_id}: " if repo_id else ""
    transport = _transport_errors()
    root = next((e for e in _chain(exc) if isinstance(e, (HfHubHTTPError, OfflineModeIsEnabled,
                                                           LocalTokenNotFoundError, *transport))), exc)
    if isinstance(root, OfflineModeIsEnabled):
        return OFFLINE_MESSAGE
    if isinstance(root, LocalTokenNotFoundError):
        return "no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write access)"
    url = _request_url(root)
    in_commit = stage == "commit" and "/commit/" in url
    after = "; nothing was committed, rerun to resume" if stage == "commit" else ""
    uploading = re.search(r"uploading '([^']+)'", str(exc)) if root is not exc else None  # which file
    context = f"uploading {uploading.group(1)}: " if uploading else ""
    if isinstance(root, HfHubHTTPError) and getattr(root.response, "status_code", None) is not None:
        status = root.response.status_code
        server = root.server_message or _first_line(root)
        if status == 401:
            return f"{where}the Hub rejected the token (HTTP 401: {server}): check HF_TOKEN or run `hf auth login`"
        if status == 412:
            return f"{where}the repo changed on the Hub while publishing (HTTP 412): rerun to publish on top of it"
        return f"{where}{context}the Hub refused {_short(url)} (HTTP {status}: {server}){after}"
    if isinstance(root, transport):
        if in_commit:
            return (f"{where}the connection was lost while committing ({type(root).__name__}): the commit may or "
                    "may not have been made; rerun to finish (only what is missing is uploaded)")
        return f"{where}{context}cannot reach {endpoint} (HF_ENDPOINT) ({type(root).__name__}: {_first_line(root)}){after}"
    return f"{where}{type(exc).__name__}: {_first_line(exc)}{after}"


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(exc).__name__


def _short(url: str) -> str:
    return url.split("?")[0] or "a request"


def validate_repo_id(repo_id: str, flag: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id as hf_validate

    if repo_id.count("/") != 1:
        raise PublishError(f"{flag} {repo_id!r} is not ORG/NAME (a namespace, a slash, a name)")
    try:
        hf_validate(repo_id)
    except HFValidationError as e:
        raise PublishError(f"{flag} {repo_id!r} is not a valid repo id: {_first_line(e)}") from e


# ---------------------------------------------------------------- publish


def check_cards(card: str, wds_card: str | None) -> None:
    """Both cards against the Hub's metadata rules (cards.validate) before any request."""
    from cards.validate import CardError, check

    try:
        check(card, "card")
        if wds_card is not None:
            check(wds_card, "webdataset card")
    except CardError as e:
        raise PublishError(f"{e}: rebuild the dataset with fixed card facts") from e


def plan_repos(hub_dir: Path, build: dict, repo_id: str, wds_repo_id: str) -> list[RepoPlan]:
    """The two repos' target contents (the webdataset repo first: the parquet card links to it)."""
    from cards.render import render_card
    from builders.core.writers import wds_members
    from cards.wds_card import render_wds_card

    parquet, tars, figures = build_files(hub_dir, build)
    plans = []
    if tars:
        wds_card = render_wds_card(build, wds_repo_id, repo_id, members=wds_members(build)).encode()
        plans.append(RepoPlan(wds_repo_id, [LocalFile("README.md", data=wds_card)]
                              + [LocalFile(p.relative_to(hub_dir).as_posix(), p) for p in tars], WDS_OWNED))
    card = render_card(build, load_path=repo_id, wds_repo=wds_repo_id if tars else None)
    check_cards(card, wds_card.decode() if tars else None)
    files = [LocalFile("README.md", data=card.encode()), LocalFile("build.json", hub_dir / "build.json")]
    files += [LocalFile(p.relative_to(hub_dir).as_posix(), p) for p in parquet + figures]
    plans.append(RepoPlan(repo_id, files, PARQUET_OWNED))
    return plans


def describe(plan: RepoPlan, revision: str, private: bool, dry_run: bool, out) -> None:
    if not plan.exists:
        state = f"does not exist: {'would be' if dry_run else 'will be'} created ({'private' if private else 'public'})"
    else:
        state = f"at {plan.sha[:7]}, {'private' if plan.private else 'public'}"
        if not plan.branch_exists:
            state += f"; branch {revision} does not exist: {'would be' if dry_run else 'will be'} created from it"
    out(f"{plan.repo_id} (dataset repo, branch {revision}): {state}")
    for f in plan.files:
        action = "upload" if any(f is u for u in plan.upload) else "unchanged"
        if dry_run or action == "upload":
            out(f"  {action:9s} {f.size:>13,} B  {f.path_in_repo}  <- {f.where()}")
    for p in plan.delete:
        out(f"  {'delete':9s} {plan.remote[p].size:>13,} B  {p}  (not in this build)")
    up = sum(f.size for f in plan.upload)
    verb = "would commit" if dry_run else "to commit"
    out(f"  {verb}: {len(plan.upload)} upload(s) ({up:,} B), {len(plan.delete)} deletion(s), "
        f"{len(plan.unchanged)} file(s) unchanged" if plan.upload or plan.delete else
        f"  up to date: {len(plan.unchanged)} file(s) unchanged, nothing to upload")


def publish(hub_dir, repo_id: str, wds_repo_id: str | None = None, private: bool = False, revision: str = "main",
            dry_run: bool = False, out=print) -> list[dict]:
    """Publish ``hub_dir`` (see the module docstring); returns one record per repo:
    ``{repo_id, commit (None when up to date), uploaded, deleted, unchanged}``. Raises PublishError."""
    from huggingface_hub import HfApi, constants, get_token

    hub_dir = Path(hub_dir)
    wds_repo_id = wds_repo_id or f"{repo_id}-wds"
    validate_repo_id(repo_id, "--repo-id")
    validate_repo_id(wds_repo_id, "--wds-repo-id")
    if wds_repo_id == repo_id:
        raise PublishError(f"--wds-repo-id must differ from --repo-id ({repo_id}): "
                           "the Hub cannot mix parquet and webdataset configs in one repo")
    if not revision or revision.strip() != revision:
        raise PublishError(f"--revision {revision!r} is not a branch name")
    build = read_build(hub_dir)
    plans = plan_repos(hub_dir, build, repo_id, wds_repo_id)
    endpoint = constants.ENDPOINT
    if constants.is_offline_mode():
        if not dry_run:
            raise PublishError(OFFLINE_MESSAGE)
        return _offline_dry_run(plans, out)
    api = HfApi()
    stage, current = "check", None
    try:
        if not dry_run:
            if get_token() is None:
                raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write access)")
            user = api.whoami()
            if (user.get("auth", {}).get("accessToken", {}) or {}).get("role") == "read":
                raise PublishError(f"the token of {user.get('name')} is read-only: publishing needs a write token")
        for plan in plans:
            current = plan.repo_id
            inspect_remote(api, plan, revision)
            if private and plan.exists and not plan.private:
                raise PublishError(f"{plan.repo_id} exists and is public; --private does not change that: make it "
                                   "private in its settings on the Hub, or drop --private")
        if dry_run:
            out(f"dry run: nothing is sent to {endpoint}")
        for plan in plans:
            current = plan.repo_id
            describe(plan, revision, private, dry_run, out)
            if dry_run:
                out(card_diff(api, plan).rstrip("\n"))
        if dry_run:
            return [{"repo_id": p.repo_id, "commit": None, "uploaded": [f.path_in_repo for f in p.upload],
                     "deleted": p.delete, "unchanged": [f.path_in_repo for f in p.unchanged]} for p in plans]
        results = []
        for plan in plans:
            current, stage = plan.repo_id, "create"
            ensure_repo(api, plan, private, revision)
            stage = "commit"
            info = commit(api, plan, revision, build["dataset"])
            sha = info.oid if info else plan.sha
            out(f"{plan.repo_id}: " + (f"published commit {sha[:7]} ({len(plan.upload)} uploaded, {len(plan.delete)} "
                                       f"deleted, {len(plan.unchanged)} unchanged) {info.commit_url}" if info else
                                       f"up to date at {sha[:7]}, nothing uploaded"))
            results.append({"repo_id": plan.repo_id, "commit": info.oid if info else None,
                            "uploaded": [f.path_in_repo for f in plan.upload], "deleted": plan.delete,
                            "unchanged": [f.path_in_repo for f in plan.unchanged]})
        return results
    except PublishError:
        raise
    except Exception as e:  # the Hub or the network: say which repo, what failed, what to do
        raise PublishError(explain(e, current, endpoint, stage)) from e


def _offline_dry_run(plans: list[RepoPlan], out) -> list[dict]:
    """``--dry-run`` with HF_HUB_OFFLINE: every file and both cards as they would be sent, none compared
    with the Hub (a first publish previewed offline)."""
    out("dry run, offline (HF_HUB_OFFLINE): nothing is sent; files not compared with the Hub (offline)")
    for plan in plans:
        out(f"{plan.repo_id} (dataset repo): not compared with the Hub (offline)")
        for f in plan.files:
            out(f"  {'send':9s} {f.size:>13,} B  {f.path_in_repo}  <- {f.where()}")
        out(f"  would send at most {len(plan.files)} file(s) ({sum(f.size for f in plan.files):,} B)")
        out("".join(difflib.unified_diff([], plan.card().data.decode().splitlines(keepends=True), fromfile="(not compared: offline)",
                                         tofile=f"{plan.repo_id}:README.md (new)")).rstrip("\n"))
    return [{"repo_id": p.repo_id, "commit": None, "uploaded": [f.path_in_repo for f in p.files], "deleted": [],
             "unchanged": [], "offline": True} for p in plans]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=cli.prog("python -m builders.publish"), description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_version(p)
    p.add_argument("hub_dir", type=Path, help="a built dataset directory (hub/<name>, with build.json)")
    p.add_argument("--repo-id", required=True, help="the parquet dataset repo, ORG/NAME")
    p.add_argument("--wds-repo-id", help="the webdataset repo (default: <repo-id>-wds)")
    p.add_argument("--private", action="store_true", help="create missing repos private (an existing public repo is an error)")
    p.add_argument("--revision", default="main", help="branch to commit to (created from the default branch if missing)")
    p.add_argument("--dry-run", action="store_true", help="list files and card diffs; send nothing")
    p.add_argument("--no-progress", action="store_true", help="no upload progress bars")
    args = p.parse_args(argv)
    if args.no_progress:
        cli.silence_progress()
    try:
        publish(args.hub_dir, args.repo_id, args.wds_repo_id, args.private, args.revision, args.dry_run)
    except PublishError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
