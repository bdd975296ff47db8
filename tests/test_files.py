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
