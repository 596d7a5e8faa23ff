"""Commands on posts: offers and requests of residents, their photos, and the review of
activity ideas.

Every write checks ``guard`` (a confirmed, active account that is not suspended), cleans the
text to plain text (``text.clean``) and is audited. A post's place is the author's four-digit
postcode area (its point and municipality), never the address.

Refusals (``DomainError`` codes): ``title_required``, ``body_required``, ``invalid_choice``,
``terms_invalid``, ``word_filtered``, ``personal_details`` (409: the UI shows the kinds found
and asks to confirm with ``acknowledge_personal``), ``duplicate_post`` (409),
``rate_limited`` (429), ``postcode_required``, ``consent_required`` (403: under 16 without a
guardian's consent posts ideas only), ``too_many_photos``, ``photo_too_large``,
``photo_invalid``, ``not_yours`` (403), ``post_not_open`` (409); for ideas ``not_an_idea``,
``idea_reviewed`` (409), ``activity_required``, ``note_required``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from bieb.community import guard, matching, notify, text
from bieb.community import photos as photo_files
from bieb.community.models import Category, Photo, Post, PostKind, PostType, Terms, WordFilter
from bieb.community.selectors import post_path
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound, PermissionDenied

TITLE_MAX = 120
BODY_MAX = 4000
AVAILABILITY_MAX = 200
ALT_MAX = 200
#: the same title and text again within this time is refused
DUPLICATE_WINDOW = dt.timedelta(hours=24)
#: terms that fit a thing; skills, knowledge, time and ideas are always "help"
THING_TERMS = (Terms.LEND, Terms.GIVE, Terms.SWAP)

IDEA_PENDING = "pending"
IDEA_APPROVED = "approved"
IDEA_REJECTED = "rejected"
#: staff roles that review ideas, in the author's home organisation
IDEA_ROLES = ("programmer", "manager")


def _error(code: str, message: str, *, status: int = 400, field_name: str = "", **details):
    if field_name:
        details["field"] = field_name
    return DomainError(code, message, status=status, details=details or None)


def _choice(value: str, choices, field_name: str) -> str:
    if value not in choices.values:
        raise _error("invalid_choice", _("Kies een geldige waarde."), field_name=field_name)
    return value


def area_of(person: Any):
    """The postcode area (PC4) of the person's postcode, or ``postcode_required``."""
    from bieb.network.models import PostcodeArea
    from bieb.network.validation import pc4_of

    pc4 = pc4_of(getattr(person, "postcode", "") or "")
    place = (
        PostcodeArea.objects.select_related("municipality").filter(pc4=pc4).first() if pc4 else None
    )
    if place is None:
        raise _error(
            "postcode_required",
            _(
                "Vul eerst je postcode in bij je gegevens: berichten staan op de kaart bij je "
                "postcodegebied (nooit je adres)."
            ),
            field_name="postcode",
        )
    return place


def word_filter_phrases(person: Any, municipality_id: int | None = None) -> list[str]:
    """The word filter that applies to ``person``: their home organisation's, and those of
    the organisations serving their municipality (or ``municipality_id``)."""
    from bieb.network.models import Organisation

    organisation_ids = set()
    if getattr(person, "home_organisation_id", None):
        organisation_ids.add(person.home_organisation_id)
    municipality_ids = {
        pk for pk in (getattr(person, "municipality_id", None), municipality_id) if pk
    }
    if municipality_ids:
        organisation_ids |= set(
            Organisation.objects.filter(municipalities__in=municipality_ids).values_list(
                "pk", flat=True
            )
        )
    if not organisation_ids:
        return []
    return list(
        WordFilter.objects.filter(organisation_id__in=organisation_ids)
        .order_by("phrase")
        .values_list("phrase", flat=True)
        .distinct()
    )


def _check_words(person: Any, municipality_id: int | None, *texts: str) -> None:
    phrases = word_filter_phrases(person, municipality_id)
    if phrases and text.filtered_phrase("\n".join(texts), phrases) is not None:
        # the phrase is not named back: the message says what to do, not what was found
        raise _error(
            "word_filtered",
            _("Je bericht bevat woorden die niet zijn toegestaan. Pas de tekst aan."),
        )


def _check_personal(acknowledge: bool, *texts: str) -> list[str]:
    found = text.personal_details("\n".join(texts))
    if found and not acknowledge:
        labels = {
            "address": _("een adres"),
            "phone": _("een telefoonnummer"),
            "email": _("een e-mailadres"),
        }
        raise _error(
            "personal_details",
            _(
                "Je tekst lijkt %(what)s te bevatten. Iedereen kan je bericht lezen: haal het "
                "weg, of bevestig dat je dit wilt delen. Contact kan ook via berichten op het "
                "platform."
            )
            % {"what": ", ".join(str(labels[kind]) for kind in found)},
            status=409,
            field_name="body",
            kinds=found,
        )
    return found


def _clean_texts(title: str, body: str, availability: str) -> tuple[str, str, str]:
    title = text.clean(title, max_length=TITLE_MAX, single_line=True)
    body = text.clean(body, max_length=BODY_MAX)
    availability = text.clean(availability, max_length=AVAILABILITY_MAX, single_line=True)
    if not title:
        raise _error("title_required", _("Geef je bericht een titel."), field_name="title")
    if not body:
        raise _error("body_required", _("Beschrijf wat je aanbiedt of zoekt."), field_name="body")
    return title, body, availability


def _terms_for(kind: str, terms: str) -> str:
    if kind != PostKind.THING:
        return Terms.HELP
    if terms not in THING_TERMS:
        raise _error(
            "terms_invalid",
            _("Kies of je het uitleent, weggeeft of ruilt."),
            field_name="terms",
        )
    return terms


def _lock_person(person: Any) -> None:
    """One person's posts are counted (rate limit, duplicates) under a lock of their row."""
    from bieb.accounts.models import User

    User.objects.select_for_update().filter(pk=person.pk).first()


def _check_repeats(person: Any, title: str, body: str) -> None:
    """The rate limit of posts, and no same title and text again within a day."""
    guard.check_rate(
        person,
        "post",
        lambda since: Post.objects.filter(author_id=person.pk, created_at__gte=since).count(),
    )
    if Post.objects.filter(
        author_id=person.pk,
        title=title,
        body=body,
        created_at__gte=clock.now() - DUPLICATE_WINDOW,
    ).exists():
        raise _error("duplicate_post", _("Je hebt dit bericht vandaag al geplaatst."), status=409)


def post_create(
    *,
    person: Any,
    type: str,
    kind: str,
    category: str,
    title: str,
    body: str,
    terms: str,
    availability: str = "",
    photos: Iterable[Any] = (),
    photo_alts: Sequence[str] = (),
    acknowledge_personal: bool = False,
    site_url: str = "",
) -> Post:
    """Place an offer or a request in the person's postcode area, then tell residents with
    matching posts or saved searches (``matching.notify_new_post``, mail after commit).

    Under 16 without a guardian's consent: ideas only. At most ``guard.RATES["post"]``
    posts a day; the same title and text again within 24 hours is refused. Photos are
    processed before anything is written; nothing is written when any check refuses.
    """
    guard.check_may_take_part(person)
    type = _choice(type, PostType, "type")
    kind = _choice(kind, PostKind, "kind")
    category = _choice(category, Category, "category")
    if kind != PostKind.IDEA:
        guard.check_may_exchange(person)
    terms = _terms_for(kind, terms)
    title, body, availability = _clean_texts(title, body, availability)
    alts = [text.clean(alt, max_length=ALT_MAX, single_line=True) for alt in photo_alts or ()]
    place = area_of(person)
    _check_words(person, place.municipality_id, title, body, availability, *alts)
    found = _check_personal(acknowledge_personal, title, body, availability, *alts)
    # cheap refusals before the photos are decoded, and again under the lock below
    _check_repeats(person, title, body)
    uploads = list(photos or ())
    if len(uploads) > photo_files.MAX_PHOTOS:
        raise photo_files.too_many_photos()
    processed = [photo_files.process_upload(upload) for upload in uploads]

    with transaction.atomic():
        _lock_person(person)
        _check_repeats(person, title, body)
        post = Post.objects.create(
            author=person,
            type=type,
            kind=kind,
            category=category,
            title=title,
            body=body,
            terms=terms,
            availability=availability,
            pc4=place.pc4,
            municipality_id=place.municipality_id,
            lat=place.lat,
            lon=place.lon,
            flagged_personal=bool(found),
            idea_status=IDEA_PENDING if kind == PostKind.IDEA else "",
        )
        for index, photo in enumerate(processed):
            Photo.objects.create(
                post=post,
                image=photo.image,
                thumbnail=photo.thumbnail,
                width=photo.width,
                height=photo.height,
                alt=alts[index] if index < len(alts) else "",
            )
        audit_record(
            action="community.post_create",
            actor=person,
            subject=post,
            organisation_id=person.home_organisation_id,
            data={
                "type": type,
                "kind": kind,
                "pc4": place.pc4,
                "photos": len(processed),
                "flagged_personal": found,
            },
        )
        matching.notify_new_post(post, site_url=site_url)
    return post


def _own_open_post(post: Post, person: Any, *, lock: bool = True) -> Post:
    """The post, locked, if ``person`` wrote it and it is open."""
    queryset = Post.objects.select_for_update() if lock else Post.objects
    current = queryset.filter(pk=post.pk).first()
    if current is None:
        raise NotFound("not_found", _("Dit bericht bestaat niet (meer)."))
    if current.author_id != getattr(person, "pk", None):
        raise PermissionDenied("not_yours", _("Alleen de schrijver kan dit bericht wijzigen."))
    if current.status != Post.Status.OPEN:
        raise _error(
            "post_not_open",
            _("Dit bericht is afgesloten of verborgen en kan niet meer worden gewijzigd."),
            status=409,
        )
    return current


def post_update(
    *,
    post: Post,
    person: Any,
    title: str,
    body: str,
    category: str,
    terms: str = "",
    availability: str = "",
    acknowledge_personal: bool = False,
) -> Post:
    """Change the text of one's own open post (type, kind and place stay). The same checks as
    a new post apply to the new text; ``flagged_personal`` follows it."""
    guard.check_may_take_part(person)
    category = _choice(category, Category, "category")
    title, body, availability = _clean_texts(title, body, availability)
    _check_words(person, post.municipality_id, title, body, availability)
    found = _check_personal(acknowledge_personal, title, body, availability)
    with transaction.atomic():
        current = _own_open_post(post, person)
        terms = _terms_for(current.kind, terms or current.terms)
        changed = [
            name
            for name, value in (
                ("title", title),
                ("body", body),
                ("category", category),
                ("terms", terms),
                ("availability", availability),
            )
            if getattr(current, name) != value
        ]
        current.title, current.body, current.category = title, body, category
        current.terms, current.availability = terms, availability
        current.flagged_personal = bool(found)
        current.updated_at = clock.now()
        current.save()
        audit_record(
            action="community.post_update",
            actor=person,
            subject=current,
            organisation_id=person.home_organisation_id,
            data={"changed": changed, "flagged_personal": found},
        )
    return current


def post_close(*, post: Post, person: Any) -> Post:
    """Close one's own open post (found, given away, no longer needed). Closing twice is
    harmless; a hidden post stays hidden."""
    with transaction.atomic():
        current = Post.objects.select_for_update().filter(pk=post.pk).first()
        if current is None:
            raise NotFound("not_found", _("Dit bericht bestaat niet (meer)."))
        if current.author_id != getattr(person, "pk", None):
            raise PermissionDenied("not_yours", _("Alleen de schrijver kan dit bericht sluiten."))
        if current.status == Post.Status.CLOSED:
            return current
        if current.status != Post.Status.OPEN:
            raise _error(
                "post_not_open", _("Dit bericht is verborgen door een moderator."), status=409
            )
        current.status = Post.Status.CLOSED
        current.closed_at = clock.now()
        current.updated_at = current.closed_at
        current.save(update_fields=["status", "closed_at", "updated_at"])
        audit_record(
            action="community.post_close",
            actor=person,
            subject=current,
            organisation_id=getattr(person, "home_organisation_id", None),
        )
    return current


def post_photo_add(
    *, post: Post, person: Any, file: Any, alt: str = "", acknowledge_personal: bool = False
) -> Photo:
    """Add a photo to one's own open post (at most ``photos.MAX_PHOTOS``); its description
    goes through the word filter and the personal-details check like the post's text."""
    guard.check_may_take_part(person)
    alt = text.clean(alt, max_length=ALT_MAX, single_line=True)
    _check_words(person, post.municipality_id, alt)
    _check_personal(acknowledge_personal, alt)
    processed = photo_files.process_upload(file)
    with transaction.atomic():
        current = _own_open_post(post, person)
        if Photo.objects.filter(post=current).count() >= photo_files.MAX_PHOTOS:
            raise photo_files.too_many_photos()
        photo = Photo.objects.create(
            post=current,
            image=processed.image,
            thumbnail=processed.thumbnail,
            width=processed.width,
            height=processed.height,
            alt=alt,
        )
        audit_record(
            action="community.photo_add",
            actor=person,
            subject=current,
            organisation_id=person.home_organisation_id,
            data={"photo": photo.pk},
        )
    return photo


def post_photo_remove(*, post: Post, person: Any, photo_id: Any) -> None:
    """Remove a photo from one's own post (open or closed; not one a moderator hid)."""
    try:
        pk = int(photo_id)
    except (TypeError, ValueError):
        pk = 0
    with transaction.atomic():
        current = Post.objects.select_for_update().filter(pk=post.pk).first()
        if current is None or current.author_id != getattr(person, "pk", None):
            raise NotFound("not_found", _("Deze foto bestaat niet (meer)."))
        if current.status == Post.Status.HIDDEN:
            raise _error(
                "post_not_open", _("Dit bericht is verborgen door een moderator."), status=409
            )
        photo = Photo.objects.filter(pk=pk, post=current).only("pk").first()
        if photo is None:
            raise NotFound("not_found", _("Deze foto bestaat niet (meer)."))
        photo.delete()
        audit_record(
            action="community.photo_remove",
            actor=person,
            subject=current,
            organisation_id=getattr(person, "home_organisation_id", None),
            data={"photo": pk},
        )


# --- activity ideas ----------------------------------------------------------------------------


def idea_organisation_ids(post: Post) -> set[int]:
    """The organisations that may review an idea: the author's home organisation, or else
    those serving the post's municipality."""
    from bieb.network.models import Organisation

    home = getattr(post.author, "home_organisation_id", None)
    if home:
        return {home}
    if post.municipality_id:
        return set(
            Organisation.objects.filter(municipalities=post.municipality_id).values_list(
                "pk", flat=True
            )
        )
    return set()


def _reviewer_organisation(post: Post, actor: Any):
    """The reviewing organisation, if ``actor`` is its programmer or manager (403 without the
    role anywhere, 404 for staff of another organisation)."""
    from bieb.accounts import access
    from bieb.network.models import Organisation

    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("login_required", _("Log eerst in."), status=401)
    if not access.has_role(actor, *IDEA_ROLES):
        raise PermissionDenied("forbidden", _("Je hebt geen toegang tot deze pagina."))
    allowed = idea_organisation_ids(post) & access.organisations_with_role(actor, *IDEA_ROLES)
    if not allowed:
        raise NotFound("not_found", _("Dit bestaat niet of je hebt er geen toegang toe."))
    return Organisation.objects.get(pk=min(allowed))


def idea_review(
    *,
    post: Post,
    actor: Any,
    approve: bool,
    note: str = "",
    activity_data: Any = None,
    site_url: str = "",
) -> Post:
    """Approve or reject a resident's idea for an activity; the resident is told by mail.

    Approving makes a draft activity of the reviewing organisation through
    ``programming.services.activity_create`` from ``activity_data`` (an ``ActivityInput``)
    with the author as co-organiser, and links it to the post. Rejecting needs a note, which
    the resident receives. Each idea is reviewed once.
    """
    from bieb.programming import services as programming

    organisation = _reviewer_organisation(post, actor)
    note = text.clean(note, max_length=1000)
    with transaction.atomic():
        current = Post.objects.select_for_update().filter(pk=post.pk).first()
        if current is None:
            raise NotFound("not_found", _("Dit bericht bestaat niet (meer)."))
        if current.kind != PostKind.IDEA:
            raise _error(
                "not_an_idea", _("Dit bericht is geen idee voor een activiteit."), status=409
            )
        if current.status != Post.Status.OPEN or current.idea_status not in ("", IDEA_PENDING):
            raise _error(
                "idea_reviewed",
                _("Over dit idee is al besloten, of het is niet meer open."),
                status=409,
            )
        if approve:
            if activity_data is None:
                raise _error("activity_required", _("Vul de gegevens van de activiteit in."))
            activity = programming.activity_create(
                organisation=organisation,
                data=activity_data,
                actor=actor,
                co_organiser=current.author,
            )
            current.activity = activity
            current.idea_status = IDEA_APPROVED
        else:
            if not note:
                raise _error(
                    "note_required",
                    _("Leg in een paar woorden uit waarom het idee niet doorgaat."),
                    field_name="note",
                )
            activity = None
            current.idea_status = IDEA_REJECTED
        current.updated_at = clock.now()
        current.idea_note = note
        current.save(update_fields=["activity", "idea_status", "idea_note", "updated_at"])
        audit_record(
            action="community.idea_approve" if approve else "community.idea_reject",
            actor=actor,
            subject=current,
            organisation_id=organisation.pk,
            data={"activity": activity.pk if activity else None, "note": note},
        )
        notify.tell(
            current.author,
            "idea_approved" if approve else "idea_rejected",
            site_url=site_url,
            post_title=current.title,
            organisation_name=organisation.name,
            note=note,
            path=post_path(current.pk),
        )
    return current
