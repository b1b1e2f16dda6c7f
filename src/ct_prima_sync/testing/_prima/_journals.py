"""Financial journals inside a simulated Prima: posted once per batch id, balanced or refused."""

from __future__ import annotations

from collections.abc import Callable

from ...errors import PrimaRejectedError
from ...prima import JournalBatch, JournalPostingResult

__all__ = ["JournalBook"]


class JournalBook:
    """Posted journal batches by batch id (the world's lock guards it)."""

    def __init__(self) -> None:
        self._posted: dict[str, tuple[str, JournalBatch]] = {}

    def post(self, batch: JournalBatch, new_reference: Callable[[], str]) -> JournalPostingResult:
        """Post a balanced batch once; PrimaRejectedError when it is empty or does not balance."""
        posted = self._posted.get(batch.batch_id)
        if posted is not None:
            return JournalPostingResult(
                batch_id=batch.batch_id, prima_reference=posted[0], duplicate=True
            )
        if not batch.lines:
            raise PrimaRejectedError("the journal has no lines", request_type="Journal")
        if sum(line.amount.minor_units for line in batch.lines) != 0:
            raise PrimaRejectedError(
                f"journal {batch.batch_id} does not balance", request_type="Journal"
            )
        reference = new_reference()
        self._posted[batch.batch_id] = (reference, batch)
        return JournalPostingResult(batch_id=batch.batch_id, prima_reference=reference)

    def batches(self) -> list[JournalBatch]:
        """Every posted batch, in posting order."""
        return [batch for _, batch in self._posted.values()]
