"""builders.core.publish against the Hub stand-in (tests/hub_server.py) on 127.0.0.1: the files and
commits the Hub receives, re-publish, changed shards, dry run, a dropped and a killed upload, bad
input, and consuming the published repos (load_dataset, webdataset, models.train) offline from a cache.

The publisher and the consumers run as subprocesses: huggingface_hub reads HF_ENDPOINT and
HF_HUB_OFFLINE when it is imported, and this test process is offline (conftest). Clients run with
HF_HUB_DISABLE_XET=1: the stand-in speaks the git-lfs "basic" transfer, not Xet.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from fnmatch import fnmatch
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from hub_fixtures import built_bliss_hub
from hub_server import HubServer, User

from builders import publish as publisher

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "colorhist-minilm"
REPO, WDS = "org/bliss-sample", "org/bliss-sample-wds"
TOKENS = {"tok-alice": User("alice", orgs=["org"]), "tok-read": User("bob", orgs=["org"], can_write=False)}


@pytest.fixture(scope="session")
def bliss_hub(bliss_sample_dir, tmp_path_factory):
    return built_bliss_hub(bliss_sample_dir, tmp_path_factory.getbasetemp())


@pytest.fixture
def build(bliss_hub, tmp_path) -> Path:
    """A copy of the built sample the test may change."""
    return Path(shutil.copytree(bliss_hub, tmp_path / "bliss-sample"))


@pytest.fixture
def hub():
    with HubServer(TOKENS) as server:
        yield server
        assert server.errors == []


def client_env(hub: HubServer | None, tmp_path: Path, token: str | None = "tok-alice", **extra) -> dict:
    offline = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")  # huggingface_hub reads the first two
    env = {k: v for k, v in os.environ.items() if k not in (*offline, "HF_TOKEN")}
    env.update(HF_HOME=str(tmp_path / "hf-home"), HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
               HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    if hub is not None:
        env["HF_ENDPOINT"] = hub.url
    if token:
        env["HF_TOKEN"] = token
    env.update(extra)
    return env


def publish(build: Path, env: dict, *args: str, repo: str = REPO) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "builders.core.publish", str(build), "--repo-id", repo, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def local_files(build: Path, folders) -> dict[str, bytes]:
    return {p.relative_to(build).as_posix(): p.read_bytes() for f in folders for p in (build / f).rglob("*") if p.is_file()}


def card_yaml(text: str) -> dict:
    return yaml.safe_load(re.match(r"^---\n(.*?)\n---\n", text, re.S).group(1))


def rewrite_shard(build: Path, rel: str, title: str) -> None:
    """What a rebuild that changed one example does: that shard's bytes and build.json's record of it."""
    path = build / rel
    table = pq.read_table(path)
    titles = table.column("title").to_pylist()
    titles[0] = title
    table = table.set_column(table.schema.get_field_index("title"), table.schema.field("title"), [titles])
    pq.write_table(table, path)
    record = json.loads((build / "build.json").read_text())
    split = Path(rel).name.split("-")[0]
    record["configs"][CONFIG]["splits"][split]["num_bytes"] = path.stat().st_size
    (build / "build.json").write_text(json.dumps(record, indent=2))


def reshard(build: Path, split: str, parts: int) -> list[str]:
    """A rebuild with another shard count: the split's shards are renamed (-of-0000N changes)."""
    folder = build / "data" / CONFIG
    table = pq.read_table(sorted(folder.glob(f"{split}-*.parquet")))
    for old in folder.glob(f"{split}-*.parquet"):
        old.unlink()
    names, rows = [], -(-table.num_rows // parts)
    for i in range(parts):
        name = f"data/{CONFIG}/{split}-{i:05d}-of-{parts:05d}.parquet"
        pq.write_table(table.slice(i * rows, rows), build / name)
        names.append(name)
    record = json.loads((build / "build.json").read_text())
    record["configs"][CONFIG]["splits"][split].update(parquet=names, num_bytes=sum((build / n).stat().st_size for n in names))
    (build / "build.json").write_text(json.dumps(record, indent=2))
    return names


# ---------------------------------------------------------------- publishing


def test_publish_sends_every_file_in_one_commit_per_repo(build, hub, tmp_path):
    out = ok(publish(build, client_env(hub, tmp_path)))
    repo, wds = hub.repo("dataset", REPO), hub.repo("dataset", WDS)
    assert not repo.private and not wds.private
    # parquet repo: card, build.json and the shards, byte for byte; shards in LFS under their sha256
    expected = {"README.md", "build.json", ".gitattributes", *local_files(build, ["data", "figures"])}
    files = repo.files()
    assert set(files) == expected
    assert files["build.json"] == (build / "build.json").read_bytes()
    tree = repo.resolve("main").tree
    for path, data in local_files(build, ["data", "figures"]).items():
        assert files[path] == data
        assert tree[path].sha256 == sha256(data) and tree[path].size == len(data)
        assert repo.lfs[sha256(data)] == data
    # one commit on top of the repo's initial one, touching exactly the build's files
    history = repo.history()
    assert len(history) == 2 and history[1].title == "initial commit"
    assert sorted(op["path"] for op in history[0].operations) == sorted(expected - {".gitattributes"})
    assert {op["key"] for op in history[0].operations if op["path"].endswith(".parquet")} == {"lfsFile"}
    # the card loads the repo id (no build-machine path) and points to the webdataset repo
    card = files["README.md"].decode()
    assert f'load_dataset("{REPO}", "{CONFIG}")' in card and str(build) not in card and "/tmp/" not in card
    assert f"[`{WDS}`](/datasets/{WDS})" in card
    meta = card_yaml(card)
    assert [c["config_name"] for c in meta["configs"]] == [CONFIG]
    assert {d["split"]: d["path"] for d in meta["configs"][0]["data_files"]} == {
        s: f"data/{CONFIG}/{s}-*.parquet" for s in ("train", "validation", "test")}
    # webdataset repo: its own card declaring the tars, and the tars
    wds_files = wds.files()
    tars = local_files(build, ["wds"])
    assert set(wds_files) == {"README.md", ".gitattributes", *tars}
    assert all(wds_files[p] == d and wds.resolve("main").tree[p].sha256 == sha256(d) for p, d in tars.items())
    wds_meta = card_yaml(wds_files["README.md"].decode())
    declared = {d["split"]: d["path"] for d in wds_meta["configs"][0]["data_files"]}
    assert wds_meta["configs"][0]["config_name"] == CONFIG and set(declared) == {"train", "validation", "test"}
    for split, pattern in declared.items():
        assert pattern.endswith(".tar.gz") and sorted(p for p in tars if fnmatch(p, pattern)) == sorted(
            p for p in tars if Path(p).name.startswith(f"{split}-"))
    assert "parquet" not in json.dumps(wds_meta["configs"]) and "webdataset" in wds_meta["tags"]
    (info,) = wds_meta["dataset_info"]  # every member typed: the loader infers nothing
    assert {f["name"] for f in info["features"]} >= {"json", "frames_colorhist.npy", "__key__"}
    packed = next(f for f in info["features"] if f["name"] == "json")["struct"]
    assert {"name": "frame_labels", "list": "int8"} in packed  # small arrays typed inside json
    assert all({"name", "num_bytes", "num_examples"} <= set(s) for s in info["splits"])  # no "Ignoring part of dataset_info"
    assert wds_meta["configs"][0]["default"] is True
    assert f'load_dataset("{WDS}", "{CONFIG}"' in wds_files["README.md"].decode()
    assert len(wds.history()) == 2
    # every LFS object was sent once; the output names both commits
    sent = [oid for _, oid, _ in hub.lfs_puts]
    assert sorted(sent) == sorted({sha256(d) for d in [*tars.values(), *local_files(build, ["data", "figures"]).values()]})
    assert f"{WDS}: published commit {wds.history()[0].oid[:7]}" in out
    assert f"{REPO}: published commit {repo.history()[0].oid[:7]}" in out


def test_republishing_an_unchanged_build_sends_nothing(build, hub, tmp_path):
    env = client_env(hub, tmp_path)
    ok(publish(build, env))
    commits = {r.repo_id: len(r.history()) for r in hub.repos.values()}
    mark = len(hub.requests)
    out = ok(publish(build, env))
    assert {r.repo_id: len(r.history()) for r in hub.repos.values()} == commits
    assert hub.writes(since=mark) == []  # no preupload, LFS batch, PUT or commit
    assert f"{REPO}: up to date" in out and f"{WDS}: up to date" in out


def test_a_changed_shard_is_the_only_data_uploaded(build, hub, tmp_path):
    env = client_env(hub, tmp_path)
    ok(publish(build, env))
    repo, wds = hub.repo("dataset", REPO), hub.repo("dataset", WDS)
    before, wds_commits, puts = repo.files(), len(wds.history()), len(hub.lfs_puts)
    shard = f"data/{CONFIG}/train-00000-of-00001.parquet"
    rewrite_shard(build, shard, "a retitled clip")
    out = ok(publish(build, env))
    after = repo.files()
    # one new commit with that shard, and build.json + card (build.json's num_bytes changed with it); the
    # webdataset repo gets its card only (its dataset_info declares the same rows' num_bytes), no tar
    assert len(repo.history()) == 3 and len(wds.history()) == wds_commits + 1
    assert sorted(op["path"] for op in repo.history()[0].operations) == ["README.md", "build.json", shard]
    assert [op["path"] for op in wds.history()[0].operations] == ["README.md"]
    assert [oid for _, oid, _ in hub.lfs_puts[puts:]] == [sha256((build / shard).read_bytes())]
    assert after[shard] == (build / shard).read_bytes() != before[shard]
    assert {p: d for p, d in after.items() if p not in (shard, "README.md", "build.json")} == {
        p: d for p, d in before.items() if p not in (shard, "README.md", "build.json")}
    assert f"{REPO}: published commit" in out and "3 uploaded, 0 deleted" in out and "1 uploaded, 0 deleted" in out


def test_renamed_shards_are_replaced_in_the_same_commit(build, hub, tmp_path):
    env = client_env(hub, tmp_path)
    ok(publish(build, env))
    repo = hub.repo("dataset", REPO)
    old = f"data/{CONFIG}/train-00000-of-00001.parquet"
    new = reshard(build, "train", 2)
    ok(publish(build, env))
    ops = {op["path"]: op["key"] for op in repo.history()[0].operations}
    assert len(repo.history()) == 3
    assert ops == {old: "deletedFile", new[0]: "lfsFile", new[1]: "lfsFile", "README.md": "file", "build.json": "file"}
    files = repo.files()
    assert old not in files and all(files[n] == (build / n).read_bytes() for n in new)
    assert ".gitattributes" in files  # files the build does not own stay


def test_figures_are_published_and_a_changed_figure_is_the_only_upload(build, hub, tmp_path):
    env = client_env(hub, tmp_path)
    (build / "figures").mkdir(exist_ok=True)  # the build drew one; replace it
    (build / "figures" / f"{CONFIG}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    ok(publish(build, env))
    repo = hub.repo("dataset", REPO)
    assert repo.files()[f"figures/{CONFIG}.png"] == (build / "figures" / f"{CONFIG}.png").read_bytes()
    (build / "figures" / f"{CONFIG}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\1" * 64)
    ok(publish(build, env))
    assert [op["path"] for op in repo.history()[0].operations] == [f"figures/{CONFIG}.png"]


def test_dry_run_lists_files_and_card_diffs_and_sends_no_write(build, hub, tmp_path):
    env = client_env(hub, tmp_path)
    out = ok(publish(build, env, "--dry-run"))
    assert hub.repos == {} and hub.writes() == []
    for rel, data in local_files(build, ["data", "wds"]).items():
        line = next(line for line in out.splitlines() if f" {rel}  <- " in line)
        assert line.split()[0] == "upload" and f"{len(data):,} B" in line and line.endswith(str(build / rel))
    assert "does not exist: would be created (public)" in out
    assert f"+++ {REPO}:README.md (new)" in out and f'+ds = load_dataset("{REPO}", "{CONFIG}")' in out
    assert f"+++ {WDS}:README.md (new)" in out and "+    path: wds/colorhist-minilm/train-*.tar" in out
    # against a published repo: unchanged files, deletions and a real diff of the card
    ok(publish(build, env))
    reshard(build, "validation", 2)
    record = json.loads((build / "build.json").read_text())
    record["card"]["pretty_name"] = "BLiSS sample, renamed"
    (build / "build.json").write_text(json.dumps(record, indent=2))
    mark, commits = len(hub.requests), {r.repo_id: len(r.history()) for r in hub.repos.values()}
    out = ok(publish(build, env, "--dry-run"))
    assert hub.writes(since=mark) == []
    assert {r.repo_id: len(r.history()) for r in hub.repos.values()} == commits
    assert re.search(rf"^  unchanged +[\d,]+ B  data/{CONFIG}/train-00000-of-00001.parquet", out, re.M)
    assert re.search(rf"^  delete +[\d,]+ B  data/{CONFIG}/validation-00000-of-00001.parquet", out, re.M)
    sha = hub.repo("dataset", REPO).history()[0].oid[:7]
    assert f"--- {REPO}@{sha}:README.md" in out
    assert "-pretty_name: 'BLiSS: Behance LiveStream Summarization (synthetic sample)'" in out
    assert "+pretty_name: BLiSS sample, renamed" in out


def test_a_connection_dropped_mid_upload_is_retried_into_one_commit(build, hub, tmp_path):
    shard = f"data/{CONFIG}/train-00000-of-00001.parquet"
    data = (build / shard).read_bytes()
    hub.drop_put_once(sha256(data))
    ok(publish(build, client_env(hub, tmp_path)))
    repo = hub.repo("dataset", REPO)
    puts = [p for m, p in hub.requests if m == "PUT" and p.endswith(sha256(data))]
    assert len(puts) == 2  # the dropped one and the retry
    assert repo.lfs[sha256(data)] == data and repo.files()[shard] == data
    assert len(repo.history()) == 2  # one commit, not two


def test_a_refused_upload_is_an_error_and_nothing_partial_is_reported_published(build, hub, tmp_path):
    env = client_env(hub, tmp_path)
    shard = f"data/{CONFIG}/validation-00000-of-00001.parquet"
    hub.fail_put_once(sha256((build / shard).read_bytes()), 403)
    failed = publish(build, env)
    error = one_line_error(failed)
    assert error.startswith(f"error: {REPO}: ") and "HTTP 403" in error and "nothing was committed" in error
    assert "validation-00000-of-00001.parquet" in error  # which file
    assert f"{WDS}: published commit" in failed.stdout and f"{REPO}: published" not in failed.stdout
    assert len(hub.repo("dataset", REPO).history()) == 1 and len(hub.repo("dataset", WDS).history()) == 2
    ok(publish(build, env))
    assert hub.repo("dataset", REPO).files()[shard] == (build / shard).read_bytes()


def test_a_killed_upload_commits_nothing_and_a_rerun_sends_only_what_is_missing(build, hub, tmp_path):
    env = client_env(hub, tmp_path)
    shards = local_files(build, ["data"])
    stalled = f"data/{CONFIG}/train-00000-of-00001.parquet"
    hub.stall_put(sha256(shards[stalled]))
    proc = subprocess.Popen([sys.executable, "-m", "builders.core.publish", str(build), "--repo-id", REPO],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 120
        others = {sha256(d) for p, d in shards.items() if p != stalled}
        while not (("dataset", REPO) in hub.repos and others <= set(hub.repo("dataset", REPO).lfs)):
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    repo = hub.repo("dataset", REPO)
    assert len(repo.history()) == 1  # nothing committed
    mark = len(hub.lfs_puts)
    ok(publish(build, env))
    assert [oid for _, oid, _ in hub.lfs_puts[mark:]] == [sha256(shards[stalled])]  # the others were kept
    assert len(repo.history()) == 2 and all(repo.files()[p] == d for p, d in shards.items())


def test_private_repos_and_a_branch(build, hub, tmp_path):
    env = client_env(hub, tmp_path)
    ok(publish(build, env, "--private", repo="org/private-sample"))
    assert hub.repo("dataset", "org/private-sample").private and hub.repo("dataset", "org/private-sample-wds").private
    ok(publish(build, env, repo="org/public-sample"))
    refused = publish(build, env, "--private", repo="org/public-sample")
    assert refused.returncode == 2 and "org/public-sample-wds exists and is public" in refused.stderr
    # a branch: created from main, committed to; main untouched
    rewrite_shard(build, f"data/{CONFIG}/test-00000-of-00001.parquet", "on a branch")
    repo = hub.repo("dataset", "org/public-sample")
    main_before = repo.branches["main"]
    out = ok(publish(build, env, "--revision", "v2", repo="org/public-sample"))
    assert "branch v2 does not exist: will be created" in out
    assert repo.branches["main"] == main_before and repo.history("v2")[1].oid == main_before
    assert repo.files("v2")[f"data/{CONFIG}/test-00000-of-00001.parquet"] == (
        build / f"data/{CONFIG}/test-00000-of-00001.parquet").read_bytes()


# ---------------------------------------------------------------- bad input and setup errors


def one_line_error(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    return lines[0]


def test_bad_input_is_a_one_line_error_before_any_request(build, tmp_path, capsys):
    """In-process: these fail before huggingface_hub is asked anything (this process is offline)."""
    def run(path, *args) -> str:
        capsys.readouterr()
        assert publisher.main([str(path), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err
        return err

    assert "is not a directory" in run(tmp_path / "nowhere", "--repo-id", REPO)
    (tmp_path / "empty").mkdir()
    assert "has no build.json" in run(tmp_path / "empty", "--repo-id", REPO)
    assert "is not ORG/NAME" in run(build, "--repo-id", "bliss")
    assert "is not ORG/NAME" in run(build, "--repo-id", "a/b/c")
    assert "not a valid repo id" in run(build, "--repo-id", "org/bad name")
    assert "must differ from --repo-id" in run(build, "--repo-id", REPO, "--wds-repo-id", REPO)
    assert "HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set" in run(build, "--repo-id", REPO)
    broken = Path(shutil.copytree(build, tmp_path / "broken"))
    shard = broken / "data" / CONFIG / "test-00000-of-00001.parquet"
    shard.rename(shard.with_name("test-00000-of-00002.parquet"))
    assert "test-00000-of-00001.parquet is listed in build.json but missing" in run(broken, "--repo-id", REPO)
    shard.with_name("test-00000-of-00002.parquet").rename(shard)
    (broken / "wds" / CONFIG / "train-000001.tar").write_bytes(b"")
    assert "train-000001.tar is not in build.json" in run(broken, "--repo-id", REPO)
    (broken / "wds" / CONFIG / "train-000001.tar").unlink()
    (broken / "build.json").write_text("{not json")
    assert "is not valid JSON" in run(broken, "--repo-id", REPO)
    (broken / "build.json").write_text(json.dumps({"dataset": "x", "configs": {CONFIG: {"splits": {"train": {}}}}}))
    assert "has no card facts" in run(broken, "--repo-id", REPO)


def test_token_permission_and_network_errors_exit_2_and_create_nothing(build, hub, tmp_path):
    no_token = one_line_error(publish(build, client_env(hub, tmp_path, token=None)))
    assert "no Hugging Face token" in no_token and "HF_TOKEN" in no_token
    assert "rejected the token (HTTP 401" in one_line_error(publish(build, client_env(hub, tmp_path, token="forged")))
    assert "read-only" in one_line_error(publish(build, client_env(hub, tmp_path, token="tok-read")))
    denied = one_line_error(publish(build, client_env(hub, tmp_path), repo="someone-else/bliss"))
    assert "someone-else/bliss-wds does not exist and the token may not create it" in denied
    assert hub.repos == {} and not [r for r in hub.requests if r[0] in ("PUT",) or "/commit/" in r[1]]
    with HubServer() as gone:
        url = gone.url  # a port nothing listens on once this server is closed
    down = one_line_error(publish(build, client_env(None, tmp_path, HF_ENDPOINT=url)))
    assert f"cannot reach {url} (HF_ENDPOINT)" in down
    offline = one_line_error(publish(build, client_env(hub, tmp_path, HF_HUB_OFFLINE="1")))
    assert "HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set" in offline and "unset it" in offline


def test_a_commit_on_a_repo_that_changed_meanwhile_is_refused(build, hub, tmp_path):
    """The commit names the commit it was planned against: a push in between makes it fail (HTTP 412)
    instead of mixing two builds; a rerun plans against the new state."""
    env = client_env(hub, tmp_path)
    ok(publish(build, env))
    repo = hub.repo("dataset", REPO)
    rewrite_shard(build, f"data/{CONFIG}/test-00000-of-00001.parquet", "second build")
    hub.stall_put(sha256((build / f"data/{CONFIG}/test-00000-of-00001.parquet").read_bytes()))
    proc = subprocess.Popen([sys.executable, "-m", "builders.core.publish", str(build), "--repo-id", REPO],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mark, deadline = len(hub.requests), time.time() + 120
    while not any(m == "PUT" for m, _ in hub.requests[mark:]):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)
    repo.commit(repo.resolve("main"), "someone else's push", [], dict(repo.resolve("main").tree), "main")
    hub.release_puts()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "changed on the Hub while publishing (HTTP 412)" in err
    assert repo.history()[0].title == "someone else's push"
    ok(publish(build, env))
    assert repo.history()[1].title == "someone else's push" and repo.history()[0].title.startswith("Publish")


# ---------------------------------------------------------------- consuming what was published


CONSUME_ONLINE = """
import json, re, sys
import datasets
datasets.config.USE_PARQUET_EXPORT = False  # else datasets asks datasets-server.<HF_ENDPOINT host>
from huggingface_hub import hf_hub_download
repo, wds_repo, config = sys.argv[1:4]
# run the "Load it" code of both cards as a reader would copy it
blocks = {}
for r in (repo, wds_repo):
    card = open(hf_hub_download(r, "README.md", repo_type="dataset")).read()
    section = card.split("## Load it", 1)[1].split("\\n## ", 1)[0]
    blocks[r] = re.findall(r"```python\\n(.*?)```", section, re.S)
    for block in blocks[r]:
        scope = {}
        exec(block, scope)
        if "example" in scope:
            assert scope["example"]["id"] and len(scope["example"]["frames_colorhist"]) > 0
        if "sample" in scope:
            assert "json" in scope["sample"] and "frames_colorhist.npy" in scope["sample"]
        if "webdataset" in block:
            assert len(list(scope["ds"])) > 0
ds = datasets.load_dataset(repo, config)
wds = datasets.load_dataset(wds_repo, config, split="train")
streamed = list(datasets.load_dataset(wds_repo, config, split="train", streaming=True))
print(json.dumps({"rows": {s: ds[s].num_rows for s in ds}, "wds_rows": wds.num_rows, "streamed": len(streamed),
                  "card_blocks": {r: len(b) for r, b in blocks.items()},
                  "wds_columns": sorted(wds.column_names), "streamed_columns": sorted(streamed[0])}))
"""

CONSUME_OFFLINE = """
import json, sys
import datasets
from models import train
from models.data import load_parquet, split_names
repo, config, run = sys.argv[1:4]
ds = datasets.load_dataset(repo, config)
rows = load_parquet(repo, config, "train")
code = train.main(["--model", "tiny_summ:build", "--dataset", repo, "--config", config, "--out", run,
                   "--epochs", "1", "--batch-size", "2"])
print(json.dumps({"rows": {s: ds[s].num_rows for s in ds}, "splits": split_names(repo, config),
                  "ids": list(rows["id"]), "train_exit": code}))
"""


@pytest.mark.slow
def test_published_repos_load_and_train_offline_from_the_cache(build, hub, tmp_path):
    ok(publish(build, client_env(hub, tmp_path)))
    env = client_env(hub, tmp_path, HF_HOME=str(tmp_path / "reader-cache"))
    consumed = subprocess.run([sys.executable, "-c", CONSUME_ONLINE, REPO, WDS, CONFIG], env=env,
                              capture_output=True, text=True, timeout=600, cwd=ROOT)
    online = json.loads(ok(consumed).splitlines()[-1])
    assert "Ignoring part of dataset_info" not in consumed.stderr  # the -wds card's splits have num_bytes
    record = json.loads((build / "build.json").read_text())["configs"][CONFIG]["splits"]
    counts = {s: v["num_examples"] for s, v in record.items()}
    assert online["rows"] == counts and online["wds_rows"] == online["streamed"] == counts["train"]
    assert {"json", "frames_colorhist.npy", "sentences_minilm.npy"} <= set(online["wds_columns"])
    assert online["streamed_columns"] == online["wds_columns"]
    assert online["card_blocks"] == {REPO: 1, WDS: 2}  # every "Load it" snippet ran
    hub.__exit__(None, None, None)  # the Hub is gone: what follows reads the cache only
    offline_env = {**env, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": hub.url}
    run = tmp_path / "run"  # models.train --dataset ORG/NAME, in the same offline process
    offline = json.loads(ok(subprocess.run([sys.executable, "-c", CONSUME_OFFLINE, REPO, CONFIG, str(run)],
                                           env=offline_env, capture_output=True, text=True, timeout=600,
                                           cwd=ROOT)).splitlines()[-1])
    assert offline["rows"] == counts and sorted(offline["splits"]) == sorted(counts)
    assert offline["ids"] == pq.read_table(build / f"data/{CONFIG}/train-00000-of-00001.parquet").column("id").to_pylist()
    assert offline["train_exit"] == 0
    config = json.loads((run / "config.json").read_text())
    assert config["dataset"] == REPO and config["family"] == "bliss"
    assert [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1]


def test_an_offline_dry_run_lists_every_file_and_both_cards_and_exits_0(build, tmp_path):
    env = client_env(None, tmp_path, HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")  # nothing listens there
    out = ok(publish(build, env, "--dry-run"))
    files = {**local_files(build, ["data", "wds", "figures"]), "build.json": (build / "build.json").read_bytes()}
    for rel, data in files.items():
        line = next(line for line in out.splitlines() if f" {rel}  <- " in line)
        assert line.split()[0] == "send" and f"{len(data):,} B" in line
    assert out.count("not compared with the Hub (offline)") >= 3  # the heading and each repo
    assert f"+++ {REPO}:README.md (new)" in out and f"+++ {WDS}:README.md (new)" in out
    refused = publish(build, env)  # a real publish offline stays an error
    assert refused.returncode == 2 and "HF_HUB_OFFLINE" in refused.stderr


@pytest.mark.slow  # two builds of the BLiSS sample
def test_a_republish_after_an_unchanged_rebuild_sends_no_file(bliss_sample_dir, hub, tmp_path):
    """Two builds of the same input: byte-equal tars, parquet, figures, build.json and cards, so nothing is sent."""
    from builders import bliss

    out = tmp_path / "hub"
    args = ["--sample-dir", str(bliss_sample_dir), "--out", str(out), "--work", str(tmp_path / "work"), "--no-progress"]
    assert bliss.main(args) == 0
    first = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    env = client_env(hub, tmp_path)
    ok(publish(out, env))
    time.sleep(1.1)  # another second: anything stamped with the clock would differ
    assert bliss.main(args) == 0
    second = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert sorted(first) == sorted(second) and any(p.endswith(".tar.gz") for p in first)
    assert [p for p in first if first[p] != second[p]] == []
    mark = len(hub.requests)
    out_text = ok(publish(out, env))
    assert hub.writes(since=mark) == []  # no preupload, LFS batch, PUT or commit
    assert f"{REPO}: up to date" in out_text and f"{WDS}: up to date" in out_text
