"""Every URL pattern and API operation, for every role, against an explicit matrix.

A new URL (or API operation) without a row here fails ``test_every_url_has_a_row``. Object URLs
are checked twice where scope matters: for an object of the staff's own organisation ("A")
and of another organisation ("B"). Staff of A must get 404 for B's private records.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import (
    LocationFactory,
    OrganisationFactory,
    UserFactory,
    staff_member,
    years_ago,
)
from bieb.catalog.tests.factories import EditionFactory
from bieb.community.models import (
    Conversation,
    Message,
    Photo,
    Report,
    ThingBooking,
    ThingSettings,
    WordFilter,
)
from bieb.community.tests import factories as community_factories
from bieb.programming.tests.factories import activity, room
from bieb.subscriptions.models import Settlement

ROLES = [
    "anonymous",
    "resident",
    "youth",
    "desk",
    "programmer",
    "collection",
    "manager",
    "flexpool_coordinator",
    "network_admin",
]
STAFF = ["desk", "programmer", "collection", "manager", "flexpool_coordinator"]

PUBLIC = dict.fromkeys(ROLES, 200)
PRIVATE = {"anonymous": 302, **{role: 200 for role in ROLES if role != "anonymous"}}
STAFF_ANY = {
    "anonymous": 302,
    "resident": 403,
    "youth": 403,
    **dict.fromkeys(STAFF, 200),
    "network_admin": 200,
}
MEMBERS_OWN = {**STAFF_ANY, "programmer": 403, "collection": 403, "flexpool_coordinator": 403}
MEMBERS_OTHER = {**MEMBERS_OWN, "desk": 404, "manager": 404}
MANAGE_OWN = {
    **STAFF_ANY,
    "desk": 403,
    "programmer": 403,
    "collection": 403,
    "flexpool_coordinator": 403,
}
MANAGE_OTHER = {**MANAGE_OWN, "manager": 404}
POST_ONLY_PRIVATE = {"anonymous": 302, **{role: 405 for role in ROLES if role != "anonymous"}}
GUESTS_ONLY = {"anonymous": 200, **{role: 302 for role in ROLES if role != "anonymous"}}
SIGNED_IN_GET = {"anonymous": 302, **{role: 200 for role in ROLES if role != "anonymous"}}
MANAGE_POST_ONLY = {**MANAGE_OWN, "manager": 405, "network_admin": 405}

# (url name, path builder, expected status per role)
MATRIX: list[tuple[str, object, dict[str, int]]] = []


def row(name: str, path, expected: dict[str, int]) -> None:
    MATRIX.append((name, path, expected))


row("healthz", "/healthz", PUBLIC)
row("readyz", "/readyz", PUBLIC)
row("javascript-catalog", "/jsi18n/", PUBLIC)
row("set_language", "/i18n/setlang/", dict.fromkeys(ROLES, 302))
row("portal:home", "/", PUBLIC)
row("portal:privacy", "/privacy", PUBLIC)
row("portal:about", "/over", PUBLIC)
row("portal:offline", "/offline", PUBLIC)
row("portal:manifest", "/manifest.webmanifest", PUBLIC)
row("portal:service_worker", "/sw.js", PUBLIC)
row("network:find", "/vind-je-bibliotheek?q=1011AB", PUBLIC)
row("network:organisations", "/bibliotheken", PUBLIC)
row("network:organisation", lambda w: f"/bibliotheken/{w['org_a'].slug}", PUBLIC)
row("network:location", lambda w: f"/locaties/{w['loc_a'].slug}", PUBLIC)
row("accounts:login", "/inloggen", GUESTS_ONLY)
row("accounts:logout", "/uitloggen", dict.fromkeys(ROLES, 405))
row("accounts:register", "/registreren", GUESTS_ONLY)
row("accounts:register_done", "/registreren/controleer-je-mail", PUBLIC)
row("accounts:resend_verification", "/email-bevestigen/opnieuw", POST_ONLY_PRIVATE)
row("accounts:verify_email", "/email-bevestigen/ongeldig", dict.fromkeys(ROLES, 400))
row("accounts:password_reset", "/wachtwoord-vergeten", PUBLIC)
row("accounts:password_reset_done", "/wachtwoord-vergeten/verstuurd", PUBLIC)
row("accounts:password_reset_complete", "/wachtwoord-herstellen/klaar", PUBLIC)
row("accounts:password_reset_confirm", "/wachtwoord-herstellen/MQ/ongeldig", PUBLIC)
row("accounts:guardian_consent", "/toestemming/ongeldig", SIGNED_IN_GET)
row("accounts:deleted", "/account-verwijderd", PUBLIC)
row("accounts:mine", "/mijn", PRIVATE)
row("accounts:profile", "/mijn/gegevens", PRIVATE)
row("accounts:household", "/mijn/huishouden", PRIVATE)
row("accounts:household_add", "/mijn/huishouden/toevoegen", POST_ONLY_PRIVATE)
row("accounts:household_leave", "/mijn/huishouden/verlaten", POST_ONLY_PRIVATE)
row("accounts:children", "/mijn/kinderen", PRIVATE)
row("accounts:child_consent", lambda w: "/mijn/kinderen/999999/toestemming", POST_ONLY_PRIVATE)
row("accounts:privacy", "/mijn/privacy", PRIVATE)
row("accounts:privacy_export", "/mijn/privacy/export.json", PRIVATE)
row("accounts:delete_account", "/mijn/account-verwijderen", PRIVATE)
row("accounts:staff_home", "/medewerkers/", STAFF_ANY)
row("accounts:member_search", "/medewerkers/leden?q=Jansen", MEMBERS_OWN)
row("accounts:member_detail[A]", lambda w: f"/medewerkers/leden/{w['member_a'].pk}", MEMBERS_OWN)
row("accounts:member_detail[B]", lambda w: f"/medewerkers/leden/{w['member_b'].pk}", MEMBERS_OTHER)
row("accounts:locations", "/medewerkers/locaties", MANAGE_OWN)
row(
    "accounts:location_hours[A]",
    lambda w: f"/medewerkers/locaties/{w['loc_a'].pk}/openingstijden",
    MANAGE_OWN,
)
row(
    "accounts:location_hours[B]",
    lambda w: f"/medewerkers/locaties/{w['loc_b'].pk}/openingstijden",
    MANAGE_OTHER,
)
row(
    "accounts:location_exception",
    lambda w: f"/medewerkers/locaties/{w['loc_a'].pk}/afwijkende-tijden",
    MANAGE_POST_ONLY,
)
row("catalog:search", "/zoeken?q=avonden&format=book", PUBLIC)
row("catalog:export_csv", "/zoeken/export.csv?q=avonden", PUBLIC)
row("catalog:suggest", "/zoeken/suggesties?q=av", PUBLIC)
row("catalog:edition", lambda w: f"/titels/{w['edition'].pk}", PUBLIC)
row("catalog:edition_marcxml", lambda w: f"/titels/{w['edition'].pk}/marcxml", PUBLIC)
row("catalog:author", lambda w: f"/makers/{w['maker'].slug}", PUBLIC)
row("catalog:subjects", "/onderwerpen", PUBLIC)
row("catalog:subject", lambda w: f"/onderwerpen/{w['subject'].slug}", PUBLIC)
row("catalog:new", "/nieuw", PUBLIC)
row("catalog:oai", "/oai?verb=Identify", PUBLIC)

# circulation: the desk (desk and manager staff of the location's organisation), terminals
# (managers), the resident's loans and holds, digital lending and the OPDS feeds
NOT_FOUND = dict.fromkeys(ROLES, 404)
APP_AUTH = {"anonymous": 401, **{role: 200 for role in ROLES if role != "anonymous"}}
row("circulation:desk_home", "/balie/", MEMBERS_OWN)
for view, part in (("checkout", "uitlenen"), ("checkin", "innemen"), ("lists", "lijsten")):
    row(
        f"circulation:desk_{view}[A]",
        lambda w, p=part: f"/balie/{w['loc_a'].slug}/{p}",
        MEMBERS_OWN,
    )
    row(
        f"circulation:desk_{view}[B]",
        lambda w, p=part: f"/balie/{w['loc_b'].slug}/{p}",
        MEMBERS_OTHER,
    )
row(
    "circulation:desk_transfer_send",
    lambda w: f"/balie/{w['loc_a'].slug}/transporten/999999/verstuurd",
    {**MEMBERS_OWN, "desk": 405, "manager": 405, "network_admin": 405},
)
row("circulation:terminals", "/medewerkers/automaten", MANAGE_OWN)
row("circulation:rules", "/medewerkers/uitleenregels", MANAGE_OWN)
row(
    "circulation:rules[A]",
    lambda w: f"/medewerkers/uitleenregels?organisatie={w['org_a'].code}",
    MANAGE_OWN,
)
row(
    "circulation:rules[B]",
    lambda w: f"/medewerkers/uitleenregels?organisatie={w['org_b'].code}",
    MANAGE_OTHER,
)
row("circulation:rules[N]", "/medewerkers/uitleenregels?organisatie=landelijk", MANAGE_OTHER)
row("circulation:rules_policy_save", "/medewerkers/uitleenregels/leenregels", MANAGE_POST_ONLY)
row(
    "circulation:rules_policy_delete",
    "/medewerkers/uitleenregels/leenregels/999999/verwijderen",
    MANAGE_POST_ONLY,
)
row("circulation:rules_save", "/medewerkers/uitleenregels/regels", MANAGE_POST_ONLY)
row("circulation:terminal_deactivate", "/medewerkers/automaten/999999/uitzetten", MANAGE_POST_ONLY)
row("circulation:my_loans", "/mijn/leningen", PRIVATE)
row("circulation:loan_renew", "/mijn/leningen/999999/verlengen", POST_ONLY_PRIVATE)
row("circulation:my_holds", "/mijn/reserveringen", PRIVATE)
row("circulation:hold_cancel", "/mijn/reserveringen/999999/annuleren", POST_ONLY_PRIVATE)
row("circulation:hold_pause", "/mijn/reserveringen/999999/pauzeren", POST_ONLY_PRIVATE)
row("circulation:hold_resume", "/mijn/reserveringen/999999/hervatten", POST_ONLY_PRIVATE)
row(
    "circulation:hold_pickup",
    "/mijn/reserveringen/999999/afhaallocatie",
    {"anonymous": 302, **{role: 404 for role in ROLES if role != "anonymous"}},
)
row("circulation:hold_place", lambda w: f"/titels/{w['edition'].pk}/reserveren", PRIVATE)
row("digital:mine", "/mijn/digitaal", PRIVATE)
row("digital:return", "/mijn/digitaal/999999/teruggeven", POST_ONLY_PRIVATE)
row("digital:hold_cancel", "/mijn/digitaal/wachtlijst/999999/annuleren", POST_ONLY_PRIVATE)
row("digital:borrow", lambda w: f"/digitaal/{w['edition'].pk}/lenen", POST_ONLY_PRIVATE)
row("digital:hold_place", lambda w: f"/digitaal/{w['edition'].pk}/wachtlijst", POST_ONLY_PRIVATE)
row("digital:content", "/digitaal/inhoud/ongeldig", NOT_FOUND)
row("digital:cover", lambda w: f"/digitaal/omslag/{w['edition'].pk}.png", NOT_FOUND)
row("digital:opds", "/opds", APP_AUTH)
row("digital:opds_loans", "/opds/leningen", APP_AUTH)
row("digital:opds_titles", "/opds/titels", APP_AUTH)
row("digital:opds_borrow", lambda w: f"/opds/lenen/{w['edition'].pk}", dict.fromkeys(ROLES, 401))
row("digital:opds2", "/opds/v2", APP_AUTH)
row("digital:opds2_loans", "/opds/v2/leningen", APP_AUTH)
row("digital:opds2_titles", "/opds/v2/titels", APP_AUTH)
row(
    "digital:opds2_borrow", lambda w: f"/opds/v2/lenen/{w['edition'].pk}", dict.fromkeys(ROLES, 401)
)
row("digital:opds_auth", "/opds/v2/authenticatie", PUBLIC)

# subscriptions (Abonnement 2.0): the resident's own subscription, invoices and payments; staff
# look-up, switching and crediting for their own organisation's residents; network
# administrators for prices and settlement; figures for every staff role
row("subscriptions:mine", "/mijn/abonnement", PRIVATE)
row("subscriptions:subscribe", "/mijn/abonnement/afsluiten", PRIVATE)
row("subscriptions:change_plan", "/mijn/abonnement/wijzigen", PRIVATE)
row("subscriptions:cancel", "/mijn/abonnement/opzeggen", PRIVATE)
row("subscriptions:invoices", "/mijn/abonnement/facturen", PRIVATE)
row("subscriptions:payment_method", "/mijn/abonnement/betaalwijze", PRIVATE)
row("subscriptions:switch_off", "/mijn/abonnement/uitzetten", POST_ONLY_PRIVATE)
row("subscriptions:switch_on", "/mijn/abonnement/aanzetten", POST_ONLY_PRIVATE)
row("subscriptions:skip", "/mijn/abonnement/maand-overslaan", POST_ONLY_PRIVATE)
row("subscriptions:day_pass", "/mijn/abonnement/dagpas", POST_ONLY_PRIVATE)
row(
    "subscriptions:change_undo",
    "/mijn/abonnement/gepland/999999/ongedaan-maken",
    POST_ONLY_PRIVATE,
)
NOT_MINE = {"anonymous": 302, **{role: 404 for role in ROLES if role != "anonymous"}}
row("subscriptions:invoice_pdf", "/mijn/abonnement/facturen/999999.pdf", NOT_MINE)
row("subscriptions:staff_lookup", "/medewerkers/abonnementen?q=x@example.nl", MEMBERS_OWN)
row(
    "subscriptions:staff_resident[A]",
    lambda w: f"/medewerkers/abonnementen/{w['member_a'].pk}",
    MEMBERS_OWN,
)
row(
    "subscriptions:staff_resident[B]",
    lambda w: f"/medewerkers/abonnementen/{w['member_b'].pk}",
    MEMBERS_OTHER,
)
MEMBERS_POST_ONLY = {**MEMBERS_OWN, "desk": 405, "manager": 405, "network_admin": 405}
for action, path in (("switch_off", "uitzetten"), ("switch_on", "aanzetten")):
    row(
        f"subscriptions:staff_{action}[A]",
        lambda w, path=path: f"/medewerkers/abonnementen/{w['member_a'].pk}/{path}",
        MEMBERS_POST_ONLY,
    )
    row(
        f"subscriptions:staff_{action}[B]",
        lambda w, path=path: f"/medewerkers/abonnementen/{w['member_b'].pk}/{path}",
        MEMBERS_POST_ONLY,
    )
row(
    "subscriptions:staff_invoice_credit[A]",
    lambda w: (
        f"/medewerkers/abonnementen/{w['member_a'].pk}/facturen/{w['invoice_a'].pk}/crediteren"
    ),
    MANAGE_OWN,
)
row(
    "subscriptions:staff_invoice_credit[B]",
    lambda w: (
        f"/medewerkers/abonnementen/{w['member_b'].pk}/facturen/{w['invoice_b'].pk}/crediteren"
    ),
    {**MANAGE_OTHER, "desk": 404},
)
NETWORK_ONLY = {
    **STAFF_ANY,
    **{role: 403 for role in STAFF},
    "network_admin": 200,
}
row("subscriptions:staff_prices", "/medewerkers/abonnementen/prijzen", NETWORK_ONLY)
row("subscription_figures:figures", "/medewerkers/abonnementen/cijfers", STAFF_ANY)
row(
    "subscription_figures:figures[A]",
    lambda w: f"/medewerkers/abonnementen/cijfers?organisatie={w['org_a'].code}",
    STAFF_ANY,
)
row(
    "subscription_figures:figures[B]",
    lambda w: f"/medewerkers/abonnementen/cijfers?organisatie={w['org_b'].code}",
    {**STAFF_ANY, **{role: 404 for role in STAFF}},
)
row("subscription_figures:settlements", "/medewerkers/verrekening", MANAGE_OWN)
row("subscription_figures:settlement", "/medewerkers/verrekening/2025-03", NETWORK_ONLY)
row(
    "subscription_figures:statement[A]",
    lambda w: f"/medewerkers/verrekening/2025-03/{w['org_a'].code}",
    MANAGE_OWN,
)
row(
    "subscription_figures:statement[B]",
    lambda w: f"/medewerkers/verrekening/2025-03/{w['org_b'].code}",
    MANAGE_OTHER,
)
row("payments:pay_open", "/mijn/betalen", PRIVATE)
row("payments:result", "/mijn/betalen/999999", NOT_MINE)
row("payments:pay_invoice", "/mijn/facturen/999999/betalen", NOT_MINE)
row("payments:webhook", "/betalen/webhook/mollie", dict.fromkeys(ROLES, 405))
row("payments:test_checkout", "/betalen/test/tr_local_0123456789abcdef", NOT_FOUND)

# programming: the public programme and feeds, registration by secret link, mine
row("programming:programme", "/activiteiten", PUBLIC)
row(
    "programming:organisation_programme",
    lambda w: f"/bibliotheken/{w['org_a'].slug}/activiteiten",
    PUBLIC,
)
row("programming:location_programme", lambda w: f"/locaties/{w['loc_a'].slug}/activiteiten", PUBLIC)
row("programming:detail", lambda w: f"/activiteiten/{w['activity'].slug}", PUBLIC)
row("programming:activity_ics", lambda w: f"/activiteiten/{w['activity'].slug}.ics", PUBLIC)
row("programming:feed_national", "/activiteiten.ics", PUBLIC)
row(
    "programming:feed_organisation",
    lambda w: f"/bibliotheken/{w['org_a'].slug}/activiteiten.ics",
    PUBLIC,
)
row("programming:feed_location", lambda w: f"/locaties/{w['loc_a'].slug}/activiteiten.ics", PUBLIC)
row("programming:feed_audience", "/activiteiten/doelgroep/toddlers.ics", PUBLIC)
row("programming:feed_personal", "/activiteiten/agenda/onbekend.ics", NOT_FOUND)
row("programming:register", lambda w: f"/activiteiten/{w['activity'].slug}/aanmelden", PUBLIC)
row("programming:registration", "/aanmelding/ongeldig", NOT_FOUND)
row("programming:registration_qr", "/aanmelding/ongeldig/qr.svg", NOT_FOUND)
row(
    "programming:registration_confirm", "/aanmelding/ongeldig/bevestigen", dict.fromkeys(ROLES, 405)
)
row(
    "programming:registration_accept",
    "/aanmelding/ongeldig/plaats-aannemen",
    dict.fromkeys(ROLES, 405),
)
row("programming:registration_cancel", "/aanmelding/ongeldig/afmelden", NOT_FOUND)
row("programming:mine", "/mijn/activiteiten", PRIVATE)
row("programming:feed_reset", "/mijn/activiteiten/agenda-link", POST_ONLY_PRIVATE)

# programming: staff screens (programmers and managers; the door also desk staff), rooms
PROGRAM_OWN = {**STAFF_ANY, "desk": 403, "collection": 403, "flexpool_coordinator": 403}
PROGRAM_OTHER = {**PROGRAM_OWN, "programmer": 404, "manager": 404}
DOOR_OWN = {**STAFF_ANY, "collection": 403, "flexpool_coordinator": 403}
DOOR_OTHER = {**DOOR_OWN, "desk": 404, "programmer": 404, "manager": 404}
PROGRAM_POST_ONLY = {**PROGRAM_OWN, "programmer": 405, "manager": 405, "network_admin": 405}


def _staff_activity(key: str):
    return lambda w: f"/medewerkers/activiteiten/{w[key].pk}"


row("programming:staff_activities", "/medewerkers/activiteiten", PROGRAM_OWN)
row("programming:staff_activity_new", "/medewerkers/activiteiten/nieuw", PROGRAM_OWN)
row("programming:staff_activity[A]", _staff_activity("activity"), PROGRAM_OWN)
row("programming:staff_activity[B]", _staff_activity("activity_b"), PROGRAM_OTHER)
row(
    "programming:staff_activity_cancel[A]",
    lambda w: _staff_activity("activity")(w) + "/annuleren",
    PROGRAM_OWN,
)
row(
    "programming:staff_activity_cancel[B]",
    lambda w: _staff_activity("activity_b")(w) + "/annuleren",
    PROGRAM_OTHER,
)
row("programming:staff_door[A]", lambda w: _staff_activity("activity")(w) + "/deur", DOOR_OWN)
row("programming:staff_door[B]", lambda w: _staff_activity("activity_b")(w) + "/deur", DOOR_OTHER)
row("programming:staff_doors", "/medewerkers/deur", DOOR_OWN)
row(
    "programming:staff_activity_publish",
    lambda w: _staff_activity("activity")(w) + "/publiceren",
    PROGRAM_POST_ONLY,
)
row(
    "programming:staff_activity_duplicate",
    lambda w: _staff_activity("activity")(w) + "/kopieren",
    PROGRAM_POST_ONLY,
)
row(
    "programming:staff_registration_cancel",
    "/medewerkers/activiteiten/999999/aanmeldingen/999999/afmelden",
    PROGRAM_POST_ONLY,
)
row("programming:staff_rooms", "/medewerkers/zalen", PROGRAM_OWN)
row("programming:staff_booking_decide", "/medewerkers/zalen/aanvragen/999999", PROGRAM_POST_ONLY)
row("programming:staff_partners", "/medewerkers/partners", PROGRAM_OWN)
row("programming:rooms", "/zalen", PUBLIC)
row(
    "programming:room_request",
    lambda w: f"/zalen/{w['room_a'].pk}/aanvragen",
    {**PRIVATE, "youth": 403},
)
row(
    "programming:room_request[staff only]",
    lambda w: f"/zalen/{w['room_staff_a'].pk}/aanvragen",
    {**PRIVATE, "resident": 404, "youth": 403},
)
row("programming:my_bookings", "/mijn/zaalaanvragen", PRIVATE)
row("programming:my_booking_cancel", "/mijn/zaalaanvragen/999999/annuleren", POST_ONLY_PRIVATE)

# community: the board and posts (authors only change their own), ideas for programmers
OWN_ONLY = {"anonymous": 302, **{role: 404 for role in ROLES if role != "anonymous"}}
row("community:board", "/community", PUBLIC)
row(
    "community:municipality_board",
    lambda w: f"/community/gemeente/{w['post_a'].municipality.cbs_code}",
    PUBLIC,
)
# the matrix's people have no confirmed e-mail address: the page says so (409)
row(
    "community:post_new",
    "/community/nieuw",
    {"anonymous": 302, **{r: 409 for r in ROLES if r != "anonymous"}},
)
row("community:post", lambda w: f"/community/{w['post_a'].pk}", PUBLIC)
row("community:photo", lambda w: f"/community/foto/{w['photo_a'].pk}.jpg", PUBLIC)
row("community:photo_thumb", lambda w: f"/community/foto/{w['photo_a'].pk}/klein.jpg", PUBLIC)
row("community:post_edit", lambda w: f"/community/{w['post_a'].pk}/wijzigen", OWN_ONLY)
row("community:post_close", lambda w: f"/community/{w['post_a'].pk}/sluiten", OWN_ONLY)
row("community:photo_add", lambda w: f"/community/{w['post_a'].pk}/fotos", POST_ONLY_PRIVATE)
row(
    "community:photo_remove",
    lambda w: f"/community/{w['post_a'].pk}/fotos/{w['photo_a'].pk}/verwijderen",
    POST_ONLY_PRIVATE,
)
row("community:mine", "/mijn/community", PRIVATE)
row("community:search_save", "/mijn/community/zoekopdrachten", POST_ONLY_PRIVATE)
row(
    "community:search_delete",
    "/mijn/community/zoekopdrachten/999999/verwijderen",
    POST_ONLY_PRIVATE,
)
row("community:ideas", "/medewerkers/community/ideeen", PROGRAM_OWN)
row(
    "community:idea_review[A]",
    lambda w: f"/medewerkers/community/ideeen/{w['idea_a'].pk}",
    PROGRAM_OWN,
)
row(
    "community:idea_review[B]",
    lambda w: f"/medewerkers/community/ideeen/{w['idea_b'].pk}",
    PROGRAM_OTHER,
)

# community: messages, exchanges and handovers (the desk: desk staff and managers)
DESK_POST_ONLY = {**MEMBERS_OWN, "desk": 405, "manager": 405, "network_admin": 405}
row("community:respond", "/community/999999/reageren", NOT_FOUND)
row("community:profile", "/community/deelnemer/999999", NOT_FOUND)
row("community:messages", "/mijn/berichten", PRIVATE)
row("community:conversation", "/mijn/berichten/999999", OWN_ONLY)
for _name, _part in (
    ("contact_share", "contact"),
    ("block", "blokkeren"),
    ("unblock", "deblokkeren"),
    ("exchange_agree", "afspraak"),
    ("exchange_done", "afspraak/gelukt"),
    ("exchange_cancel", "afspraak/afzeggen"),
    ("thank", "bedanken"),
    ("handover_create", "overdracht"),
):
    row(f"community:{_name}", f"/mijn/berichten/999999/{_part}", POST_ONLY_PRIVATE)
row("community:handovers_mine", "/mijn/overdrachten", PRIVATE)
row("community:handover_cancel", "/mijn/overdrachten/999999/annuleren", POST_ONLY_PRIVATE)
row("community:profile_mine", "/mijn/community/profiel", PRIVATE)

# community: reports and moderation (programmers and managers of the resident's library)
row("community:report", lambda w: f"/community/{w['post_a'].pk}/melden", PRIVATE)
row(
    "community:report_person",
    lambda w: f"/community/deelnemer/{w['member_a'].pk}/melden",
    PRIVATE,
)
row("community:report_thanks", "/community/melding/bedankt", PRIVATE)
row(
    "community:report_message",
    lambda w: f"/mijn/berichten/bericht/{w['message'].pk}/melden",
    OWN_ONLY,
)
row("community:moderation", "/medewerkers/moderatie", PROGRAM_OWN)
row("community:moderate", lambda w: f"/medewerkers/moderatie/{w['report'].pk}", PROGRAM_POST_ONLY)
row(
    "community:moderation_person[A]",
    lambda w: f"/medewerkers/moderatie/deelnemer/{w['member_a'].pk}",
    PROGRAM_OWN,
)
row(
    "community:moderation_person[B]",
    lambda w: f"/medewerkers/moderatie/deelnemer/{w['member_b'].pk}",
    PROGRAM_OTHER,
)
row("community:word_filters", "/medewerkers/moderatie/woorden", PROGRAM_OWN)
row(
    "community:word_filter_remove",
    lambda w: f"/medewerkers/moderatie/woorden/{w['word'].pk}/verwijderen",
    PROGRAM_POST_ONLY,
)

# community: the library of things (desk, collection and managers of the thing's library)
THINGS_OWN = {**STAFF_ANY, "programmer": 403, "flexpool_coordinator": 403}
THINGS_OTHER = {**THINGS_OWN, "desk": 404, "collection": 404, "manager": 404}
THINGS_POST_ONLY = {
    **THINGS_OWN,
    "desk": 405,
    "collection": 405,
    "manager": 405,
    "network_admin": 405,
}
row("community:things", "/dingen", PUBLIC)
row("community:thing", lambda w: f"/dingen/{w['thing_a'].pk}", PUBLIC)
row("community:things_mine", "/mijn/dingen", PRIVATE)
row(
    "community:thing_cancel",
    lambda w: f"/mijn/dingen/{w['booking'].pk}/annuleren",
    POST_ONLY_PRIVATE,
)
row("community:staff_things", "/medewerkers/dingen", THINGS_OWN)
row("community:staff_thing[A]", lambda w: f"/medewerkers/dingen/{w['thing_a'].pk}", THINGS_OWN)
row("community:staff_thing[B]", lambda w: f"/medewerkers/dingen/{w['thing_b'].pk}", THINGS_OTHER)
row(
    "community:thing_repair",
    lambda w: f"/medewerkers/dingen/{w['thing_a'].pk}/reparatie",
    THINGS_POST_ONLY,
)
row(
    "community:thing_repaired",
    lambda w: f"/medewerkers/dingen/{w['thing_a'].pk}/gerepareerd",
    THINGS_POST_ONLY,
)
row(
    "community:thing_lend",
    lambda w: f"/medewerkers/dingen/reservering/{w['booking'].pk}/uitlenen",
    THINGS_POST_ONLY,
)
row(
    "community:thing_return",
    lambda w: f"/medewerkers/dingen/reservering/{w['booking'].pk}/innemen",
    THINGS_POST_ONLY,
)
row("community:desk", "/medewerkers/halen-en-brengen", MEMBERS_OWN)
row(
    "community:desk_location[A]",
    lambda w: f"/medewerkers/halen-en-brengen/{w['loc_a'].pk}",
    MEMBERS_OWN,
)
row(
    "community:desk_location[B]",
    lambda w: f"/medewerkers/halen-en-brengen/{w['loc_b'].pk}",
    MEMBERS_OTHER,
)
row(
    "community:handover_pick_up_code",
    lambda w: f"/medewerkers/halen-en-brengen/{w['loc_a'].pk}/ophalen",
    DESK_POST_ONLY,
)
for _name, _part in (
    ("handover_drop", "ontvangen"),
    ("handover_pick_up", "ophalen"),
    ("handover_unlock", "deblokkeren"),
    ("handover_return", "teruggeven"),
):
    row(
        f"community:{_name}",
        lambda w, p=_part: f"/medewerkers/halen-en-brengen/{w['loc_a'].pk}/zending/999999/{p}",
        DESK_POST_ONLY,
    )


def named_patterns(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= named_patterns(pattern, namespace)
        elif isinstance(pattern, URLPattern):
            names.add(f"{prefix}{pattern.name}")
    return names


@pytest.fixture
def world(db):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    users = {
        "resident": UserFactory(home_organisation=org_a),
        "youth": UserFactory(home_organisation=org_a, birth_date=years_ago(12)),
        "network_admin": staff_member(StaffRole.Role.NETWORK_ADMIN),
    }
    for role in STAFF:
        users[role] = staff_member(role, org_a)
    member_a = UserFactory(home_organisation=org_a)
    member_b = UserFactory(home_organisation=org_b)
    Settlement.objects.create(month=dt.date(2025, 3, 1), rule="municipality", collected_cents=0)
    edition = EditionFactory(
        title="De avonden", authors=["Reve, Gerard"], subject_labels=["Naoorlogse tijd"]
    )
    loc_a = LocationFactory(organisation=org_a)
    loc_b = LocationFactory(organisation=org_b)
    post_a = community_factories.post(author=member_a)
    talk = Conversation.objects.create(post=post_a, responder=UserFactory())
    message = Message.objects.create(conversation=talk, sender=talk.responder, body="Hallo")
    thing_a, thing_b = _thing(loc_a), _thing(loc_b)
    return {
        "message": message,
        "report": Report.objects.create(
            reporter=talk.responder,
            post=post_a,
            subject_person=member_a,
            organisation=org_a,
            reason="spam",
        ),
        "word": WordFilter.objects.create(organisation=org_a, phrase="gratis geld"),
        "thing_a": thing_a,
        "thing_b": thing_b,
        "booking": ThingBooking.objects.create(
            item=thing_a,
            person=member_a,
            first_day=dt.date(2030, 1, 7),
            last_day=dt.date(2030, 1, 8),
            blocked_until=dt.date(2030, 1, 9),
        ),
        "post_a": post_a,
        "photo_a": Photo.objects.create(
            post=post_a,
            image=community_factories.image_bytes(),
            thumbnail=community_factories.image_bytes((40, 30)),
            width=800,
            height=600,
        ),
        "idea_a": community_factories.post(
            author=member_a, kind="idea", category="games", terms="help", idea_status="pending"
        ),
        "idea_b": community_factories.post(
            author=member_b, kind="idea", category="games", terms="help", idea_status="pending"
        ),
        "activity": activity(organisation=org_a, location=loc_a),
        "activity_b": activity(organisation=org_b, location=loc_b),
        "room_a": room(location=loc_a),
        "room_staff_a": room(location=loc_a, bookable_by_public=False),
        "edition": edition,
        "maker": edition.contributors.get(),
        "subject": edition.subjects.get(),
        "org_a": org_a,
        "org_b": org_b,
        "loc_a": loc_a,
        "loc_b": loc_b,
        "member_a": member_a,
        "member_b": member_b,
        "invoice_a": _invoice(member_a, org_a),
        "invoice_b": _invoice(member_b, org_b),
        "users": users,
    }


def _thing(location):
    from bieb.catalog.models import Format
    from bieb.catalog.tests.factories import ItemFactory

    item = ItemFactory(
        edition=EditionFactory(title="Boormachine", format=Format.THING),
        organisation=location.organisation,
        home_location=location,
        location=location,
    )
    ThingSettings.objects.create(item=item)
    return item


def _invoice(person, organisation):
    from bieb.subscriptions.invoicing import NewLine, invoice_create
    from bieb.subscriptions.models import LineKind

    return invoice_create(
        person=person,
        organisation_id=organisation.pk,
        lines=[NewLine(LineKind.CORRECTION, "Cursus", 1_000, 2_100)],
    )


def test_every_url_has_a_row():
    site_names = {n for n in named_patterns(get_resolver()) if not n.startswith("api:")}
    covered = {name.split("[")[0] for name, _, _ in MATRIX}
    assert site_names - covered == set(), "URLs without a row in the access matrix"
    assert covered - site_names == set(), "rows for URLs that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, client, role):
    if role != "anonymous":
        client.force_login(world["users"][role])
    wrong = {}
    for name, path, expected in MATRIX:
        url = path(world) if callable(path) else path
        response = client.get(url)
        if response.status_code != expected[role]:
            wrong[name] = (expected[role], response.status_code)
        elif response.status_code == 302 and role == "anonymous" and name != "set_language":
            assert response["Location"].startswith("/inloggen"), name
    assert wrong == {}, f"{role}: (expected, got) per URL"


# Every API operation: who may call it. "public" answers anonymous callers; "resident" needs a
# signed-in person (bearer token or session) and answers 401 JSON otherwise; "staff" needs a
# signed-in desk or manager of the location's organisation (401 anonymous, 403 other roles,
# 404 for another organisation's location: circulation/tests/test_api.py).
API_MATRIX = {
    ("GET", "/api/v1/community/posts"): "public",
    ("POST", "/api/v1/community/posts"): "resident",
    ("GET", "/api/v1/community/posts/{post_id}"): "public",
    ("POST", "/api/v1/community/posts/{post_id}/responses"): "resident",
    ("POST", "/api/v1/community/reports"): "resident",
    ("GET", "/api/v1/me/messages"): "resident",
    ("GET", "/api/v1/activities"): "public",
    ("GET", "/api/v1/activities/{activity_id}"): "public",
    ("POST", "/api/v1/activities/{activity_id}/registrations"): "resident",
    ("GET", "/api/v1/me/registrations"): "resident",
    ("DELETE", "/api/v1/me/registrations/{registration_id}"): "resident",
    ("GET", "/api/v1/"): "public",
    ("POST", "/api/v1/auth/token"): "public",
    ("DELETE", "/api/v1/auth/token"): "resident",
    ("GET", "/api/v1/me"): "resident",
    ("GET", "/api/v1/me/tokens"): "resident",
    ("DELETE", "/api/v1/me/tokens/{token_id}"): "resident",
    ("GET", "/api/v1/network/organisations"): "public",
    ("GET", "/api/v1/network/organisations/{slug}"): "public",
    ("GET", "/api/v1/network/locations"): "public",
    ("GET", "/api/v1/network/locations/nearest"): "public",
    ("GET", "/api/v1/network/locations/{slug}"): "public",
    ("GET", "/api/v1/catalog/search"): "public",
    ("GET", "/api/v1/catalog/editions/{edition_id}"): "public",
    ("GET", "/api/v1/catalog/suggest"): "public",
    ("POST", "/api/v1/circulation/checkouts"): "staff",
    ("POST", "/api/v1/circulation/checkins"): "staff",
    ("GET", "/api/v1/me/loans"): "resident",
    ("POST", "/api/v1/me/loans/{loan_id}/renew"): "resident",
    ("GET", "/api/v1/me/holds"): "resident",
    ("POST", "/api/v1/me/holds"): "resident",
    ("DELETE", "/api/v1/me/holds/{hold_id}"): "resident",
    ("POST", "/api/v1/me/digital-loans"): "resident",
    ("GET", "/api/v1/plans"): "public",
    ("GET", "/api/v1/me/subscription"): "resident",
    ("POST", "/api/v1/me/subscription"): "resident",
    ("POST", "/api/v1/me/subscription/off"): "resident",
    ("POST", "/api/v1/me/subscription/on"): "resident",
    ("POST", "/api/v1/me/subscription/skip"): "resident",
    ("POST", "/api/v1/me/subscription/change"): "resident",
    ("POST", "/api/v1/me/subscription/cancel"): "resident",
    ("DELETE", "/api/v1/me/subscription/changes/{change_id}"): "resident",
    ("GET", "/api/v1/me/usage"): "resident",
    ("GET", "/api/v1/me/invoices"): "resident",
    ("GET", "/api/v1/me/invoices/{invoice_id}/pdf"): "resident",
}


def api_operations() -> dict[tuple[str, str], bool]:
    from bieb.api.urls import api

    schema = api.get_openapi_schema()
    return {
        (method.upper(), path): bool(operation.get("security"))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }


def test_every_api_operation_has_a_row_and_declares_matching_auth():
    operations = api_operations()
    assert set(operations) == set(API_MATRIX)
    for key, secured in operations.items():
        assert secured == (API_MATRIX[key] != "public"), key


def test_anonymous_callers_get_json_401_from_every_resident_operation(world, client):
    for (method, path), audience in API_MATRIX.items():
        url = path.format(
            token_id=1,
            slug=world["org_a"].slug,
            edition_id=world["edition"].pk,
            loan_id=1,
            hold_id=1,
            change_id=1,
            invoice_id=1,
            activity_id=world["activity"].pk,
            registration_id=1,
            post_id=1,
        )
        response = client.generic(method, url)
        if audience != "public":
            assert response.status_code == 401, (method, path)
            assert response.json()["error"]["code"] == "not_authenticated", (method, path)
        else:
            assert response.status_code != 401, (method, path)
