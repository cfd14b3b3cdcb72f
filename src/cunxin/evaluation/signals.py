"""What a closed round tells the stages that build on evaluation, without importing them.

`signed_off` is sent inside the transaction that closes a sign-off round (审定), with
`project`, `round` and `policy` (the project's EvaluationPolicy), once its verdicts are
stored. A receiver makes its own rows in the same transaction and may return a dict of
counts, which the round's audit event records: the visit tasks
(`cunxin.visits.actions.on_signed_off`) are made so, and a failure leaves the round open.
"""

from django.dispatch import Signal

signed_off = Signal()
