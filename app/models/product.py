"""The product aggregate: what merchants sell."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, String, Text, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow
from app.models.image import Image
from app.models.user import User, _enum


class ProductStatus(StrEnum):
    ACTIVE = "active"
    HIDDEN = "hidden"


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    stock: Mapped[int] = mapped_column(default=0)
    status: Mapped[ProductStatus] = mapped_column(_enum(ProductStatus, "product_status"),
                                                  default=ProductStatus.ACTIVE, index=True)
    # Commission the merchant pays on what the buyer paid, in basis points (1000 = 10 %):
    # to the note's author, to the sharer whose link was clicked last, and to the person who
    # invited that sharer (the second and last level). Copied onto each order line when the
    # order is placed, so a change applies to later orders only.
    creator_rate_bps: Mapped[int] = mapped_column(default=1000, server_default="1000")
    sharer_rate_bps: Mapped[int] = mapped_column(default=500, server_default="500")
    inviter_rate_bps: Mapped[int] = mapped_column(default=100, server_default="100")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    merchant: Mapped[User] = relationship(lazy="joined")
    images: Mapped[list[ProductImage]] = relationship(
        order_by="ProductImage.position", cascade="all, delete-orphan", lazy="selectin")

    @property
    def is_active(self) -> bool:
        return self.status == ProductStatus.ACTIVE

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @hybrid_property
    def sellable(self) -> bool:
        """Can be bought now: active and in stock (also a SQL condition on ``Product``)."""
        return self.is_active and self.in_stock

    @sellable.inplace.expression
    @classmethod
    def _sellable_expression(cls) -> ColumnElement[bool]:
        return and_(cls.stock > 0, cls.status == ProductStatus.ACTIVE)

    def set_images(self, images: list[Image]) -> None:
        self.images = [ProductImage(image=img, position=i) for i, img in enumerate(images)]


class ProductImage(Base):
    __tablename__ = "product_image"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"),
                                            primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="RESTRICT"), index=True)

    image: Mapped[Image] = relationship(lazy="joined")
