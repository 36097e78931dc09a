"""The address parser on its own: pure Python, no database."""

import pytest

from geo.address import Vocabulary, chinese_number, normalise, parse_address

STREETS = Vocabulary.from_streets(
    [
        ("方庄街道", "丰台区"),
        ("鲁谷街道", "石景山区"),
        ("学院路街道", "海淀区"),
        ("东坝地区", "朝阳区"),
        ("温泉地区", "海淀区"),
        ("王佐镇", "丰台区"),
        ("八里庄街道", "朝阳区"),
        ("八里庄街道", "海淀区"),
        ("望京街道", "朝阳区"),
        ("东四街道", "东城区"),
    ]
)


def parse(text):
    return parse_address(text, vocabulary=STREETS)


def test_full_address_with_every_level():
    p = parse("北京市丰台区方庄街道刘家窑南里5号楼3单元301")
    assert (p.district, p.street, p.compound, p.building, p.unit, p.room) == (
        "丰台区",
        "方庄街道",
        "刘家窑南里",
        "5",
        "3",
        "301",
    )
    assert p.road is None and p.number is None


def test_full_width_digits_and_spaces_are_normalised():
    p = parse("丰台区　刘家窑南里　５号楼３单元３０１室")
    assert p.normalised == "丰台区刘家窑南里5号楼3单元301室"
    assert (p.building, p.unit, p.room) == ("5", "3", "301")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("五", 5), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("一百零五", 105), ("两", 2), ("甲", None)],
)
def test_chinese_numbers(text, expected):
    assert chinese_number(text) == expected


def test_chinese_numerals_become_digits_only_before_number_words():
    assert normalise("枣苑五号楼二单元") == "枣苑5号楼2单元"
    # Numerals that are part of names stay: 东四十条, 三里屯, 八里庄, 五道口.
    assert normalise("东四十条") == "东四十条"
    assert normalise("三里屯路19号") == "三里屯路19号"
    assert normalise("八里庄街道") == "八里庄街道"


@pytest.mark.parametrize(
    "text", ["曙光花园12#楼", "曙光花园12栋", "曙光花园12幢", "曙光花园十二号楼", "曙光花园12号楼"]
)
def test_building_spellings(text):
    p = parse(text)
    assert (p.compound, p.building) == ("曙光花园", "12")


def test_building_unit_room_shorthand():
    p = parse("刘家窑南里5-3-301")
    assert (p.compound, p.building, p.unit, p.room) == ("刘家窑南里", "5", "3", "301")


def test_men_is_a_unit():
    p = parse("刘家窑南里1号楼1门101")
    assert (p.building, p.unit, p.room) == ("1", "1", "101")


def test_courtyard_number_versus_building_number():
    courtyard = parse("海淀区学院路20号院3号楼2单元")
    assert (courtyard.road, courtyard.number, courtyard.courtyard) == ("学院路", "20", True)
    assert courtyard.compound == "学院路20号院"
    assert (courtyard.building, courtyard.unit) == ("3", "2")
    building = parse("刘家窑南里20号楼")
    assert (building.compound, building.building, building.number, building.courtyard) == (
        "刘家窑南里",
        "20",
        None,
        False,
    )


def test_a_bare_number_in_a_compound_is_a_building_but_on_a_road_a_house_number():
    assert parse("刘家窑南里5号").building == "5"
    road = parse("崇文门西大街5号")
    assert (road.road, road.number, road.building) == ("崇文门西大街", "5", None)


def test_house_number_prefixes():
    p = parse("东四十条甲5号")
    assert (p.road, p.number) == ("东四十条", "甲5")


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("北京市朝阳区望京", "朝阳区"),
        ("朝阳区望京", "朝阳区"),
        ("北京朝阳望京街道", "朝阳区"),
        ("朝阳东坝乡", "朝阳区"),
        ("宣武区西河沿街100号", "西城区"),
        ("崇文区崇文门外大街12号", "东城区"),
        ("密云县鼓楼东大街", "密云区"),
        ("延庆县香水园街道", "延庆区"),
        ("中国北京市海淀区学院路", "海淀区"),
    ],
)
def test_district_spellings(text, district):
    assert parse(text).district == district


@pytest.mark.parametrize(
    "text", ["朝阳路12号", "朝阳门北大街3号", "朝阳门外大街18号", "朝阳北路101号", "大兴胡同5号", "通州路"]
)
def test_a_district_short_name_that_starts_a_road_is_not_a_district(text):
    p = parse(text)
    assert p.district is None
    assert p.road is not None and p.road.startswith(text[:2])


def test_city_prefix_is_kept_when_it_is_part_of_a_name():
    assert parse("北京站").core == "北京站"
    assert parse("北京大学东门").core == "北京大学东门"
    assert parse("北京市北京站").core == "北京站"
    assert parse("北京朝阳区望京").district == "朝阳区"


def test_street_variants_and_short_names():
    assert parse("朝阳东坝乡").street == "东坝地区"
    assert parse("海淀区温泉镇").street == "温泉地区"
    assert parse("鲁谷街道办事处").street == "鲁谷街道"
    short = parse("石景山鲁谷 停车地锁")
    assert (short.district, short.street, short.street_short) == ("石景山区", "鲁谷街道", True)
    # A street's short name followed by a road word is a road, not the street (鲁谷路 is a road in 鲁谷).
    assert parse("鲁谷路74号").street is None
    # 学院路 is both a road and the short name of 学院路街道: the parser never takes it for the street.
    assert parse("学院路20号").street is None


def test_a_street_in_one_district_gives_the_district():
    assert parse("望京街道").district == "朝阳区"
    # 八里庄街道 exists in 朝阳 and in 海淀: no district unless the text names one.
    assert parse("八里庄街道").district is None
    assert parse("海淀区八里庄街道").district == "海淀区"


def test_community():
    p = parse("丰台区刘家窑南里社区居委会")
    assert p.community == "刘家窑南里社区"


def test_without_a_vocabulary_streets_are_found_by_suffix():
    p = parse_address("丰台区方庄街道芳古园一区3号楼")
    assert (p.district, p.street, p.compound, p.building) == ("丰台区", "方庄街道", "芳古园一区", "3")


@pytest.mark.parametrize("text", ["", "   ", "？？？", "12345", "-", "号楼单元室", "a" * 500])
def test_odd_input_never_raises(text):
    p = parse(text)
    assert isinstance(p.as_dict(), dict)
