"""Sign-in by phone and one-time code, for evaluators (villagers on a phone).

The phone is found through the blind index (never stored or logged in clear here). The
answer to "send me a code" is the same whether or not the number belongs to an
evaluator, so the page cannot be used to test numbers. Codes: 6 digits, a keyed hash
stored, 5 minutes, 5 attempts, used once; at most 3 codes per evaluator in 10 minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cunxin.audit.chain import record
from cunxin.lib import crypto
from cunxin.org.models import LoginCode, Role, Staff
from cunxin.providers.sms import SmsResult, get_sms_provider

CODE_TTL = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_CODES = 3
CODE_WINDOW = dt.timedelta(minutes=10)


def _hash(code: str, staff_id: int) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{staff_id}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def evaluator_by_phone(phone: str) -> Staff | None:
    """The active evaluator whose person record has this phone (blind index lookup)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) != 11:
        return None
    return (
        Staff.objects.filter(
            role=Role.EVALUATOR, user__is_active=True,
            person__phone_bidx__in=crypto.blind_index_candidates(digits, purpose="phone"),
        )
        .select_related("user")
        .first()
    )  # fmt: skip


def request_code(phone: str) -> tuple[Staff | None, SmsResult | None]:
    """Create and send a code if the phone is an evaluator's and the rate allows."""
    staff = evaluator_by_phone(phone)
    if staff is None:
        return None, None
    now = timezone.now()
    with transaction.atomic():
        Staff.objects.select_for_update().filter(pk=staff.pk).get()
        if (
            LoginCode.objects.filter(staff=staff, created_at__gte=now - CODE_WINDOW).count()
            >= MAX_CODES
        ):
            return staff, None
        code = f"{secrets.randbelow(1_000_000):06d}"
        LoginCode.objects.create(
            staff=staff, code_hash=_hash(code, staff.pk), created_at=now, expires_at=now + CODE_TTL
        )
    text = f"【村信】您的评议登录验证码为 {code}，5分钟内有效。请勿告诉他人。"
    return staff, get_sms_provider(settings.CUNXIN_SMS).send(phone, text)


def verify_code(staff_id: int, code: str) -> Staff | None:
    """The evaluator if `code` is their latest live code; counts the attempt otherwise."""
    now = timezone.now()
    with transaction.atomic():
        login = (
            LoginCode.objects.select_for_update()
            .filter(staff_id=staff_id, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if login is None or login.attempts >= MAX_ATTEMPTS:
            return None
        if not hmac.compare_digest(login.code_hash, _hash(code.strip(), staff_id)):
            login.attempts += 1
            login.save(update_fields=["attempts"])
            return None
        login.used_at = now
        login.save(update_fields=["used_at"])
        staff = Staff.objects.select_related("user").get(pk=staff_id)
        record(staff.user, "auth.code_login", staff, after={"role": staff.role})
    return staff
