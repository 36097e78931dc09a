"""The demo complaint catalogue: every item has an English name, and the loader and API carry it."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from complaints.models import Category

CATALOGUE = Path(settings.BASE_DIR) / "fixtures" / "complaints" / "catalogue.json"


def _items(items):
    for item in items:
        yield item
        yield from _items(item.get("children", []))


def test_every_catalogue_item_has_an_english_name():
    items = list(_items(json.loads(CATALOGUE.read_text(encoding="utf-8"))["categories"]))
    assert len(items) > 85
    missing = [item["code"] for item in items if not item.get("name_en", "").strip()]
    assert missing == []
    # English, not a copy of the Chinese name
    assert all(item["name_en"].isascii() for item in items)


@pytest.mark.django_db
def test_loaded_catalogue_carries_english_names():
    active = Category.objects.active()
    assert active.exists()
    assert not active.filter(name_en="").exists()
    pipe = Category.objects.get(code="030102")
    assert (pipe.name, pipe.name_en) == ("管道爆裂", "Burst water pipe")


def test_label_falls_back_to_the_chinese_name():
    category = Category(code="990101", name="测试", name_en="Test")
    assert category.label("en") == "Test" and category.label("en-GB") == "Test"
    assert category.label("zh") == "测试" and category.label() == "测试"
    category.name_en = ""
    assert category.label("en") == "测试"


@pytest.mark.django_db
def test_category_api_gives_english_names(client):
    tree = client.get("/api/v1/complaint-categories").json()["categories"]
    top = next(item for item in tree if item["code"] == "03")
    assert top["name_en"] == "Public Services"
    leaves = [leaf for mid in top["children"] for leaf in mid["children"]]
    assert next(leaf for leaf in leaves if leaf["code"] == "030102")["name_en"] == "Burst water pipe"
