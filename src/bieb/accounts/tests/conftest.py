import pytest

from bieb.accounts.tests.factories import OrganisationFactory


@pytest.fixture
def organisation():
    return OrganisationFactory()


@pytest.fixture
def other_organisation():
    return OrganisationFactory()


@pytest.fixture
def mail_sent(django_capture_on_commit_callbacks):
    """Run the block's on-commit callbacks (e-mail is sent after commit)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
