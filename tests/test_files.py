"""files.ContentDigests: what the caches key on instead of file times."""

from __future__ import annotations

import os

import pytest

from generator.engine.files import ContentDigests, content_digest


@pytest.mark.parametrize("in_parallel", [False, True])
def test_prefetched_digests_are_the_files_and_spare_reading_them_again(tmp_path, request, monkeypatch, in_parallel):
    if in_parallel:  # as a cold build of a large site does it: on every core
        request.getfixturevalue("on_every_core")
    paths = []
    for number in range(20):
        path = tmp_path / f"{number:02d}.jsonl"
        path.write_bytes(b"line %d\n" % number * (number + 1))
        paths.append(path)
    digests = ContentDigests(tmp_path / "digests.pickle")
    digests.prefetch([(path.name, path) for path in paths] + [("gone", tmp_path / "missing.jsonl")])
    monkeypatch.setattr("builtins.open", lambda *args, **kwargs: pytest.fail("read again"))
    assert [digests.digest(path, path.name) for path in paths] == [content_digest(path.read_bytes()) for path in paths]
    assert digests.digest(tmp_path / "missing.jsonl", "gone") is None


def test_the_store_forgets_files_no_run_asks_about(tmp_path):
    """Incidents get deleted and history shards leave the window: their digests must not be
    kept for ever."""
    kept, gone = tmp_path / "kept.md", tmp_path / "gone.md"
    kept.write_text("kept")
    gone.write_text("gone")
    first = ContentDigests(tmp_path / "digests.pickle")
    first.digest(kept, "kept.md")
    first.digest(gone, "gone.md")
    first.save()
    gone.unlink()
    second = ContentDigests(tmp_path / "digests.pickle")
    assert second.known.keys() == {"kept.md", "gone.md"}
    assert second.digest(kept, "kept.md") == content_digest(b"kept")
    assert second.digest(gone, "gone.md") is None
    second.save()
    assert ContentDigests(tmp_path / "digests.pickle").known.keys() == {"kept.md"}


def test_buckets_rewrite_only_the_files_whose_entries_changed(tmp_path):
    """The ledger of a large site's outputs and the fragments of its pages are kept in buckets:
    a rebuild that changed a few entries rewrites a few files, and what is read back is exactly
    what was saved, a damaged file costing only its own entries."""
    from generator.engine.files import Buckets

    folder = tmp_path / "ledger"
    entries = {f"incidents/{number}/index.html": ("key", str(number)) for number in range(500)}
    Buckets(folder, "format-1").save(entries)
    written = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    assert len(written) == 32

    store = Buckets(folder, "format-1")
    assert store.load() == entries
    changed = dict(entries)
    changed["incidents/7/index.html"] = ("another key", "7")
    del changed["incidents/8/index.html"]
    changed["incidents/new/index.html"] = ("key", "new")
    for path in folder.iterdir():
        os.utime(path, ns=(1, 1))  # so that a rewrite shows
    store.save(changed)
    rewritten = [path.name for path in folder.iterdir() if path.stat().st_mtime_ns != 1]
    assert 1 <= len(rewritten) <= 3
    assert Buckets(folder, "format-1").load() == changed
    assert Buckets(folder, "format-1").load()["incidents/7/index.html"] == ("another key", "7")
    assert "incidents/8/index.html" not in Buckets(folder, "format-1").load()
    assert Buckets(folder, "format-2").load() == {}  # made from other inputs: not used

    for path in folder.iterdir():
        os.utime(path, ns=(1, 1))
    Buckets(folder, "format-1").update({"incidents/9/index.html": ("changed", "9"), "incidents/10/index.html": None,
                                        "incidents/11/index.html": ("key", "11"), "never/there.html": None})
    changed.update({"incidents/9/index.html": ("changed", "9")})
    del changed["incidents/10/index.html"]
    assert Buckets(folder, "format-1").load() == changed  # only what was named changed
    rewritten = [path.name for path in folder.iterdir() if path.stat().st_mtime_ns != 1]
    assert 1 <= len(rewritten) <= 2  # the files of the two entries changed, and no other

    (folder / rewritten[0]).write_bytes(b"not a pickle")
    survived = Buckets(folder, "format-1").load()
    assert 0 < len(survived) < len(changed) and all(changed[name] == value for name, value in survived.items())


def test_many_changed_outputs_are_written_on_every_core_exactly_as_one_process_would(tmp_path, monkeypatch):
    """A check run that changes the page's status rewrites hundreds of files, spread over forked
    workers: each must be written only if it changed, new folders made, and the counts right."""
    from generator.engine import build as build_module
    from generator.engine.build import write_output
    from generator.engine.reuse import KEEP

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("threading.active_count", lambda: 1)  # pytest may run threads of its own
    output = tmp_path / "build"
    files = {f"components/c{number}/index.html": f"page {number}".encode() for number in range(300)}
    assert write_output(output, files) == (300, 0, 0)
    forked = []
    real = build_module._write_if_changed
    monkeypatch.setattr(build_module, "_write_if_changed", lambda *args: forked.append(os.getpid()) or real(*args))
    changed = {path: (content + b" again" if number % 3 == 0 else content)
               for number, (path, content) in enumerate(files.items())}
    changed["new/folder/index.html"] = b"new"
    changed["components/c1/index.html"] = KEEP
    del changed["components/c2/index.html"]
    assert write_output(output, changed) == (101, 199, 1)
    assert forked == []  # done in the forked workers, not here
    assert (output / "components/c3/index.html").read_bytes() == b"page 3 again"
    assert (output / "components/c4/index.html").read_bytes() == b"page 4"
    assert (output / "new/folder/index.html").read_bytes() == b"new"
    assert not (output / "components/c2").exists()
    from generator.engine.parallel import tuned

    with tuned(writes=10**9):  # here, one by one: the same
        changed["components/c5/index.html"] = b"page 5 here"
        assert write_output(output, changed) == (1, 299, 0) and len(forked) == 299
