import pytest

from bieb.accounts import cards
from bieb.accounts.models import GuardianLink, Household, PartnerMembership, StaffRole, User
from bieb.accounts.seeding import DEMO_PASSWORD, demo_accounts, seed_people
from bieb.accounts.tests.factories import MunicipalityFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    big = MunicipalityFactory(population=900_000)
    small = MunicipalityFactory(population=100_000)
    return [
        OrganisationFactory(slug="a-demo", municipalities=[big]),
        OrganisationFactory(slug="b-andere", municipalities=[small]),
    ]


def snapshot():
    return sorted(
        User.objects.values_list(
            "email",
            "first_name",
            "last_name",
            "birth_date",
            "card_number",
            "home_organisation__slug",
        )
    )


def test_demo_seeding_is_idempotent_and_has_every_demo_log_in(network):
    # when the demo is seeded twice
    seed_people("demo", 7)
    first = snapshot()
    counts = (Household.objects.count(), GuardianLink.objects.count(), StaffRole.objects.count())
    seed_people("demo", 7)

    # then the second run added nothing
    assert snapshot() == first
    assert counts == (
        Household.objects.count(),
        GuardianLink.objects.count(),
        StaffRole.objects.count(),
    )
    assert 300 <= User.objects.count() < 400
    # and every demo log-in works at the demo library
    accounts = demo_accounts()
    roles = {a["role"] for a in accounts}
    assert roles >= {
        "resident",
        "youth",
        "desk",
        "programmer",
        "collection",
        "manager",
        "flexpool_coordinator",
        "network_admin",
        "partner_school",
    }
    for account in accounts:
        person = User.objects.get(email=account["email"])
        assert account["password"] == DEMO_PASSWORD
        assert person.check_password(DEMO_PASSWORD)
        assert cards.card_number_is_valid(account["card_number"])
        assert account["organisation"] == network[0].name
    assert StaffRole.objects.get(role="network_admin").organisation is None
    assert PartnerMembership.objects.get().kind == "school"
    # youth members under 16, most with a consenting guardian
    young = [u for u in User.objects.all() if u.needs_guardian_consent]
    assert young
    assert GuardianLink.objects.filter(consent_given_at__isnull=False).count() > 0
    youth = User.objects.get(email="jeugd@demo.bieb.nl")
    assert youth.needs_guardian_consent
    assert GuardianLink.objects.get(child=youth).consent_given_at is not None


def test_demo_seeding_is_deterministic(network):
    seed_people("demo", 11)
    first = [row for row in snapshot() if "@inwoner." in row[0]]
    User.objects.exclude(email__endswith="@demo.bieb.nl").update(household=None)
    GuardianLink.objects.all().delete()
    Household.objects.all().delete()
    StaffRole.objects.all().delete()
    PartnerMembership.objects.all().delete()
    User.objects.all().delete()

    seed_people("demo", 11)

    assert [row for row in snapshot() if "@inwoner." in row[0]] == first


def test_bench_seeding_spreads_by_population_and_is_idempotent(network):
    seed_people("bench", 3, size=12_000)
    bench = User.objects.filter(email__endswith="@bench.bieb.nl")
    assert bench.count() == 12_000
    big = bench.filter(home_organisation=network[0]).count()
    assert big == 10_800  # 90 % of the population lives in the first organisation's area
    first = list(bench.order_by("email").values_list("email", "card_number", "birth_date")[:50])

    seed_people("bench", 3, size=12_000)

    assert bench.count() == 12_000
    assert (
        list(bench.order_by("email").values_list("email", "card_number", "birth_date")[:50])
        == first
    )
    assert all(cards.card_number_is_valid(c) for _e, c, _b in first)
    assert not any(u.has_usable_password() for u in bench[:20])
