"""Self-service machine accounts: the services, ``bieb sip2 terminal-*`` and the demo machine."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bieb.accounts.tests.factories import LocationFactory
from bieb.catalog.models import ItemStatus
from bieb.circulation.models import Terminal
from bieb.circulation.sip2 import demo
from bieb.circulation.sip2.terminals import (
    terminal_authenticate,
    terminal_create,
    terminal_reset_password,
    terminal_set_active,
)
from bieb.circulation.tests.factories import copy_at, network
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_new_terminal_gets_a_generated_password_stored_only_as_a_hash():
    net = network()

    terminal, password = terminal_create(location=net.main, login="zelfservice-1", name="Hal")

    assert len(password) >= 20 and "|" not in password
    assert password not in terminal.password_hash
    assert terminal_authenticate("zelfservice-1", password) == terminal
    assert terminal_authenticate("zelfservice-1", password + "x") is None
    assert terminal_authenticate("nobody", password) is None
    event = AuditEvent.objects.get(action="circulation.terminal_created")
    assert event.organisation_id == net.org.pk
    assert password not in str(event.data)


def test_terminal_logins_are_unique_and_sensible():
    net = network()
    terminal_create(location=net.main, login="zelfservice-1")

    with pytest.raises(DomainError) as taken:
        terminal_create(location=net.branch, login="zelfservice-1")
    with pytest.raises(DomainError) as bad:
        terminal_create(location=net.main, login="a|b")

    assert taken.value.code == "login_taken"
    assert bad.value.code == "invalid_login"
    assert Terminal.objects.count() == 1


def test_a_switched_off_terminal_or_location_cannot_authenticate_and_a_reset_works():
    net = network()
    terminal, password = terminal_create(location=net.main, login="zelfservice-1")

    terminal_set_active(terminal, active=False)
    assert terminal_authenticate("zelfservice-1", password) is None
    terminal_set_active(terminal, active=True)
    new_password = terminal_reset_password(terminal)

    assert terminal_authenticate("zelfservice-1", password) is None
    assert terminal_authenticate("zelfservice-1", new_password) is not None
    net.main.is_active = False
    net.main.save()
    assert terminal_authenticate("zelfservice-1", new_password) is None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "circulation.terminal_deactivated",
        "circulation.terminal_activated",
        "circulation.terminal_password_reset",
    } <= actions


def test_terminal_add_prints_a_password_that_logs_in_once():
    net = network()
    out = StringIO()

    call_command(
        "sip2",
        "terminal-add",
        "--location",
        net.main.slug,
        "--login",
        "automaat-hal",
        "--name",
        "Automaat hal",
        stdout=out,
    )

    password = re.search(r"password \(CO\):\s+(\S+)", out.getvalue()).group(1)
    assert f"institution id (AO): {net.org.code}" in out.getvalue()
    terminal = terminal_authenticate("automaat-hal", password)
    assert terminal.location == net.main and terminal.name == "Automaat hal"


def test_terminal_commands_refuse_unknown_locations_and_logins_and_list_terminals():
    net = network()
    terminal_create(location=net.main, login="automaat-hal")

    with pytest.raises(CommandError):
        call_command("sip2", "terminal-add", "--location", "nergens", "--login", "x-1")
    with pytest.raises(CommandError):
        call_command("sip2", "terminal-add", "--location", net.main.slug, "--login", "automaat-hal")
    with pytest.raises(CommandError):
        call_command("sip2", "terminal-disable", "--login", "nobody")
    call_command("sip2", "terminal-disable", "--login", "automaat-hal", stdout=StringIO())
    out = StringIO()
    call_command("sip2", "terminal-list", stdout=out)

    assert "automaat-hal" in out.getvalue() and " off " in out.getvalue()
    assert not Terminal.objects.get(login="automaat-hal").is_active


def test_the_demo_terminal_is_made_once_at_the_first_demo_location():
    assert demo.ensure_demo_terminal() is None  # nothing seeded yet
    net = network()
    LocationFactory(organisation=net.org, kind="locker")
    free = copy_at(net.main)
    copy_at(net.main, status=ItemStatus.ON_LOAN)

    first = demo.ensure_demo_terminal()
    Terminal.objects.update(is_active=False, password_hash="!changed")
    second = demo.ensure_demo_terminal()

    assert Terminal.objects.count() == 1
    assert first == second
    assert first["login"] == demo.DEMO_TERMINAL_LOGIN
    assert first["password"] == demo.DEMO_TERMINAL_PASSWORD
    assert first["institution_id"] == net.org.code  # the first organisation by slug
    assert first["location_slug"] == net.main.slug  # its first branch
    assert terminal_authenticate(first["login"], first["password"]) is not None
    info = demo.demo_sip2_info()
    assert info["terminal"] == first
    assert info["institution_id"] == net.org.code
    assert info["items"] == [{"barcode": free.barcode, "title": free.edition.title}]
