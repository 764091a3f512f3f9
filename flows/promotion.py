"""The promotion flow: the best validated candidate of a pipeline run is registered, and takes `champion`
only if it beats the current champion on the same test rows; otherwise it becomes `challenger`."""

from __future__ import annotations

import contextlib
import fcntl
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import get_current_settings

from flows.notify import post_notice
from flows.parameters import config_fields
from flows.tasks import connect, prepare_data
from training.checks.validation import HELD
from training.config import PipelineConfig
from training.method.baselines import DUMMY, score_baselines
from training.method.gate import CHAMPION, Candidate, PromotionResult, baseline_flags, choose, decide
from training.runtime.progress import say
from training.tracking.queries import latest_pipeline_run, pipeline_candidates, split_summary
from training.tracking.registration import (
    compare_with_champion,
    evaluate_winner,
    log_baselines,
    log_promotion,
    model_card_of,
    register_winner,
)
from training.tracking.registry import Registry
from training.tracking.validation import recorded_verdict

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


@flow(name="promotion")
@config_fields(("experiment", "tracking_uri"), overrides=("model_name", "min_improvement", "min_relative_improvement"))
def promotion_stage(pipeline_run_id: str | None = None, experiment=None, tracking_uri=None, model_name=None,
                    min_improvement=None, min_relative_improvement=None) -> PromotionResult:
    """Register the selected candidate of a pipeline run (`pipeline_run_id`, default: the latest that trained) and
    gate `champion`; the model name and the gate's margins default to the pipeline run's config."""
    tracker = connect(PipelineConfig(experiment=experiment, tracking_uri=tracking_uri))
    pipeline_run_id = pipeline_run_id or latest_pipeline_run(tracker)
    if not pipeline_run_id:
        raise ValueError(f"experiment {experiment!r} has no finished pipeline run to promote from")
    overrides = {"model_name": model_name, "min_improvement": min_improvement,
                 "min_relative_improvement": min_relative_improvement}
    config = PipelineConfig(**{**tracker.load_json(pipeline_run_id, "config.json"),
                               **{k: v for k, v in overrides.items() if v is not None}})
    prepared = prepare_data(config)
    split, profile = prepared.split, prepared.profile.to_dict()
    selection = config.selection(split.task)
    winner = choose_winner(tracker, pipeline_run_id, split, selection, config.strategy)
    registry = Registry(tracker.client, config.model_name)
    verdict = recorded_verdict(tracker, pipeline_run_id)  # the night's data checks (flows.validation)
    with tracker.run("promotion", parent_id=pipeline_run_id, tags={"stage": "promotion"}) as run_id:
        # Everything that can fail happens before the registry is touched: nothing is half-registered.
        scored = evaluate_winner(tracker, run_id, winner, split, selection, profile)
        baselines = score_baselines(split, selection, config.seed)
        log_baselines(tracker, run_id, baselines)
        flags = baseline_flags(scored.test_score, baselines.scores, selection)
        # Reading the champion, deciding and moving the alias is one step: another pipeline promoting the same
        # model waits here, then compares with whatever is champion by then.
        with promotion_lock(config.model_name):
            champion = compare_with_champion(tracker, run_id, registry, scored, split, selection, config.gate)
            alias, reason = decide(scored.test_score, champion.score, selection, champion.unscorable,
                                   baselines.scores[DUMMY], champion.gate_failure,
                                   held=verdict.drifted if verdict.status == HELD else None,
                                   schema_accepted=verdict.schema_accepted)
            card = model_card_of(config.model_name, winner, scored, baselines, champion, selection,
                                 f"{alias} ({reason})", split_summary(tracker, pipeline_run_id), pipeline_run_id,
                                 flags, verdict, profile)
            version = register_winner(tracker, run_id, registry, winner, scored, selection, pipeline_run_id,
                                      baselines, alias, reason, card, champion.score, split, verdict)
        result = PromotionResult(
            model_name=config.model_name, version=version, alias=alias, reason=reason,
            test_metric=card.test_metric, test_score=scored.test_score, champion_version=champion.version,
            champion_score=champion.score, candidate_run_id=winner.run_id, stage=winner.stage,
            variant=winner.variant, baselines=baselines.scores, flags=flags)
        log_promotion(tracker, run_id, result, card)
    create_markdown_artifact(key="promotion", markdown=card.markdown(),
                             description=f"{config.model_name} v{result.version}")
    if verdict.status == HELD and alias != CHAMPION:
        tell_of_held_version(result, tracker.run_link(pipeline_run_id))
    say(f"stage promotion finished: {config.model_name} version {result.version} is {result.alias}: {result.reason}")
    return result


def tell_of_held_version(result: PromotionResult, link: str) -> None:
    """A version held for review is posted to the team's webhook (the block `make deploy` saves): a person has
    to look at the drift, then promote it (`rollback --to`) or leave the champion."""
    subject = f"keras-mlops: {result.model_name} version {result.version} held for review"
    body = (f"{result.model_name} version {result.version} is challenger, tagged needs_review: {result.reason}. "
            f"Make it champion with `python -m flows rollback --to {result.version} --model-name "
            f"{result.model_name}` once the data is understood.\n{link}")
    if why_not := post_notice(subject, body):
        say(f"no notice posted ({why_not}); the version's tags and card say it is held")
    else:
        say(f"notice posted: {subject}")


def choose_winner(tracker, pipeline_run_id: str, split, selection, strategy: str) -> Candidate:
    """The candidate to register: the pipeline's selected run (adaptive), else the best on this split."""
    candidates = pipeline_candidates(tracker, pipeline_run_id, selection.metric)
    selected = tracker.get_run(pipeline_run_id).data.tags.get("selected.run_id")
    winner = choose(candidates, selection, split.fingerprint, selected, strategy)
    how = "the pipeline's selected" if winner.run_id == selected else "best"
    say(f"stage promotion started: {len(candidates)} candidate(s); {how} {winner.stage}/{winner.variant} with "
        f"{selection.metric} {winner.score:.4f}")
    return winner
