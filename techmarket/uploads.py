"""Safe storage of uploaded evidence files (PDF, JPEG, PNG), outside the web root.

A file is checked by its content (magic bytes, never the name), limited in size, and written under a
generated name to ``<UPLOAD_FOLDER>/<yyyy>/<mm>/<uuid hex>.<ext>.part``. The route moves it into place
(:func:`promote`) only after the database commit, and deletes it (:func:`discard`) when anything fails,
so a crash leaves neither a row without its file nor a file nobody knows about (a ``.part`` file left by
a crash between commit and move is promoted when first requested, see :func:`open_path`, and
:func:`sweep` finishes or removes what a crash left behind).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

CHUNK = 64 * 1024
PART_SUFFIX = ".part"
MAX_NAME_LENGTH = 120

#: magic bytes -> (extension, MIME type, what the user knows it as)
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
)
STORED_NAME_RE = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|png|jpg)$")
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


class UploadError(ValueError):
    """A refused file; the message is Chinese and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sniff(head: bytes) -> tuple[str, str] | None:
    """(extension, MIME type) for a PDF, PNG or JPEG by its first bytes; None for anything else."""
    for magic, ext, mime in SIGNATURES:
        if head.startswith(magic):
            return ext, mime
    return None


def clean_filename(raw: str | None) -> str:
    """The original name for display and ``download_name``: no directories, no control characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARS.sub("", name).strip().strip(".").strip()
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME_LENGTH - len(ext) - 1] + dot + ext) if dot and len(ext) <= 8 else name[:MAX_NAME_LENGTH]
    return name or "附件"


@dataclass
class StagedFile:
    """A checked upload written to its temporary name, waiting for the commit."""

    stored_name: str  # relative to the upload folder, e.g. 2026/11/<hex>.pdf
    temp_path: Path
    final_path: Path
    original_name: str
    content_type: str
    size: int
    sha256: str


def stage(stream: BinaryIO, original_name: str | None, folder: str | Path, limit: int) -> StagedFile:
    """Check and write an upload to a temporary name; raises UploadError (and leaves nothing) when refused."""
    head = stream.read(16)
    if not head:
        raise UploadError("上传的文件是空的，请重新选择文件。")
    kind = sniff(head)
    if kind is None:
        raise UploadError("只能上传PDF、JPEG或PNG格式的文件（按文件内容判断，修改扩展名无效）。")
    ext, mime = kind
    now = datetime.now(UTC)
    stored_name = f"{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{ext}"
    final_path = Path(folder) / stored_name
    temp_path = final_path.with_name(final_path.name + PART_SUFFIX)
    temp_path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    try:
        with open(temp_path, "xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise UploadError(f"单个文件不能超过{limit // (1024 * 1024)} MB，请压缩或拆分后重新上传。")
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(CHUNK)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return StagedFile(
        stored_name=stored_name,
        temp_path=temp_path,
        final_path=final_path,
        original_name=clean_filename(original_name),
        content_type=mime,
        size=size,
        sha256=digest.hexdigest(),
    )


def promote(staged: StagedFile) -> None:
    """After the commit: move the file into place (atomic on one file system)."""
    os.replace(staged.temp_path, staged.final_path)


def discard(staged: StagedFile) -> None:
    """The commit failed or the request was refused: the temporary file goes."""
    staged.temp_path.unlink(missing_ok=True)


def open_path(folder: str | Path, stored_name: str) -> Path | None:
    """The file behind a row, never outside the folder; a ``.part`` left by a crash after commit is moved in."""
    if not STORED_NAME_RE.match(stored_name):
        return None
    path = Path(folder) / stored_name
    if path.is_file():
        return path
    part = path.with_name(path.name + PART_SUFFIX)
    if part.is_file():
        os.replace(part, path)
        return path
    return None


def sweep(folder: str | Path, is_recorded: Callable[[str], bool], *, older_than: float, now: float) -> tuple[int, int]:
    """Finish what a crash interrupted: ``.part`` files older than ``older_than`` seconds are moved into
    place when a row names them (crash between commit and move) and deleted otherwise (crash before the
    commit). Younger ones may belong to a request in flight and are left alone. Returns (moved, deleted).
    """
    moved = deleted = 0
    root = Path(folder)
    if not root.is_dir():
        return 0, 0
    for part in root.glob(f"*/*/*{PART_SUFFIX}"):
        if now - part.stat().st_mtime < older_than:
            continue
        stored_name = part.relative_to(root).as_posix().removesuffix(PART_SUFFIX)
        if STORED_NAME_RE.match(stored_name) and is_recorded(stored_name):
            os.replace(part, root / stored_name)
            moved += 1
        else:
            part.unlink(missing_ok=True)
            deleted += 1
    return moved, deleted
