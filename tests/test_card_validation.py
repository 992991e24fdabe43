"""cards.validate: the Hub's dataset-card metadata rules, checked offline; a bad card fails the build with one line."""

import json

import pytest
from test_builder_base import Toy

from builders.core.base import run
from cards.render import render_card, size_category
from cards.validate import METADATA, CardError, check, hub_ids, problems


def _meta(**change):
    meta = {"license": "cc-by-4.0", "task_categories": ["summarization"], "size_categories": ["n<1K"],
            "configs": [{"config_name": "a", "default": True, "data_files": [{"split": "train", "path": "data/a/*"}]}],
            "dataset_info": [{"config_name": "a", "features": [{"name": "id", "dtype": "string"}],
                              "splits": [{"name": "train", "num_bytes": 10, "num_examples": 1}]}]}
    meta.update(change)
    return {k: v for k, v in meta.items() if v is not None}


def test_a_good_card_has_no_problem_and_the_shipped_lists_have_their_sources():
    assert problems(_meta()) == []
    data = json.loads(METADATA.read_text())
    assert "hub-docs" in data["_sources"]["licenses"] and "pipelines.ts" in data["_sources"]["task_categories"]
    assert {"cc-by-nc-sa-4.0", "unknown", "other"} <= hub_ids()["licenses"]
    assert {"summarization", "video-text-to-text", "video-classification"} <= hub_ids()["task_categories"]


@pytest.mark.parametrize("change,expected", [
    ({"license": "cc-by-4"}, "license: 'cc-by-4' is not one of the Hub's license ids"),
    ({"license": None}, "license: missing"),
    ({"license": "other"}, "license: other needs license_name and license_link; license_name and license_link missing"),
    ({"license": "other", "license_name": "x-terms"}, "license_link missing"),
    ({"license": "other", "license_name": "X Terms", "license_link": "https://x"}, "license_name: 'X Terms' is not a lowercase slug"),
    ({"task_categories": ["video-summarization"]}, "task_categories: 'video-summarization' is not one of the Hub's tasks"),
    ({"size_categories": ["n>1M"]}, "size_categories: ['n>1M'] is not one of the Hub's size categories"),
    ({"configs": [{"config_name": "a", "data_files": "x"}, {"config_name": "b", "data_files": "y"}]},
     "configs: 0 configs are `default: true`"),
    ({"dataset_info": [{"config_name": "a", "features": [{"name": "id", "dtype": "string"}],
                        "splits": [{"name": "train", "num_examples": 1}]}]}, "every split needs name, num_bytes and num_examples"),
    ({"dataset_info": None}, "dataset_info: missing"),
])
def test_each_rule_is_one_line_naming_the_field(change, expected):
    found = problems(_meta(**change))
    assert len(found) == 1 and expected in found[0] and "\n" not in found[0], found


def test_size_categories_are_the_hubs_up_to_the_largest():
    assert [size_category(n) for n in (0, 999, 1_000, 2_000_000)] == ["n<1K", "n<1K", "1K<n<10K", "1M<n<10M"]
    assert all(size_category(10 ** k) in hub_ids()["size_categories"] for k in range(10))


class OtherWithoutLink(Toy):
    def card_facts(self):
        return {**super().card_facts(), "license": "other", "license_name": "toy-terms"}


def test_license_other_without_a_link_fails_the_build_with_one_line_before_writing(tmp_path, capsys):
    assert run(OtherWithoutLink, ["--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: card: license: other needs license_name and license_link")
    assert not (tmp_path / "o").exists()  # nothing extracted nor written


def test_every_build_has_one_default_config_so_load_dataset_needs_no_name(tmp_path):
    from datasets import load_dataset

    assert run(Toy, ["--out", str(tmp_path / "o"), "--no-progress"]) == 0
    card = (tmp_path / "o" / "README.md").read_text()
    check(card)
    assert "Built with vsumhub: `python -m test_builder_base`" in card
    ds = load_dataset(str(tmp_path / "o"))  # no config name: the default one ("all", first by name)
    assert sorted(ds) == ["test", "train"] and ds["train"].num_rows == 6
    build = json.loads((tmp_path / "o" / "build.json").read_text())
    build["card"]["default_config"] = "even"
    assert "config_name: even\n  default: true" in render_card(build)


def test_a_card_failing_a_full_check_is_one_error_line(tmp_path):
    with pytest.raises(CardError, match=r"^webdataset card: task_categories: missing"):
        check(_meta(task_categories=None), "webdataset card")
