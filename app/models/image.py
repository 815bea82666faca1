"""Uploaded images: one row per upload, files shared by content hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class Image(Base):
    __tablename__ = "image"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    @property
    def path(self) -> str:
        """Path of the full image under the uploads dir."""
        return image_path(self.sha256, self.content_type)

    @property
    def thumb_path(self) -> str:
        return thumb_path(self.sha256)


EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def image_path(sha256: str, content_type: str) -> str:
    """Where an image is stored under the uploads dir (by content hash)."""
    return f"{sha256[:2]}/{sha256}.{EXTENSIONS[content_type]}"


def thumb_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}_thumb.webp"
