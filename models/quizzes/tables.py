"""Quiz tables (one set per tenant): quizzes, their questions, attempts and saved answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, Timestamped, UTCDateTime, utcnow
from models.people.tables import User, person_of

IN_PROGRESS, SUBMITTED, GRADED = "in_progress", "submitted", "graded"


class Quiz(Timestamped, TenantBase):
    __tablename__ = "quizzes"
    __table_args__ = (
        Index("ix_quizzes_course_id", "course_id"),
        Index("ix_quizzes_lesson_id", "lesson_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept beside lesson_id so access checks and grade items need no join.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts_allowed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passing_score: Mapped[float] = mapped_column(Float, default=0.0)
    grading_method: Mapped[str] = mapped_column(String(10), default="highest")
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=False)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=False)
    available_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    available_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reveal_answers: Mapped[str] = mapped_column(String(16), default="after_attempt")
    created_by: Mapped[str] = mapped_column(String(128))


class QuizQuestion(Timestamped, TenantBase):
    __tablename__ = "quiz_questions"
    __table_args__ = (
        Index("ix_quiz_questions_quiz_position", "quiz_id", "position"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    # Choice questions: [{"id": 1, "text": "...", "correct": true}, ...]; ids never reused
    # within the question (a kept option keeps its id when the list is changed).
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # true_false: the right answer.
    true_false_answer: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # short_text: the accepted answers.
    accepted_answers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # numeric: the answer and how far from it still counts.
    numeric_answer: Mapped[float | None] = mapped_column(Float, nullable=True)
    tolerance: Mapped[float] = mapped_column(Float, default=0.0)
    # Shown with the answers, when the quiz reveals them.
    feedback: Mapped[str] = mapped_column(Text, default="")


class QuizAttempt(TenantBase):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        # One row per (quiz, learner, number): two starts at once cannot make two attempts.
        UniqueConstraint("quiz_id", "user_id", "number"),
        # One attempt in progress per learner and quiz, whatever races: a second start
        # finds the first's instead of making its own.
        Index(
            "uq_quiz_attempts_in_progress",
            "quiz_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
        # The deadline sweep: in-progress attempts by deadline.
        Index("ix_quiz_attempts_status_deadline", "status", "deadline"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # min(start + time limit, the quiz's available_until); None: no deadline.
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    # This attempt's questions in its order, and each choice question's options in theirs:
    # fixed at start, so a reload shows the same order.
    question_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    option_order: Mapped[dict[str, list[int]]] = mapped_column(JSON, default=dict)
    # Per question id: {"points": float | None, "correct": bool | None}; None: essay pending.
    results: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id",)
    user_user: Mapped[User | None] = person_of("QuizAttempt", "user_id")


class QuizAnswer(TenantBase):
    """One saved answer of an attempt; a later save of the same question replaces it."""

    __tablename__ = "quiz_answers"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    # No foreign key: a question deleted after the attempt started leaves the answer, unscored.
    question_id: Mapped[int] = mapped_column(Integer)
    answer: Mapped[Any] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
