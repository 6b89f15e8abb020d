"""Upload checks without an app: content sniffing, size, generated names, path-safe original names."""

from __future__ import annotations

import io

import pytest

from techmarket import uploads
from techmarket.uploads import UploadError

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


@pytest.mark.parametrize(
    ("data", "ext", "mime"), [(PDF, "pdf", "application/pdf"), (PNG, "png", "image/png"), (JPEG, "jpg", "image/jpeg")]
)
def test_accepted_types_by_content(tmp_path, data, ext, mime):
    staged = uploads.stage(io.BytesIO(data), "凭证.bin", tmp_path, 1024)
    assert staged.content_type == mime and staged.stored_name.endswith("." + ext)
    assert staged.temp_path.name.endswith(".part") and staged.temp_path.read_bytes() == data
    assert not staged.final_path.exists()
    uploads.promote(staged)
    assert staged.final_path.read_bytes() == data and not staged.temp_path.exists()
    assert uploads.open_path(tmp_path, staged.stored_name) == staged.final_path


@pytest.mark.parametrize(("data", "name"), [(EXE, "invoice.pdf"), (HTML, "合同.pdf"), (b"GIF89a....", "a.png")])
def test_renamed_files_refused_by_content(tmp_path, data, name):
    with pytest.raises(UploadError, match="只能上传PDF、JPEG或PNG"):
        uploads.stage(io.BytesIO(data), name, tmp_path, 1024)
    assert not any(tmp_path.rglob("*"))


def test_empty_and_oversized_files_refused_and_nothing_left(tmp_path):
    with pytest.raises(UploadError, match="空的"):
        uploads.stage(io.BytesIO(b""), "a.pdf", tmp_path, 1024)
    with pytest.raises(UploadError, match="不能超过"):
        uploads.stage(io.BytesIO(PDF + b"x" * 2000), "a.pdf", tmp_path, 1024)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    exact = uploads.stage(io.BytesIO(PDF + b"x" * (1024 - len(PDF))), "a.pdf", tmp_path, 1024)
    assert exact.size == 1024


def test_generated_names_never_come_from_the_user(tmp_path):
    staged = uploads.stage(io.BytesIO(PDF), "../../../etc/passwd", tmp_path, 1024)
    assert uploads.STORED_NAME_RE.match(staged.stored_name)
    assert staged.temp_path.resolve().is_relative_to(tmp_path.resolve())
    assert staged.original_name == "passwd"
    uploads.discard(staged)
    assert not staged.temp_path.exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../x.pdf", "x.pdf"),
        ("C:\\Users\\张三\\发票.pdf", "发票.pdf"),
        ("a\r\nb\x00.pdf", "ab.pdf"),
        ('"<script>".pdf', "script.pdf"),
        ("..", "附件"),
        ("", "附件"),
        (None, "附件"),
        ("长" * 200 + ".pdf", "长" * 116 + ".pdf"),
    ],
)
def test_clean_filename(raw, clean):
    assert uploads.clean_filename(raw) == clean


def test_open_path_refuses_anything_but_generated_names(tmp_path):
    (tmp_path / "secret.txt").write_text("x")
    for name in ("secret.txt", "../secret.txt", "/etc/passwd", "2026/11/../../secret.txt"):
        assert uploads.open_path(tmp_path, name) is None


def test_a_part_file_left_by_a_crash_after_commit_is_moved_in_on_first_read(tmp_path):
    staged = uploads.stage(io.BytesIO(PDF), "a.pdf", tmp_path, 1024)
    assert uploads.open_path(tmp_path, staged.stored_name) == staged.final_path
    assert staged.final_path.read_bytes() == PDF


def test_sweep_finishes_or_removes_what_a_crash_left(tmp_path):
    import os

    committed = uploads.stage(io.BytesIO(PDF), "a.pdf", tmp_path, 1024)  # crash after commit, before the move
    orphan = uploads.stage(io.BytesIO(PNG), "b.png", tmp_path, 1024)  # crash before the commit
    in_flight = uploads.stage(io.BytesIO(JPEG), "c.jpg", tmp_path, 1024)  # a request still running
    old = in_flight.temp_path.stat().st_mtime - 7200
    for staged in (committed, orphan):
        os.utime(staged.temp_path, (old, old))
    moved, deleted = uploads.sweep(
        tmp_path, {committed.stored_name}.__contains__, older_than=3600, now=in_flight.temp_path.stat().st_mtime
    )
    assert (moved, deleted) == (1, 1)
    assert committed.final_path.read_bytes() == PDF and not committed.temp_path.exists()
    assert not orphan.temp_path.exists() and not orphan.final_path.exists()
    assert in_flight.temp_path.exists()
    assert uploads.sweep(tmp_path / "missing", lambda name: True, older_than=0, now=0) == (0, 0)
