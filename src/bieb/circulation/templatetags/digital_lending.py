"""``{% digital_state_for edition as state %}``: what the signed-in person can do with a
digital title now (``digital_selectors.DigitalState``), for
``circulation/_digital_actions.html``."""

from __future__ import annotations

from django import template

from bieb.circulation import digital_selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def digital_state_for(context, edition):
    if edition is None or not edition.is_digital:
        return None
    request = context.get("request")
    return digital_selectors.digital_state(getattr(request, "user", None), edition)
