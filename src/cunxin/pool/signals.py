"""What a publish tells the apps that build on the pool, without importing them.

`published` is sent inside the publish's transaction, once the pool's rows are merged,
with `actor` (who published) and `run` (the PublishRun). Receivers update their own rows
in the same transaction — a household published into a village whose evaluation is
signed off gets its visit task (`cunxin.visits.actions.on_publish`) — so a failed publish
leaves no half-made work.
"""

from django.dispatch import Signal

published = Signal()
