"""The MLflow Model Registry side: versions with their tags, aliases, and the history of every alias move.

Aliases (`champion`, `challenger`) replace MLflow's deprecated stages. Every move is appended to the
registered model's tags as `history.NNNNNN` = JSON, so "what was champion on a given day" has an answer
and a rollback is one command.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from training.method.gate import CHAMPION
from training.tracking.errors import none_if_missing

HISTORY_PREFIX = "history."
PLAIN_ROLLBACK = "rollback"


@dataclass(frozen=True)
class AliasMove:
    sequence: int
    at: float  # unix seconds
    alias: str
    from_version: str | None
    to_version: str
    reason: str
    details: dict

    def describe(self) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.at))
        return (f"{stamp}  {self.alias}: {self.from_version or '-'} -> {self.to_version}  ({self.reason})")


def open_registry(tracking_uri: str, name: str) -> Registry:
    """The registered model `name` on the store at `tracking_uri` (for the command line)."""
    return Registry(MlflowClient(tracking_uri), name)


class Registry:
    """One registered model: its versions, aliases and alias history."""

    def __init__(self, client: MlflowClient, name: str):
        self.client, self.name = client, name

    def ensure_model(self) -> None:
        if none_if_missing(lambda: self.client.get_registered_model(self.name)) is None:
            try:
                self.client.create_registered_model(
                    self.name, description="Promoted by keras-mlops: `champion` serves, `challenger` waits.")
            except MlflowException:
                self.client.get_registered_model(self.name)  # created concurrently: fine

    def version_by_alias(self, alias: str):
        # MLflow's basic-auth app answers an alias of a model that does not exist with 403, not 404 (it finds no
        # permission to check): the model is asked for first, which it answers with 404.
        if none_if_missing(lambda: self.client.get_registered_model(self.name)) is None:
            return None
        return none_if_missing(lambda: self.client.get_model_version_by_alias(self.name, alias))

    def version(self, version: str):
        return self.client.get_model_version(self.name, str(version))

    def register(self, source: str, run_id: str, tags: dict[str, str], description: str):
        """A new version, created with all its tags and its model card in one call."""
        self.ensure_model()
        # MLflow 3 logs models as entities of their own (models:/m-<id>); a tracking server insists that
        # the version names that entity when its source is one.
        model_id = source.removeprefix("models:/") if source.startswith("models:/m-") else None
        return self.client.create_model_version(self.name, source, run_id=run_id, model_id=model_id,
                                                tags={k: str(v) for k, v in tags.items()}, description=description)

    def promote(self, source: str, run_id: str, tags: dict[str, str], description: str, alias: str, reason: str,
                details: dict) -> tuple[str, AliasMove]:
        """Register a version and give it `alias`. Should the alias move fail, the version says so in its
        tags (`promotion.failed`) instead of standing there looking like a deliberate, alias-less version."""
        version = str(self.register(source, run_id, tags, description).version)
        try:
            return version, self.move_alias(alias, version, reason, details)
        except BaseException as error:  # a signal or a cancelled lock too: the version must say what happened
            self.client.set_model_version_tag(self.name, version, "promotion.failed", f"{alias}: {error}"[:4000])
            raise

    def version_of_pipeline_run(self, pipeline_run_id: str):
        """The version a pipeline run registered, if any."""
        versions = none_if_missing(lambda: self.client.search_model_versions(f"name = '{self.name}'")) or []
        found = next((v for v in versions if v.tags.get("pipeline.run_id") == pipeline_run_id), None)
        # Read again by number: search results carry no aliases, and the caller reports which one it holds.
        return self.version(found.version) if found is not None else None

    def move_alias(self, alias: str, version: str, reason: str, details: dict | None = None) -> AliasMove:
        current = self.version_by_alias(alias)
        self.client.set_registered_model_alias(self.name, alias, str(version))
        move = AliasMove(sequence=self._next_sequence(), at=time.time(), alias=alias,
                         from_version=str(current.version) if current else None, to_version=str(version),
                         reason=reason, details=details or {})
        self.client.set_registered_model_tag(self.name, f"{HISTORY_PREFIX}{move.sequence:06d}", json.dumps({
            "at": move.at, "alias": alias, "from": move.from_version, "to": move.to_version, "reason": reason,
            "details": move.details}, sort_keys=True, default=str))
        return move

    def history(self) -> list[AliasMove]:
        tags = self.client.get_registered_model(self.name).tags
        moves = []
        for key, value in tags.items():
            if key.startswith(HISTORY_PREFIX):
                data = json.loads(value)
                moves.append(AliasMove(int(key.removeprefix(HISTORY_PREFIX)), data["at"], data["alias"], data["from"],
                                       data["to"], data["reason"], data.get("details", {})))
        return sorted(moves, key=lambda m: m.sequence)

    def _next_sequence(self) -> int:
        return max((m.sequence for m in self.history()), default=0) + 1

    def alias_at(self, alias: str, when: float) -> str | None:
        """The version that held `alias` at unix time `when`, from the recorded history."""
        holder = None
        for move in self.history():
            if move.alias == alias and move.at <= when:
                holder = move.to_version
        return holder

    def rollback(self, to_version: str | None = None) -> AliasMove:
        """Move `champion` to `to_version`, or back to the version the current champion replaced.

        Walking back skips moves made by an earlier plain rollback, so rolling back twice goes further back
        instead of toggling between two versions; an explicit `--to` move can itself be walked back.
        """
        current = self.version_by_alias(CHAMPION)
        if current is None:
            raise ValueError(f"registered model {self.name!r} has no champion to roll back")
        reason = f"rollback --to {to_version}" if to_version else PLAIN_ROLLBACK
        if to_version is None:
            moves = [m for m in self.history() if m.alias == CHAMPION and m.to_version == str(current.version)
                     and m.from_version and m.reason != PLAIN_ROLLBACK]
            if not moves:
                raise ValueError(f"champion version {current.version} of {self.name!r} replaced no earlier version; "
                                 "name one with --to")
            to_version = moves[-1].from_version
        self.version(to_version)  # fails clearly if that version does not exist
        if str(to_version) == str(current.version):
            raise ValueError(f"version {to_version} is already the champion of {self.name!r}")
        return self.move_alias(CHAMPION, str(to_version), reason=reason, details={"replaced": str(current.version)})
