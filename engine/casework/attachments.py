"""Files attached to cases: a size limit, a type allowlist checked on the bytes, storage in the database.

The bytes are kept in the database (``attachment_contents``), written in the same transaction
as their row and the audit event, so every web node serves them, a backup of the database holds
them, and an upload is either wholly there or not at all. They are served by the web app only
after the case's access check, under the cleaned name, never from a path people can reach.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from sqlalchemy import select

from engine.time import clock
from engine.errors import InvalidInput, NotFound
from engine.store.accounts import Attachment, AttachmentContent
from engine.store.db import Database
from engine.store.models import Event, Instance
from engine.store.states import EventKind

MAX_BYTES = int(float(os.environ.get("TRAMITA_MAX_UPLOAD_MB", "10")) * 1024 * 1024)

# extension -> (content type, how to recognise the bytes)
ALLOWED: dict[str, str] = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
}


@dataclass(frozen=True)
class AttachmentView:
    id: int
    instance_id: int
    task_id: str | None
    field: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


def _view(a: Attachment) -> AttachmentView:
    return AttachmentView(a.id, a.instance_id, a.task_id, a.field, a.filename, a.content_type, a.size, a.sha256,
                          a.uploaded_by, a.uploaded_at)


def clean_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]", "_", name).strip(" .")
    return name[-200:] or "archivo"


def _matches(ext: str, content: bytes) -> bool:
    if ext == ".pdf":
        return content.startswith(b"%PDF-")
    if ext == ".png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in (".jpg", ".jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if ext == ".txt":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in content
    if ext in (".docx", ".odt"):
        try:
            with zipfile.ZipFile(BytesIO(content)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return False
        return "word/document.xml" in names if ext == ".docx" else "content.xml" in names
    return False


def validate(filename: str, content: bytes, field: str = "file") -> tuple[str, str]:
    """The cleaned name and the content type, or InvalidInput naming the field."""
    name = clean_filename(filename)
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED:
        raise InvalidInput(f"Tipo de archivo no permitido ({ext or 'sin extensión'}). Se admiten: "
                           f"{', '.join(sorted(e.lstrip('.').upper() for e in set(ALLOWED)))}.", field=field)
    if not content:
        raise InvalidInput("El archivo está vacío.", field=field)
    if len(content) > MAX_BYTES:
        raise InvalidInput(f"El archivo excede el tamaño máximo de {MAX_BYTES // (1024 * 1024)} MB.", field=field)
    if not _matches(ext, content):
        raise InvalidInput(f"El contenido del archivo no corresponde a un {ext.lstrip('.').upper()}.", field=field)
    return name, ALLOWED[ext]


def store(db: Database, instance_id: int, filename: str, content: bytes, user: str, *, task_id: str | None = None,
          field: str | None = None) -> AttachmentView:
    name, content_type = validate(filename, content, field or "file")
    digest = hashlib.sha256(content).hexdigest()
    with db.write() as s:
        if s.get(Instance, instance_id) is None:
            raise NotFound(f"El expediente {instance_id} no existe.", field="instance")
        now = clock.now()
        row = Attachment(instance_id=instance_id, task_id=task_id, field=field, filename=name,
                         content_type=content_type, size=len(content), sha256=digest, uploaded_by=user,
                         uploaded_at=now)
        s.add(row)
        s.flush()
        s.add(AttachmentContent(attachment_id=row.id, content=content))
        s.add(Event(instance_id=instance_id, task_id=task_id, at=now, actor=user, kind=EventKind.ATTACHMENT_ADDED,
                    detail={"attachment": row.id, "filename": name, "size": len(content), "field": field}))
        return _view(row)


def for_instance(db: Database, instance_id: int) -> list[AttachmentView]:
    with db.read() as s:
        return [_view(a) for a in s.execute(select(Attachment).where(Attachment.instance_id == instance_id)
                                            .order_by(Attachment.id)).scalars()]


def get(db: Database, attachment_id: int) -> AttachmentView:
    with db.read() as s:
        a = s.get(Attachment, attachment_id)
        if a is None:
            raise NotFound(f"El archivo {attachment_id} no existe.", field="attachment")
        return _view(a)


def read(db: Database, attachment_id: int) -> bytes:
    with db.read() as s:
        if s.get(Attachment, attachment_id) is None:
            raise NotFound(f"El archivo {attachment_id} no existe.", field="attachment")
        content = s.execute(select(AttachmentContent.content)
                            .where(AttachmentContent.attachment_id == attachment_id)).scalar()
    if content is None:  # uploaded before 0005 and its file was not there to be moved in
        raise NotFound(f"El contenido del archivo {attachment_id} no está disponible.", field="attachment")
    return bytes(content)
