"""Fixtures shared with the meetings tests."""

from tests.meetings.conftest import dep69, make_meeting, validated_list  # noqa: F401
