"""Uploaded files, stored by the SHA-256 of their bytes: never overwritten, never modified, never named by a client.

A file is written to a temporary name in the same folder, flushed to disk and renamed, so a crash leaves either
the whole file or none; the database refers to a file only after it is in place."""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS = b"application/vnd.oasis.opendocument.spreadsheet"
SUFFIXES = (".xlsx", ".xls", ".ods")


def sniff(data: bytes) -> str | None:
    """The workbook kind from the bytes themselves (".xlsx", ".xls", ".ods"), whatever the file is called."""
    if data.startswith(OLE):
        return ".xls"
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(BytesIO(data)) as z:
            names = set(z.namelist())
            if "mimetype" in names and _head(z, "mimetype").strip() == ODS:
                return ".ods"
            if "xl/workbook.xml" in names:
                return ".xlsx"
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return None
    return None


def _head(z: zipfile.ZipFile, name: str) -> bytes:
    """The first bytes of an entry: a "mimetype" that inflates to gigabytes is not inflated here to find out."""
    with z.open(name) as entry:
        return entry.read(len(ODS) + 16)


def stored_name(sha256: str, suffix: str) -> str:
    """Where a file is kept, inside the data folder. Names come from the database, but are never trusted as paths."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256) or suffix not in SUFFIXES:
        raise ValueError("not a stored file")
    return f"files/{sha256[:2]}/{sha256}{suffix}"


class Store:
    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "files").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str, suffix: str) -> Path:
        return self.root / stored_name(sha256, suffix)

    def put(self, data: bytes, suffix: str) -> tuple[str, Path]:
        """Store `data` once; the same bytes uploaded again are the same file."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha, suffix)
        if target.exists():
            return sha, target
        target.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                self.write(f, data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha, target

    @staticmethod
    def write(f, data: bytes) -> None:
        """Write and flush to the disk; a full disk (ENOSPC) raises here, before the file has its name."""
        f.write(data)
        f.flush()
        os.fsync(f.fileno())

    def sweep(self, before: float) -> None:
        """Delete the temporary files of uploads cut off by a crash (`.upload-…`, never read) last written before
        `before` (a time.time()). Best effort: another server process starting may sweep the same files."""
        for p in (self.root / "files").glob("*/.upload-*"):
            try:
                if p.lstat().st_mtime < before:
                    p.unlink()
            except OSError:
                continue

    def check(self, sha256: str, suffix: str) -> bool:
        """Whether the stored bytes still have their SHA-256."""
        path = self.path(sha256, suffix)
        return path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256
