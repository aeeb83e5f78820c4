"""Typed SQLAlchemy 2 models: the one store every capability shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """Per-user dialogue state; read and written in the transaction of each update."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Idempotency log: an update id is claimed in the same transaction that handles it."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Notice(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_no: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100))
    date: Mapped[str] = mapped_column(String(20))
    effective: Mapped[str | None] = mapped_column(String(20), default=None)
    source: Mapped[str] = mapped_column(String(200))
    # The raw published text, kept so that `reindex` can re-parse with a newer parser.
    raw_text: Mapped[str] = mapped_column(Text)
    bundled: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Clause(Base):
    __tablename__ = "clauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)


class QaLog(Base):
    """Every question asked, answered or not; feedback buttons point at a row here."""

    __tablename__ = "qa_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    question: Mapped[str] = mapped_column(Text)
    answered: Mapped[bool] = mapped_column()
    doc_no: Mapped[str | None] = mapped_column(String(100), default=None)
    clause_path: Mapped[str | None] = mapped_column(String(200), default=None)
    score: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_qa_log_answered", "answered"),)


class AddedQuestion(Base):
    """A phrasing an operator added to the question bank (`skillbot questions add`): either
    the clause it is answered by, or the out-of-scope topic it belongs to."""

    __tablename__ = "bank_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    doc_no: Mapped[str | None] = mapped_column(String(100), default=None)
    clause_path: Mapped[str | None] = mapped_column(String(200), default=None)
    topic: Mapped[str | None] = mapped_column(String(50), default=None)
    evidence: Mapped[str] = mapped_column(Text, default="")
    style: Mapped[str] = mapped_column(String(20), default="added")
    added_by: Mapped[str] = mapped_column(String(64), default="operator")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    qa_id: Mapped[int] = mapped_column(ForeignKey("qa_log.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    vote: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("qa_id", "user_id", name="uq_feedback_once"),)


class _RosterColumns:
    """The columns of a 名册 row a certificate keeps: in the registry, and while an import is staged."""

    org_code: Mapped[str] = mapped_column(String(64))
    org_name: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(40))
    id_no_masked: Mapped[str] = mapped_column(String(40))
    gender: Mapped[str | None] = mapped_column(String(4), default=None)
    birth_date: Mapped[str | None] = mapped_column(String(10), default=None)
    occupation_code: Mapped[str] = mapped_column(String(20))
    occupation_name: Mapped[str] = mapped_column(String(100))
    job_name: Mapped[str | None] = mapped_column(String(100), default=None)
    level: Mapped[int] = mapped_column(SmallInteger)
    issue_date: Mapped[str] = mapped_column(String(10))
    # Other 名册 columns (所在单位 …) as imported; never shown in lookups.
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="有效")


class Certificate(_RosterColumns, Base):
    """The registry of issued 职业技能等级证书, with the columns of the 职业技能等级认定人员名册
    (青人社发〔2020〕7号 附件3). The holder's ID number is kept only as the mask shown in
    lookups: no hash of it, keyed or not, since an ID number has too little entropy for a hash
    to hide it."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cert_no: Mapped[str] = mapped_column(String(32), unique=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    batch: Mapped[str] = mapped_column(String(100), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StagedCertificate(_RosterColumns, Base):
    """Rows of an import in progress. An import writes here in short transactions, so the
    bot keeps answering while a million rows are read; publishing copies them into
    `certificates` in one transaction, and a failed or abandoned import is deleted from here."""

    __tablename__ = "certificate_staging"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[str] = mapped_column(String(40), index=True)
    cert_no: Mapped[str] = mapped_column(String(32))
    batch: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    staged_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertLookup(Base):
    """Audit of every certificate lookup: who, when, which number (hashed), what came back.
    Rate limits count these rows, so they hold across instances."""

    __tablename__ = "cert_lookups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester: Mapped[str] = mapped_column(String(64))
    number_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_cert_lookups_requester_at", "requester", "at"), Index("ix_cert_lookups_at", "at"))


class WebAccount(Base):
    """Someone who signs in to the web console (`skillbot users add`): hotline staff or an
    administrator. Only the argon2 hash of the password is kept."""

    __tablename__ = "web_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))  # staff | admin
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Raised by a password change or disabling: sessions signed under an older epoch are void.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInAttempt(Base):
    """Every web sign-in attempt; failures are counted from here, so the limit holds across
    web instances as the certificate lookup limits do."""

    __tablename__ = "web_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_web_sign_ins_username_at", "username", "at"),
        Index("ix_web_sign_ins_ip_at", "ip", "at"),
    )


class AdminAction(Base):
    """Audit of every administrative action, from the web console or the CLI: who, what, on
    what, with which outcome. Targets never hold personal numbers (certificate numbers are
    kept as SHA-256, as in cert_lookups)."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_admin_audit_action_at", "action", "at"),)


class WebSecret(Base):
    """Keys the web console signs cookies and forms with, shared by all its instances."""

    __tablename__ = "web_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
