"""Writing a rendered site into a directory for nginx or a CDN. Does I/O (the file system).

Only files whose bytes changed are written, each atomically (a temporary file in the same
directory, then a rename), so an unchanged file keeps its mtime and a reader never sees half
a file. A manifest (`.cmsfeed-files`) lists what the last build wrote; files it listed that
the new build does not (a topic removed from the configuration) are deleted. Nothing else
in the directory is touched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cmsfeed.errors import PublishError
from cmsfeed.feeds.site import Rendered

MANIFEST = ".cmsfeed-files"


@dataclass(frozen=True, slots=True)
class BuildReport:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def write_site(
    outdir: Path, files: Sequence[Rendered], progress: Callable[[int], None] | None = None
) -> BuildReport:
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        previous = _read_manifest(outdir)
        written: list[str] = []
        unchanged: list[str] = []
        for file in files:
            target = outdir / _safe(file.path)
            if _same_bytes(target, file.body):
                unchanged.append(file.path)
            else:
                write_atomically(target, file.body)
                written.append(file.path)
            if progress is not None:
                progress(1)
        current = {file.path for file in files}
        removed = sorted(previous - current)
        for path in removed:
            target = outdir / _safe(path)
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            _remove_empty_parents(target.parent, outdir)
        manifest = "".join(f"{path}\n" for path in sorted(current)).encode()
        if not _same_bytes(outdir / MANIFEST, manifest):
            write_atomically(outdir / MANIFEST, manifest)
    except OSError as err:
        raise PublishError(str(outdir), f"cannot write the site: {err.strerror or err}") from err
    return BuildReport(tuple(written), tuple(unchanged), tuple(removed))


def write_atomically(target: Path, body: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _same_bytes(target: Path, body: bytes) -> bool:
    try:
        if target.stat().st_size != len(body):
            return False
        return target.read_bytes() == body
    except FileNotFoundError:
        return False


def _read_manifest(outdir: Path) -> set[str]:
    try:
        text = (outdir / MANIFEST).read_text()
    except FileNotFoundError:
        return set()
    return {line for line in text.splitlines() if line and _is_safe(line)}


def _is_safe(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and ".." not in parts


def _safe(path: str) -> str:
    if not _is_safe(path):
        raise PublishError(path, "not a path inside the output directory")
    return path


def _remove_empty_parents(directory: Path, outdir: Path) -> None:
    while directory != outdir and outdir in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
