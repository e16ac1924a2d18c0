"""`Listing`: the one parser of `?ordering=` and the order every list gets from it."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from models.listing import Listing, ListShape, _order_keys

ITEMS = Table("items", MetaData(), Column("id", Integer), Column("title", String))
LISTING = Listing(
    ordering={"title": ITEMS.c.title, "both": (ITEMS.c.title, ITEMS.c.id)},
    default=(ITEMS.c.id.desc(),),
    tiebreak=ITEMS.c.id.asc(),
)


def order_of(ordering: str | None) -> str:
    keys = LISTING.order_keys(ordering)
    shape = ListShape(filters=(), searching=False, order=keys)
    return str(LISTING.apply_shape(select(ITEMS.c.id), shape)).split("ORDER BY ")[1]


def test_unknown_ordering_names_are_ignored_as_drf_does():
    assert LISTING.order_keys("nope,-title, ,id") == (("title", True),)


def test_an_ordering_naming_nothing_known_takes_the_default_then_the_tiebreak():
    assert order_of("nope").startswith("items.id DESC, items.id ASC")


def test_a_name_naming_several_columns_orders_each_in_its_direction():
    assert order_of("-both").startswith("items.title DESC, items.id DESC, items.id ASC")


def test_a_long_ordering_is_parsed_without_being_cached():
    long = ",".join(["title"] * 100)
    cached = _order_keys.cache_info().currsize

    assert LISTING.order_keys(long) == (("title", False),) * 100
    assert _order_keys.cache_info().currsize == cached
