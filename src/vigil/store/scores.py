"""Writing and reading scores: one table for every signal.

A score belongs to an item (its content): the same bytes seen again keep the score
recorded first, unless a detector that had not scored them before adds its own.
"""

import datetime as dt
import json
import typing as t

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.detection.score import Score
from vigil.store.models import ScoreRow
from vigil.store.provenance import clip, json_text, text


def add_scores(
    session: Session, item_id: int, scores: t.Iterable[Score], now: dt.datetime
) -> None:
    """Add the scores not yet recorded for the item, inside the caller's
    transaction."""
    wanted = list(scores)
    if not wanted:
        return
    done = {
        (name, detector)
        for name, detector in session.execute(
            select(ScoreRow.name, ScoreRow.detector).where(ScoreRow.item_id == item_id)
        )
    }
    for score in wanted:
        key = (clip(score.name, 64), clip(score.detector, 64))
        if key in done:
            continue
        done.add(key)
        session.add(
            ScoreRow(
                item_id=item_id,
                name=key[0],
                value=score.value,
                level=clip(score.level, 32),
                reasons=json_text([text(r) for r in score.reasons]),
                details=json_text(dict(score.details)),
                detector=key[1],
                version=score.version,
                recorded_at=now,
            )
        )


def score_of(row: ScoreRow) -> Score:
    return Score(
        name=row.name,
        value=row.value,
        level=row.level,
        detector=row.detector,
        version=row.version,
        reasons=tuple(json.loads(row.reasons)),
        details=json.loads(row.details),
    )


def item_scores(session: Session, item_ids: t.Sequence[int]) -> dict[int, list[Score]]:
    """Scores of many items at once, by item id, in name order."""
    found: dict[int, list[Score]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return found
    rows = session.scalars(
        select(ScoreRow)
        .where(ScoreRow.item_id.in_(list(item_ids)))
        .order_by(ScoreRow.item_id, ScoreRow.name, ScoreRow.detector)
    )
    for row in rows:
        found[row.item_id].append(score_of(row))
    return found
