"""Jinja's compiled templates, kept between builds in .heliograph-cache/jinja/, signed.

Jinja's own FileSystemBytecodeCache unpickles and runs (marshal) whatever file it finds there,
so a crafted file committed to a site's repository would run its code in `heliograph build`.
This one stores the same bytes, signed like every other cache (files.read_signed/write_signed,
cache_trust), and a file that is not this user's is treated as absent: the template is compiled.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from generator.engine.files import note_read, read_signed, write_signed


class SignedBytecodeCache(jinja2.BytecodeCache):
    def __init__(self, folder: Path):
        self.folder = folder  # made, as a real folder, by the first write (never through a link)

    def _path(self, bucket: Bucket) -> Path:
        return self.folder / f"{bucket.key}.cache"  # Jinja's keys are hex digests: safe names

    def load_bytecode(self, bucket: Bucket) -> None:
        path = self._path(bucket)
        outcome, payload = read_signed(path)
        note_read(path, outcome)
        if payload is not None:
            # Jinja checks the source's checksum inside and resets the bucket when it differs.
            bucket.bytecode_from_string(bytes(payload))

    def dump_bytecode(self, bucket: Bucket) -> None:
        write_signed(self._path(bucket), bucket.bytecode_to_string())
