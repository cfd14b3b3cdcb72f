"""Key rotation for personal data (docs/operations.md, "Key rotation").

1. Put a new key first in CUNXIN_FIELD_KEYS (and/or CUNXIN_BLIND_INDEX_KEYS), keep the old
   ones after it, restart the app: new values use the new key, old ones still decrypt,
   searches try every blind-index key.
2. `cunxin keys rotate` rewrites every row not yet under the current keys, in batches,
   each batch in its own transaction (safe to interrupt and re-run).
3. Remove the old keys from the rings and restart.
"""

from __future__ import annotations

from django.db import transaction

from cunxin.audit.chain import record
from cunxin.lib import crypto
from cunxin.pool.models import Person


def _needs(person: Person, field_kid: str) -> bool:
    for purpose, enc, bidx in (
        ("id_number", person.id_number_enc, person.id_number_bidx),
        ("phone", person.phone_enc, person.phone_bidx),
    ):
        if enc and (
            crypto.key_id(enc) != field_kid
            or bidx
            != crypto.blind_index(
                crypto.decrypt(enc, purpose=purpose, owner=person.uid), purpose=purpose
            )
        ):
            return True
    return False


def rotate(batch: int = 5000, by: str = "system") -> dict:
    """Re-encrypt and re-index rows that are not under the current keys. Reads every
    person once (decrypting its values), writes only rows that change."""
    crypto.reload_keys()
    field_kid = crypto.field_keys().current
    checked = rewritten = 0
    last = ""
    while True:
        with transaction.atomic():
            rows = list(
                Person.objects.select_for_update()
                .filter(uid__gt=last)
                .order_by("uid")
                .only("uid", "id_number_enc", "id_number_bidx", "phone_enc", "phone_bidx")[:batch]
            )
            if not rows:
                break
            changed = []
            for p in rows:
                if _needs(p, field_kid):
                    id_number, phone = p.id_number(), p.phone()
                    p.id_number_enc = crypto.encrypt(id_number, purpose="id_number", owner=p.uid)
                    p.id_number_bidx = crypto.blind_index(id_number, purpose="id_number")
                    p.phone_enc = crypto.encrypt(phone, purpose="phone", owner=p.uid)
                    p.phone_bidx = crypto.blind_index(phone, purpose="phone")
                    changed.append(p)
            Person.objects.bulk_update(
                changed, ["id_number_enc", "id_number_bidx", "phone_enc", "phone_bidx"]
            )
            checked += len(rows)
            rewritten += len(changed)
            last = rows[-1].uid
    result = {
        "checked": checked, "rewritten": rewritten, "field_key": field_kid,
        "blind_index_key": crypto.blind_index_keys().current,
    }  # fmt: skip
    record(by, "keys.rotate", object_type="keys", object_id=field_kid, after=result)
    return result
