"""Contacts behaves like an immutable tuple of Contact, with array access for bulk readers."""

from __future__ import annotations

import numpy as np
import pytest

from physics import Contact, Contacts


def sample() -> Contacts:
    a = np.array([1, 1, 2, 3])
    b = np.array([2, 5, 3, 5])
    normal = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.6, 0.8]])
    return Contacts(a, b, normal, np.array([0.5, 0.0, 1.0, 2.0]), np.array([0.01, 0.0, 0.02, 0.03]),
                    np.array([True, False, False, True]))


def test_contacts_index_iterate_and_compare_like_a_tuple() -> None:
    contacts = sample()
    assert len(contacts) == 4
    assert contacts[0] == Contact(1, 2, 1.0, 0.0, 0.5, 0.01, True)
    assert contacts[-1] == Contact(3, 5, 0.6, 0.8, 2.0, 0.03, True)
    assert tuple(contacts) == tuple(contacts[i] for i in range(4))
    assert contacts == tuple(contacts) and contacts == sample()
    assert contacts[1:3] == (contacts[1], contacts[2])
    with pytest.raises(IndexError):
        contacts[4]
    assert contacts.pairs.tolist() == [[1, 2], [1, 5], [2, 3], [3, 5]]


def test_contacts_are_immutable() -> None:
    contacts = sample()
    with pytest.raises(AttributeError):
        contacts.a = np.zeros(0)  # type: ignore[misc]
    with pytest.raises(ValueError):
        contacts.a[0] = 9
    with pytest.raises(TypeError):
        hash(contacts)


def test_involving_finds_both_sides_in_order() -> None:
    contacts = sample()
    assert [(c.a, c.b) for c in contacts.involving(5)] == [(1, 5), (3, 5)]
    assert [(c.a, c.b) for c in contacts.involving(2)] == [(1, 2), (2, 3)]
    assert len(contacts.involving(4)) == 0
    assert [c.other(3) for c in contacts.involving(3)] == [2, 5]
    with pytest.raises(ValueError, match="not part of"):
        contacts[0].other(7)


def test_empty_contacts() -> None:
    empty = Contacts.empty()
    assert len(empty) == 0 and list(empty) == [] and empty == ()
    assert len(empty.involving(1)) == 0
