from dataclasses import replace

from training.report.model_card import ChampionBefore, ModelCard

CARD = ModelCard(name="digits-model", stage="regularization", variant="dropout-0.2",
            spec_params={"units": "128-64", "dropout": "0.2"}, metric="val_accuracy", val_score=0.97123,
            test_metric="test_accuracy", test_score=0.96512, param_count=12345,
            diagnosis={"diagnosis.regime": "good fit", "diagnosis.best_epoch": "17",
                       "diagnosis.advice": "validation flattened out"},
            data={"dataset": "digits", "source": "sklearn", "task": "classification", "fingerprint": "abc123",
                  "rows": {"train": 1151, "val": 287, "test": 359},
                  "class_balance": {"train": {"0": 115}, "test": {"0": 36}}},
            pipeline_run_id="pipe-1", candidate_run_id="cand-7", champion=None,
            decision="champion (first registered model)")


def test_the_card_names_scores_data_network_diagnosis_and_lineage():
    card = CARD.markdown()
    assert card.startswith("# digits-model: regularization/dropout-0.2\n")
    assert "**Decision:** champion (first registered model). There was no champion before it." in card
    assert "| validation (selection) | val_accuracy | 0.9712 |" in card
    assert "| test (once, after selection) | test_accuracy | 0.9651 |" in card
    assert "- fingerprint of the split: `abc123`" in card
    assert "- train: {'0': 115}" in card and "- test: {'0': 36}" in card
    assert "12,345 parameters" in card
    assert "| dropout | 0.2 |\n| units | 128-64 |" in card  # spec fields in name order
    assert "- regime: **good fit**, best epoch 17" in card and "- validation flattened out" in card
    assert "- pipeline run: `pipe-1`" in card and "candidate run: `cand-7` (stage `regularization`" in card


def test_the_comparison_with_the_champion_and_a_regression_card():
    card = replace(CARD, champion=ChampionBefore("3", 0.951), data={**CARD.data, "class_balance": None}).markdown()
    assert ("compared with the champion, version 3, on the same test rows: test_accuracy 0.9651 against 0.9510."
            in card)
    assert "- class balance:\n- (regression)" in card


def test_the_card_sets_the_network_beside_its_baselines_and_flags_a_simpler_model_as_good():
    card = replace(CARD, baselines={"dummy": 0.1, "linear": 0.97},
                   baseline_models={"dummy": "DummyClassifier(prior)", "linear": "LogisticRegression"},
                   flags=["does not beat the linear baseline on the test split (0.9651 vs 0.9700)"]).markdown()
    assert ("| this network | 0.9651 |\n| dummy: DummyClassifier(prior) | 0.1000 |\n"
            "| linear: LogisticRegression | 0.9700 |") in card
    assert "**Flag:** does not beat the linear baseline on the test split (0.9651 vs 0.9700)." in card
