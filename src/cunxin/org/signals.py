"""What the organisation tells the apps that build on it, without importing them.

`assignments_changed` is sent inside the transaction of every action that opens or ends a
customer manager's assignment (`org.actions`), with `actor` (who acted) and `villages`
(the codes of the villages whose holdings changed). Receivers change their own rows in
the same transaction: the visit tasks follow the households to the CM who now holds them
(`cunxin.visits.actions.reassign_open_tasks`).
"""

from django.dispatch import Signal

assignments_changed = Signal()
