"""files.ContentDigests: what the caches key on instead of file times."""

from __future__ import annotations

import pytest

from generator import files
from generator.files import ContentDigests, content_digest


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
