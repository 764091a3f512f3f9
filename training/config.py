"""The one typed run configuration. Prefect validates flow parameters with pydantic, so this is pydantic too."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from training.checks.contract import ContractRules
from training.checks.drift import DriftThresholds
from training.checks.validation import ValidationPolicy
from training.data.sources import (
    BUNDLED_DATASETS,
    BUNDLED_IMAGE_SETS,
    BUNDLED_IMAGES,
    IMAGES,
    KIND_NAMES,
    SQL,
    SourceError,
    credential_in,
    is_image_source,
    kind_of,
    redacted,
)
from training.model.spec import DEFAULT_IMAGE_TRANSFORMS, IMAGE_TRANSFORMS, SCHEDULE_VARIANTS, TABLE_TRANSFORMS

TaskName = Literal["auto", "classification", "regression"]
ProfileName = Literal["quick", "standard", "full"]
Direction = Literal["max", "min"]
TunerName = Literal["hyperband", "random", "bayesian"]
Switch = Literal["auto", "on", "off"]  # auto: as the profile or the machine says
MixedPrecision = Switch
# How stages choose candidates: the course's loop read from each winner's diagnosis, or fixed grids.
StrategyName = Literal["adaptive", "grid"]
# Where a stage's candidates train: threads of the flow's process, or the worker processes of a Dask cluster.
TaskRunnerName = Literal["threads", "dask"]
DriftPolicy = Literal["warn", "hold", "fail"]
# Constrained types shared by the config and the pipeline flow's signature: Prefect turns the signature into
# a deployment's parameter schema, so `prefect deployment run --param epochs=0` is refused before any run.
Fraction = Annotated[float, Field(gt=0, lt=1)]
Share = Annotated[float, Field(ge=0, le=1)]  # MLflow's MetricThreshold takes relative changes up to 1
ValidationMetric = Annotated[str, Field(pattern=r"^val_\w+$")]
# A Dask scheduler address as `dask-scheduler` prints it: tcp://10.0.0.5:8786 (tls:// and inproc:// too).
DaskAddress = Annotated[str, Field(pattern=r"^(tcp|tls|ucx|inproc|ws|wss)://[^\s/]+$")]

# `model`: a built-in family, or a user's build function as path/to/file.py:function (training.model.families).
ModelName = Annotated[str, Field(pattern=r"^(mlp|cnn|.+\.py:[A-Za-z_]\w*)$")]


@dataclass(frozen=True)
class Profile:
    """How much work a run does. `quick` is for tests and smoke runs, `full` for nightly GPU runs."""

    epochs: int
    batch_size: int


PROFILES: dict[str, Profile] = {
    "quick": Profile(epochs=3, batch_size=64),
    "standard": Profile(epochs=30, batch_size=32),
    "full": Profile(epochs=100, batch_size=32),
}

# Whether each capacity step re-tunes the learning rate (tripling the step's trainings): on where the budget allows.
CAPACITY_LR_SWEEP = {"quick": False, "standard": False, "full": True}

# The metrics a model reports per task; selection must name the validation twin of one of them.
TASK_METRICS = {"classification": ("loss", "accuracy"), "regression": ("loss", "mae")}
HIGHER_IS_BETTER = {"accuracy"}


@dataclass(frozen=True)
class Selection:
    """Which validation metric picks winners, and whether higher is better."""

    metric: str
    direction: Direction

    def better(self, a: float, b: float) -> bool:
        """True when score `a` is strictly better than `b`."""
        if math.isnan(a):
            return False
        if math.isnan(b):
            return True
        return a > b if self.direction == "max" else a < b


@dataclass(frozen=True)
class Gate:
    """How much better than the champion, on the selection metric's test twin, a new model must be to replace
    it: by at least `min_absolute` in the metric's units and by `min_relative` of the champion's score. Zero
    for both means better by any amount; a tie keeps the champion."""

    min_absolute: float = 0.0
    min_relative: float = 0.0


# What is recorded in params, artifacts and links: no password of a URI (MLflow's own MLFLOW_TRACKING_PASSWORD
# is never read here).
redact_uri = redacted


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the field and the allowed values."""


class PipelineConfig(BaseModel):
    # hide_input_in_errors: a refused value (a URL with a password) is not repeated in the error, which a flow run
    # shows as its state's message.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    # The descriptions are also the help of the command line's flags (flows/cli_options.py), and
    # json_schema_extra's metavar and choices shape those flags.
    data: str = Field(
        "digits",
        description="Where the rows are: a CSV or Parquet file; a glob or folder of Parquet/CSV parts, here or in an "
                    "object store (s3://bucket/events/date=2026-12-*/, https://.../file.csv); a database URL "
                    "(postgresql://host/db, sqlite:///file.db) with --table or --query; a folder of images with one "
                    "subfolder per class (PNG/JPEG); an .npz file of images `x` and labels `y`; or a bundled data "
                    f"set: {', '.join(BUNDLED_DATASETS + BUNDLED_IMAGE_SETS)}. Never a password: databases read "
                    "KERAS_MLOPS_DATA_PASSWORD (or PGPASSWORD, ~/.pgpass), object stores the AWS variables.",
        json_schema_extra={"metavar": "PATH|URL|NAME"})
    table: str | None = Field(None, description="The table of a database --data (schema.table too): every row.",
                              json_schema_extra={"metavar": "NAME"})
    query: str | None = Field(None, description="A SELECT on a database --data, instead of --table: its rows.",
                              json_schema_extra={"metavar": "SQL"})
    target: str | None = Field(None, description="Target column; required for files, bundled data sets use "
                                                 "'target'.", json_schema_extra={"metavar": "COL"})
    split_by: str | None = Field(
        None, description="A time column of a table: the newest rows are the test split and the next newest the "
                          "validation split (out of time: what the model will face tomorrow), and the column is no "
                          "feature; default the seeded, stratified split.", json_schema_extra={"metavar": "COL"})
    model: ModelName | None = Field(
        None, description="The model family: mlp (tables), cnn (images), or your own build function as "
                          "path/to/file.py:function (docs/data-and-models.md: 'Your own model'); default mlp for "
                          "tables, cnn for images.", json_schema_extra={"metavar": "FAMILY"})
    image_size: list[PositiveInt] | None = Field(
        None, description="Height and width every image is resized to (--image-size 32 32); default the first "
                          "image's.", json_schema_extra={"metavar": "PIXELS"})
    image_memory_mb: NonNegativeFloat = Field(
        2048, description="A folder of images whose decoded pixels take more than this many MiB stays on disk and is "
                          "read batch by batch (tf.data); a smaller one is decoded into memory once. 0: always from "
                          "disk.", json_schema_extra={"metavar": "MIB"})
    task: TaskName = Field("auto", description="Classification or regression; auto infers it from the target.")
    train_fraction: Fraction = Field(0.64, description="Share of rows in the train split; the three fractions "
                                                       "sum to 1.", json_schema_extra={"metavar": "F"})
    val_fraction: Fraction = Field(0.16, description="Share of rows in the validation split; the three fractions "
                                                     "sum to 1.", json_schema_extra={"metavar": "F"})
    test_fraction: Fraction = Field(0.20, description="Share of rows in the test split; the three fractions sum "
                                                      "to 1.", json_schema_extra={"metavar": "F"})
    seed: int = Field(42, ge=0, description="Seed of the split and of every fit.")
    profile: ProfileName = Field("standard", description="How much work a run does: quick (a few epochs, for "
                                                         "smoke tests), standard, or full (nightly, on a GPU).")
    strategy: StrategyName = Field(
        "adaptive", description="adaptive: each stage reads the incoming winner's diagnosis and steps (grow or "
                                "shrink, regularize only what overfits, train longer while improving, keep a "
                                "change only beyond the noise margin); grid: every stage trains its fixed grid.")
    epochs: PositiveInt | None = Field(None, description="Epochs per candidate; default per profile.")
    batch_size: PositiveInt | None = Field(None, description="Batch size of every fit; default per profile.")
    metric: ValidationMetric | None = Field(
        None, description="Selection metric, e.g. val_mae; default val_accuracy for classification, val_loss for "
                          "regression.")
    direction: Direction | None = Field(None, description="Whether the metric is better higher (max) or lower "
                                                          "(min); default follows the metric.")
    experiment: str = Field("keras-mlops", min_length=1, description="MLflow experiment name.",
                            json_schema_extra={"metavar": "NAME"})
    model_name: str = Field("keras-mlops-model", min_length=1, description="Registered model name.",
                            json_schema_extra={"metavar": "NAME"})
    tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; default $MLFLOW_TRACKING_URI, else the SQLite store "
                          "mlruns/mlflow.db of the checkout.", json_schema_extra={"metavar": "URI"})
    capacity_units: list[tuple[PositiveInt, ...]] | None = Field(
        None, description="Networks of the capacity sweep, each its hidden layer sizes: 256-128-64 on the command "
                          "line, (256, 128, 64) in Python; default per profile.")
    dropout_rates: list[float] | None = Field(
        None, description="Dropout rates of the regularization stage, each in (0, 1); default per profile.",
        json_schema_extra={"metavar": "RATE"})
    l2_factors: list[float] | None = Field(
        None, description="L2 weight-decay factors of the regularization stage, each in (0, 1); default per "
                          "profile.", json_schema_extra={"metavar": "FACTOR"})
    augment: list[str] | None = Field(
        None, description="The transforms of the regularization stage's augmentation rung (the course's 'more "
                          "data'), in training only: for images any of rotation, translation, zoom, contrast, flip "
                          "(flip only when named: a flipped digit or letter is another symbol); for tables noise "
                          "(Gaussian noise on the standardized features); none: no augmentation. Default rotation "
                          "translation zoom contrast for images, noise for tables.",
        json_schema_extra={"metavar": "TRANSFORM", "choices": [*IMAGE_TRANSFORMS, *TABLE_TRANSFORMS, "none"]})
    augment_strengths: list[float] | None = Field(
        None, description="The augmentation rung's strengths, each in (0, 1): at s, rotations within +-90s degrees, "
                          "shifts and zooms within +-s of the side, contrast within +-s, table noise of standard "
                          "deviation s; default per profile.", json_schema_extra={"metavar": "S"})
    lr_sweep: Switch = Field(
        "auto", description="Each capacity step's network also trained at a third and three times the incumbent's "
                            "learning rate, and judged at its best (a network of another size may want another "
                            "rate; triples the stage's trainings): on, off, or auto (on for the full profile).")
    schedule_variants: list[str] | None = Field(
        None, description="Learning-rate schedules and callbacks of the schedule stage, by name; default per "
                          "profile.", json_schema_extra={"metavar": "NAME", "choices": list(SCHEDULE_VARIANTS)})
    max_parallel: PositiveInt = Field(
        1, description="Candidates of a stage trained at once; TensorFlow's threads are shared between them, so 1 "
                       "is right for a CPU machine.", json_schema_extra={"metavar": "N"})
    task_runner: TaskRunnerName = Field(
        "threads", description="Where candidates train: threads of the flow's process (max_parallel at once) or "
                               "dask: the workers of a Dask cluster, one candidate per worker thread.")
    dask_address: DaskAddress | None = Field(
        None, description="With task_runner dask: an existing cluster's scheduler, e.g. tcp://10.0.0.5:8786; "
                          "default a local cluster of dask_workers processes for the run.",
        json_schema_extra={"metavar": "ADDRESS"})
    dask_workers: PositiveInt = Field(2, description="Worker processes of the local Dask cluster.",
                                      json_schema_extra={"metavar": "N"})
    tuner_workers: NonNegativeInt = Field(
        0, description="Keras Tuner's distributed mode: a chief (the oracle) and this many worker processes run "
                       "the trials (one GPU each where there are GPUs); 0 searches in the flow's process.",
        json_schema_extra={"metavar": "N"})
    tuner: TunerName = Field("hyperband", description="Keras Tuner algorithm of the tuning stage.")
    max_trials: PositiveInt | None = Field(None, description="Trials of a random or bayesian search; default per "
                                                             "profile.", json_schema_extra={"metavar": "N"})
    tuning_max_epochs: PositiveInt | None = Field(
        None, description="Hyperband's max epochs per model; default per profile.", json_schema_extra={"metavar": "N"})
    mixed_precision: MixedPrecision = Field(
        "auto", description="float16 compute on GPUs with tensor cores (auto), always (on) or never (off).")
    deterministic: bool = Field(False, description="Deterministic TensorFlow ops: the same data, config and seed "
                                                   "give the same metrics to the last digit (slower).")
    force: bool = Field(False, description="Train even when data, code and config match the last finished "
                                           "pipeline run.")
    min_improvement: NonNegativeFloat = Field(
        0.0, description="Promotion gate: how much better than the champion, in the selection metric's units on "
                         "the test split, a new model must be to take `champion` (e.g. 0.01 accuracy); 0: any.",
        json_schema_extra={"metavar": "X"})
    min_relative_improvement: Share = Field(
        0.0, description="Promotion gate: the same, as a share of the champion's score (0.02: 2% better); 0: any.",
        json_schema_extra={"metavar": "F"})
    work_dir: str | None = Field(None, description="Working folder for tuner projects; default .work/ in the "
                                                   "checkout.", json_schema_extra={"metavar": "PATH"})
    # Tonight's data against the champion's (training.checks): the contract refuses a broken night, drift holds
    # the promotion. docs/data-checks.md.
    on_drift: DriftPolicy = Field(
        "hold", description="What a drifted column does to the night: warn (recorded only), hold (trained, but the "
                            "new version is registered as challenger, tagged needs_review, and a notice is posted) "
                            "or fail (refused before training, like a broken contract).")
    drift_warn: PositiveFloat = Field(
        0.1, description="A column warns at this drift: its population stability index (PSI) over the champion's "
                         "deciles (numbers), or over its categories (categories and the target's classes).",
        json_schema_extra={"metavar": "X"})
    drift_threshold: PositiveFloat = Field(0.2, description="A column drifts at this PSI (or, for a number "
                                                            "column of under 1000 rows, when the KS test's p-value "
                                                            "is under 0.05).", json_schema_extra={"metavar": "X"})
    min_rows_share: Share = Field(
        0.5, description="Contract: tonight needs at least this share of the champion's rows.",
        json_schema_extra={"metavar": "F"})
    max_null_increase: Share = Field(
        0.1, description="Contract: a column's share of missing values may grow by at most this much (0.1: ten "
                         "points) over the champion's.", json_schema_extra={"metavar": "F"})
    max_unseen_share: Share = Field(
        0.05, description="Contract: at most this share of a category column's rows may hold categories the "
                          "champion never saw.", json_schema_extra={"metavar": "F"})
    max_unreadable_share: Share = Field(
        0.01, description="Contract: a folder's images that cannot be decoded are left out, named in the report, up "
                          "to this share of them; above it the night is refused. 0: any unreadable image refuses.",
        json_schema_extra={"metavar": "F"})
    accept_schema_change: bool = Field(
        False, description="Train on a deliberately changed schema (a column renamed, added or retyped, other "
                           "classes or task): the new model may then replace a champion with another signature, "
                           "and its version says so.")

    @field_validator("metric", mode="before")  # before the pattern's own check, which says less
    @classmethod
    def _metric_is_validation(cls, value: str | None) -> str | None:
        if isinstance(value, str) and not value.startswith("val_"):
            raise ValueError(f"metric {value!r} must be a validation metric such as 'val_accuracy' or 'val_loss'")
        return value

    @field_validator("capacity_units")
    @classmethod
    def _units_not_empty(cls, value):
        if value is not None and (not value or any(len(units) == 0 for units in value)):
            raise ValueError("capacity_units must list networks with at least one layer each, e.g. [[32], [64, 64]]")
        return value

    @field_validator("dropout_rates")
    @classmethod
    def _rates_in_range(cls, value):
        if value is not None and (not value or any(not 0 < rate < 1 for rate in value)):
            raise ValueError(f"dropout_rates must be rates in (0, 1), got {value}")
        return value

    @field_validator("l2_factors")
    @classmethod
    def _factors_in_range(cls, value):
        if value is not None and (not value or any(not 0 < factor < 1 for factor in value)):
            raise ValueError(f"l2_factors must be factors in (0, 1), got {value}")
        return value

    @field_validator("augment_strengths")
    @classmethod
    def _strengths_in_range(cls, value):
        if value is not None and (not value or any(not 0 < strength < 1 for strength in value)):
            raise ValueError(f"augment_strengths must be strengths in (0, 1), got {value}")
        return value

    @field_validator("augment")
    @classmethod
    def _known_transforms(cls, value):
        if value is None:
            return value
        known = (*IMAGE_TRANSFORMS, *TABLE_TRANSFORMS, "none")
        unknown = [name for name in value if name not in known]
        if unknown or not value:
            raise ValueError(f"unknown augment transform(s) {unknown}; choose from {list(known)}")
        if "none" in value and len(value) > 1:
            raise ValueError(f"augment {value}: none means no augmentation, alone")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _transforms_fit_the_data(self) -> PipelineConfig:
        if not self.augment or self.augment == ["none"]:
            return self
        image = is_image_source(self.data)
        wrong = [t for t in self.augment if (t in TABLE_TRANSFORMS) == image]
        if wrong:
            takes = ", ".join(IMAGE_TRANSFORMS) if image else ", ".join(TABLE_TRANSFORMS)
            raise ValueError(f"augment {wrong} does not apply to {'images' if image else 'table rows'} of data "
                             f"{redacted(self.data)!r}; they take {takes}")
        return self

    @field_validator("schedule_variants")
    @classmethod
    def _known_schedules(cls, value):
        unknown = [name for name in value or [] if name not in SCHEDULE_VARIANTS]
        if unknown:
            raise ValueError(f"unknown schedule variant(s) {unknown}; choose from {list(SCHEDULE_VARIANTS)}")
        return value

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> PipelineConfig:
        total = self.train_fraction + self.val_fraction + self.test_fraction
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(
                f"split fractions must sum to 1, got train {self.train_fraction} + val {self.val_fraction}"
                f" + test {self.test_fraction} = {total:g}"
            )
        return self

    @model_validator(mode="after")
    def _a_source_reads_its_rows(self) -> PipelineConfig:
        if held := credential_in(self.data):
            raise ValueError(f"data {redacted(self.data)!r} holds {held}: a flag, a deployment parameter and a run's "
                             "params are readable by others; give databases theirs in KERAS_MLOPS_DATA_PASSWORD (or "
                             "PGPASSWORD, ~/.pgpass), object stores in the AWS variables")
        try:
            kind = kind_of(self.data)
        except SourceError as error:
            raise ValueError(str(error)) from None
        if kind == SQL and not (self.table or self.query):
            raise ValueError(f"data {self.data!r} is a database: name the rows with --table NAME or "
                             "--query 'SELECT ...'")
        if kind == SQL and self.table and self.query:
            raise ValueError("give --table or --query, not both")
        if kind != SQL and (self.table or self.query):
            raise ValueError(f"--table and --query read a database, but data {self.data!r} is {KIND_NAMES[kind]}")
        if self.split_by and kind in (BUNDLED_IMAGES, IMAGES):
            raise ValueError("split_by takes a time column of a table; images have none")
        return self

    @model_validator(mode="after")
    def _drift_warns_before_it_drifts(self) -> PipelineConfig:
        if self.drift_warn > self.drift_threshold:
            raise ValueError(f"drift_warn {self.drift_warn} is above drift_threshold {self.drift_threshold}; a column "
                             "warns before it drifts")
        return self

    @model_validator(mode="after")
    def _dask_address_needs_dask(self) -> PipelineConfig:
        if self.dask_address and self.task_runner != "dask":
            raise ValueError(f"dask_address {self.dask_address!r} is set but task_runner is "
                             f"{self.task_runner!r}; pass task_runner='dask' to use the cluster")
        return self

    def recorded(self, mode: str = "python") -> dict:
        """The config as it is written to MLflow (params, config.json, its hash): no password of a URI."""
        return {**self.model_dump(mode=mode), "tracking_uri": redact_uri(self.tracking_uri)}

    @field_validator("model")
    @classmethod
    def _build_function_path_absolute(cls, value: str | None) -> str | None:
        """A build function's file by its absolute path: a worker or a resumed run started elsewhere finds it."""
        if value is None or value in ("mlp", "cnn"):
            return value
        path, _, function = value.rpartition(":")
        return f"{Path(path).expanduser().resolve()}:{function}"

    @field_validator("image_size")
    @classmethod
    def _two_sides(cls, value):
        if value is not None and len(value) != 2:
            raise ValueError(f"image_size must be a height and a width, e.g. [32, 32], got {value}")
        return value

    @property
    def resolved_model(self) -> str:
        return self.model or ("cnn" if is_image_source(self.data) else "mlp")

    @property
    def resolved_epochs(self) -> int:
        return self.epochs or PROFILES[self.profile].epochs

    @property
    def resolved_batch_size(self) -> int:
        return self.batch_size or PROFILES[self.profile].batch_size

    @property
    def augment_transforms(self) -> tuple[str, ...]:
        """The augmentation rung's transforms for this run's data; empty: no rung."""
        if self.augment == ["none"]:
            return ()
        if self.augment:
            return tuple(self.augment)
        return DEFAULT_IMAGE_TRANSFORMS if is_image_source(self.data) else TABLE_TRANSFORMS

    @property
    def capacity_lr_sweep(self) -> bool:
        """Whether the capacity stage re-tunes the learning rate for each network (training.method.strategy)."""
        return CAPACITY_LR_SWEEP[self.profile] if self.lr_sweep == "auto" else self.lr_sweep == "on"

    @property
    def centred_search(self) -> bool:
        """The adaptive strategy searches around the incoming winner (tuning.space), the grid the whole space."""
        return self.strategy == "adaptive"

    @property
    def fractions(self) -> tuple[float, float, float]:
        return (self.train_fraction, self.val_fraction, self.test_fraction)

    @property
    def validation_policy(self) -> ValidationPolicy:
        """How tonight's data is judged against the champion's (training.checks.validation)."""
        return ValidationPolicy(
            contract=ContractRules(min_rows_share=self.min_rows_share, max_null_increase=self.max_null_increase,
                                   max_unseen_share=self.max_unseen_share),
            thresholds=DriftThresholds(warn=self.drift_warn, drift=self.drift_threshold), on_drift=self.on_drift,
            accept_schema_change=self.accept_schema_change)

    @property
    def gate(self) -> Gate:
        return Gate(min_absolute=self.min_improvement, min_relative=self.min_relative_improvement)

    def selection(self, task: str) -> Selection:
        """The metric and direction that pick winners for `task` (known once the data is loaded)."""
        allowed = [f"val_{name}" for name in TASK_METRICS[task]]
        metric = self.metric or ("val_accuracy" if task == "classification" else "val_loss")
        if metric not in allowed:
            raise ConfigError(f"metric {metric!r} is not reported for {task}; choose one of {allowed}")
        direction = self.direction or ("max" if metric.removeprefix("val_") in HIGHER_IS_BETTER else "min")
        return Selection(metric=metric, direction=direction)
