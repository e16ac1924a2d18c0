"""Which files a submission takes: by extension first (the assignment's list), then, for
the formats whose start is cheap to recognise, by the first bytes of the content.

The extension check runs on the part's file name before any byte is read; the content
check on the first bytes (web/uploads.py HEAD_BYTES), before they are written. Either
refusal is a 415 and leaves nothing behind. Formats not listed here (`zip` aside, say
`psd` or `mp4`) are checked by extension only: the file is stored as sent and only ever
served back as a download (attachment, nosniff) to its owner and the course's graders.
"""

from __future__ import annotations

import codecs
import os
from pathlib import PureWindowsPath

from models.errors import UnsupportedMediaType

_ZIP = (b"PK\x03\x04",)  # Office Open XML, OpenDocument, EPUB, JAR: zip archives
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # the older Office formats
MAGIC: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "zip": _ZIP,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "odt": _ZIP,
    "ods": _ZIP,
    "odp": _ZIP,
    "epub": _ZIP,
    "doc": _OLE,
    "xls": _OLE,
    "ppt": _OLE,
}
# Plain text: UTF-8 (its first bytes decode) without NUL bytes.
TEXT = frozenset(
    {"txt", "md", "csv", "tsv", "py", "java", "c", "h", "cpp", "js", "ts", "json", "sql", "rs"}
    | {"go", "rb", "r", "tex", "html", "css", "xml", "yaml", "yml", "ipynb", "sh", "kt", "cs"}
)


def extension_of(name: str | None) -> str:
    """The lower-case extension of the client's file name, without its dot ("" if none)."""
    if not name:
        return ""
    return os.path.splitext(PureWindowsPath(name).name)[1].lower().removeprefix(".")


def check_file_name(allowed: list[str], name: str | None) -> None:
    """415 unless the file's extension is one the assignment lists."""
    if not allowed:
        raise UnsupportedMediaType("This assignment takes no files: submit text.")
    extension = extension_of(name)
    if extension not in allowed:
        shown = f'".{extension}"' if extension else "without an extension"
        raise UnsupportedMediaType(
            f"Files {shown} are not accepted here; accepted: {', '.join(allowed)}."
        )


def check_file_head(name: str | None, head: bytes) -> None:
    """415 when the file's first bytes are not what its extension says (where cheap)."""
    extension = extension_of(name)
    signatures = MAGIC.get(extension)
    if signatures is not None and not head.startswith(signatures):
        raise UnsupportedMediaType(f"The file's content is not a .{extension} file.")
    if extension in TEXT and not _looks_like_text(head):
        raise UnsupportedMediaType(f"The file's content is not a .{extension} file (text).")


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        # A character cut at the end of the head is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True
