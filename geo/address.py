"""Chinese address parsing (地址解析) for Beijing hotline text, in pure Python.

`parse_address("北京市丰台区方庄街道刘家窑南里５号楼３单元301")` splits an operator's free text into district /
street / community / road / number / compound / building / unit / room and keeps what it could not place in
`rest`. It copes with what operators really type:

- missing levels ("北京市" omitted, no district, no street) and extra noise (spaces, punctuation, "中国");
- full-width digits and letters (NFKC), Chinese numerals before 号/号楼/单元/室 (五号楼 → 5号楼) but not inside
  names (东四十条, 三里屯, 八里庄 stay as they are);
- district aliases: short forms (朝阳, 海淀), merged districts (崇文区 → 东城区, 宣武区 → 西城区, 2010), counties
  renamed to districts (密云县 → 密云区, 延庆县 → 延庆区), and the traps where a district's short name starts
  another name (朝阳路, 朝阳门, 大兴胡同, 通州路): a short form counts only when what follows does not continue
  a road, gate or compound name;
- street/township units by full name and by their usual variants (鲁谷街道办事处, 东坝乡 for 东坝地区, 温泉镇 for
  温泉地区), and by short name (鲁谷) when it stands on its own; the known names come from a `Vocabulary`
  (the geocoder builds one from the gazetteer), with a generic suffix rule when none is given;
- 号院 (a compound at a road number) versus 号楼 (a building in a compound), 5#楼 / 5栋 / 5幢, 3门 for 3单元 and
  the 5-3-301 shorthand (building-unit-room).

Nothing here touches the database: the geocoder decides which parsed part names a gazetteer place.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

# The 16 districts of Beijing (GB/T 2260 names) with the spellings operators use for each.
BEIJING_DISTRICTS: dict[str, tuple[str, ...]] = {
    "东城区": ("东城", "崇文区", "崇文"),
    "西城区": ("西城", "宣武区", "宣武"),
    "朝阳区": ("朝阳",),
    "丰台区": ("丰台",),
    "石景山区": ("石景山",),
    "海淀区": ("海淀",),
    "门头沟区": ("门头沟",),
    "房山区": ("房山",),
    "通州区": ("通州",),
    "顺义区": ("顺义", "顺义县"),
    "昌平区": ("昌平", "昌平县"),
    "大兴区": ("大兴", "大兴县"),
    "怀柔区": ("怀柔", "怀柔县"),
    "平谷区": ("平谷", "平谷县"),
    "密云区": ("密云", "密云县"),
    "延庆区": ("延庆", "延庆县"),
}

# Prefixes that only say "Beijing" (longest first).
CITY_PREFIXES = ("中华人民共和国", "中国", "北京市市辖区", "北京市辖区", "北京市", "北京", "市辖区")

_BARE_PREFIXES = ("中国", "北京")
_ADMIN_STARTS = (
    "北京",
    "市",
    *BEIJING_DISTRICTS,
    *(alias for aliases in BEIJING_DISTRICTS.values() for alias in aliases),
)

# What may follow a place name and make it part of a longer one: 朝阳 + 门 is 朝阳门, not 朝阳区.
_CONTINUATION = re.compile(
    r"^[东西南北中内外前后上下]?(?:大街|大道|路|街|胡同|巷|条|门|桥|里|园|公园|小区|村|庄|站|口|河|湖|寺|坊|楼|"
    r"大厦|广场|医院|学校|中学|小学|机场|新城|花园|家园|苑|环|区[\u4e00-\u9fff]{0,3}(?:楼|号))"
)
_NUMERAL_NEXT = re.compile(r"^[一二三四五六七八九十两〇零]")

# Road and compound words, used to classify the text left after the administrative levels.
_ROAD_SUFFIX = (
    r"(?:大街|大道|环路|辅路|[东西南北中]?路|[东西南北中]?街|胡同|[东西南北中]?巷|[一二三四五六七八九十]+条|\d+条)"
)
_COMPOUND_SUFFIX = (
    r"(?:小区|花园|家园|公寓|新村|[东西南北中]?里|[东西南北中]?苑|[东西南北中]?园|庄园|大厦|广场|中心|别墅|城|府|湾|郡|"
    r"[东西南北]?区|宿舍|院)"
)

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+(?=号楼|号院|号|单元|层|楼|室|栋|幢|门(?!外|内|大街|桥))")


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral up to 999 (五 → 5, 十二 → 12, 二十 → 20, 一百零五 → 105), or None."""
    total, current, seen = 0, 0, False
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
            seen = True
        elif ch == "十":
            total += (current or 1) * 10
            current, seen = 0, True
        elif ch == "百":
            total += (current or 1) * 100
            current, seen = 0, True
        else:
            return None
    return total + current if seen else None


def normalise(text: str) -> str:
    """Canonical form of an address: NFKC (full-width → ASCII), no spaces or punctuation, Arabic house numbers."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = re.sub(r"[\s,，。.、;；:：'\"“”‘’()（）\[\]【】<>《》]+", "", text)
    text = text.replace("—", "-").replace("–", "-").replace("－", "-").replace("~", "-")
    text = _CN_NUMBER.sub(lambda m: str(chinese_number(m.group(0)) if chinese_number(m.group(0)) else m.group(0)), text)
    # 5#楼 / 5# / 5栋 / 5幢 / 5号楼栋 are all building 5.
    text = re.sub(r"(\d+)\s*#\s*楼?", r"\1号楼", text)
    text = re.sub(r"(\d+)(?:号)?(?:栋|幢)", r"\1号楼", text)
    text = re.sub(r"(\d+)号楼号?", r"\1号楼", text)
    return text


@dataclass(frozen=True)
class Vocabulary:
    """Street/township names the parser recognises: any spelling → canonical name, and canonical → districts."""

    spellings: dict[str, str] = field(default_factory=dict)
    short_spellings: dict[str, str] = field(default_factory=dict)
    districts_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_len: int = 0

    @classmethod
    def from_streets(cls, streets: list[tuple[str, str]]) -> Vocabulary:
        """Build from (street name, district name) pairs, e.g. ("鲁谷街道", "石景山区")."""
        spellings: dict[str, str] = {}
        short: dict[str, str] = {}
        districts: dict[str, set[str]] = {}
        for name, district in streets:
            districts.setdefault(name, set()).add(district)
            for spelling in street_spellings(name):
                spellings.setdefault(spelling, name)
            stem = street_stem(name)
            # A short name is only a street when it cannot be a road (学院路 is both) and is long enough.
            if len(stem) >= 2 and not re.search(r"(?:路|街|道|门|桥|里)$", stem):
                short.setdefault(stem, name)
        longest = max((len(s) for s in [*spellings, *short]), default=0)
        return cls(spellings, short, {k: tuple(sorted(v)) for k, v in districts.items()}, longest)


def street_stem(name: str) -> str:
    """A street/township name without its admin suffix (鲁谷街道 → 鲁谷, 东坝地区 → 东坝, 王佐镇 → 王佐)."""
    return re.sub(r"(?:街道办事处|街道|地区办事处|地区|镇|乡)$", "", name)


def street_spellings(name: str) -> list[str]:
    """Full spellings operators use for a street/township unit (with 办事处, 地区 ↔ 乡 ↔ 镇)."""
    stem = street_stem(name)
    if name.endswith("街道"):
        return [name, f"{name}办事处", f"{name}办", f"{stem}办事处"]
    if name.endswith("地区"):
        return [name, f"{name}办事处", f"{stem}乡", f"{stem}镇"]
    if name.endswith("镇"):
        return [name, f"{stem}地区", f"{name}政府"]
    if name.endswith("乡"):
        return [name, f"{stem}地区", f"{name}政府"]
    return [name]


_GENERIC_STREET = re.compile(r"([\u4e00-\u9fff]{2,5}?)(街道办事处|街道|地区办事处|地区|镇|乡)(?![村政])")


@dataclass
class ParsedAddress:
    """The parts of one address; None where the text does not say."""

    district: str | None = None
    street: str | None = None
    community: str | None = None
    road: str | None = None
    number: str | None = None
    compound: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    rest: str = ""
    normalised: str = ""
    # Where the parts came from, for the geocoder's hierarchy check and for explaining a result.
    district_alias: str | None = None
    street_short: bool = False
    courtyard: bool = False  # the number is a 号院 (a compound at a road number)
    place_text: str = ""  # the text between the administrative levels and the building/unit/room parts
    core: str = ""  # everything after the administrative levels (what gazetteer names are looked for in)

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", False)}


def strip_city(text: str) -> str:
    """Drop the prefixes that only say "Beijing". A bare 北京 or 中国 goes only when an administrative name
    follows (北京朝阳区, 中国北京市): in 北京站, 北京大学 or 中国人民大学 it is part of the name."""
    changed = True
    while changed:
        changed = False
        for prefix in CITY_PREFIXES:
            if not text.startswith(prefix) or len(text) == len(prefix):
                continue
            after = text[len(prefix) :]
            if prefix in _BARE_PREFIXES and not after.startswith(_ADMIN_STARTS):
                continue
            text = after
            changed = True
    return text


_DISTRICT_FULL = sorted(
    [(name, name) for name in BEIJING_DISTRICTS]
    + [
        (alias, name)
        for name, aliases in BEIJING_DISTRICTS.items()
        for alias in aliases
        if alias.endswith(("区", "县"))
    ],
    key=lambda pair: -len(pair[0]),
)
_DISTRICT_SHORT = sorted(
    [
        (alias, name)
        for name, aliases in BEIJING_DISTRICTS.items()
        for alias in aliases
        if not alias.endswith(("区", "县"))
    ],
    key=lambda pair: -len(pair[0]),
)


def _find_district(text: str) -> tuple[str | None, str | None, str]:
    """(canonical district, spelling used, text without it)."""
    # A full name (朝阳区, 密云县, 宣武区) anywhere counts, the earliest first.
    best = None
    for spelling, name in _DISTRICT_FULL:
        at = text.find(spelling)
        # 朝阳区 inside 朝阳区域 is still the district; a name that merely ends in 区 (西城区政府) too.
        if at >= 0 and (best is None or at < best[0]):
            best = (at, spelling, name)
    if best is not None:
        at, spelling, name = best
        return name, spelling, text[:at] + text[at + len(spelling) :]
    # A short form (朝阳) only at the start and only when it does not begin a longer name (朝阳路, 朝阳门).
    for spelling, name in _DISTRICT_SHORT:
        if text.startswith(spelling):
            after = text[len(spelling) :]
            if after and (_CONTINUATION.match(after) or _NUMERAL_NEXT.match(after)):
                continue
            return name, spelling, after
    return None, None, text


def _find_street(text: str, vocabulary: Vocabulary | None, district: str | None) -> tuple[str | None, bool, str]:
    """(canonical street, whether found by its short name, text without it)."""
    if vocabulary is None or not vocabulary.spellings:
        match = _GENERIC_STREET.search(text)
        if match:
            name = match.group(1) + ("街道" if match.group(2).startswith("街道") else match.group(2)[:2])
            return name, False, text[: match.start()] + text[match.end() :]
        return None, False, text
    # Longest full spelling anywhere, the earliest first.
    n = len(text)
    for start in range(n):
        for end in range(min(n, start + vocabulary.max_len), start + 1, -1):
            name = vocabulary.spellings.get(text[start:end])
            if name is not None:
                return name, False, text[:start] + text[end:]
    # A short name (鲁谷) only at the start and standing alone.
    for end in range(min(n, vocabulary.max_len), 1, -1):
        name = vocabulary.short_spellings.get(text[:end])
        if name is None:
            continue
        after = text[end:]
        if after and (_CONTINUATION.match(after) or _NUMERAL_NEXT.match(after)):
            continue
        if district and district not in vocabulary.districts_of.get(name, (district,)):
            continue
        return name, True, after
    return None, False, text


_ROOM_TAIL = re.compile(r"(\d+)(?:室|房间|房|号房)?$")
_UNIT = re.compile(r"(\d+)(?:单元|门)(?!外|内|大街|桥|口)")
_BUILDING = re.compile(r"(\d+)号楼|(\d+)楼(?=\d+(?:单元|门))|([a-z]\d*|\d+[a-z]?)座")
_FLOOR = re.compile(r"(\d+)(?:层|楼)(?=\d|$)")
_TRIPLE = re.compile(r"(\d+)-(\d+)-(\d+)$")
_PAIR = re.compile(r"(\d+)-(\d+)$")
_COURTYARD = re.compile(r"(\d+(?:之\d+)?)号院")
_NUMBER = re.compile(r"((?:甲|乙|丙|丁)?\d+(?:之\d+|-\d+)?)号(?!楼|院)")
_COMMUNITY = re.compile(r"([\u4e00-\u9fffa-z0-9]{2,12}?)社区(?:居委会|居民委员会|居委)?")
_ROAD = re.compile(r"^(.*?[\u4e00-\u9fff]" + _ROAD_SUFFIX + r")")
_COMPOUND = re.compile(r"^(.*?[\u4e00-\u9fff]" + _COMPOUND_SUFFIX + r")")


def parse_address(text: str, *, vocabulary: Vocabulary | None = None) -> ParsedAddress:
    """Split an address into its parts (see the module docstring); never raises on odd input."""
    normalised = normalise(text)
    parsed = ParsedAddress(normalised=normalised)
    rest = strip_city(normalised)

    parsed.district, parsed.district_alias, rest = _find_district(rest)
    rest = strip_city(rest)
    parsed.street, parsed.street_short, rest = _find_street(rest, vocabulary, parsed.district)
    if parsed.district is None and parsed.street and vocabulary is not None:
        districts = vocabulary.districts_of.get(parsed.street, ())
        if len(districts) == 1:
            parsed.district = districts[0]
    parsed.core = rest

    community = _COMMUNITY.search(rest)
    if community:
        parsed.community = community.group(1) + "社区"
        rest = rest[: community.start()] + rest[community.end() :]

    # The tail: 5-3-301, 3单元301, 301室, 5号楼.
    triple = _TRIPLE.search(rest)
    if triple:
        parsed.building, parsed.unit, parsed.room = triple.groups()
        rest = rest[: triple.start()]
    unit = _UNIT.search(rest)
    if unit:
        parsed.unit = unit.group(1)
        tail = rest[unit.end() :]
        room = _ROOM_TAIL.match(tail)
        if room:
            parsed.room = room.group(1)
        rest = rest[: unit.start()]
    building = _BUILDING.search(rest)
    if building:
        parsed.building = next(g for g in building.groups() if g)
        tail = rest[building.end() :]
        if parsed.room is None:
            pair = _PAIR.match(tail)
            room = _ROOM_TAIL.match(tail)
            if pair:
                parsed.unit, parsed.room = pair.groups()
            elif room:
                parsed.room = room.group(1)
        rest = rest[: building.start()]
    elif parsed.room is None and (pair := _PAIR.search(rest)) and not _NUMBER.search(rest[pair.end() :]):
        # 刘家窑南里5-301: building 5, room 301, when a place name precedes it.
        if pair.start() > 0 and not rest[: pair.start()].endswith("号"):
            parsed.building, parsed.room = pair.groups()
            rest = rest[: pair.start()]
    floor = _FLOOR.search(rest)
    if floor and floor.start() > 0 and rest[floor.start() - 1] not in "号":
        rest = rest[: floor.start()] + rest[floor.end() :]
    room = re.search(r"(\d+)(?:室|房间)$", rest)
    if room and parsed.room is None:
        parsed.room = room.group(1)
        rest = rest[: room.start()]

    courtyard = _COURTYARD.search(rest)
    number = courtyard or _NUMBER.search(rest)
    if number:
        parsed.number = number.group(1)
        parsed.courtyard = courtyard is not None
        head = rest[: number.start()]
        tail = rest[number.end() :]
    else:
        head, tail = rest, ""
    place_text = head

    road = _ROAD.match(head)
    if road:
        parsed.road = road.group(1)
        after_road = head[road.end() :]
        if after_road:
            parsed.compound = after_road
    elif head:
        compound = _COMPOUND.match(head)
        if compound or parsed.building or parsed.unit:
            parsed.compound = head
    if parsed.courtyard and parsed.road and not parsed.compound:
        parsed.compound = f"{parsed.road}{parsed.number}号院"
    if parsed.number and not parsed.road and parsed.compound and not parsed.building and not parsed.courtyard:
        # 刘家窑南里5号: in a compound a bare number is a building.
        parsed.building, parsed.number = parsed.number, None
    if tail:
        compound = _COMPOUND.match(tail)
        if compound and not parsed.compound:
            parsed.compound = tail
    parsed.place_text = place_text or tail
    leftover = tail if tail and tail != parsed.compound else ""
    if not (parsed.road or parsed.compound):
        leftover = head + leftover
    parsed.rest = leftover
    return parsed
