"""files.ContentDigests: what the caches key on instead of file times."""

from __future__ import annotations

import os

import pytest

from generator.engine import files
from generator.engine.files import ContentDigests, content_digest


@pytest.mark.parametrize("in_parallel", [False, True])
def test_prefetched_digests_are_the_files_and_spare_reading_them_again(tmp_path, monkeypatch, in_parallel):
    if in_parallel:  # as a cold build of a large site does it: on every core
        monkeypatch.setattr(files, "_PREFETCH_IN_PARALLEL", 1)
        monkeypatch.setattr("os.cpu_count", lambda: 2)
        monkeypatch.setattr("threading.active_count", lambda: 1)  # pytest may run threads of its own
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


def test_a_mapped_cache_gives_back_what_was_stored_and_its_large_parts_as_views_of_the_file(tmp_path, monkeypatch):
    """The parse cache keeps each incident's updates out of band in its files, mapped: they are
    read from disk only where a rebuild shows them. A damaged file reads as missing."""
    import pickle

    from generator.engine.files import read_mapped_cache, write_mapped_cache

    path = tmp_path / "00.pickle"
    details = [pickle.PickleBuffer(bytes([number]) * 5000) for number in range(3)]
    write_mapped_cache(path, ("format-1", "ids"), {"a.md": ("digest", details[0]), "b.md": [details[1], details[2]]})
    found = read_mapped_cache(path, ("format-1", "ids"))
    assert type(found["a.md"][1]) is memoryview and found["a.md"][1] == bytes([0]) * 5000  # no copy made
    assert [bytes(part) for part in found["b.md"]] == [bytes([1]) * 5000, bytes([2]) * 5000]
    assert read_mapped_cache(path, ("format-1", "other ids")) is None
    assert read_mapped_cache(tmp_path / "missing.pickle", ("format-1", "ids")) is None
    def cannot_map(*args, **kwargs):
        raise OSError(19, "No such device")  # as some network and FUSE file systems say

    with monkeypatch.context() as patched:
        patched.setattr("mmap.mmap", cannot_map)
        read = read_mapped_cache(path, ("format-1", "ids"))  # read whole instead
    assert bytes(read["a.md"][1]) == bytes([0]) * 5000 and len(read["b.md"]) == 2
    data = path.read_bytes()
    for damaged in (b"", data[:len(data) - 10], b"not a pickle at all", data[:20]):
        path.write_bytes(damaged)
        assert read_mapped_cache(path, ("format-1", "ids")) is None


def test_an_incident_from_the_mapped_parse_cache_pickles_again_whole(tmp_path):
    """An incident read from the parse cache holds its details as a view of the file; pickled
    again (a forked worker's result, another cache) it carries them as bytes, at any protocol."""
    import pickle
    from datetime import datetime, timezone

    from generator.engine.files import read_mapped_cache, write_mapped_cache
    from generator.site.incidents import parse_incident

    text = "---\ntitle: Slow\nimpact: minor\n---\n\n## 2026-11-20 10:00 UTC · Resolved\nAll **good**.\n"
    incident, _ = parse_incident(text, incident_id="slow", file="incidents/slow.md", component_ids=("api",),
                                 now=datetime(2026, 11, 21, tzinfo=timezone.utc))
    write_mapped_cache(tmp_path / "00.pickle", "key", {"slow": incident})
    cached = read_mapped_cache(tmp_path / "00.pickle", "key")["slow"]
    assert type(vars(cached)["_details_pickle"]) is memoryview
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(cached, protocol=protocol))
        assert type(vars(copy)["_details_pickle"]) is bytes
        assert copy == incident and copy.updates[0].body_html == incident.updates[0].body_html
    assert cached == incident


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
    monkeypatch.setattr(build_module, "_PARALLEL_MIN_WRITES", 10**9)  # here, one by one: the same
    changed["components/c5/index.html"] = b"page 5 here"
    assert write_output(output, changed) == (1, 299, 0) and len(forked) == 299
