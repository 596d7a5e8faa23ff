"""The national brand "de Bibliotheek — voor iedereen, waar je ook woont".

The same colours are set as design tokens in static/portal/bieb.css; keep them in step.
"""

from django.utils.translation import gettext_lazy as _

BRAND_NAME = _("de Bibliotheek")
BRAND_TAGLINE = _("voor iedereen, waar je ook woont")
# White text on this orange has a contrast of 5.6:1 (WCAG AA for normal text).
BRAND_THEME_COLOUR = "#b8400e"
BRAND_BACKGROUND_COLOUR = "#fff7f0"
