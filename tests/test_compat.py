"""The compat modules hold every private name of a library the project uses (tests/test_private_names.py): each
says which versions of its library it was read in, and this fails when the installed version is not one of
them, or when a name it relies on has moved. Then: read the new version's source, mend the compat module, widen
its range."""

import importlib
from importlib import metadata

import keras_tuner as kt
import prefect.utilities.engine
import pytest
from packaging.specifiers import SpecifierSet
from xdist.scheduler import LoadScopeScheduling

COMPAT = ["flows.compat", "tuning.compat", "training.tracking.compat", "tests.compat"]


@pytest.mark.parametrize("module", COMPAT)
def test_the_installed_library_is_a_version_the_names_were_read_in(module):
    compat = importlib.import_module(module)
    installed = metadata.version(compat.LIBRARY)
    assert installed in SpecifierSet(compat.CHECKED), (
        f"{compat.LIBRARY} {installed} is not among the versions {module} was read in ({compat.CHECKED})")


@pytest.mark.parametrize("module", COMPAT)
def test_every_private_name_is_where_the_compat_module_expects_it(module):
    assert importlib.import_module(module).missing_names() == []


@pytest.mark.parametrize(("module", "owner", "name"), [
    ("tuning.compat", kt.Oracle, "_random_values"),
    ("tuning.compat", kt.Tuner, "_try_build"),
    ("flows.compat", prefect.utilities.engine, "_prefect_sigterm_handler"),
    ("tests.compat", LoadScopeScheduling, "_split_scope"),
])
def test_a_name_that_moved_is_reported(module, owner, name, monkeypatch):
    monkeypatch.delattr(owner, name)
    assert any(name in missing for missing in importlib.import_module(module).missing_names())


def test_an_mlflow_hook_that_is_no_longer_abstract_is_reported(monkeypatch):
    """MLflow's DatasetSource names its hooks privately; one it stops asking for has moved."""
    from mlflow.data.dataset_source import DatasetSource

    from training.tracking import compat

    monkeypatch.delattr(DatasetSource, "_resolve")
    assert compat.missing_names() == ["DatasetSource._resolve"]
