"""The promotion flow: the best validated candidate of a pipeline run is registered, and takes `champion`
only if it beats the current champion on the same test rows; otherwise it becomes `challenger`."""

from __future__ import annotations

import contextlib
import fcntl
import re
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from mlflow.exceptions import MlflowException
from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import get_current_settings

from flows.tasks import connect, prepare_data
from training.config import PipelineConfig
from training.data import DataError
from training.evaluation import score_predictions
from training.model_card import model_card
from training.predict import predict_frame
from training.progress import say
from training.promotion import CHAMPION, choose, decide, recorded_champion_score
from training.registry import Registry

D = {name: f.default for name, f in PipelineConfig.model_fields.items()}


PROMOTION_LOCK_TIMEOUT_S = 1800.0
PROMOTION_LEASE_S = 60.0  # a holder that dies without releasing blocks the others this long at most


def promotion_limit_name(model_name: str) -> str:
    return "promotion-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", model_name)


@contextlib.contextmanager
def promotion_lock(model_name: str) -> Iterator[None]:
    """One promotion or rollback of a registered model at a time.

    With a Prefect server (PREFECT_API_URL: deployments, workers on several machines), a global concurrency
    limit of one slot per model, created on first use; its lease frees the slot of a holder that died.
    Without one, each CLI process has its own temporary API whose leases die with it, so the lock is a file
    lock on this machine instead, which the kernel releases when its holder dies, however it dies.
    """
    name = promotion_limit_name(model_name)
    if not get_current_settings().api.url:
        with _file_lock(Path(tempfile.gettempdir()) / "keras-mlops-locks" / f"{name}.lock"):
            yield
        return
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another process created it meanwhile
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
    with concurrency(name, occupy=1, strict=True, timeout_seconds=PROMOTION_LOCK_TIMEOUT_S,
                     lease_duration=PROMOTION_LEASE_S):
        yield


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # each open() is its own lock: threads exclude each other too
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class PromotionResult:
    model_name: str
    version: str
    alias: str
    reason: str
    test_metric: str
    test_score: float
    champion_version: str | None  # the champion before this promotion
    champion_score: float | None
    candidate_run_id: str
    stage: str
    variant: str


@flow(name="promotion")
def promotion_stage(pipeline_run_id: str | None = None, experiment: str = D["experiment"],
                    tracking_uri: str | None = None, model_name: str | None = None) -> PromotionResult:
    """Register the best candidate of a pipeline run (default: the latest that trained) and gate `champion`."""
    tracker = connect(PipelineConfig(experiment=experiment, tracking_uri=tracking_uri))
    pipeline_run_id = pipeline_run_id or tracker.latest_pipeline_run()
    if not pipeline_run_id:
        raise ValueError(f"experiment {experiment!r} has no finished pipeline run to promote from")
    config = PipelineConfig(**tracker.load_json(pipeline_run_id, "config.json"))
    if model_name:
        config = config.model_copy(update={"model_name": model_name})
    split = prepare_data(config).split
    selection = config.selection(split.task)
    metric = selection.metric.removeprefix("val_")
    test_metric = f"test_{metric}"
    registry = Registry(tracker.client, config.model_name)
    candidates = tracker.pipeline_candidates(pipeline_run_id, selection.metric)
    winner = choose(candidates, selection, split.fingerprint)
    say(f"stage promotion started: {len(candidates)} candidate(s); best {winner.stage}/{winner.variant} with "
        f"{selection.metric} {winner.score:.4f}")

    with tracker.run("promotion", parent_id=pipeline_run_id, tags={"stage": "promotion"}) as run_id:
        # Everything that can fail happens before the registry is touched: nothing is half-registered.
        network = tracker.load_network(winner.model_uri)
        raw_test = split.test_frame.drop(columns=[split.preprocessor.target])
        truth = split.test_frame[split.preprocessor.target]
        serving_uri = tracker.log_serving_model(run_id, network, split.preprocessor, raw_test.head(5),
                                                predict_frame(network, split.preprocessor, raw_test.head(5)))
        # Scored through the very artifact that is registered, on raw rows, like the champion below.
        test_score = score_predictions(tracker.load_serving_model(serving_uri).predict(raw_test), truth,
                                       split.task, metric)
        # Reading the champion, deciding and moving the alias is one step: another pipeline promoting the
        # same model waits here, then compares with whatever is champion by then.
        with promotion_lock(config.model_name):
            champion = registry.version_by_alias(CHAMPION)
            champion_score, unscorable = None, None
            if champion is not None:
                champion_score = recorded_champion_score(champion.tags, split.fingerprint, test_metric)
                if champion_score is None:  # registered on other data: score it again on today's test rows
                    try:
                        model = tracker.load_serving_model(f"models:/{config.model_name}/{champion.version}")
                        champion_score = score_predictions(model.predict(raw_test), truth, split.task, metric)
                    except (DataError, ValueError, KeyError, MlflowException) as error:
                        unscorable = f"version {champion.version}: {error}"[:300]
            alias, reason = decide(test_score, champion_score, selection, unscorable)
            source = tracker.get_run(winner.run_id)
            card = model_card(
                name=config.model_name, stage=winner.stage, variant=winner.variant, spec_params=source.data.params,
                metric=selection.metric, val_score=winner.score, test_metric=test_metric, test_score=test_score,
                param_count=winner.param_count, diagnosis=source.data.tags, data=tracker.split_summary(pipeline_run_id),
                pipeline_run_id=pipeline_run_id, candidate_run_id=winner.run_id,
                champion={"version": champion.version, "test_score": champion_score}
                if champion is not None and champion_score is not None else None,
                decision=f"{alias} ({reason})")
            tags = {selection.metric: winner.score, test_metric: test_score, "stage": winner.stage,
                    "variant": winner.variant, "data.fingerprint": split.fingerprint,
                    "pipeline.run_id": pipeline_run_id, "candidate.run_id": winner.run_id,
                    "param_count": winner.param_count, "selection.metric": selection.metric,
                    "selection.direction": selection.direction,
                    **{k: v for k, v in source.data.tags.items() if k.startswith("diagnosis.")}}
            tracker.log_text(run_id, card, "model_card.md")
            version, _ = registry.promote(serving_uri, run_id, tags, card, alias, reason, details={
                test_metric: test_score, "champion_score": champion_score, "pipeline.run_id": pipeline_run_id})
        result = PromotionResult(model_name=config.model_name, version=version, alias=alias, reason=reason,
                                 test_metric=test_metric, test_score=test_score,
                                 champion_version=str(champion.version) if champion is not None else None,
                                 champion_score=champion_score, candidate_run_id=winner.run_id, stage=winner.stage,
                                 variant=winner.variant)
        tracker.set_tags(run_id, {"registered.version": version, "registered.alias": alias,
                                  "registered.reason": reason, "mlflow.note.content": card})
        tracker.log_metrics(run_id, {test_metric: test_score})
        tracker.log_dict(run_id, asdict(result), "promotion/result.json")  # a resumed pipeline reuses it
    create_markdown_artifact(key="promotion", markdown=card, description=f"{config.model_name} v{version}")
    say(f"stage promotion finished: {config.model_name} version {version} is {alias}: {reason}")
    return result


def finished_promotion(tracker, pipeline_run_id: str, model_name: str) -> PromotionResult | None:
    """What an earlier attempt of this pipeline run promoted: never registered twice. Read from its finished
    promotion run, or, if that attempt died after registering, from the version it registered."""
    if finished := tracker.finished_child(pipeline_run_id, "promotion"):
        return PromotionResult(**tracker.load_json(finished, "promotion/result.json"))
    registry = Registry(tracker.client, model_name)
    version = registry.version_of_pipeline_run(pipeline_run_id)
    if version is None:
        return None
    tags, aliases = version.tags, list(version.aliases)
    test_metric = "test_" + tags.get("selection.metric", "val_score").removeprefix("val_")
    return PromotionResult(model_name=model_name, version=str(version.version),
                           alias=aliases[0] if aliases else "none", reason="registered by an earlier attempt",
                           test_metric=test_metric, test_score=float(tags.get(test_metric, "nan")),
                           champion_version=None, champion_score=None,
                           candidate_run_id=tags.get("candidate.run_id", ""), stage=tags.get("stage", ""),
                           variant=tags.get("variant", ""))
