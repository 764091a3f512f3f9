"""Which reader a --data value names, and what the config refuses before anything is read."""

import pytest
from pydantic import ValidationError

from training.config import PipelineConfig
from training.data.sources import (
    BUNDLED,
    BUNDLED_IMAGES,
    FILE,
    IMAGES,
    PARTS,
    SQL,
    SourceError,
    described,
    kind_of,
    parts_name,
    redacted,
)


@pytest.mark.parametrize(("data", "kind"), [
    ("digits", BUNDLED), ("digits-images", BUNDLED_IMAGES), ("table.csv", FILE), ("images.npz", IMAGES),
    ("postgresql://etl@db.internal:5432/warehouse", SQL), ("postgresql+psycopg://etl@db/warehouse", SQL),
    ("sqlite:////data/nightly.db", SQL), ("mysql://etl@db/warehouse", SQL),
    ("s3://bucket/events/date=2026-12-*/", PARTS), ("s3://bucket/train.parquet", PARTS),
    ("https://example.com/train.csv", PARTS), ("gs://bucket/events/", PARTS), ("data/parts/*.parquet", PARTS),
])
def test_each_source_names_its_reader(data, kind):
    assert kind_of(data) == kind


def test_a_folder_is_images_and_an_unknown_scheme_is_named(tmp_path):
    assert kind_of(str(tmp_path)) == IMAGES
    with pytest.raises(SourceError, match=r"ftps2:// is neither a database SQLAlchemy knows .* nor a file system"):
        kind_of("ftps2://host/x")


def test_records_never_show_a_password_and_name_the_table_or_query():
    assert redacted("postgresql://etl:hunter2@db/warehouse") == "postgresql://etl:***@db/warehouse"
    assert described("postgresql://etl@db/warehouse", table="events") == "postgresql://etl@db/warehouse table events"
    assert described("sqlite:///n.db", query="select *\n  from events") == "sqlite:///n.db query select * from events"
    assert parts_name("s3://bucket/events/date=2026-12-*/") == "events"


@pytest.mark.parametrize(("fields", "message"), [
    ({"data": "postgresql://etl:hunter2@db/warehouse", "table": "events"}, "holds a password"),
    ({"data": "postgresql://etl@db/warehouse"}, "name the rows with --table NAME or --query"),
    ({"data": "sqlite:///n.db", "table": "events", "query": "select 1"}, "give --table or --query, not both"),
    ({"data": "s3://bucket/events/", "table": "events"}, "--table and --query read a database"),
    ({"data": "digits-images", "split_by": "day"}, "split_by takes a time column of a table"),
    ({"data": "ftps2://host/x"}, "is neither a database"),
])
def test_the_config_refuses_a_source_that_cannot_be_read_and_never_repeats_a_password(fields, message):
    with pytest.raises(ValidationError) as refused:
        PipelineConfig(**fields)
    assert message in str(refused.value)
    assert "hunter2" not in str(refused.value)  # the error is a flow run's state message: readable by the team
