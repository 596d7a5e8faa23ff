"""The personal QR code of a registration, as SVG (``segno``): shown on the registration page,
served as ``qr.svg`` for e-mail and printing, scanned at the door (``services.check_in`` takes
the whole link it holds).

The SVG says what it is to screen readers (``role="img"``, ``aria-label`` and a ``<title>``)
and has a white background with the quiet zone, so it scans on a dark screen as well.
"""

from __future__ import annotations

import io

import segno
from django.utils.html import escape


def qr_svg(data: str, *, label: str, scale: int = 4, sized: bool = False) -> str:
    """The QR code of ``data`` as an SVG document (UTF-8 text, no XML declaration).

    ``label`` names it for assistive technology. Without ``sized`` the SVG has only a
    ``viewBox`` and takes the width CSS gives it (inline on a page); with ``sized`` it carries
    its own width and height (``scale`` pixels a module), for a stand-alone image."""
    code = segno.make(data, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        scale=scale,
        border=4,
        dark="#000",
        light="#fff",
        xmldecl=False,
        svgclass="prog-qr__image",
        lineclass=None,
        omitsize=not sized,
        title=label,
    )
    svg = buffer.getvalue().decode("utf-8")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
