"""``{% url_of 'name' %}``: ``{% url 'name' %}`` for an address without arguments, reversed once
per process (issue 15, goal 3: the header, menu and footer reversed about fifteen addresses on
every page, a third of the rendering of a page without a list)."""

import functools

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


@functools.lru_cache(maxsize=256)
def _reverse(prefix, name):
    return reverse(name)


@register.simple_tag
def url_of(name):
    return _reverse(get_script_prefix(), name)  # the prefix is part of the address (SCRIPT_NAME)
