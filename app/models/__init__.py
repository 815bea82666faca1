"""SQLAlchemy models, one module per aggregate. Importing this registers every table."""

from app.models.base import Base
from app.models.commerce import (
    EntryState,
    IdempotencyKey,
    LedgerAccount,
    LedgerEntry,
    LedgerJournal,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundStatus,
    WebhookEvent,
)
from app.models.engagement import (
    Collection,
    Comment,
    Like,
    NotInterested,
    Report,
    ReportReason,
    ReportStatus,
    Save,
)
from app.models.feed import (
    FeedEpoch,
    FeedImpressionMark,
    FeedImpressionPage,
    FeedPlan,
    NoteImpressionDay,
)
from app.models.image import Image
from app.models.interaction import Interaction, InteractionKind, Notification, NotificationKind
from app.models.note import (
    Hashtag,
    Note,
    NoteHashtag,
    NoteImage,
    NoteMention,
    NoteProduct,
    Visibility,
)
from app.models.outbox import SearchOutbox
from app.models.product import Product, ProductImage, ProductStatus
from app.models.social import Block, Follow
from app.models.topic import UserTopic
from app.models.user import RevokedToken, Role, User

__all__ = [
    "Block", "Collection", "Comment", "Follow", "Interaction", "InteractionKind", "Like",
    "NotInterested", "Notification", "NotificationKind", "Report", "ReportReason",
    "ReportStatus", "Save", "SearchOutbox",
    "Base", "FeedEpoch", "FeedImpressionMark", "FeedImpressionPage", "FeedPlan",
    "NoteImpressionDay", "Hashtag",
    "Image", "Note", "NoteHashtag", "NoteImage",
    "NoteMention",
    "NoteProduct",
    "Product", "ProductImage", "ProductStatus", "RevokedToken", "Role", "User", "Visibility",
    "EntryState", "IdempotencyKey", "LedgerAccount", "LedgerEntry", "LedgerJournal", "Order",
    "OrderLine", "OrderStatus", "Payment", "PaymentStatus", "Refund", "RefundLine",
    "RefundStatus", "WebhookEvent", "UserTopic",
]
